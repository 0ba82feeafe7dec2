//! `TenantObject`: the Durable Object class bound as `TENANT`. Thin: parse the
//! command, let the protocol answer, persist (nothing yet).

use super::protocol::{self, Answer, BINDING};
use crate::store::{StoreError, StoreResult, TenantObjects};
use async_trait::async_trait;
use worker::*;

#[durable_object(fetch)]
pub struct TenantObject {
    #[allow(dead_code)]
    state: State,
}

impl DurableObject for TenantObject {
    fn new(state: State, _env: Env) -> Self {
        Self { state }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let body = req.bytes().await?;
        Response::from_json(&protocol::answer(&body))
    }
}

/// The worker's side: a typed client over the namespace.
pub struct DoClient {
    pub env: Env,
}

#[async_trait(?Send)]
impl TenantObjects for DoClient {
    async fn ping(&self, name: &str) -> StoreResult<()> {
        let stub = self
            .env
            .durable_object(BINDING)?
            .id_from_name(name)?
            .get_stub()?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(
            serde_json::to_string(&protocol::Command::Ping)?.into(),
        ));
        let req = Request::new_with_init("https://tenant.internal/command", &init)?;
        let mut resp = stub.fetch_with_request(req).await?;
        match resp.json::<Answer>().await? {
            Answer::Pong => Ok(()),
            other => Err(StoreError(format!("tenant object answered {other:?}"))),
        }
    }
}
