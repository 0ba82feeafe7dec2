//! The SQL of instances' health-check history.

use super::*;

#[derive(Deserialize)]
struct Row {
    seq: i64,
    checked_at: String,
    healthy: Option<i64>,
    latency_ms: Option<i64>,
    status: String,
    message: String,
}

impl<S: Sql> SqlStore<S> {
    /// The update after a check, its event, the check's row (only if the
    /// instance still exists) and the pruning of older rows: one transaction.
    pub(super) async fn record_check_sql(
        &self,
        tenant: &TenantId,
        c: &ConnectorRecord,
        e: Option<&EventRecord>,
        k: &HealthCheckRecord,
    ) -> StoreResult<Written> {
        let t = tenant.as_str();
        let insert = self.stmt(
            "INSERT INTO health_checks (tenant_id, connector_id, checked_at, healthy, latency_ms, status, message)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS (SELECT 1 FROM connectors WHERE tenant_id = ?1 AND id = ?2)",
            &[
                t.into(),
                c.id.as_str().into(),
                k.checked_at.as_str().into(),
                k.healthy.map(i64::from).into(),
                k.latency_ms.map(|n| n as usize).into(),
                k.status.as_str().into(),
                k.message.as_str().into(),
            ],
        )?;
        let prune = self.stmt(
            "DELETE FROM health_checks WHERE tenant_id = ?1 AND connector_id = ?2 AND seq <= (
               SELECT seq FROM health_checks WHERE tenant_id = ?1 AND connector_id = ?2 ORDER BY seq DESC LIMIT 1 OFFSET ?3)",
            &[t.into(), c.id.as_str().into(), HEALTH_HISTORY.into()],
        )?;
        self.update_with(tenant, c, e, vec![insert, prune]).await
    }

    pub(super) async fn health_checks_sql(
        &self,
        tenant: &TenantId,
        connector: &ConnectorId,
        before: Option<i64>,
        limit: usize,
    ) -> StoreResult<Vec<HealthCheckRecord>> {
        let rows = self
            .stmt(
                "SELECT seq, checked_at, healthy, latency_ms, status, message FROM health_checks
                 WHERE tenant_id = ?1 AND connector_id = ?2 AND seq < ?3 ORDER BY seq DESC LIMIT ?4",
                &[
                    tenant.as_str().into(),
                    connector.as_str().into(),
                    before.unwrap_or(i64::MAX).into(),
                    limit.into(),
                ],
            )?
            .all::<Row>(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| HealthCheckRecord {
                seq: r.seq,
                checked_at: r.checked_at,
                healthy: r.healthy.map(|h| h != 0),
                latency_ms: r.latency_ms.and_then(|n| u64::try_from(n).ok()),
                status: r.status,
                message: r.message,
            })
            .collect())
    }
}
