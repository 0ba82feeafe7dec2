//! API keys of a tenant (admin only) over HTTP: mint, list, revoke
//! (`app::keys` holds the rules).

use super::error::ApiError;
use super::extract::{list_json, list_query, JsonBody};
use super::http::{HttpRequest, HttpResponse};
use super::App;
use crate::domain::auth::Role;
use crate::domain::ids::KeyId;
use crate::store::KeyRecord;
use serde_json::{json, Value};

/// The public view of a key; `secret` only in the answer that creates it.
pub fn key_json(k: &KeyRecord, secret: Option<&str>) -> Value {
    let mut v = json!({
        "id": k.id.as_str(),
        "object": "api_key",
        "name": k.name,
        "role": k.role.as_str(),
        "consumer": k.consumer,
        "redacted_secret": format!("mk_…{}", k.last4),
        "created_at": k.created_at,
    });
    if let Some(s) = secret {
        v["secret"] = json!(s);
    }
    v
}

/// `POST /v1/api-keys` — `{role, name?, consumer?}` (`consumer` for, and
/// only for, `agent` keys); the secret is shown once.
pub async fn create_api_key(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Admin)?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&["role", "name", "consumer"])?;
    let role = Role::parse(&body.req_str("role", 20)?)?;
    let name = body.opt_str("name", 200)?;
    let consumer = body.opt_str("consumer", 200)?;
    let m = crate::app::keys::create_key(app, tenant, by, role, name, consumer).await?;
    Ok(HttpResponse::json(201, &key_json(&m.key, Some(&m.secret))))
}

/// `GET /v1/api-keys` — live keys, newest first, without secrets.
pub async fn list_api_keys(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Admin)?;
    let (page, after, _) = list_query(req, &[])?;
    let keys = app.tenants.list_keys(tenant, after, page.limit + 1).await?;
    Ok(list_json(
        keys,
        page.limit,
        |k| format!("{}|{}", k.created_at, k.id),
        |k| key_json(k, None),
    ))
}

/// `DELETE /v1/api-keys/{id}` — revokes a key at once. The key making the
/// request cannot revoke itself, so an admin cannot lock the tenant out by
/// accident.
pub async fn delete_api_key(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Admin)?;
    let id = KeyId::parse(id)?;
    crate::app::keys::revoke_key(app, tenant, by, &id).await?;
    Ok(HttpResponse::json(
        200,
        &json!({"id": id.as_str(), "object": "api_key", "deleted": true}),
    ))
}
