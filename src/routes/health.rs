//! `GET /v1/connectors/{id}/health` (API §4): runs the health check now
//! (`app::health`) and records it.

use super::connectors::instance_listing;
use super::error::ApiError;
use super::http::{HttpRequest, HttpResponse};
use super::App;
use crate::domain::auth::Role;
use crate::domain::Error;
use crate::store::Written;
use serde_json::json;

pub use crate::app::health::{check, record, Check};

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
