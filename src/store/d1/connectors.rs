//! SQL for installed connectors, bindings and events.

use super::SqlStore;
use crate::domain::connector::{AuthMode, Status};
use crate::domain::governance::Policy;
use crate::store::sql::{decode, first_changes, Param, Sql, Statement, StatementResult};
use crate::store::*;
use serde::Deserialize;

/// The instances a consumer's bindings pin (`?1` tenant, `?2` consumer).
pub(crate) const PINNED_BY_CONSUMER: &str = "WHERE +tenant_id = ?1 AND id IN
   (SELECT connector_id FROM bindings WHERE tenant_id = ?1 AND consumer = ?2 AND connector_id IS NOT NULL)";

pub(super) const CONNECTOR_COLUMNS: &str = "id, tenant_id, listing_id, listing_version, name, kind, transport, crew_id, capabilities, tools, config, auth_type, auth_hint, secret, status, health, return_url, created_at, updated_at, last_synced_at";

#[derive(Deserialize)]
pub(super) struct ConnectorRow {
    id: String,
    tenant_id: String,
    listing_id: String,
    listing_version: String,
    name: String,
    kind: String,
    transport: String,
    crew_id: Option<String>,
    capabilities: String,
    tools: String,
    config: String,
    auth_type: String,
    auth_hint: Option<String>,
    secret: Option<String>,
    status: String,
    health: String,
    return_url: Option<String>,
    created_at: String,
    updated_at: String,
    last_synced_at: Option<String>,
}

impl ConnectorRow {
    pub(super) fn into_record(self) -> StoreResult<ConnectorRecord> {
        let auth_type = AuthMode::parse(&self.auth_type)
            .ok_or_else(|| StoreError(format!("connector {}: unknown auth type", self.id)))?;
        Ok(ConnectorRecord {
            id: ConnectorId::from_trusted(self.id),
            tenant: TenantId::from_trusted(self.tenant_id),
            listing: self.listing_id,
            listing_version: self.listing_version,
            name: self.name,
            kind: self.kind,
            transport: self.transport,
            crew_id: self.crew_id,
            capabilities: serde_json::from_str(&self.capabilities)?,
            tools: serde_json::from_str(&self.tools)?,
            config: serde_json::from_str(&self.config)?,
            auth_type,
            auth_hint: self.auth_hint,
            secret: self.secret,
            status: Status::parse(&self.status),
            health: serde_json::from_str(&self.health)?,
            return_url: self.return_url,
            created_at: self.created_at,
            updated_at: self.updated_at,
            last_synced_at: self.last_synced_at,
        })
    }
}

fn opt(s: &Option<String>) -> Param {
    s.as_deref().into()
}

fn is_unique_violation(e: &StoreError) -> bool {
    e.0.contains("UNIQUE constraint failed")
}

pub(super) const BINDING_COLUMNS: &str =
    "id, tenant_id, consumer, capability, connector_id, alias, policy, rate_limit_per_minute, created_at";

#[derive(Deserialize)]
pub(super) struct BindingRow {
    id: String,
    tenant_id: String,
    consumer: String,
    capability: String,
    connector_id: Option<String>,
    alias: String,
    policy: Option<String>,
    rate_limit_per_minute: Option<f64>,
    created_at: String,
}

impl From<BindingRow> for BindingRecord {
    fn from(r: BindingRow) -> Self {
        BindingRecord {
            id: BindingId::from_trusted(r.id),
            tenant: TenantId::from_trusted(r.tenant_id),
            consumer: r.consumer,
            capability: r.capability,
            connector_id: r.connector_id.map(ConnectorId::from_trusted),
            alias: r.alias,
            policy: r.policy.as_deref().and_then(Policy::parse),
            rate_limit: r.rate_limit_per_minute.map(|n| n as u32),
            created_at: r.created_at,
        }
    }
}

impl<S: Sql> SqlStore<S> {
    fn connector_values(c: &ConnectorRecord) -> StoreResult<Vec<Param>> {
        Ok(vec![
            c.id.as_str().into(),
            c.tenant.as_str().into(),
            c.listing.as_str().into(),
            c.listing_version.as_str().into(),
            c.name.as_str().into(),
            c.kind.as_str().into(),
            c.transport.as_str().into(),
            opt(&c.crew_id),
            serde_json::to_string(&c.capabilities)?.into(),
            c.tools.to_string().into(),
            c.config.to_string().into(),
            c.auth_type.as_str().into(),
            opt(&c.auth_hint),
            opt(&c.secret),
            c.status.as_str().into(),
            c.health.to_json().to_string().into(),
            opt(&c.return_url),
            c.created_at.as_str().into(),
            c.updated_at.as_str().into(),
            opt(&c.last_synced_at),
        ])
    }

    async fn run_batch(&self, stmts: Vec<Statement>) -> StoreResult<Vec<StatementResult>> {
        self.db.batch(stmts).await
    }

    /// Updates an instance (its event written only if the row changed),
    /// then runs `after` in the same transaction.
    pub(super) async fn update_with(
        &self,
        tenant: &TenantId,
        c: &ConnectorRecord,
        e: Option<&EventRecord>,
        after: Vec<Statement>,
    ) -> StoreResult<Written> {
        let update = self.stmt(
            "UPDATE connectors SET name = ?3, config = ?4, auth_hint = ?5, secret = ?6, status = ?7, health = ?8, updated_at = ?9, crew_id = ?10,
               listing_version = ?11, kind = ?12, transport = ?13, capabilities = ?14, tools = ?15
             WHERE tenant_id = ?1 AND id = ?2",
            &[
                tenant.as_str().into(),
                c.id.as_str().into(),
                c.name.as_str().into(),
                c.config.to_string().into(),
                opt(&c.auth_hint),
                opt(&c.secret),
                c.status.as_str().into(),
                c.health.to_json().to_string().into(),
                c.updated_at.as_str().into(),
                opt(&c.crew_id),
                c.listing_version.as_str().into(),
                c.kind.as_str().into(),
                c.transport.as_str().into(),
                serde_json::to_string(&c.capabilities)?.into(),
                c.tools.to_string().into(),
            ],
        )?;
        let mut batch = vec![update];
        if let Some(e) = e {
            batch.push(self.conditional_event(e)?);
        }
        batch.extend(after);
        match self.run_batch(batch).await {
            Ok(r) if first_changes(&r) > 0 => Ok(Written::Done),
            Ok(_) => Ok(Written::Gone),
            Err(err) if is_unique_violation(&err) => Ok(Written::NameTaken),
            Err(err) => Err(err),
        }
    }

    /// Deletes one row of a tenant and writes the event only if it existed.
    async fn delete_with_event(
        &self,
        table: &'static str,
        tenant: &TenantId,
        id: &str,
        e: &EventRecord,
    ) -> StoreResult<bool> {
        let delete = self.stmt(
            &format!("DELETE FROM {table} WHERE tenant_id = ?1 AND id = ?2"),
            &[tenant.as_str().into(), id.into()],
        )?;
        let r = self
            .run_batch(vec![delete, self.conditional_event(e)?])
            .await?;
        Ok(first_changes(&r) > 0)
    }
}

#[async_trait(?Send)]
impl<S: Sql> ConnectorStore for SqlStore<S> {
    async fn insert_connector(
        &self,
        _tenant: &TenantId,
        c: &ConnectorRecord,
        e: &EventRecord,
    ) -> StoreResult<Written> {
        let insert = self.stmt(
            &format!("INSERT INTO connectors ({CONNECTOR_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"),
            &Self::connector_values(c)?,
        )?;
        match self.run_batch(vec![insert, self.event_stmt(e)?]).await {
            Ok(_) => Ok(Written::Done),
            Err(err) if is_unique_violation(&err) => Ok(Written::NameTaken),
            Err(err) => Err(err),
        }
    }

    async fn connector(
        &self,
        tenant: &TenantId,
        id: &ConnectorId,
    ) -> StoreResult<Option<ConnectorRecord>> {
        let row = self
            .stmt(
                &format!(
                    "SELECT {CONNECTOR_COLUMNS} FROM connectors WHERE tenant_id = ?1 AND id = ?2"
                ),
                &[tenant.as_str().into(), id.as_str().into()],
            )?
            .first::<ConnectorRow>(&self.db)
            .await?;
        row.map(ConnectorRow::into_record).transpose()
    }

    async fn name_taken(&self, tenant: &TenantId, name: &str) -> StoreResult<bool> {
        let row = self
            .stmt(
                "SELECT 1 AS x FROM connectors WHERE tenant_id = ?1 AND name = ?2",
                &[tenant.as_str().into(), name.into()],
            )?
            .first::<serde_json::Value>(&self.db)
            .await?;
        Ok(row.is_some())
    }

    async fn list_connectors(
        &self,
        tenant: &TenantId,
        f: &ConnectorFilter,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<ConnectorRecord>> {
        self.list_connectors_sql(tenant, f, after, limit).await
    }

    async fn serving(
        &self,
        tenant: &TenantId,
        capability: &str,
    ) -> StoreResult<Option<ConnectorRecord>> {
        self.serving_sql(tenant, capability).await
    }

    async fn capabilities(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<CapabilitySummary>> {
        self.capabilities_sql(tenant, after, limit).await
    }

    async fn update_connector(
        &self,
        tenant: &TenantId,
        c: &ConnectorRecord,
        e: Option<&EventRecord>,
    ) -> StoreResult<Written> {
        self.update_with(tenant, c, e, vec![]).await
    }

    async fn record_check(
        &self,
        tenant: &TenantId,
        c: &ConnectorRecord,
        e: Option<&EventRecord>,
        check: &HealthCheckRecord,
    ) -> StoreResult<Written> {
        self.record_check_sql(tenant, c, e, check).await
    }

    async fn health_checks(
        &self,
        tenant: &TenantId,
        connector: &ConnectorId,
        before: Option<i64>,
        limit: usize,
    ) -> StoreResult<Vec<HealthCheckRecord>> {
        self.health_checks_sql(tenant, connector, before, limit)
            .await
    }

    async fn delete_connector(
        &self,
        tenant: &TenantId,
        id: &ConnectorId,
        e: &EventRecord,
    ) -> StoreResult<bool> {
        // The instance's check history goes with it (after the event, which
        // looks at the delete's changes()).
        let history = self.stmt(
            "DELETE FROM health_checks WHERE tenant_id = ?1 AND connector_id = ?2",
            &[tenant.as_str().into(), id.as_str().into()],
        )?;
        let delete = self.stmt(
            "DELETE FROM connectors WHERE tenant_id = ?1 AND id = ?2",
            &[tenant.as_str().into(), id.as_str().into()],
        )?;
        let r = self
            .run_batch(vec![delete, self.conditional_event(e)?, history])
            .await?;
        Ok(first_changes(&r) > 0)
    }

    async fn insert_binding(
        &self,
        _tenant: &TenantId,
        b: &BindingRecord,
        e: &EventRecord,
    ) -> StoreResult<()> {
        let insert = self.stmt(
            "INSERT INTO bindings (id, tenant_id, consumer, capability, connector_id, alias, policy, rate_limit_per_minute, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            &[
                b.id.as_str().into(),
                b.tenant.as_str().into(),
                b.consumer.as_str().into(),
                b.capability.as_str().into(),
                b.connector_id.as_ref().map(|c| c.as_str()).into(),
                b.alias.as_str().into(),
                b.policy.map(|p| p.as_str()).into(),
                b.rate_limit.map(|n| n as usize).into(),
                b.created_at.as_str().into(),
            ],
        )?;
        self.run_batch(vec![insert, self.event_stmt(e)?]).await?;
        Ok(())
    }

    async fn binding(
        &self,
        tenant: &TenantId,
        id: &BindingId,
    ) -> StoreResult<Option<BindingRecord>> {
        let row = self
            .stmt(
                "SELECT id, tenant_id, consumer, capability, connector_id, alias, policy, rate_limit_per_minute, created_at FROM bindings WHERE tenant_id = ?1 AND id = ?2",
                &[tenant.as_str().into(), id.as_str().into()],
            )?
            .first::<BindingRow>(&self.db)
            .await?;
        Ok(row.map(Into::into))
    }

    async fn list_bindings(
        &self,
        tenant: &TenantId,
        f: &BindingFilter,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<BindingRecord>> {
        self.list_bindings_sql(tenant, f, after, limit).await
    }

    async fn dependents(
        &self,
        tenant: &TenantId,
        id: &ConnectorId,
    ) -> StoreResult<Vec<BindingRecord>> {
        self.dependents_sql(tenant, id).await
    }

    async fn consumer_bindings(
        &self,
        tenant: &TenantId,
        consumer: &str,
    ) -> StoreResult<ConsumerBindings> {
        let params = [tenant.as_str().into(), consumer.into()];
        let bindings = self.stmt(
            &format!("SELECT {BINDING_COLUMNS} FROM bindings WHERE tenant_id = ?1 AND consumer = ?2 ORDER BY created_at, id"),
            &params,
        )?;
        // `+tenant_id`: each pinned instance is found by its primary key; on
        // `tenant_id` SQLite would scan the tenant's every instance.
        let pinned = self.stmt(
            &format!("SELECT {CONNECTOR_COLUMNS} FROM connectors {PINNED_BY_CONSUMER}"),
            &params,
        )?;
        // And for its unpinned bindings, each capability's serving instance:
        // one seek each, never the tenant's other instances.
        let serving = self.stmt(&super::tenant_lists::serving_unpinned(), &params)?;
        let mut results = self
            .run_batch(vec![bindings, pinned, serving])
            .await?
            .into_iter();
        let mut rows = |n| {
            results
                .next()
                .map(|r| r.rows)
                .ok_or_else(|| StoreError(format!("batch answered no result {n}")))
        };
        let bindings = rows(1)?
            .into_iter()
            .map(|r| decode::<BindingRow>(r).map(Into::into))
            .collect::<StoreResult<Vec<BindingRecord>>>()?;
        let instances = |rows: Vec<serde_json::Value>| {
            rows.into_iter()
                .map(|r| decode::<ConnectorRow>(r).and_then(ConnectorRow::into_record))
                .collect::<StoreResult<Vec<_>>>()
        };
        let pinned = instances(rows(2)?)?;
        let serving = instances(rows(3)?)?;
        Ok(ConsumerBindings {
            bindings,
            pinned,
            serving,
        })
    }

    async fn update_binding(
        &self,
        tenant: &TenantId,
        b: &BindingRecord,
        e: &EventRecord,
    ) -> StoreResult<Written> {
        let update = self.stmt(
            "UPDATE bindings SET connector_id = ?3, policy = ?4, rate_limit_per_minute = ?5 WHERE tenant_id = ?1 AND id = ?2",
            &[
                tenant.as_str().into(),
                b.id.as_str().into(),
                b.connector_id.as_ref().map(|c| c.as_str()).into(),
                b.policy.map(|p| p.as_str()).into(),
                b.rate_limit.map(|n| n as usize).into(),
            ],
        )?;
        match self
            .run_batch(vec![update, self.conditional_event(e)?])
            .await
        {
            Ok(r) if first_changes(&r) > 0 => Ok(Written::Done),
            Ok(_) => Ok(Written::Gone),
            Err(err) => Err(err),
        }
    }

    async fn delete_binding(
        &self,
        tenant: &TenantId,
        id: &BindingId,
        e: &EventRecord,
    ) -> StoreResult<bool> {
        self.delete_with_event("bindings", tenant, id.as_str(), e)
            .await
    }

    async fn insert_event(&self, _tenant: &TenantId, e: &EventRecord) -> StoreResult<()> {
        self.run_batch(vec![self.event_stmt(e)?]).await?;
        Ok(())
    }

    async fn list_events(
        &self,
        tenant: &TenantId,
        f: &EventFilter,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<EventRecord>> {
        self.list_events_sql(tenant, f, after, limit).await
    }
}

#[derive(Deserialize)]
struct TenantRow {
    tenant_id: String,
}

#[async_trait(?Send)]
impl<S: Sql> SweepStore for SqlStore<S> {
    async fn sweep_batch(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<ConnectorRecord>> {
        let rows = self
            .stmt(
                &format!("SELECT {CONNECTOR_COLUMNS} FROM connectors WHERE tenant_id = ?1 AND (?2 IS NULL OR id > ?2) ORDER BY id LIMIT ?3"),
                &[tenant.as_str().into(), after.into(), limit.into()],
            )?
            .all::<ConnectorRow>(&self.db)
            .await?;
        rows.into_iter().map(ConnectorRow::into_record).collect()
    }

    async fn tenants_with_connectors(&self) -> StoreResult<Vec<TenantId>> {
        let rows = self
            .stmt(
                "SELECT DISTINCT tenant_id FROM connectors ORDER BY tenant_id",
                &[],
            )?
            .all::<TenantRow>(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| TenantId::from_trusted(r.tenant_id))
            .collect())
    }
}
