//! Webhook endpoints in SQL (migration 0010): each with its sealed secret,
//! starting after the latest event (its `since_seq`). Deliveries are in
//! `webhook_deliveries.rs`.

use super::SqlStore;
use crate::domain::ids::{TenantId, WebhookEndpointId};
use crate::store::sql::{first_changes, Param, Sql};
use crate::store::webhooks::*;
use crate::store::{EventRecord, StoreResult};
use async_trait::async_trait;
use serde::Deserialize;

pub(super) const ENDPOINT_COLUMNS: &str = "id, tenant_id, url, description, events, secret, status, disabled_reason, since_seq, created_at, updated_at";

#[derive(Deserialize)]
pub(super) struct EndpointRow {
    id: String,
    tenant_id: String,
    url: String,
    description: Option<String>,
    events: String,
    secret: String,
    status: String,
    disabled_reason: Option<String>,
    since_seq: f64,
    created_at: String,
    updated_at: String,
}

impl EndpointRow {
    pub(super) fn into_record(self) -> StoreResult<EndpointRecord> {
        Ok(EndpointRecord {
            id: WebhookEndpointId::from_trusted(self.id),
            tenant: TenantId::from_trusted(self.tenant_id),
            url: self.url,
            description: self.description,
            events: serde_json::from_str(&self.events)?,
            secret: self.secret,
            status: self.status,
            disabled_reason: self.disabled_reason,
            since_seq: self.since_seq as i64,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Deserialize)]
struct TenantRow {
    tenant_id: String,
}

#[async_trait(?Send)]
impl<S: Sql> WebhookEndpoints for SqlStore<S> {
    async fn insert_endpoint(
        &self,
        tenant: &TenantId,
        e: &EndpointRecord,
        max: usize,
        event: &EventRecord,
    ) -> StoreResult<bool> {
        // It starts after the latest event: the next rowid is its own
        // creation event, written next in this transaction (one writer).
        let insert = self.stmt(
            &format!(
                "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS})
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, 'enabled', NULL, (SELECT COALESCE(MAX(rowid), 0) + 1 FROM events), ?7, ?7
                 WHERE (SELECT COUNT(*) FROM webhook_endpoints WHERE tenant_id = ?2) < ?8"
            ),
            &[
                e.id.as_str().into(),
                tenant.as_str().into(),
                e.url.as_str().into(),
                e.description.as_deref().into(),
                serde_json::to_string(&e.events)?.into(),
                e.secret.as_str().into(),
                e.created_at.as_str().into(),
                max.into(),
            ],
        )?;
        let r = self
            .db
            .batch(vec![insert, self.conditional_event(event)?])
            .await?;
        Ok(first_changes(&r) > 0)
    }

    async fn endpoint(
        &self,
        tenant: &TenantId,
        id: &WebhookEndpointId,
    ) -> StoreResult<Option<EndpointRecord>> {
        self.stmt(
            &format!(
                "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = ?1 AND id = ?2"
            ),
            &[tenant.as_str().into(), id.as_str().into()],
        )?
        .first::<EndpointRow>(&self.db)
        .await?
        .map(EndpointRow::into_record)
        .transpose()
    }

    async fn list_endpoints(
        &self,
        tenant: &TenantId,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<EndpointRecord>> {
        let (at, id) = after.map_or((Param::Null, Param::Null), |(a, i)| (a.into(), i.into()));
        self.stmt(
            &format!(
                "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints
                 WHERE tenant_id = ?1 AND (?2 IS NULL OR (created_at, id) < (?2, ?3))
                 ORDER BY created_at DESC, id DESC LIMIT ?4"
            ),
            &[tenant.as_str().into(), at, id, limit.into()],
        )?
        .all::<EndpointRow>(&self.db)
        .await?
        .into_iter()
        .map(EndpointRow::into_record)
        .collect()
    }

    async fn delete_endpoint(
        &self,
        tenant: &TenantId,
        id: &WebhookEndpointId,
        event: &EventRecord,
    ) -> StoreResult<bool> {
        let t: Param = tenant.as_str().into();
        let i: Param = id.as_str().into();
        let delete = self.stmt(
            "DELETE FROM webhook_endpoints WHERE tenant_id = ?1 AND id = ?2",
            &[t.clone(), i.clone()],
        )?;
        let deliveries = self.stmt(
            "DELETE FROM webhook_deliveries WHERE tenant_id = ?1 AND endpoint_id = ?2",
            &[t, i],
        )?;
        let r = self
            .db
            .batch(vec![delete, self.conditional_event(event)?, deliveries])
            .await?;
        Ok(first_changes(&r) > 0)
    }

    async fn tenants_with_webhooks(&self) -> StoreResult<Vec<TenantId>> {
        Ok(self
            .stmt(
                "SELECT DISTINCT tenant_id FROM webhook_endpoints WHERE status = 'enabled' ORDER BY tenant_id",
                &[],
            )?
            .all::<TenantRow>(&self.db)
            .await?
            .into_iter()
            .map(|r| TenantId::from_trusted(r.tenant_id))
            .collect())
    }
}
