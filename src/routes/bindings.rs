//! Capabilities and bindings (API §7) over HTTP: parse, call
//! `app::bindings`, render; and the tenant's audit events (API §9).

use super::error::ApiError;
use super::extract::{list_json, list_query, JsonBody};
use super::http::{HttpRequest, HttpResponse};
use super::write::{guarded, idempotency, Locks};
use super::App;
use crate::app::bindings as uc;
use crate::domain::auth::Role;
use crate::domain::ids::{BindingId, ConnectorId};
use crate::domain::Error;
use crate::store::{BindingRecord, Fail};
use serde_json::{json, Value};

fn binding_json(b: &BindingRecord) -> Value {
    json!({
        "id": b.id.as_str(),
        "object": "binding",
        "consumer": b.consumer,
        "capability": b.capability,
        "connector_id": b.connector_id.as_ref().map(|c| c.as_str()),
        "created_at": b.created_at,
    })
}

/// `POST /v1/bindings` — `{consumer, capability, connector_id?}`.
pub async fn create_binding(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Manager)?;
    let idem = idempotency(req)?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&["consumer", "capability", "connector_id"])?;
    let consumer = body.req_str("consumer", 200)?;
    let capability = body.req_str("capability", 100)?;
    if !uc::valid_capability(&capability) {
        return Err(Error::invalid(
            "capability",
            "Invalid capability: expected 'noun.verb', e.g. 'order.read'.",
        )
        .into());
    }
    let pinned = match body.opt_str("connector_id", 64)? {
        Some(id) => {
            Some(ConnectorId::parse(&id).map_err(|e| ApiError::from(e).param("connector_id"))?)
        }
        None => None,
    };
    let by = by.to_string();
    let locks = Locks::take(vec![uc::LOCK.into()]);
    guarded(app, tenant, idem, locks, || async {
        let b = uc::create(app, tenant, &by, consumer, capability, pinned)
            .await
            .map_err(|e| match e {
                Fail::Domain(Error::NotFound { .. }) => ApiError::from(e).param("connector_id"),
                e => e.into(),
            })?;
        Ok(HttpResponse::json(201, &binding_json(&b)))
    })
    .await
}

/// `GET /v1/bindings`.
pub async fn list_bindings(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Viewer)?;
    let (page, after, _) = list_query(req, &[])?;
    let items = app
        .connectors
        .list_bindings(tenant, after, page.limit + 1)
        .await?;
    Ok(list_json(
        items,
        page.limit,
        |b| format!("{}|{}", b.created_at, b.id),
        binding_json,
    ))
}

/// `DELETE /v1/bindings/{id}`.
pub async fn delete_binding(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Manager)?;
    let id = BindingId::parse(id)?;
    let by = by.to_string();
    guarded(
        app,
        tenant,
        None,
        Locks::take(vec![uc::LOCK.into()]),
        || async {
            uc::delete(app, tenant, &by, &id).await?;
            Ok(HttpResponse::json(
                200,
                &json!({"id": id.as_str(), "object": "binding", "deleted": true}),
            ))
        },
    )
    .await
}

/// `GET /v1/capabilities` — each capability with the instances fulfilling it
/// and the bindings using it, by name.
pub async fn list_capabilities(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Viewer)?;
    if let Some((k, _)) = req.query.first() {
        return Err(Error::invalid(k.clone(), format!("Unknown query parameter '{k}'.")).into());
    }
    let data: Vec<Value> = uc::capabilities(app, tenant)
        .await?
        .into_iter()
        .map(|c| json!({"id": c.id, "object": "capability", "fulfilled": !c.connectors.is_empty(), "connectors": c.connectors, "bindings": c.bindings}))
        .collect();
    Ok(HttpResponse::json(
        200,
        &json!({"object": "list", "data": data, "has_more": false, "next_cursor": null}),
    ))
}

/// `GET /v1/events` — newest first; filters `type`, `connector_id`.
pub async fn list_events(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Viewer)?;
    let (page, after, mut f) = list_query(req, &["type", "connector_id"])?;
    let filter = crate::store::EventFilter {
        kind: f.remove("type"),
        connector_id: f.remove("connector_id"),
    };
    let items = app
        .connectors
        .list_events(tenant, &filter, after, page.limit + 1)
        .await?;
    Ok(list_json(
        items,
        page.limit,
        |e| format!("{}|{}", e.created_at, e.id),
        |e| json!({"id": e.id, "object": "event", "type": e.kind, "connector_id": e.connector_id, "data": e.data, "created_at": e.created_at}),
    ))
}
