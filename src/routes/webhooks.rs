//! Webhook endpoints (API §16, admin only) over HTTP: create (the signing
//! secret shown once), list, read, delete, send a test event, list an
//! endpoint's deliveries with their attempts — parse, call `app::webhooks`,
//! render. The secret is never rendered again.

use super::error::ApiError;
use super::extract::{list_json, list_query, JsonBody};
use super::http::{HttpRequest, HttpResponse};
use super::App;
use crate::app::{webhook_delivery, webhooks as uc};
use crate::domain::auth::Role;
use crate::domain::time::Millis;
use crate::domain::webhook;
use crate::store::webhooks::{DeliveryRecord, EndpointRecord};
use serde_json::{json, Value};

/// The public view of an endpoint; `secret` only in the answer creating it.
pub fn endpoint_json(e: &EndpointRecord, secret: Option<&str>) -> Value {
    let mut v = json!({
        "id": e.id.as_str(),
        "object": "webhook_endpoint",
        "url": e.url,
        "description": e.description,
        "events": e.events,
        "status": e.status,
        "disabled_reason": e.disabled_reason,
        "created_at": e.created_at,
        "updated_at": e.updated_at,
    });
    if let Some(s) = secret {
        v["secret"] = json!(s);
    }
    v
}

pub fn delivery_json(d: &DeliveryRecord) -> Value {
    json!({
        "id": d.id.as_str(),
        "object": "webhook_delivery",
        "endpoint_id": d.endpoint_id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "status": d.status,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_ms.map(|t| Millis(t).rfc3339()),
        "created_at": d.created_at,
        "updated_at": d.updated_at,
    })
}

/// `POST /v1/webhook-endpoints` — `{url, events, description?}`; the
/// signing secret is in this answer only.
pub async fn create_endpoint(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Admin)?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&["url", "events", "description"])?;
    let new = uc::NewEndpoint {
        url: body.req_str("url", webhook::MAX_URL_CHARS)?,
        events: webhook::parse_events(body.get("events"))?,
        description: body.opt_str("description", 500)?,
    };
    let c = uc::create(app, tenant, by, new).await?;
    Ok(HttpResponse::json(
        201,
        &endpoint_json(&c.endpoint, Some(&c.secret)),
    ))
}

/// `GET /v1/webhook-endpoints` — newest first, never the secret.
pub async fn list_endpoints(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Admin)?;
    let (page, after, _) = list_query(req, &[])?;
    let items = app
        .webhooks
        .list_endpoints(tenant, after, page.limit + 1)
        .await?;
    Ok(list_json(
        items,
        page.limit,
        |e| format!("{}|{}", e.created_at, e.id),
        |e| endpoint_json(e, None),
    ))
}

/// `GET /v1/webhook-endpoints/{id}`.
pub async fn get_endpoint(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Admin)?;
    let e = uc::get(app, tenant, id).await?;
    Ok(HttpResponse::json(200, &endpoint_json(&e, None)))
}

/// `DELETE /v1/webhook-endpoints/{id}` — with its secret and deliveries.
pub async fn delete_endpoint(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Admin)?;
    uc::delete(app, tenant, by, id).await?;
    Ok(HttpResponse::json(
        200,
        &json!({"id": id, "object": "webhook_endpoint", "deleted": true}),
    ))
}

/// `POST /v1/webhook-endpoints/{id}/test` — sends a `webhook.test` event
/// now and answers its delivery.
pub async fn test_endpoint(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Admin)?;
    JsonBody::parse(&req.body)?.only(&[])?;
    let d = webhook_delivery::send_test(app, tenant, by, id).await?;
    Ok(HttpResponse::json(200, &delivery_json(&d)))
}

/// `GET /v1/webhook-endpoints/{id}/deliveries` — newest first, each with
/// its attempts.
pub async fn list_deliveries(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Admin)?;
    let (page, after, _) = list_query(req, &[])?;
    let items = uc::deliveries(app, tenant, id, after, page.limit + 1).await?;
    Ok(list_json(
        items,
        page.limit,
        |d| format!("{}|{}", d.created_at, d.id),
        delivery_json,
    ))
}
