//! A connector's health check as a use case (API §4, §6): run the listing's
//! health probe (its verify probe when it declares none; the MCP handshake for
//! a probe-less MCP listing) through the one credential path, refreshing a due
//! OAuth token first, and record it. The health route, tool tests and the
//! sweep all check through here.

use super::vault::open_fields;
use super::App;
use crate::domain::connector::Status;
use crate::domain::health::Health;
use crate::domain::ids::TenantId;
use crate::domain::manifest::Listing;
use crate::domain::Error;
use crate::probe::credential::Session;
use crate::probe::run::Outcome;
use crate::store::{ConnectorRecord, Fail, HealthCheckRecord, StoreError, Written};
use serde_json::{json, Map, Value};

/// One health check's result, before anything is written.
pub struct Check {
    /// The instance as it should now be stored.
    pub next: ConnectorRecord,
    pub healthy: Option<bool>,
    pub message: String,
    pub latency_ms: Option<u64>,
    /// `healthy` or `status` moved: D1 must be written and an event recorded.
    pub changed: bool,
    /// The provider answered (even if it refused): feeds the sweep's backoff.
    pub reachable: bool,
}

/// Runs an instance's health probe (refreshing an OAuth token first when it
/// is due). Writes nothing: callers decide what to record.
pub async fn check(app: &App, c: &ConnectorRecord, listing: &Listing) -> Result<Check, StoreError> {
    let fields = open_fields(app, c)?;
    let mut next = c.clone();
    let config: Map<String, Value> = c.config.as_object().cloned().unwrap_or_default();
    let mut session = Session::new(listing, c.auth_type, &config, fields);
    let net = app.net();
    let outcome = 'probe: {
        if session.oauth() {
            if let Err(message) = session.refresh_if_due(&net).await {
                break 'probe Outcome::Rejected {
                    status: 0,
                    snippet: message,
                    latency_ms: 0,
                    reason: None,
                };
            }
        }
        let Some(probe) = listing.health.as_ref().or(listing.verify.as_ref()) else {
            if listing.transport == "mcp" {
                // An MCP server without a declared probe answers the
                // protocol's own handshake.
                break 'probe session.mcp_handshake(&net).await;
            }
            break 'probe Outcome::Unsupported {
                message: "This listing declares no health probe.".into(),
            };
        };
        session.probe(&net, probe, session.oauth()).await
    };
    let verdict = outcome.verdict(c.auth_type, "The provider");
    let (healthy, message, latency_ms) = (verdict.ok, verdict.message, verdict.latency_ms);
    next.health = Health::checked(app.now, healthy, latency_ms, &message);
    next.status = match (&outcome, healthy) {
        (Outcome::Rejected { .. }, _) => Status::Error,
        (_, Some(true)) => Status::Connected,
        _ => c.status,
    };
    let refreshed = session.refreshed;
    if refreshed {
        next.secret = Some(super::vault::seal_fields(
            app,
            &c.tenant,
            &c.id,
            &session.fields,
        )?);
    }
    let changed = c.health.healthy != healthy || next.status != c.status || refreshed;
    let reachable = outcome.reachable();
    Ok(Check {
        next,
        healthy,
        message,
        latency_ms,
        changed,
        reachable,
    })
}

/// Stores a check: the row always, an event only when `healthy` or `status`
/// moved (a refresh alone changes the sealed secret, not the health).
pub async fn record(app: &App, c: &ConnectorRecord, k: &Check) -> Result<Written, StoreError> {
    let moved = c.health.healthy != k.healthy || k.next.status != c.status;
    let event = moved.then(|| {
        app.event_for(
            &c.tenant,
            &c.id,
            "connector.health_changed",
            json!({"healthy": k.healthy, "status": k.next.status, "message": k.message}),
        )
    });
    let check = HealthCheckRecord {
        seq: 0,
        checked_at: app.now.rfc3339(),
        healthy: k.healthy,
        latency_ms: k.latency_ms,
        status: k.next.status.as_str().to_string(),
        message: k.message.clone(),
    };
    app.connectors
        .record_check(&c.tenant, &k.next, event.as_ref(), &check)
        .await
}

/// `GET /v1/connectors/{id}/health`: checks the caller's instance now and
/// records it. An instance waiting for consent has nothing to check.
pub async fn check_now(app: &App, tenant: &TenantId, id: &str) -> Result<Check, Fail> {
    let c = super::connectors::owned(app, tenant, id).await?;
    if c.status == Status::PendingAuth {
        return Err(Error::StateConflict(
            "The connector is waiting for OAuth consent; authorize it first.".into(),
        )
        .into());
    }
    let listing = super::listings::of_instance(app, &c).await?;
    let k = check(app, &c, &listing).await?;
    if record(app, &c, &k).await? == Written::Gone {
        return Err(Error::not_found("connector", c.id.as_str()).into());
    }
    Ok(k)
}
