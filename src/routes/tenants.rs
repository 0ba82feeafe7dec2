//! `POST /v1/tenants`: the operator creates a tenant and its first admin key.

use super::error::ApiError;
use super::extract::JsonBody;
use super::http::{HttpRequest, HttpResponse};
use super::App;
use crate::domain::auth::{mint_key, Role};
use crate::domain::ids::TenantId;
use crate::store::{KeyRecord, TenantRecord};
use serde_json::json;

/// `POST /v1/tenants` — operator only; answers the tenant and its first
/// admin key's secret, shown this once.
pub async fn create_tenant(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    app.principal(req).await?.require_operator()?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&["name"])?;
    let name = body.req_str("name", 200)?;
    let now = app.now.rfc3339();
    let tenant = TenantRecord {
        id: TenantId::generate(app.rng.as_ref()),
        name,
        created_at: now.clone(),
    };
    let minted = mint_key(app.rng.as_ref());
    let key = KeyRecord {
        id: minted.id.clone(),
        tenant: tenant.id.clone(),
        name: Some("initial admin key".into()),
        role: Role::Admin,
        secret_hash: minted.hash.clone(),
        last4: minted.last4.clone(),
        created_at: now,
    };
    let event = app.event(
        &tenant.id,
        "api_key.created",
        json!({"api_key_id": key.id.as_str(), "role": "admin", "by": "operator"}),
    );
    app.tenants.create_tenant(&tenant, &key, &event).await?;
    Ok(HttpResponse::json(
        201,
        &json!({
            "id": tenant.id.as_str(),
            "object": "tenant",
            "name": tenant.name,
            "created_at": tenant.created_at,
            "api_key": super::api_keys::key_json(&key, Some(&minted.secret)),
        }),
    ))
}
