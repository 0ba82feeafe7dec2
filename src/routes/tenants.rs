//! `POST /v1/tenants`: the operator creates a tenant and its first admin key.

use super::error::ApiError;
use super::extract::JsonBody;
use super::http::{HttpRequest, HttpResponse};
use super::App;
use serde_json::json;

/// `POST /v1/tenants` — operator only; answers the tenant and its first
/// admin key's secret, shown this once.
pub async fn create_tenant(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    app.principal(req).await?.require_operator()?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&["name"])?;
    let name = body.req_str("name", 200)?;
    let (tenant, minted) = crate::app::keys::create_tenant(app, name).await?;
    Ok(HttpResponse::json(
        201,
        &json!({
            "id": tenant.id.as_str(),
            "object": "tenant",
            "name": tenant.name,
            "created_at": tenant.created_at,
            "api_key": super::api_keys::key_json(&minted.key, Some(&minted.secret)),
        }),
    ))
}
