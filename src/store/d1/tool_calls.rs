//! Tool call receipts in SQL (migration 0006), approvals and the tenant's
//! default policy (0009).

use super::SqlStore;
use crate::domain::ids::TenantId;
use crate::store::sql::{first_changes, Param, Sql, Statement};
use crate::store::*;
use async_trait::async_trait;
use serde::Deserialize;

const COLUMNS: &str = "id, tenant_id, connector_id, listing, listing_version, tool, capability, consumer, mode, status, result, truncated, error, upstream_status, latency_ms, arguments_sha256, idempotency_key, approval_id, created_at";

#[derive(Deserialize)]
struct Row {
    id: String,
    tenant_id: String,
    connector_id: String,
    listing: String,
    listing_version: String,
    tool: String,
    capability: String,
    consumer: Option<String>,
    mode: String,
    status: String,
    result: Option<String>,
    truncated: f64,
    error: Option<String>,
    upstream_status: Option<f64>,
    latency_ms: Option<f64>,
    arguments_sha256: String,
    idempotency_key: Option<String>,
    approval_id: Option<String>,
    created_at: String,
}

fn json(s: Option<String>) -> StoreResult<Option<serde_json::Value>> {
    Ok(match s {
        Some(s) => Some(serde_json::from_str(&s)?),
        None => None,
    })
}

impl Row {
    fn into_record(self) -> StoreResult<ToolCallRecord> {
        Ok(ToolCallRecord {
            id: self.id,
            tenant: TenantId::from_trusted(self.tenant_id),
            connector_id: self.connector_id,
            listing: self.listing,
            listing_version: self.listing_version,
            tool: self.tool,
            capability: self.capability,
            consumer: self.consumer,
            mode: self.mode,
            status: self.status,
            result: json(self.result)?,
            truncated: self.truncated != 0.0,
            error: json(self.error)?,
            upstream_status: self.upstream_status.map(|s| s as u16),
            latency_ms: self.latency_ms.map(|s| s as u64),
            arguments_sha256: self.arguments_sha256,
            idempotency_key: self.idempotency_key,
            approval_id: self.approval_id,
            created_at: self.created_at,
        })
    }
}

fn opt(s: &Option<String>) -> Param {
    super::opt_str(s.as_deref())
}

const APPROVAL_COLUMNS: &str = "id, tenant_id, tool_call_id, connector_id, binding_id, consumer, tool, capability, arguments, arguments_sha256, idempotency_key, status, decided_by, reason, expires_at, created_at, decided_at";

#[derive(Deserialize)]
struct ApprovalRow {
    id: String,
    tenant_id: String,
    tool_call_id: String,
    connector_id: String,
    binding_id: Option<String>,
    consumer: String,
    tool: String,
    capability: String,
    arguments: String,
    arguments_sha256: String,
    idempotency_key: String,
    status: String,
    decided_by: Option<String>,
    reason: Option<String>,
    expires_at: String,
    created_at: String,
    decided_at: Option<String>,
}

impl ApprovalRow {
    fn into_record(self) -> StoreResult<ApprovalRecord> {
        Ok(ApprovalRecord {
            id: self.id,
            tenant: TenantId::from_trusted(self.tenant_id),
            tool_call_id: self.tool_call_id,
            connector_id: self.connector_id,
            binding_id: self.binding_id,
            consumer: self.consumer,
            tool: self.tool,
            capability: self.capability,
            arguments: serde_json::from_str(&self.arguments)?,
            arguments_sha256: self.arguments_sha256,
            idempotency_key: self.idempotency_key,
            status: self.status,
            decided_by: self.decided_by,
            reason: self.reason,
            expires_at: self.expires_at,
            created_at: self.created_at,
            decided_at: self.decided_at,
        })
    }
}

impl<S: Sql> SqlStore<S> {
    fn receipt_insert(&self, c: &ToolCallRecord) -> StoreResult<Statement> {
        self.stmt(
            &format!("INSERT INTO tool_calls ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"),
            &[
                c.id.as_str().into(),
                c.tenant.as_str().into(),
                c.connector_id.as_str().into(),
                c.listing.as_str().into(),
                c.listing_version.as_str().into(),
                c.tool.as_str().into(),
                c.capability.as_str().into(),
                opt(&c.consumer),
                c.mode.as_str().into(),
                c.status.as_str().into(),
                c.result.as_ref().map(|v| v.to_string()).as_deref().into(),
                usize::from(c.truncated).into(),
                c.error.as_ref().map(|v| v.to_string()).as_deref().into(),
                c.upstream_status.map(|s| s as usize).into(),
                c.latency_ms.map(|s| s as usize).into(),
                c.arguments_sha256.as_str().into(),
                opt(&c.idempotency_key),
                opt(&c.approval_id),
                c.created_at.as_str().into(),
            ],
        )
    }
}

#[derive(Deserialize)]
struct PinRow {
    tool: String,
    digest: String,
}

#[async_trait(?Send)]
impl<S: Sql> ToolCallStore for SqlStore<S> {
    async fn tool_pins(
        &self,
        tenant: &TenantId,
        connector_id: &str,
    ) -> StoreResult<std::collections::BTreeMap<String, String>> {
        Ok(self
            .stmt(
                "SELECT tool, digest FROM tool_pins WHERE tenant_id = ?1 AND connector_id = ?2",
                &[tenant.as_str().into(), connector_id.into()],
            )?
            .all::<PinRow>(&self.db)
            .await?
            .into_iter()
            .map(|r| (r.tool, r.digest))
            .collect())
    }

    async fn pin_tools(
        &self,
        tenant: &TenantId,
        connector_id: &str,
        pins: &[(String, String)],
        now: &str,
    ) -> StoreResult<()> {
        if pins.is_empty() {
            return Ok(());
        }
        // Only while the instance exists: a pin never outlives it.
        let stmts = pins
            .iter()
            .map(|(tool, digest)| {
                self.stmt(
                    "INSERT INTO tool_pins (tenant_id, connector_id, tool, digest, pinned_at)
                     SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM connectors WHERE tenant_id = ?1 AND id = ?2)
                     ON CONFLICT (tenant_id, connector_id, tool) DO UPDATE SET digest = excluded.digest, pinned_at = excluded.pinned_at",
                    &[
                        tenant.as_str().into(),
                        connector_id.into(),
                        tool.as_str().into(),
                        digest.as_str().into(),
                        now.into(),
                    ],
                )
            })
            .collect::<StoreResult<Vec<_>>>()?;
        self.db.batch(stmts).await?;
        Ok(())
    }

    async fn insert_tool_call(
        &self,
        c: &ToolCallRecord,
        e: Option<&EventRecord>,
    ) -> StoreResult<()> {
        let mut batch = vec![self.receipt_insert(c)?];
        if let Some(e) = e {
            batch.push(self.event_stmt(e)?);
        }
        self.db.batch(batch).await?;
        Ok(())
    }

    async fn complete_tool_call(
        &self,
        c: &ToolCallRecord,
        e: Option<&EventRecord>,
    ) -> StoreResult<bool> {
        let update = self.stmt(
            "UPDATE tool_calls SET mode = ?3, status = ?4, result = ?5, truncated = ?6, error = ?7, upstream_status = ?8, latency_ms = ?9
             WHERE tenant_id = ?1 AND id = ?2 AND status = 'pending_approval'",
            &[
                c.tenant.as_str().into(),
                c.id.as_str().into(),
                c.mode.as_str().into(),
                c.status.as_str().into(),
                c.result.as_ref().map(|v| v.to_string()).as_deref().into(),
                usize::from(c.truncated).into(),
                c.error.as_ref().map(|v| v.to_string()).as_deref().into(),
                c.upstream_status.map(|s| s as usize).into(),
                c.latency_ms.map(|s| s as usize).into(),
            ],
        )?;
        let mut batch = vec![update];
        if let Some(e) = e {
            batch.push(self.conditional_event(e)?);
        }
        Ok(first_changes(&self.db.batch(batch).await?) > 0)
    }

    async fn insert_approval(
        &self,
        c: &ToolCallRecord,
        a: &ApprovalRecord,
        e: &EventRecord,
    ) -> StoreResult<()> {
        let approval = self.stmt(
            &format!("INSERT INTO approvals ({APPROVAL_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"),
            &[
                a.id.as_str().into(),
                a.tenant.as_str().into(),
                a.tool_call_id.as_str().into(),
                a.connector_id.as_str().into(),
                opt(&a.binding_id),
                a.consumer.as_str().into(),
                a.tool.as_str().into(),
                a.capability.as_str().into(),
                a.arguments.to_string().into(),
                a.arguments_sha256.as_str().into(),
                a.idempotency_key.as_str().into(),
                a.status.as_str().into(),
                opt(&a.decided_by),
                opt(&a.reason),
                a.expires_at.as_str().into(),
                a.created_at.as_str().into(),
                opt(&a.decided_at),
            ],
        )?;
        self.db
            .batch(vec![self.receipt_insert(c)?, approval, self.event_stmt(e)?])
            .await?;
        Ok(())
    }

    async fn approval(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<ApprovalRecord>> {
        self.stmt(
            &format!("SELECT {APPROVAL_COLUMNS} FROM approvals WHERE tenant_id = ?1 AND id = ?2"),
            &[tenant.as_str().into(), id.into()],
        )?
        .first::<ApprovalRow>(&self.db)
        .await?
        .map(ApprovalRow::into_record)
        .transpose()
    }

    async fn list_approvals(
        &self,
        tenant: &TenantId,
        f: &ApprovalFilter,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<ApprovalRecord>> {
        let (at, id) = after.map_or((Param::Null, Param::Null), |(a, i)| (a.into(), i.into()));
        self.stmt(
            &format!(
                "SELECT {APPROVAL_COLUMNS} FROM approvals
                 WHERE tenant_id = ?1 AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR consumer = ?3)
                   AND (?4 IS NULL OR (created_at, id) < (?4, ?5))
                 ORDER BY created_at DESC, id DESC LIMIT ?6"
            ),
            &[tenant.as_str().into(), opt(&f.status), opt(&f.consumer), at, id, limit.into()],
        )?
        .all::<ApprovalRow>(&self.db)
        .await?
        .into_iter()
        .map(ApprovalRow::into_record)
        .collect()
    }

    async fn decide_approval(
        &self,
        a: &ApprovalRecord,
        now: &str,
        require_live: bool,
        e: &EventRecord,
    ) -> StoreResult<bool> {
        let update = self.stmt(
            "UPDATE approvals SET status = ?3, decided_by = ?4, reason = ?5, decided_at = ?6
             WHERE tenant_id = ?1 AND id = ?2 AND status = 'pending' AND (?7 = 0 OR expires_at > ?6)",
            &[
                a.tenant.as_str().into(),
                a.id.as_str().into(),
                a.status.as_str().into(),
                opt(&a.decided_by),
                opt(&a.reason),
                now.into(),
                usize::from(require_live).into(),
            ],
        )?;
        let r = self
            .db
            .batch(vec![update, self.conditional_event(e)?])
            .await?;
        Ok(first_changes(&r) > 0)
    }

    async fn due_approvals(&self, now: &str, limit: usize) -> StoreResult<Vec<ApprovalRecord>> {
        self.stmt(
            &format!(
                "SELECT {APPROVAL_COLUMNS} FROM approvals WHERE status = 'pending' AND expires_at <= ?1 ORDER BY expires_at LIMIT ?2"
            ),
            &[now.into(), limit.into()],
        )?
        .all::<ApprovalRow>(&self.db)
        .await?
        .into_iter()
        .map(ApprovalRow::into_record)
        .collect()
    }

    async fn settings(&self, tenant: &TenantId) -> StoreResult<Option<SettingsRecord>> {
        #[derive(Deserialize)]
        struct Row {
            default_policy: String,
            approval_ttl_seconds: f64,
        }
        Ok(self
            .stmt(
                "SELECT default_policy, approval_ttl_seconds FROM tenant_settings WHERE tenant_id = ?1",
                &[tenant.as_str().into()],
            )?
            .first::<Row>(&self.db)
            .await?
            .map(|r| SettingsRecord {
                default_policy: r.default_policy,
                approval_ttl_seconds: r.approval_ttl_seconds as u32,
            }))
    }

    async fn put_settings(
        &self,
        tenant: &TenantId,
        st: &SettingsRecord,
        now: &str,
        e: &EventRecord,
    ) -> StoreResult<()> {
        let put = self.stmt(
            "INSERT INTO tenant_settings (tenant_id, default_policy, approval_ttl_seconds, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (tenant_id) DO UPDATE SET default_policy = excluded.default_policy,
               approval_ttl_seconds = excluded.approval_ttl_seconds, updated_at = excluded.updated_at",
            &[
                tenant.as_str().into(),
                st.default_policy.as_str().into(),
                (st.approval_ttl_seconds as usize).into(),
                now.into(),
            ],
        )?;
        self.db.batch(vec![put, self.event_stmt(e)?]).await?;
        Ok(())
    }

    async fn tool_call(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<ToolCallRecord>> {
        self.stmt(
            &format!("SELECT {COLUMNS} FROM tool_calls WHERE tenant_id = ?1 AND id = ?2"),
            &[tenant.as_str().into(), id.into()],
        )?
        .first::<Row>(&self.db)
        .await?
        .map(Row::into_record)
        .transpose()
    }

    async fn list_tool_calls(
        &self,
        tenant: &TenantId,
        f: &ToolCallFilter,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<ToolCallRecord>> {
        let (at, id) = after.map_or((Param::Null, Param::Null), |(a, i)| (a.into(), i.into()));
        self.stmt(
            &format!(
                "SELECT {COLUMNS} FROM tool_calls
                 WHERE tenant_id = ?1 AND (?2 IS NULL OR connector_id = ?2) AND (?3 IS NULL OR consumer = ?3)
                   AND (?4 IS NULL OR tool = ?4) AND (?5 IS NULL OR status = ?5)
                   AND (?6 IS NULL OR (created_at, id) < (?6, ?7))
                 ORDER BY created_at DESC, id DESC LIMIT ?8"
            ),
            &[
                tenant.as_str().into(),
                opt(&f.connector_id),
                opt(&f.consumer),
                opt(&f.tool),
                opt(&f.status),
                at,
                id,
                limit.into(),
            ],
        )?
        .all::<Row>(&self.db)
        .await?
        .into_iter()
        .map(Row::into_record)
        .collect()
    }
}
