//! `GET /v1/connectors/{id}/health` over HTTP (API §4): runs the health
//! check now (`app::health::check_now`), which records it, and renders it;
//! `GET …/health-checks` lists the recorded checks.

use super::error::ApiError;
use super::extract::{list_json, list_query};
use super::http::{HttpRequest, HttpResponse};
use super::App;
use crate::domain::auth::Role;
use crate::domain::Error;
use serde_json::json;

/// `GET /v1/connectors/{id}/health`.
pub async fn connector_health(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Viewer)?;
    let k = crate::app::health::check_now(app, tenant, id).await?;
    Ok(HttpResponse::json(
        200,
        &json!({
            "object": "connector_health",
            "connector_id": k.next.id.as_str(),
            "healthy": k.healthy,
            "status": k.next.status,
            "last_check": k.next.health.last_check,
            "latency_ms": k.latency_ms,
            "message": k.message,
        }),
    ))
}

/// `GET /v1/connectors/{id}/health-checks` — the instance's recorded checks
/// (on demand, by tests and by the sweep), newest first: its latency history.
pub async fn list_health_checks(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Viewer)?;
    let (page, after, _) = list_query(req, &[])?;
    let before = match after {
        Some((_, seq)) => Some(seq.parse::<i64>().map_err(|_| {
            Error::invalid(
                "cursor",
                "Invalid cursor: pass back a next_cursor as given.",
            )
        })?),
        None => None,
    };
    let c = crate::app::connectors::owned(app, tenant, id).await?;
    let rows = app
        .connectors
        .health_checks(tenant, &c.id, before, page.limit + 1)
        .await?;
    Ok(list_json(
        rows,
        page.limit,
        |k| format!("{}|{}", k.checked_at, k.seq),
        |k| {
            json!({"object": "health_check", "checked_at": k.checked_at, "healthy": k.healthy,
                   "latency_ms": k.latency_ms, "status": k.status, "message": k.message})
        },
    ))
}
