//! Tool calls over HTTP (API §13): call a tool (a manager, or an agent key
//! whose bindings grant it), and the receipts — parse, call
//! `app::tool_call`, render.

use super::error::ApiError;
use super::extract::{list_json, list_query, JsonBody};
use super::http::{HttpRequest, HttpResponse};
use super::write::{guarded, idempotency, Locks};
use super::App;
use crate::app::tool_call::{self as uc, CallRequest};
use crate::domain::auth::Role;
use crate::domain::Error;
use crate::store::{ToolCallFilter, ToolCallRecord};
use serde_json::{json, Value};

/// The public view of a receipt (API §13): never a credential.
pub fn tool_call_json(c: &ToolCallRecord) -> Value {
    json!({
        "id": c.id,
        "object": "tool_call",
        "connector_id": c.connector_id,
        "listing": c.listing,
        "listing_version": c.listing_version,
        "tool": c.tool,
        "capability": c.capability,
        "consumer": c.consumer,
        "mode": c.mode,
        "status": c.status,
        "result": c.result,
        "truncated": c.truncated,
        "error": c.error,
        "upstream_status": c.upstream_status,
        "latency_ms": c.latency_ms,
        "arguments_sha256": c.arguments_sha256,
        "idempotency_key": c.idempotency_key,
        "approval_id": c.approval_id,
        "created_at": c.created_at,
    })
}

/// `POST /v1/connectors/{id}/tools/{tool}/call` — `{arguments?, dry_run?}`.
pub async fn call_tool(
    app: &App,
    req: &HttpRequest,
    id: &str,
    tool: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.any_principal(req).await?;
    let caller = principal.require_tool_caller()?;
    let idem = idempotency(req)?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&["arguments", "dry_run"])?;
    let dry_run = match body.get("dry_run") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(Error::invalid("dry_run", "Invalid dry_run: expected a boolean.").into())
        }
    };
    let request = CallRequest {
        connector: id,
        tool,
        arguments: body.get("arguments"),
        dry_run,
        idempotency_key: idem.as_ref().map(|i| i.key.as_str()),
    };
    let plan = uc::plan(app, &caller, request).await?;
    let run = || async {
        Ok(HttpResponse::json(
            200,
            &tool_call_json(&uc::call(app, plan).await?),
        ))
    };
    let answer = if idem.is_some() {
        guarded(app, caller.tenant, idem, Locks::default(), run).await?
    } else {
        run().await?
    };
    current(app, caller.tenant, answer).await
}

/// A replayed `pending_approval` receipt as it is now: once a person has
/// decided, the retry with the same key receives the result (API §15).
pub async fn current(
    app: &App,
    tenant: &crate::domain::ids::TenantId,
    answer: HttpResponse,
) -> Result<HttpResponse, ApiError> {
    if answer.get_header("idempotent-replayed") != Some("true") {
        return Ok(answer);
    }
    let v: Value = serde_json::from_slice(&answer.body).unwrap_or_default();
    if v["object"] != "tool_call" || v["status"] != "pending_approval" {
        return Ok(answer);
    }
    let id = v["id"].as_str().unwrap_or_default();
    match app.tool_calls.tool_call(tenant, id).await? {
        Some(now) => Ok(
            HttpResponse::json(200, &tool_call_json(&now)).header("idempotent-replayed", "true")
        ),
        None => Ok(answer),
    }
}

/// `POST /v1/connectors/{id}/tools/accept` — `{tools?}`: re-pin the upstream
/// MCP definitions of those tools (all when absent).
pub async fn accept_tools(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Manager)?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&["tools"])?;
    let accepted = uc::accept(app, tenant, by.as_str(), id, body.get("tools")).await?;
    Ok(HttpResponse::json(
        200,
        &json!({"object": "tool_acceptance", "connector_id": id, "accepted": accepted}),
    ))
}

/// `GET /v1/tool-calls` — newest first; filters `connector_id`, `consumer`, `tool`, `status`.
pub async fn list_tool_calls(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Viewer)?;
    let (page, after, mut f) = list_query(req, &["connector_id", "consumer", "tool", "status"])?;
    let filter = ToolCallFilter {
        connector_id: f.remove("connector_id"),
        consumer: f.remove("consumer"),
        tool: f.remove("tool"),
        status: f.remove("status"),
    };
    let items = app
        .tool_calls
        .list_tool_calls(tenant, &filter, after, page.limit + 1)
        .await?;
    Ok(list_json(
        items,
        page.limit,
        |c| format!("{}|{}", c.created_at, c.id),
        tool_call_json,
    ))
}

/// `GET /v1/tool-calls/{id}`.
pub async fn get_tool_call(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Viewer)?;
    Ok(HttpResponse::json(
        200,
        &tool_call_json(&uc::receipt(app, tenant, id).await?),
    ))
}
