//! Governed side effects (API §15) as use cases: the policy that applies to
//! a binding's side-effecting calls, approvals bound to the exact call
//! (requested by an `approve` policy, decided once by a manager, executed
//! exactly once server-side), their expiry, and the tenant's default policy.

use super::tool_call::{self, CallPlan};
use super::App;
use crate::domain::governance::{Policy, APPROVAL_TTL_MS};
use crate::domain::ids::{ApprovalId, TenantId};
use crate::domain::time::Millis;
use crate::domain::Error;
use crate::store::{
    ApprovalFilter, ApprovalRecord, BindingRecord, Fail, SettingsRecord, ToolCallRecord,
};
use serde_json::{json, Value};

/// The policy of a binding's side-effecting calls: its own, else the
/// tenant's default, else [`Policy::DEFAULT`].
pub async fn policy_of(app: &App, b: &BindingRecord) -> Result<Policy, Fail> {
    if let Some(p) = b.policy {
        return Ok(p);
    }
    default_policy(app, &b.tenant).await
}

/// A tenant's governance settings, with their defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    pub default_policy: Policy,
    /// How long an approval waits for a decision.
    pub approval_ttl_seconds: u32,
}

/// The longest an approval may wait (a week).
pub const APPROVAL_TTL_MAX: u32 = 7 * 24 * 3600;

/// The tenant's settings (defaults when never set).
pub async fn settings(app: &App, tenant: &TenantId) -> Result<Settings, Fail> {
    let stored = app.tool_calls.settings(tenant).await?;
    Ok(Settings {
        default_policy: stored
            .as_ref()
            .and_then(|s| Policy::parse(&s.default_policy))
            .unwrap_or(Policy::DEFAULT),
        approval_ttl_seconds: stored
            .map(|s| s.approval_ttl_seconds)
            .unwrap_or((APPROVAL_TTL_MS / 1000) as u32),
    })
}

/// The tenant's default policy.
pub async fn default_policy(app: &App, tenant: &TenantId) -> Result<Policy, Fail> {
    Ok(settings(app, tenant).await?.default_policy)
}

/// Changes the tenant's settings (`settings.updated`); `None` keeps a field.
pub async fn update_settings(
    app: &App,
    tenant: &TenantId,
    by: &str,
    policy: Option<Policy>,
    ttl: Option<u32>,
) -> Result<Settings, Fail> {
    let mut next = settings(app, tenant).await?;
    if let Some(p) = policy {
        next.default_policy = p;
    }
    if let Some(t) = ttl {
        next.approval_ttl_seconds = t;
    }
    let e = app.event(
        tenant,
        "settings.updated",
        json!({"default_policy": next.default_policy.as_str(), "approval_ttl_seconds": next.approval_ttl_seconds, "by": by}),
    );
    let record = SettingsRecord {
        default_policy: next.default_policy.as_str().to_string(),
        approval_ttl_seconds: next.approval_ttl_seconds,
    };
    app.tool_calls
        .put_settings(tenant, &record, &app.now.rfc3339(), &e)
        .await?;
    settings(app, tenant).await
}

/// An `approve` call: stores the approval (the exact arguments and their
/// digest, the idempotency key, who may decide, the expiry) with a receipt
/// that waits as `pending_approval`, and `approval.requested`. Nothing is
/// sent.
pub async fn request(app: &App, plan: &CallPlan) -> Result<ToolCallRecord, Fail> {
    let mut receipt = tool_call::new_receipt(app, plan, false);
    let id = ApprovalId::generate(app.rng.as_ref()).to_string();
    receipt.status = "pending_approval".into();
    receipt.approval_id = Some(id.clone());
    let c = plan.connector();
    let ttl = settings(app, &c.tenant).await?.approval_ttl_seconds;
    let a = ApprovalRecord {
        id: id.clone(),
        tenant: c.tenant.clone(),
        tool_call_id: receipt.id.clone(),
        connector_id: c.id.to_string(),
        binding_id: plan.binding().map(|b| b.id.to_string()),
        consumer: plan.consumer().unwrap_or_default().to_string(),
        tool: plan.tool().name.clone(),
        capability: plan.tool().capability.clone(),
        arguments: Value::Object(plan.arguments().clone()),
        arguments_sha256: receipt.arguments_sha256.clone(),
        idempotency_key: plan.idempotency_key().unwrap_or_default().to_string(),
        status: "pending".into(),
        decided_by: None,
        reason: None,
        expires_at: Millis(app.now.0 + i64::from(ttl) * 1000).rfc3339(),
        created_at: app.now.rfc3339(),
        decided_at: None,
    };
    let mut e = app.event(
        &c.tenant,
        "approval.requested",
        json!({"approval_id": id, "tool_call_id": receipt.id, "consumer": a.consumer, "tool": a.tool,
               "capability": a.capability, "arguments_sha256": a.arguments_sha256, "expires_at": a.expires_at}),
    );
    e.connector_id = Some(a.connector_id.clone());
    app.tool_calls.insert_approval(&receipt, &a, &e).await?;
    Ok(receipt)
}

/// One approval of the tenant.
pub async fn get(app: &App, tenant: &TenantId, id: &str) -> Result<ApprovalRecord, Fail> {
    let id = ApprovalId::parse(id)?;
    app.tool_calls
        .approval(tenant, id.as_str())
        .await?
        .ok_or_else(|| Error::not_found("approval", id.as_str()).into())
}

/// A page of the tenant's approvals, newest first.
pub async fn list(
    app: &App,
    tenant: &TenantId,
    f: &ApprovalFilter,
    after: Option<(String, String)>,
    limit: usize,
) -> Result<Vec<ApprovalRecord>, Fail> {
    Ok(app
        .tool_calls
        .list_approvals(tenant, f, after, limit)
        .await?)
}

/// Whether an approval, as stored, has passed its expiry at `now`.
pub fn lapsed(a: &ApprovalRecord, now: Millis) -> bool {
    a.status == "pending" && a.expires_at <= now.rfc3339()
}

/// A decided approval with the receipt of its call as it is now.
pub struct Decided {
    pub approval: ApprovalRecord,
    pub receipt: Option<ToolCallRecord>,
}

/// Approves a pending approval and runs exactly that call, once (the
/// compare-and-set on the approval's status lets one decision through; a
/// second, racing or later, is `409`). The receipt then carries the result;
/// an unreachable provider leaves it `failed` (the decision stands).
pub async fn approve(app: &App, tenant: &TenantId, by: &str, id: &str) -> Result<Decided, Fail> {
    let mut a = decide(app, tenant, by, id, "approved", None).await?;
    let receipt = app.tool_calls.tool_call(tenant, &a.tool_call_id).await?;
    let Some(pending) = receipt.filter(|r| r.status == "pending_approval") else {
        return Ok(Decided {
            approval: a,
            receipt: None,
        });
    };
    let plan = tool_call::approved_plan(
        app,
        tenant,
        &a.connector_id,
        &a.tool,
        &a.arguments,
        &a.consumer,
        &a.idempotency_key,
    )
    .await;
    let receipt = match plan {
        Ok(plan) => match tool_call::run(app, plan, false, Some(pending.clone())).await {
            Ok(r) => Some(r),
            Err(Fail::Domain(Error::ToolUpstream { .. })) => {
                app.tool_calls.tool_call(tenant, &a.tool_call_id).await?
            }
            Err(Fail::Domain(e)) => Some(
                close(
                    app,
                    pending,
                    "failed",
                    "approved_call_refused",
                    &e.to_string(),
                )
                .await?,
            ),
            Err(e) => return Err(e),
        },
        // The instance is gone (or its listing version): nothing can run.
        Err(Fail::Domain(e)) => Some(
            close(
                app,
                pending,
                "failed",
                "approved_call_refused",
                &e.to_string(),
            )
            .await?,
        ),
        Err(e) => return Err(e),
    };
    a.status = "approved".into();
    Ok(Decided {
        approval: a,
        receipt,
    })
}

/// Denies a pending approval: its call never runs; the receipt says
/// `denied` with the reason.
pub async fn deny(
    app: &App,
    tenant: &TenantId,
    by: &str,
    id: &str,
    reason: Option<String>,
) -> Result<Decided, Fail> {
    let a = decide(app, tenant, by, id, "denied", reason.clone()).await?;
    let message = reason.unwrap_or_else(|| "A manager denied the call.".into());
    let receipt = finish_pending(app, &a, "approval_denied", &message).await?;
    Ok(Decided {
        approval: a,
        receipt,
    })
}

/// The compare-and-set of a decision, with its event. An approval past its
/// expiry is expired instead (and the decision refused).
async fn decide(
    app: &App,
    tenant: &TenantId,
    by: &str,
    id: &str,
    to: &str,
    reason: Option<String>,
) -> Result<ApprovalRecord, Fail> {
    let current = get(app, tenant, id).await?;
    if current.status != "pending" {
        return Err(already(&current));
    }
    if lapsed(&current, app.now) {
        expire(app, &current).await?;
        return Err(Error::StateConflict(format!(
            "The approval {} expired at {}; its call will not run. The agent may ask again.",
            current.id, current.expires_at
        ))
        .into());
    }
    let mut next = current.clone();
    next.status = to.to_string();
    next.decided_by = Some(by.to_string());
    next.reason = reason;
    next.decided_at = Some(app.now.rfc3339());
    let mut e = app.event(
        tenant,
        &format!("approval.{to}"),
        json!({"approval_id": next.id, "tool_call_id": next.tool_call_id, "consumer": next.consumer,
               "tool": next.tool, "by": by, "reason": next.reason}),
    );
    e.connector_id = Some(next.connector_id.clone());
    if !app
        .tool_calls
        .decide_approval(&next, &app.now.rfc3339(), true, &e)
        .await?
    {
        // Another manager decided first (or it just expired).
        let now = get(app, tenant, id).await?;
        return Err(already(&now));
    }
    Ok(next)
}

fn already(a: &ApprovalRecord) -> Fail {
    Error::StateConflict(format!(
        "The approval {} is already {}{}; a decision is made once.",
        a.id,
        a.status,
        a.decided_by
            .as_deref()
            .map(|b| format!(" (by {b})"))
            .unwrap_or_default()
    ))
    .into()
}

/// Expires a pending approval past its time: `approval.expired`, and its
/// receipt `denied`. False if it was decided meanwhile.
pub async fn expire(app: &App, a: &ApprovalRecord) -> Result<bool, Fail> {
    let mut next = a.clone();
    next.status = "expired".into();
    next.decided_at = Some(app.now.rfc3339());
    let mut e = app.event(
        &a.tenant,
        "approval.expired",
        json!({"approval_id": a.id, "tool_call_id": a.tool_call_id, "consumer": a.consumer, "tool": a.tool, "expires_at": a.expires_at}),
    );
    e.connector_id = Some(a.connector_id.clone());
    if !app
        .tool_calls
        .decide_approval(&next, &app.now.rfc3339(), false, &e)
        .await?
    {
        return Ok(false);
    }
    finish_pending(
        app,
        &next,
        "approval_expired",
        &format!(
            "No one decided before {}; the call did not run.",
            a.expires_at
        ),
    )
    .await?;
    Ok(true)
}

/// Expires every approval past its time (the cron's pass); answers how many.
pub async fn expire_due(app: &App) -> Result<usize, Fail> {
    let due = app
        .tool_calls
        .due_approvals(&app.now.rfc3339(), 500)
        .await?;
    let mut n = 0;
    for a in &due {
        if expire(app, a).await? {
            n += 1;
        }
    }
    Ok(n)
}

/// Closes an approval's waiting receipt as `denied` with `code`.
async fn finish_pending(
    app: &App,
    a: &ApprovalRecord,
    code: &str,
    message: &str,
) -> Result<Option<ToolCallRecord>, Fail> {
    let Some(r) = app.tool_calls.tool_call(&a.tenant, &a.tool_call_id).await? else {
        return Ok(None);
    };
    if r.status != "pending_approval" {
        return Ok(Some(r));
    }
    Ok(Some(close(app, r, "denied", code, message).await?))
}

async fn close(
    app: &App,
    mut r: ToolCallRecord,
    status: &str,
    code: &str,
    message: &str,
) -> Result<ToolCallRecord, Fail> {
    r.status = status.into();
    r.error = Some(json!({"code": code, "message": message}));
    app.tool_calls.complete_tool_call(&r, None).await?;
    Ok(r)
}
