//! Tool call receipts (API §13): one row per call, written when the call
//! completes (or, under an `approve` policy, when it is asked for, then
//! completed once when a person decides), never carrying a credential; the
//! approvals (API §15) and each tenant's default policy.

use super::StoreResult;
use crate::domain::ids::TenantId;
use async_trait::async_trait;
use serde_json::Value;

/// A tool call receipt as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCallRecord {
    pub id: String,
    pub tenant: TenantId,
    pub connector_id: String,
    /// The listing's slug.
    pub listing: String,
    pub listing_version: String,
    pub tool: String,
    pub capability: String,
    /// The agent's consumer; `None` for a manager's call.
    pub consumer: Option<String>,
    /// `live` or `dry_run`.
    pub mode: String,
    /// `succeeded`, `failed`, `denied` or `pending_approval`.
    pub status: String,
    pub result: Option<Value>,
    /// `result` was cut to the tool's byte cap.
    pub truncated: bool,
    /// `{code, message}`, secret-free.
    pub error: Option<Value>,
    pub upstream_status: Option<u16>,
    pub latency_ms: Option<u64>,
    pub arguments_sha256: String,
    pub idempotency_key: Option<String>,
    pub approval_id: Option<String>,
    pub created_at: String,
}

/// One side-effecting call waiting for (or past) a person's decision.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalRecord {
    pub id: String,
    pub tenant: TenantId,
    pub tool_call_id: String,
    pub connector_id: String,
    pub binding_id: Option<String>,
    pub consumer: String,
    pub tool: String,
    pub capability: String,
    /// The exact arguments the call runs with.
    pub arguments: Value,
    pub arguments_sha256: String,
    pub idempotency_key: String,
    /// `pending`, `approved`, `denied` or `expired`.
    pub status: String,
    pub decided_by: Option<String>,
    pub reason: Option<String>,
    pub expires_at: String,
    pub created_at: String,
    pub decided_at: Option<String>,
}

/// A tenant's governance settings (API §15).
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsRecord {
    pub default_policy: String,
    pub approval_ttl_seconds: u32,
}

/// `GET /v1/approvals` filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApprovalFilter {
    pub status: Option<String>,
    pub consumer: Option<String>,
}

/// `GET /v1/tool-calls` filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolCallFilter {
    pub connector_id: Option<String>,
    pub consumer: Option<String>,
    pub tool: Option<String>,
    pub status: Option<String>,
}

#[async_trait(?Send)]
pub trait ToolCallStore {
    /// The pinned digests of an instance's MCP tools, by upstream tool name.
    async fn tool_pins(
        &self,
        tenant: &TenantId,
        connector_id: &str,
    ) -> StoreResult<std::collections::BTreeMap<String, String>>;
    /// Pins (or re-pins) definitions: `(upstream tool, digest)`.
    async fn pin_tools(
        &self,
        tenant: &TenantId,
        connector_id: &str,
        pins: &[(String, String)],
        now: &str,
    ) -> StoreResult<()>;
    /// The receipt, with an event when one is given (`tool_call.failed`).
    async fn insert_tool_call(
        &self,
        c: &ToolCallRecord,
        e: Option<&super::EventRecord>,
    ) -> StoreResult<()>;
    /// Completes a `pending_approval` receipt (false: it is not pending).
    async fn complete_tool_call(
        &self,
        c: &ToolCallRecord,
        e: Option<&super::EventRecord>,
    ) -> StoreResult<bool>;
    /// A `pending_approval` receipt, its approval and `approval.requested`, at once.
    async fn insert_approval(
        &self,
        c: &ToolCallRecord,
        a: &ApprovalRecord,
        e: &super::EventRecord,
    ) -> StoreResult<()>;
    async fn approval(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<ApprovalRecord>>;
    /// Newest first, after the `(created_at, id)` cursor.
    async fn list_approvals(
        &self,
        tenant: &TenantId,
        f: &ApprovalFilter,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<ApprovalRecord>>;
    /// Moves a `pending` approval to `a.status` (compare-and-set; with
    /// `require_live` only while it has not expired at `now`), with its
    /// event. False: someone else decided first, or it expired.
    async fn decide_approval(
        &self,
        a: &ApprovalRecord,
        now: &str,
        require_live: bool,
        e: &super::EventRecord,
    ) -> StoreResult<bool>;
    /// Pending approvals past their expiry (any tenant), oldest first.
    async fn due_approvals(&self, now: &str, limit: usize) -> StoreResult<Vec<ApprovalRecord>>;
    /// The tenant's governance settings (`None`: never set).
    async fn settings(&self, tenant: &TenantId) -> StoreResult<Option<SettingsRecord>>;
    async fn put_settings(
        &self,
        tenant: &TenantId,
        s: &SettingsRecord,
        now: &str,
        e: &super::EventRecord,
    ) -> StoreResult<()>;
    async fn tool_call(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<ToolCallRecord>>;
    /// Newest first, after the `(created_at, id)` cursor.
    async fn list_tool_calls(
        &self,
        tenant: &TenantId,
        f: &ToolCallFilter,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<ToolCallRecord>>;
}
