//! Webhook deliveries in SQL (migration 0010): the outbox scan over `events`
//! by rowid, the fan-out, and the leases that keep one delivery from being
//! sent twice at once.

use super::webhooks::{EndpointRow, ENDPOINT_COLUMNS};
use super::SqlStore;
use crate::domain::ids::{TenantId, WebhookDeliveryId, WebhookEndpointId};
use crate::store::sql::{decode, Param, Sql, Statement};
use crate::store::webhooks::*;
use crate::store::{EventRecord, StoreError, StoreResult};
use async_trait::async_trait;
use serde::Deserialize;

const DELIVERY_COLUMNS: &str = "id, endpoint_id, event_id, event_type, status, attempts, next_attempt_ms, created_at, updated_at";
/// Rows of one multi-row insert: D1 binds at most 100 parameters.
const ROWS_PER_INSERT: usize = 20;

/// Numbers cross from D1 as JavaScript numbers: read them as such.
fn int(n: Option<f64>) -> Option<i64> {
    n.map(|n| n as i64)
}

#[derive(Deserialize)]
struct DeliveryRow {
    id: String,
    endpoint_id: String,
    event_id: String,
    event_type: String,
    status: String,
    attempts: String,
    next_attempt_ms: Option<f64>,
    created_at: String,
    updated_at: String,
}

impl DeliveryRow {
    fn into_record(self) -> StoreResult<DeliveryRecord> {
        Ok(DeliveryRecord {
            id: WebhookDeliveryId::from_trusted(self.id),
            endpoint_id: self.endpoint_id,
            event_id: self.event_id,
            event_type: self.event_type,
            status: self.status,
            attempts: serde_json::from_str(&self.attempts)?,
            next_attempt_ms: int(self.next_attempt_ms),
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Deserialize)]
struct DueRow {
    id: String,
    endpoint_id: String,
    url: String,
    secret: String,
    attempt_count: f64,
    first_attempt_ms: Option<f64>,
    tenant_id: String,
    event_id: String,
    #[serde(rename = "type")]
    kind: String,
    connector_id: Option<String>,
    data: String,
    created_at: String,
}

impl DueRow {
    fn into_due(self) -> StoreResult<Due> {
        Ok(Due {
            id: WebhookDeliveryId::from_trusted(self.id),
            endpoint_id: WebhookEndpointId::from_trusted(self.endpoint_id),
            url: self.url,
            secret: self.secret,
            attempt_count: self.attempt_count as u32,
            first_attempt_ms: int(self.first_attempt_ms),
            event: EventRecord {
                id: self.event_id,
                tenant: TenantId::from_trusted(self.tenant_id),
                kind: self.kind,
                connector_id: self.connector_id,
                data: serde_json::from_str(&self.data)?,
                created_at: self.created_at,
            },
        })
    }
}

#[derive(Deserialize)]
struct OutboxRow {
    seq: f64,
    id: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct NextRow {
    next: Option<f64>,
}

/// The claimed deliveries of a lease, with their endpoint and event.
const DUE_SELECT: &str = "SELECT d.id AS id, d.endpoint_id AS endpoint_id, w.url AS url, w.secret AS secret,
        d.attempt_count AS attempt_count, d.first_attempt_ms AS first_attempt_ms, e.tenant_id AS tenant_id,
        e.id AS event_id, e.type AS type, e.connector_id AS connector_id, e.data AS data, e.created_at AS created_at
 FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id JOIN events e ON e.id = d.event_id
 WHERE d.lease = ?1 AND d.tenant_id = ?2 AND d.status = 'pending' AND w.status = 'enabled'
 ORDER BY d.next_attempt_ms, d.id";

impl<S: Sql> SqlStore<S> {
    fn due_stmt(&self, tenant: &TenantId, lease: &Lease) -> Statement {
        Statement::new(
            DUE_SELECT,
            &[lease.token.as_str().into(), tenant.as_str().into()],
        )
    }

    fn dues(rows: Vec<serde_json::Value>) -> StoreResult<Vec<Due>> {
        rows.into_iter()
            .map(|r| decode::<DueRow>(r)?.into_due())
            .collect()
    }

    /// Multi-row inserts of new deliveries, due at `lease.now_ms`; a delivery
    /// of the same event to the same endpoint already there is kept.
    fn delivery_inserts(
        &self,
        tenant: &TenantId,
        new: &[NewDelivery],
        lease: &Lease,
    ) -> Vec<Statement> {
        new.chunks(ROWS_PER_INSERT)
            .map(|chunk| {
                let mut params: Vec<Param> = vec![
                    tenant.as_str().into(),
                    lease.now.as_str().into(),
                    lease.now_ms.into(),
                ];
                let mut rows = vec![];
                for d in chunk {
                    let n = params.len();
                    rows.push(format!(
                        "(?{}, ?1, ?{}, ?{}, ?{}, 'pending', ?3, ?2, ?2)",
                        n + 1,
                        n + 2,
                        n + 3,
                        n + 4
                    ));
                    params.extend([
                        d.id.as_str().into(),
                        d.endpoint_id.as_str().into(),
                        d.event_id.as_str().into(),
                        d.event_type.as_str().into(),
                    ]);
                }
                Statement::new(
                    &format!(
                        "INSERT OR IGNORE INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type, status,
                           next_attempt_ms, created_at, updated_at) VALUES {}",
                        rows.join(", ")
                    ),
                    &params,
                )
            })
            .collect()
    }
}

#[async_trait(?Send)]
impl<S: Sql> WebhookDeliveries for SqlStore<S> {
    async fn list_deliveries(
        &self,
        tenant: &TenantId,
        endpoint: &WebhookEndpointId,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<DeliveryRecord>> {
        let (at, id) = after.map_or((Param::Null, Param::Null), |(a, i)| (a.into(), i.into()));
        self.stmt(
            &format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
                 WHERE tenant_id = ?1 AND endpoint_id = ?2 AND (?3 IS NULL OR (created_at, id) < (?3, ?4))
                 ORDER BY created_at DESC, id DESC LIMIT ?5"
            ),
            &[tenant.as_str().into(), endpoint.as_str().into(), at, id, limit.into()],
        )?
        .all::<DeliveryRow>(&self.db)
        .await?
        .into_iter()
        .map(DeliveryRow::into_record)
        .collect()
    }

    async fn delivery(
        &self,
        tenant: &TenantId,
        id: &WebhookDeliveryId,
    ) -> StoreResult<Option<DeliveryRecord>> {
        self.stmt(
            &format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE tenant_id = ?1 AND id = ?2"),
            &[tenant.as_str().into(), id.as_str().into()],
        )?
        .first::<DeliveryRow>(&self.db)
        .await?
        .map(DeliveryRow::into_record)
        .transpose()
    }

    async fn outbox(&self, tenant: &TenantId, limit: usize) -> StoreResult<Outbox> {
        let endpoints = self.stmt(
            &format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = ?1 AND status = 'enabled' ORDER BY created_at, id"),
            &[tenant.as_str().into()],
        )?;
        // After the cursor and after the oldest endpoint's start (no
        // endpoint: MAX(…, NULL) is NULL, and nothing is read).
        let events = self.stmt(
            "SELECT rowid AS seq, id, type FROM events WHERE tenant_id = ?1 AND rowid > MAX(
               COALESCE((SELECT last_seq FROM webhook_cursors WHERE tenant_id = ?1), 0),
               (SELECT MIN(since_seq) FROM webhook_endpoints WHERE tenant_id = ?1 AND status = 'enabled'))
             ORDER BY rowid LIMIT ?2",
            &[tenant.as_str().into(), limit.into()],
        )?;
        let mut r = self.db.batch(vec![endpoints, events]).await?.into_iter();
        let (Some(endpoints), Some(events)) = (r.next(), r.next()) else {
            return Err(StoreError("the outbox batch answered fewer results".into()));
        };
        Ok(Outbox {
            endpoints: endpoints
                .rows
                .into_iter()
                .map(|row| decode::<EndpointRow>(row)?.into_record())
                .collect::<StoreResult<_>>()?,
            events: events
                .rows
                .into_iter()
                .map(|row| {
                    let r = decode::<OutboxRow>(row)?;
                    Ok(OutboxEvent {
                        seq: r.seq as i64,
                        id: r.id,
                        kind: r.kind,
                    })
                })
                .collect::<StoreResult<_>>()?,
        })
    }

    async fn fan_out_and_claim(
        &self,
        tenant: &TenantId,
        new: &[NewDelivery],
        cursor: Option<i64>,
        lease: &Lease,
        limit: usize,
    ) -> StoreResult<Vec<Due>> {
        let mut stmts = self.delivery_inserts(tenant, new, lease);
        if let Some(seq) = cursor {
            stmts.push(self.stmt(
                "INSERT INTO webhook_cursors (tenant_id, last_seq) VALUES (?1, ?2)
                 ON CONFLICT (tenant_id) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq)",
                &[tenant.as_str().into(), seq.into()],
            )?);
        }
        // Claimed by a lease: another sender skips what this one holds
        // until the lease runs out (a sender that died lets go that way).
        stmts.push(self.stmt(
            "UPDATE webhook_deliveries SET lease = ?2, lease_until_ms = ?3 WHERE id IN (
               SELECT id FROM webhook_deliveries WHERE tenant_id = ?1 AND status = 'pending' AND next_attempt_ms <= ?4
                 AND (lease_until_ms IS NULL OR lease_until_ms <= ?4)
               ORDER BY next_attempt_ms, id LIMIT ?5)",
            &[
                tenant.as_str().into(),
                lease.token.as_str().into(),
                lease.until_ms.into(),
                lease.now_ms.into(),
                limit.into(),
            ],
        )?);
        stmts.push(self.due_stmt(tenant, lease));
        let r = self.db.batch(stmts).await?;
        Self::dues(r.into_iter().last().map(|r| r.rows).unwrap_or_default())
    }

    async fn insert_test(
        &self,
        tenant: &TenantId,
        event: &EventRecord,
        delivery: &NewDelivery,
        lease: &Lease,
    ) -> StoreResult<Option<Due>> {
        // Only to an enabled endpoint of the tenant; the event only with it.
        let insert = self.stmt(
            "INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type, status,
               next_attempt_ms, lease, lease_until_ms, created_at, updated_at)
             SELECT ?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?8, ?9, ?9
             WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE tenant_id = ?2 AND id = ?3 AND status = 'enabled')",
            &[
                delivery.id.as_str().into(),
                tenant.as_str().into(),
                delivery.endpoint_id.as_str().into(),
                delivery.event_id.as_str().into(),
                delivery.event_type.as_str().into(),
                lease.now_ms.into(),
                lease.token.as_str().into(),
                lease.until_ms.into(),
                lease.now.as_str().into(),
            ],
        )?;
        let r = self
            .db
            .batch(vec![
                insert,
                self.conditional_event(event)?,
                self.due_stmt(tenant, lease),
            ])
            .await?;
        Ok(Self::dues(r.into_iter().last().map(|r| r.rows).unwrap_or_default())?.pop())
    }

    async fn record(
        &self,
        tenant: &TenantId,
        attempts: &[Attempted],
        disable: &[Disable],
        lease: &Lease,
    ) -> StoreResult<Option<i64>> {
        let t = || -> Param { tenant.as_str().into() };
        let mut stmts = vec![];
        for a in attempts {
            stmts.push(self.stmt(
                "UPDATE webhook_deliveries SET status = ?3, attempts = json_insert(attempts, '$[#]', json(?4)),
                   attempt_count = attempt_count + 1, first_attempt_ms = COALESCE(first_attempt_ms, ?5),
                   next_attempt_ms = ?6, lease = NULL, lease_until_ms = NULL, updated_at = ?7
                 WHERE tenant_id = ?1 AND id = ?2 AND lease = ?8",
                &[
                    t(),
                    a.id.as_str().into(),
                    a.status.as_str().into(),
                    a.attempt.to_string().into(),
                    a.attempted_ms.into(),
                    a.next_attempt_ms.into(),
                    lease.now.as_str().into(),
                    lease.token.as_str().into(),
                ],
            )?);
        }
        for d in disable {
            stmts.push(self.stmt(
                "UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = ?3, updated_at = ?4
                 WHERE tenant_id = ?1 AND id = ?2 AND status = 'enabled'",
                &[
                    t(),
                    d.endpoint_id.as_str().into(),
                    d.reason.as_str().into(),
                    lease.now.as_str().into(),
                ],
            )?);
            stmts.push(self.conditional_event(&d.event)?);
            // Last: what this run just retried is canceled too.
            stmts.push(self.stmt(
                "UPDATE webhook_deliveries SET status = 'canceled', next_attempt_ms = NULL, lease = NULL,
                   lease_until_ms = NULL, updated_at = ?3
                 WHERE tenant_id = ?1 AND endpoint_id = ?2 AND status = 'pending'",
                &[t(), d.endpoint_id.as_str().into(), lease.now.as_str().into()],
            )?);
        }
        // A delivery another sender holds is due again when its lease ends.
        stmts.push(self.stmt(
            "SELECT MIN(MAX(next_attempt_ms, COALESCE(lease_until_ms, 0))) AS next
             FROM webhook_deliveries WHERE tenant_id = ?1 AND status = 'pending'",
            &[t()],
        )?);
        let r = self.db.batch(stmts).await?;
        let next = match r.into_iter().last().and_then(|r| r.rows.into_iter().next()) {
            Some(row) => int(decode::<NextRow>(row)?.next),
            None => None,
        };
        Ok(next)
    }
}
