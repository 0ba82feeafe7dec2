//! Capabilities and bindings (API §7): consumers depend on capabilities,
//! optionally pinned to one instance; uninstalls respect them.

use super::error::ApiError;
use super::extract::{list_json, list_query, JsonBody};
use super::http::{HttpRequest, HttpResponse};
use super::write::{guarded, idempotency, Locks};
use super::App;
use crate::domain::auth::Role;
use crate::domain::ids::{BindingId, ConnectorId, TenantId};
use crate::domain::Error;
use crate::store::{BindingRecord, ConnectorRecord, StoreError};
use serde_json::{json, Value};
use std::collections::BTreeMap;

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

/// `noun.verb`, as in manifests.
fn valid_capability(c: &str) -> bool {
    let part = |s: &str| {
        s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    c.len() <= 100 && c.split_once('.').is_some_and(|(n, v)| part(n) && part(v))
}

/// The bindings that would break if `c` went away: those pinned to it, and
/// those whose capability no other instance fulfils.
pub async fn dependents(
    app: &App,
    tenant: &TenantId,
    c: &ConnectorRecord,
) -> Result<Vec<BindingRecord>, StoreError> {
    let bindings = app.connectors.all_bindings(tenant).await?;
    if bindings.is_empty() {
        return Ok(vec![]);
    }
    let others = app.connectors.all_connectors(tenant).await?;
    Ok(bindings
        .into_iter()
        .filter(|b| match &b.connector_id {
            Some(pinned) => pinned == &c.id,
            None => {
                c.capabilities.contains(&b.capability)
                    && !others
                        .iter()
                        .any(|o| o.id != c.id && o.capabilities.contains(&b.capability))
            }
        })
        .collect())
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
    if !valid_capability(&capability) {
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
    guarded(app, tenant, idem, Locks::take(vec!["bindings".into()]), || async {
        if let Some(id) = &pinned {
            let c = app
                .connectors
                .connector(tenant, id)
                .await?
                .ok_or_else(|| ApiError::from(Error::not_found("connector", id.as_str())).param("connector_id"))?;
            if !c.capabilities.contains(&capability) {
                return Err(Error::invalid(
                    "connector_id",
                    format!("The connector '{}' does not fulfil '{capability}'.", id),
                )
                .into());
            }
        }
        let b = BindingRecord {
            id: BindingId::generate(app.rng.as_ref()),
            tenant: tenant.clone(),
            consumer: consumer.clone(),
            capability: capability.clone(),
            connector_id: pinned.clone(),
            created_at: app.now.rfc3339(),
        };
        let mut event = app.event(tenant, "binding.created", json!({"binding_id": b.id.as_str(), "consumer": consumer, "capability": capability, "by": by}));
        event.connector_id = pinned.as_ref().map(|c| c.to_string());
        app.connectors.insert_binding(tenant, &b, &event).await?;
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
        Locks::take(vec!["bindings".into()]),
        || async {
            let b = app
                .connectors
                .binding(tenant, &id)
                .await?
                .ok_or_else(|| Error::not_found("binding", id.as_str()))?;
            let mut event = app.event(
                tenant,
                "binding.deleted",
                json!({"binding_id": id.as_str(), "capability": b.capability, "by": by}),
            );
            event.connector_id = b.connector_id.as_ref().map(|c| c.to_string());
            if !app.connectors.delete_binding(tenant, &id, &event).await? {
                return Err(Error::not_found("binding", id.as_str()).into());
            }
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
    let connectors = app.connectors.all_connectors(tenant).await?;
    let bindings = app.connectors.all_bindings(tenant).await?;
    let mut caps: BTreeMap<&str, (Vec<&str>, Vec<&str>)> = BTreeMap::new();
    for c in &connectors {
        for cap in &c.capabilities {
            caps.entry(cap).or_default().0.push(c.id.as_str());
        }
    }
    for b in &bindings {
        caps.entry(&b.capability).or_default().1.push(b.id.as_str());
    }
    let data: Vec<Value> = caps
        .into_iter()
        .map(|(cap, (cs, bs))| json!({"id": cap, "object": "capability", "fulfilled": !cs.is_empty(), "connectors": cs, "bindings": bs}))
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
