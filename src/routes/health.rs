//! `GET /v1/connectors/{id}/health` over HTTP (API §4): runs the health
//! check now (`app::health::check_now`), which records it, and renders it.

use super::error::ApiError;
use super::http::{HttpRequest, HttpResponse};
use super::App;
use crate::domain::auth::Role;
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
