//! `GET /v1/connectors/{id}/health` (API §4): runs the listing's health
//! probe now (its verify probe when it declares none), refreshing an OAuth
//! access token first when it is about to expire, and records the result.

use super::connectors::instance_listing;
use super::error::ApiError;
use super::http::{HttpRequest, HttpResponse};
use super::oauth::open_fields;
use super::App;
use crate::domain::auth::Role;
use crate::domain::manifest::Listing;
use crate::domain::Error;
use crate::probe::credential::Session;
use crate::probe::run::Outcome;
use crate::store::{ConnectorRecord, Written};
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
pub async fn check(app: &App, c: &ConnectorRecord, listing: &Listing) -> Result<Check, ApiError> {
    let fields = open_fields(app, c)?;
    let mut next = c.clone();
    let config: Map<String, Value> = c.config.as_object().cloned().unwrap_or_default();
    let mut session = Session::new(listing, &c.auth_type, &config, fields);
    let net = app.net();
    let outcome = 'probe: {
        if session.oauth() {
            if let Err(message) = session.refresh_if_due(&net).await {
                break 'probe Outcome::Rejected {
                    status: 0,
                    snippet: message,
                    latency_ms: 0,
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
    let (healthy, message, latency_ms) = match &outcome {
        Outcome::Accepted { latency_ms, .. } => (Some(true), String::new(), Some(*latency_ms)),
        Outcome::Rejected {
            status: 0, snippet, ..
        } => (Some(false), snippet.clone(), None),
        Outcome::Rejected {
            status,
            snippet,
            latency_ms,
        } => (
            Some(false),
            format!("The provider rejected the credentials (HTTP {status}): {snippet}"),
            Some(*latency_ms),
        ),
        Outcome::Unreachable { message }
        | Outcome::Refused { message }
        | Outcome::NotJson { message, .. } => (Some(false), message.clone(), None),
        Outcome::Unsupported { message } => (None, message.clone(), None),
    };
    next.health = json!({"healthy": healthy, "last_check": app.now.rfc3339(), "latency_ms": latency_ms, "message": message});
    next.status = match (&outcome, healthy) {
        (Outcome::Rejected { .. }, _) => "error".into(),
        (_, Some(true)) => "connected".into(),
        _ => c.status.clone(),
    };
    let refreshed = session.refreshed;
    if refreshed {
        next.secret = Some(super::oauth::seal_fields(
            app,
            &c.tenant,
            &c.id,
            &session.fields,
        )?);
    }
    let changed = c.health["healthy"].as_bool() != healthy || next.status != c.status || refreshed;
    let reachable = !matches!(
        outcome,
        Outcome::Unreachable { .. } | Outcome::NotJson { .. }
    );
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
pub async fn record(app: &App, c: &ConnectorRecord, k: &Check) -> Result<Written, ApiError> {
    let moved = c.health["healthy"].as_bool() != k.healthy || k.next.status != c.status;
    let event = moved.then(|| {
        app.event_for(
            &c.tenant,
            &c.id,
            "connector.health_changed",
            json!({"healthy": k.healthy, "status": k.next.status, "message": k.message}),
        )
    });
    Ok(app
        .connectors
        .update_connector(&c.tenant, &k.next, event.as_ref())
        .await?)
}

/// `GET /v1/connectors/{id}/health`.
pub async fn connector_health(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Viewer)?;
    let c = super::connectors::owned(app, tenant, id).await?;
    if c.status == "pending_auth" {
        return Err(Error::StateConflict(
            "The connector is waiting for OAuth consent; authorize it first.".into(),
        )
        .into());
    }
    let listing = instance_listing(app, &c).await?;
    let k = check(app, &c, &listing).await?;
    if record(app, &c, &k).await? == Written::Gone {
        return Err(Error::not_found("connector", c.id.as_str()).into());
    }
    Ok(HttpResponse::json(
        200,
        &json!({
            "object": "connector_health",
            "connector_id": c.id.as_str(),
            "healthy": k.healthy,
            "status": k.next.status,
            "last_check": k.next.health["last_check"],
            "latency_ms": k.latency_ms,
            "message": k.message,
        }),
    ))
}
