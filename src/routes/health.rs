//! `GET /v1/connectors/{id}/health` (API §4): runs the listing's health
//! probe now (its verify probe when it declares none), refreshing an OAuth
//! access token first when it is about to expire, and records the result.

use super::connectors::load_listing;
use super::error::ApiError;
use super::http::{HttpRequest, HttpResponse};
use super::oauth::open_fields;
use super::App;
use crate::domain::auth::Role;
use crate::domain::ids::ConnectorId;
use crate::domain::oauth;
use crate::domain::vault;
use crate::domain::Error;
use crate::probe::client::OutboundRequest;
use crate::probe::run::{self, Outcome};
use crate::probe::template::Values;
use crate::store::Written;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Refreshes an OAuth access token that is about to expire. `Err` carries a
/// message for the instance when the provider refused.
async fn refresh_if_due(
    app: &App,
    fields: &mut BTreeMap<String, String>,
    token_url: &str,
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
    let body = oauth::refresh_body(
        &refresh,
        fields
            .get("client_id")
            .map(String::as_str)
            .unwrap_or_default(),
        fields.get("client_secret").map(String::as_str),
    );
    let resp = app
        .outbound()
        .send(OutboundRequest {
            method: "POST".into(),
            url: token_url.to_string(),
            headers: vec![
                (
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
                ("Accept".into(), "application/json".into()),
            ],
            body: Some(body),
        })
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

/// `GET /v1/connectors/{id}/health`.
pub async fn connector_health(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Viewer)?;
    let id = ConnectorId::parse(id)?;
    let c = app
        .connectors
        .connector(tenant, &id)
        .await?
        .ok_or_else(|| Error::not_found("connector", id.as_str()))?;
    if c.status == "pending_auth" {
        return Err(Error::StateConflict(
            "The connector is waiting for OAuth consent; authorize it first.".into(),
        )
        .into());
    }
    let listing = load_listing(app, &c.listing).await?;
    let mut fields = if c.secret.is_some() {
        open_fields(app, &c)?
    } else {
        BTreeMap::new()
    };
    let mut next = c.clone();
    let oauth_mode = matches!(c.auth_type.as_str(), "oauth2" | "mcp_oauth");
    let mut refreshed = false;
    let outcome = 'probe: {
        if oauth_mode {
            let token_url = listing
                .oauth
                .as_ref()
                .and_then(|o| o["token_url"].as_str())
                .unwrap_or_default();
            match refresh_if_due(app, &mut fields, token_url).await {
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
    let (healthy, message, latency) = match &outcome {
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
    next.health = json!({"healthy": healthy, "last_check": app.now.rfc3339(), "latency_ms": latency, "message": message});
    next.status = match (&outcome, healthy) {
        (Outcome::Rejected { .. }, _) => "error".into(),
        (_, Some(true)) => "connected".into(),
        _ => c.status.clone(),
    };
    if refreshed {
        let key = app
            .config
            .vault
            .as_ref()
            .ok_or_else(|| ApiError::internal("VAULT_KEY is not configured"))?;
        let plain = serde_json::to_vec(&fields).expect("a map of strings serialises");
        next.secret = Some(key.seal(
            app.rng.as_ref(),
            &vault::owner(c.tenant.as_str(), c.id.as_str()),
            &plain,
        ));
    }
    let was = c.health["healthy"].as_bool();
    let changed = was != healthy || next.status != c.status;
    // An event only when something changed; the check itself is recorded
    // on the instance (last_check, latency).
    let event = changed.then(|| {
        app.event_for(
            tenant,
            &c.id,
            "connector.health_changed",
            json!({"healthy": healthy, "status": next.status, "message": message}),
        )
    });
    if app
        .connectors
        .update_connector(tenant, &next, event.as_ref())
        .await?
        == Written::Gone
    {
        return Err(Error::not_found("connector", c.id.as_str()).into());
    }
    Ok(HttpResponse::json(
        200,
        &json!({
            "object": "connector_health",
            "connector_id": c.id.as_str(),
            "healthy": healthy,
            "status": next.status,
            "last_check": next.health["last_check"],
            "latency_ms": latency,
            "message": message,
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
