//! OAuth consent over HTTP (API §5): re-consent and the callback the
//! provider sends the user back to — parse, call `app::consent`, render
//! (a redirect to the install's `return_url`, or a small page).

use super::error::ApiError;
use super::http::{HttpRequest, HttpResponse};
use super::App;
use crate::app::consent::{self as uc, Callback};
use crate::domain::auth::Role;
use crate::domain::connector::Status;
use crate::domain::Error;
use serde_json::json;

pub const CALLBACK_PATH: &str = "/v1/oauth/callback";

/// Where providers send the user back: `PUBLIC_BASE_URL` or this request's origin.
pub fn redirect_uri(app: &App, req: &HttpRequest) -> String {
    let base = app
        .config
        .public_base_url
        .clone()
        .unwrap_or_else(|| req.origin.clone());
    format!("{}{CALLBACK_PATH}", base.trim_end_matches('/'))
}

/// `POST /v1/connectors/{id}/authorize` — a fresh consent (re-consent).
pub async fn authorize_connector(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Manager)?;
    let (c, consent) = uc::authorize(app, tenant, id, &redirect_uri(app, req)).await?;
    Ok(HttpResponse::json(
        200,
        &json!({"object": "authorization", "connector_id": c.id.as_str(), "authorize_url": consent.authorize_url, "expires_at": consent.expires_at}),
    ))
}

/// `GET /v1/oauth/callback?state=…&code=…` — no API key: the state is the
/// credential.
pub async fn oauth_callback(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let q = |k: &str| {
        req.query
            .iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };
    let done = uc::callback(
        app,
        Callback {
            state: q("state"),
            code: q("code"),
            error: q("error"),
        },
    )
    .await?;
    let c = &done.connector;
    if let Some(mut ret) = c
        .return_url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
    {
        ret.query_pairs_mut()
            .append_pair("connector_id", c.id.as_str())
            .append_pair("status", done.status.as_str());
        if done.status == Status::Error {
            ret.query_pairs_mut().append_pair("error", &done.message);
        }
        return Ok(HttpResponse::empty(302).header("location", ret.as_str()));
    }
    if done.status == Status::Error {
        return Err(Error::Upstream(done.message).into());
    }
    let page = format!(
        "<!doctype html><meta charset=utf-8><title>Connected</title><p>{} is connected. You can close this window.</p>",
        html_escape(&c.name)
    );
    Ok(HttpResponse {
        status: 200,
        headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
        body: page.into_bytes(),
    })
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
