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
use crate::domain::oauth;
use crate::domain::Error;
use crate::probe::run::{self, Outcome};
use crate::probe::template::Values;
use crate::store::{ConnectorRecord, Written};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Refreshes an OAuth access token that is about to expire. `Err` carries a
/// message for the instance when the provider refused.
async fn refresh_if_due(
    app: &App,
    fields: &mut BTreeMap<String, String>,
    listing: &Listing,
) -> Result<bool, String> {
    let expires = fields
        .get("expires_at_ms")
        .and_then(|s| s.parse::<i64>().ok());
    if !oauth::needs_refresh(expires, app.now.0) {
        return Ok(false);
    }
    let Some(refresh) = fields.get("refresh_token").cloned() else {
        return Err(
            "The access token expired and the provider issued no refresh token; authorize again."
                .into(),
        );
    };
    let Some(ep) = super::oauth::endpoints(listing, fields) else {
        return Err("The connector has no token endpoint; authorize it again.".into());
    };
    let body = oauth::refresh_body(
        &refresh,
        fields
            .get("client_id")
            .map(String::as_str)
            .unwrap_or_default(),
        fields.get("client_secret").map(String::as_str),
    );
    let body = super::oauth::with_resource(body, ep.resource.as_deref());
    let resp = super::oauth::token_request(app, &ep.token_url, body)
        .await
        .map_err(|e| format!("The token refresh failed: {e}"))?;
    let tokens = oauth::parse_token_response(resp.status, &resp.body, app.now.0)
        .map_err(|e| format!("The token refresh was refused: {e}"))?;
    fields.insert("access_token".into(), tokens.access_token);
    if let Some(r) = tokens.refresh_token {
        fields.insert("refresh_token".into(), r);
    }
    match tokens.expires_at_ms {
        Some(t) => fields.insert("expires_at_ms".into(), t.to_string()),
        None => fields.remove("expires_at_ms"),
    };
    Ok(true)
}

async fn mcp_handshake(
    app: &App,
    c: &ConnectorRecord,
    listing: &Listing,
    fields: &BTreeMap<String, String>,
) -> Outcome {
    let config: Map<String, Value> = c.config.as_object().cloned().unwrap_or_default();
    let values = Values {
        config: &config,
        auth: fields,
    };
    let url = match super::discovery::mcp_url(listing, &values) {
        Ok(u) => u,
        Err(message) => return Outcome::Refused { message },
    };
    let mut headers = vec![];
    if let Some(t) = fields.get("access_token") {
        headers.push(("Authorization".to_string(), format!("Bearer {t}")));
    }
    let clock = app.clock.clone();
    crate::probe::mcp::handshake(&app.outbound(), &url, &headers, &move || clock()).await
}

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
    let mut fields = open_fields(app, c)?;
    let mut next = c.clone();
    let oauth_mode = matches!(c.auth_type.as_str(), "oauth2" | "mcp_oauth");
    let mut refreshed = false;
    let outcome = 'probe: {
        if oauth_mode {
            match refresh_if_due(app, &mut fields, listing).await {
                Ok(r) => refreshed = r,
                Err(message) => {
                    break 'probe Outcome::Rejected {
                        status: 0,
                        snippet: message,
                        latency_ms: 0,
                    }
                }
            }
        }
        let Some(mut probe) = listing.health.clone().or_else(|| listing.verify.clone()) else {
            if listing.transport == "mcp" {
                // An MCP server without a declared probe answers the
                // protocol's own handshake.
                break 'probe mcp_handshake(app, c, listing, &fields).await;
            }
            break 'probe Outcome::Unsupported {
                message: "This listing declares no health probe.".into(),
            };
        };
        if oauth_mode {
            add_bearer(&mut probe);
        }
        let config: Map<String, Value> = c.config.as_object().cloned().unwrap_or_default();
        let values = Values {
            config: &config,
            auth: &fields,
        };
        let clock = app.clock.clone();
        run::run(&probe, &values, &app.outbound(), &move || clock()).await
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
        Outcome::Unreachable { message } | Outcome::Refused { message } => {
            (Some(false), message.clone(), None)
        }
        Outcome::Unsupported { message } => (None, message.clone(), None),
    };
    next.health = json!({"healthy": healthy, "last_check": app.now.rfc3339(), "latency_ms": latency_ms, "message": message});
    next.status = match (&outcome, healthy) {
        (Outcome::Rejected { .. }, _) => "error".into(),
        (_, Some(true)) => "connected".into(),
        _ => c.status.clone(),
    };
    if refreshed {
        next.secret = Some(super::oauth::seal_fields(app, &c.tenant, &c.id, &fields)?);
    }
    let changed = c.health["healthy"].as_bool() != healthy || next.status != c.status || refreshed;
    let reachable = !matches!(outcome, Outcome::Unreachable { .. });
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

/// OAuth probes carry the access token as a Bearer unless they set
/// `Authorization` themselves (the manifest convention). The token goes in
/// through the template like any credential, so its value is checked there.
fn add_bearer(probe: &mut Value) {
    let mut headers = probe["headers"].as_object().cloned().unwrap_or_default();
    if !headers
        .keys()
        .any(|k| k.eq_ignore_ascii_case("authorization"))
    {
        headers.insert(
            "Authorization".into(),
            json!("Bearer {{auth.access_token}}"),
        );
        probe["headers"] = Value::Object(headers);
    }
}
