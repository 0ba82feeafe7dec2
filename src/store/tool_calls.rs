//! Tool call receipts (API §13): one row per call, written once when the
//! call completes, never updated, never carrying a credential.

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
    async fn insert_tool_call(&self, c: &ToolCallRecord) -> StoreResult<()>;
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
