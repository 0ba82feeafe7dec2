//! The application layer: the services a use case runs on (ports, config,
//! clock, randomness), built by the edge for each request or alarm, and the
//! use cases themselves. Nothing here knows HTTP: routes, the cron and the
//! tenant object call into it, never the other way round.

pub mod bindings;
pub mod catalog;
pub mod connect;
pub mod connectors;
pub mod consent;
pub mod discovery;
pub mod gateway;
pub mod governance;
pub mod health;
pub mod install;
pub mod keys;
pub mod listings;
pub mod locks;
pub mod submissions;
pub mod sweep;
pub mod tool_call;
pub mod tool_test;
pub mod vault;
pub mod webhook_delivery;
pub mod webhooks;

use crate::domain::ids::{Random, RequestId};
use crate::domain::time::Millis;
use crate::shared::Shared;
use crate::store::{Cache, CatalogStore, TenantObjects, TenantStore};
use std::rc::Rc;

/// Work to finish after the answer is sent.
pub type Deferred = std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

/// Settings read from the worker's environment.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `OPERATOR_TOKEN`; empty disables the operator.
    pub operator_token: String,
    /// `PROBE_ALLOW_HOSTS`.
    pub allow: crate::probe::guard::AllowList,
    /// `VAULT_KEY`; `None` refuses anything that would store a credential.
    pub vault: Option<crate::domain::vault::VaultKey>,
    /// `PUBLIC_BASE_URL`: the origin OAuth providers redirect back to; the
    /// request's own origin when unset.
    pub public_base_url: Option<String>,
    /// `RETURN_URL_ORIGINS` (plus `PUBLIC_BASE_URL`'s origin): where a
    /// consent may send the user back to, over https.
    pub return_url_origins: Vec<String>,
    /// `MCP_ALLOWED_ORIGINS`: browser origins (besides the service's own)
    /// that may call the MCP gateway.
    pub mcp_origins: Vec<String>,
    /// `ENVIRONMENT=development`: loopback `return_url`s and a short
    /// operator token are accepted.
    pub development: bool,
    /// `WEBHOOK_RETRY_SCALE` (tests only): multiplies the webhook retry
    /// schedule and its 24 h horizon; 1 (or anything not positive) is the
    /// real schedule.
    pub webhook_retry_scale: f64,
}

/// An operator token shorter than this is refused outside development.
pub const MIN_OPERATOR_TOKEN: usize = 32;

impl Config {
    /// Why this deployment must not serve, if it must not.
    pub fn misconfigured(&self) -> Option<String> {
        let n = self.operator_token.chars().count();
        (!self.development && n > 0 && n < MIN_OPERATOR_TOKEN).then(|| {
            format!("OPERATOR_TOKEN has {n} characters; outside development (ENVIRONMENT=development) it needs at least {MIN_OPERATOR_TOKEN}")
        })
    }
}

/// Everything a request needs, assembled by the edge for each request.
pub struct App {
    pub tenants: Rc<dyn TenantStore>,
    pub catalog: Rc<dyn CatalogStore>,
    pub cache: Rc<dyn Cache>,
    pub objects: Rc<dyn TenantObjects>,
    pub connectors: Rc<dyn crate::store::ConnectorStore>,
    pub oauth: Rc<dyn crate::store::OAuthStore>,
    pub sweep: Rc<dyn crate::store::SweepStore>,
    pub tool_calls: Rc<dyn crate::store::ToolCallStore>,
    pub webhooks: Rc<dyn crate::store::WebhookStore>,
    pub connect_sessions: Rc<dyn crate::store::ConnectSessionStore>,
    /// The outbound transport under the guarded client.
    pub transport: Rc<dyn crate::probe::client::Transport>,
    /// Database sockets (TCP from the edge).
    pub databases: Rc<dyn crate::db::Databases>,
    /// Milliseconds since the epoch, read again for latencies.
    pub clock: Rc<dyn Fn() -> i64>,
    pub shared: Rc<Shared>,
    pub config: Rc<Config>,
    pub rng: Box<dyn Random>,
    pub now: Millis,
    /// This request's id, echoed in `Request-Id` and in every error.
    pub request_id: RequestId,
    /// Where 5xx causes go, with the request id (the console at the edge).
    pub log: Rc<dyn Fn(&str)>,
    /// Runs work after the answer is sent (`waitUntil` at the edge): the
    /// tenant object's bookkeeping after a write.
    pub background: Rc<dyn Fn(Deferred)>,
    /// The tenant whose events this request wrote: its object is poked once
    /// the answer is ready, so webhooks go out soon (`webhooks::send_poke`).
    pub poke: webhooks::Poke,
}

impl App {
    pub fn catalog(&self) -> crate::catalog::Catalog<'_> {
        crate::catalog::Catalog {
            store: self.catalog.as_ref(),
            cache: self.cache.as_ref(),
            shared: &self.shared,
            now: self.now,
            allow: &self.config.allow,
            clock: &*self.clock,
        }
    }

    /// An audit event stamped now; `data` must never hold a secret.
    pub fn event(
        &self,
        tenant: &crate::domain::ids::TenantId,
        kind: &str,
        data: serde_json::Value,
    ) -> crate::store::EventRecord {
        self.poke.note(tenant);
        crate::store::EventRecord {
            id: crate::domain::ids::EventId::generate(self.rng.as_ref()).to_string(),
            tenant: tenant.clone(),
            kind: kind.to_string(),
            connector_id: None,
            data,
            created_at: self.now.rfc3339(),
        }
    }

    /// The one outbound client (API §10).
    pub fn outbound(&self) -> crate::probe::client::Guarded<'_> {
        crate::probe::client::Guarded::new(self.transport.as_ref(), &self.config.allow)
    }

    /// The outbound side of the one credential path (API §10).
    pub fn net(&self) -> crate::probe::credential::Net<'_> {
        crate::probe::credential::Net {
            client: self.outbound(),
            clock: &*self.clock,
            now_ms: self.now.0,
            db: self.databases.as_ref(),
        }
    }

    /// An audit event about one connector.
    pub fn event_for(
        &self,
        tenant: &crate::domain::ids::TenantId,
        connector: &crate::domain::ids::ConnectorId,
        kind: &str,
        data: serde_json::Value,
    ) -> crate::store::EventRecord {
        let mut e = self.event(tenant, kind, data);
        e.connector_id = Some(connector.to_string());
        e
    }
}

#[cfg(test)]
mod tests;
