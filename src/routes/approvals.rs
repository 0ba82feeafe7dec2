//! Approvals and the tenant's settings over HTTP (API §15): parse, call
//! `app::governance`, render. An agent key never decides (every route here
//! refuses it).

use super::error::ApiError;
use super::extract::{list_json, list_query, JsonBody};
use super::http::{HttpRequest, HttpResponse};
use super::tool_calls::tool_call_json;
use super::App;
use crate::app::governance as uc;
use crate::domain::auth::Role;
use crate::domain::governance::Policy;
use crate::domain::Error;
use crate::store::{ApprovalFilter, ApprovalRecord};
use serde_json::{json, Value};

/// The public view of an approval; a pending one past its expiry shows
/// `expired` (the cron records it).
pub fn approval_json(app: &App, a: &ApprovalRecord) -> Value {
    let status = if uc::lapsed(a, app.now) {
        "expired"
    } else {
        a.status.as_str()
    };
    json!({
        "id": a.id,
        "object": "approval",
        "status": status,
        "tool_call_id": a.tool_call_id,
        "connector_id": a.connector_id,
        "binding_id": a.binding_id,
        "consumer": a.consumer,
        "tool": a.tool,
        "capability": a.capability,
        "arguments": a.arguments,
        "arguments_sha256": a.arguments_sha256,
        "idempotency_key": a.idempotency_key,
        "decidable_by": "manager",
        "decided_by": a.decided_by,
        "reason": a.reason,
        "expires_at": a.expires_at,
        "created_at": a.created_at,
        "decided_at": a.decided_at,
    })
}

/// `GET /v1/approvals` — newest first; filters `status`, `consumer`.
pub async fn list_approvals(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Viewer)?;
    let (page, after, mut f) = list_query(req, &["status", "consumer"])?;
    let filter = ApprovalFilter {
        status: f.remove("status"),
        consumer: f.remove("consumer"),
    };
    let items = uc::list(app, tenant, &filter, after, page.limit + 1).await?;
    Ok(list_json(
        items,
        page.limit,
        |a| format!("{}|{}", a.created_at, a.id),
        |a| approval_json(app, a),
    ))
}

/// `GET /v1/approvals/{id}`.
pub async fn get_approval(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Viewer)?;
    let a = uc::get(app, tenant, id).await?;
    Ok(HttpResponse::json(200, &approval_json(app, &a)))
}

/// `POST /v1/approvals/{id}/approve` and `…/deny {reason?}` (manager).
pub async fn decide_approval(
    app: &App,
    req: &HttpRequest,
    id: &str,
    approve: bool,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Manager)?;
    let body = JsonBody::parse(&req.body)?;
    let decided = if approve {
        body.only(&[])?;
        uc::approve(app, tenant, by.as_str(), id).await?
    } else {
        body.only(&["reason"])?;
        let reason = body.opt_str("reason", 1000)?;
        uc::deny(app, tenant, by.as_str(), id, reason).await?
    };
    let mut v = approval_json(app, &decided.approval);
    v["tool_call"] = decided
        .receipt
        .as_ref()
        .map(tool_call_json)
        .unwrap_or(Value::Null);
    Ok(HttpResponse::json(200, &v))
}

fn settings_json(s: &uc::Settings) -> Value {
    json!({"object": "settings", "default_policy": s.default_policy.as_str(), "approval_ttl_seconds": s.approval_ttl_seconds})
}

/// `GET /v1/settings` (viewer) and `PATCH /v1/settings {default_policy?,
/// approval_ttl_seconds?}` (admin).
pub async fn settings(app: &App, req: &HttpRequest, patch: bool) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    if !patch {
        let (tenant, _) = principal.require(Role::Viewer)?;
        return Ok(HttpResponse::json(
            200,
            &settings_json(&uc::settings(app, tenant).await?),
        ));
    }
    let (tenant, by) = principal.require(Role::Admin)?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&["default_policy", "approval_ttl_seconds"])?;
    let policy = match body.opt_str("default_policy", 20)? {
        None => None,
        Some(raw) => Some(Policy::parse(&raw).ok_or_else(|| {
            Error::invalid(
                "default_policy",
                "Invalid default_policy: expected allow, approve, dry_run or deny.",
            )
        })?),
    };
    let ttl = match body.get("approval_ttl_seconds") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(n) if (1..=u64::from(uc::APPROVAL_TTL_MAX)).contains(&n) => Some(n as u32),
            _ => {
                return Err(Error::invalid(
                    "approval_ttl_seconds",
                    format!(
                        "Invalid approval_ttl_seconds: expected an integer from 1 to {}.",
                        uc::APPROVAL_TTL_MAX
                    ),
                )
                .into())
            }
        },
    };
    if policy.is_none() && ttl.is_none() {
        return Err(Error::missing("default_policy")
            .reworded("Nothing to change: send default_policy or approval_ttl_seconds.")
            .into());
    }
    let now = uc::update_settings(app, tenant, by.as_str(), policy, ttl).await?;
    Ok(HttpResponse::json(200, &settings_json(&now)))
}
