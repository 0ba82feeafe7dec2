//! Capabilities and bindings (API §7) over HTTP: parse, call
//! `app::bindings`, render; and the tenant's audit events (API §9).

use super::error::ApiError;
use super::extract::{list_json, list_query, JsonBody};
use super::http::{HttpRequest, HttpResponse};
use super::write::{guarded, idempotency, Locks};
use super::App;
use crate::app::bindings as uc;
use crate::app::gateway::{self, Granted};
use crate::domain::auth::Role;
use crate::domain::governance::{parse_rate_limit, Policy};
use crate::domain::ids::{BindingId, ConnectorId};
use crate::domain::Error;
use crate::store::{BindingFilter, BindingRecord, Fail};
use serde_json::{json, Value};

fn binding_json(b: &BindingRecord) -> Value {
    json!({
        "id": b.id.as_str(),
        "object": "binding",
        "consumer": b.consumer,
        "capability": b.capability,
        "connector_id": b.connector_id.as_ref().map(|c| c.as_str()),
        "alias": b.alias,
        "policy": b.policy.map(|p| p.as_str()),
        "rate_limit": b.rate_limit.map(|n| json!({"per_minute": n})),
        "created_at": b.created_at,
    })
}

/// `POST /v1/bindings` — `{consumer, capability, connector_id?, alias?}`.
pub async fn create_binding(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Manager)?;
    let idem = idempotency(req)?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&[
        "consumer",
        "capability",
        "connector_id",
        "alias",
        "policy",
        "rate_limit",
    ])?;
    let consumer = body.req_str("consumer", 200)?;
    let capability = body.req_str("capability", 100)?;
    if !uc::valid_capability(&capability) {
        return Err(Error::invalid(
            "capability",
            "Invalid capability: expected 'noun.verb', e.g. 'order.read'.",
        )
        .into());
    }
    let new = uc::NewBinding {
        consumer,
        capability,
        pinned: connector_id(&body)?.flatten(),
        alias: alias(&body)?,
        policy: policy(&body)?.flatten(),
        rate_limit: rate_limit(&body)?.flatten(),
    };
    let by = by.to_string();
    let locks = Locks::take(vec![uc::LOCK.into()]);
    guarded(app, tenant, idem, locks, || async {
        let b = uc::create(app, tenant, &by, new)
            .await
            .map_err(connector_param)?;
        Ok(HttpResponse::json(201, &binding_json(&b)))
    })
    .await
}

/// `connector_id` of a body: absent, `null` (`Some(None)`) or an id.
fn connector_id(body: &JsonBody) -> Result<Option<Option<ConnectorId>>, ApiError> {
    match body.get("connector_id") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(_) => {
            let id = body.opt_str("connector_id", 64)?.unwrap_or_default();
            let id =
                ConnectorId::parse(&id).map_err(|e| ApiError::from(e).param("connector_id"))?;
            Ok(Some(Some(id)))
        }
    }
}

fn alias(body: &JsonBody) -> Result<Option<String>, ApiError> {
    let Some(a) = body.opt_str("alias", 64)? else {
        return Ok(None);
    };
    if !crate::domain::gateway::valid_alias(&a) {
        return Err(Error::invalid(
            "alias",
            "Invalid alias: 1 to 32 lower-case letters, digits or '-', starting with a letter or digit (tool names are '{alias}_{tool}').",
        )
        .into());
    }
    Ok(Some(a))
}

/// `policy` of a body: absent, `null` (the tenant's default) or a policy.
fn policy(body: &JsonBody) -> Result<Option<Option<Policy>>, ApiError> {
    match body.get("policy") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(v) => match v.as_str().and_then(Policy::parse) {
            Some(p) => Ok(Some(Some(p))),
            None => Err(Error::invalid(
                "policy",
                "Invalid policy: expected allow, approve, dry_run, deny, or null for the tenant's default.",
            )
            .into()),
        },
    }
}

/// `rate_limit` of a body: absent, `null` (none) or `{per_minute}`.
fn rate_limit(body: &JsonBody) -> Result<Option<Option<u32>>, ApiError> {
    match body.get("rate_limit") {
        None => Ok(None),
        Some(v) => Ok(Some(parse_rate_limit(v)?)),
    }
}

/// A missing instance named by the body is the body's `connector_id`.
fn connector_param(e: Fail) -> ApiError {
    match e {
        Fail::Domain(Error::NotFound {
            kind: "connector", ..
        }) => ApiError::from(e).param("connector_id"),
        e => e.into(),
    }
}

/// `PATCH /v1/bindings/{id}` — `{connector_id?, policy?, rate_limit?}`:
/// re-point the binding to another instance of the same listing (`null`:
/// unpin it), set its policy (`null`: the tenant's default) or rate limit.
pub async fn update_binding(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Manager)?;
    let id = BindingId::parse(id)?;
    let idem = idempotency(req)?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&["connector_id", "policy", "rate_limit"])?;
    let change = uc::Change {
        connector_id: connector_id(&body)?,
        policy: policy(&body)?,
        rate_limit: rate_limit(&body)?,
    };
    if change.connector_id.is_none() && change.policy.is_none() && change.rate_limit.is_none() {
        return Err(Error::missing("connector_id")
            .reworded("Nothing to change: send connector_id, policy or rate_limit.")
            .into());
    }
    let by = by.to_string();
    let locks = Locks::take(vec![uc::LOCK.into()]);
    guarded(app, tenant, idem, locks, || async {
        let b = uc::update(app, tenant, &by, &id, change)
            .await
            .map_err(connector_param)?;
        Ok(HttpResponse::json(200, &binding_json(&b)))
    })
    .await
}

/// `GET /v1/bindings` — newest first; filters `consumer`, `capability`,
/// `connector_id` (the instance a binding pins).
pub async fn list_bindings(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Viewer)?;
    let (page, after, mut f) = list_query(req, &["consumer", "capability", "connector_id"])?;
    let filter = BindingFilter {
        consumer: f.remove("consumer"),
        capability: f.remove("capability"),
        connector_id: f.remove("connector_id"),
    };
    let items = app
        .connectors
        .list_bindings(tenant, &filter, after, page.limit + 1)
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

/// `GET /v1/capabilities` — the tenant's capabilities by name, each with how
/// many instances fulfil it and bindings use it and the newest ids of both
/// (the rest: `GET /v1/connectors?capability=`, `GET /v1/bindings?capability=`).
pub async fn list_capabilities(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Viewer)?;
    let (page, after, _) = list_query(req, &[])?;
    let after = match after {
        Some((kind, name)) if kind == "cap" => Some(name),
        Some(_) => return Err(Error::invalid("cursor", "Invalid cursor: pass the next_cursor of a previous page of GET /v1/capabilities unchanged.").into()),
        None => None,
    };
    let items = uc::capabilities(app, tenant, after.as_deref(), page.limit + 1).await?;
    Ok(list_json(
        items,
        page.limit,
        |c| format!("cap|{}", c.capability),
        |c| {
            json!({"id": c.capability, "object": "capability", "fulfilled": c.connectors > 0,
                   "connector_count": c.connectors, "binding_count": c.bindings,
                   "connectors": c.connector_ids, "bindings": c.binding_ids})
        },
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

/// `GET /v1/consumers/{consumer}/tools` — the consumer's assembled tools as
/// its MCP gateway shows them (API §14), by name, with where each comes from;
/// plus what is withheld and the bindings nothing serves now.
pub async fn consumer_tools(
    app: &App,
    req: &HttpRequest,
    consumer: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Viewer)?;
    let (page, after, _) = list_query(req, &[])?;
    let set = gateway::assemble(app, tenant, consumer).await?;
    let after = after.map(|(name, _)| name);
    let items: Vec<&Granted> = set
        .tools
        .iter()
        .filter(|g| after.as_deref().is_none_or(|a| g.name.as_str() > a))
        .take(page.limit + 1)
        .collect();
    let mut out = list_json(
        items,
        page.limit,
        |g| format!("{}|", g.name),
        |g| consumer_tool_json(g),
    );
    let mut body: Value = serde_json::from_slice(&out.body).unwrap_or_default();
    body["withheld"] = set
        .withheld
        .iter()
        .map(|w| json!({"name": w.name, "binding_id": w.binding, "connector_id": w.connector, "tool": w.tool, "reason": w.reason}))
        .collect();
    body["unserved_bindings"] = set.unserved.iter().map(|b| json!(b.id.as_str())).collect();
    out.body = serde_json::to_vec(&body).unwrap_or_default();
    Ok(out)
}

fn consumer_tool_json(g: &Granted) -> Value {
    json!({
        "name": g.name,
        "object": "consumer_tool",
        "title": crate::domain::gateway::title(g.tool()),
        "description": g.tool().description,
        "input_schema": g.tool().input_schema,
        "annotations": crate::domain::gateway::annotations(g.tool()),
        "side_effect": g.tool().side_effect,
        "capability": g.tool().capability,
        "tool": g.tool().name,
        "listing": crate::domain::ids::slug_of(&g.connector.listing),
        "connector_id": g.connector.id.as_str(),
        "binding_id": g.binding.id.as_str(),
        "alias": g.binding.alias,
    })
}
