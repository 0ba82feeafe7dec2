//! The SQL of a tenant's lists (issue 16): every page is an index range that
//! stops at the page's end. A statement names only the filters the request
//! gives (no `?n IS NULL OR …`, which keeps SQLite off the index) and seeks
//! to the cursor (`(created_at, id) < (?, ?)`, a range on the index), so a
//! page deep in a tenant of thousands costs what the first one does. The
//! capabilities come from `capability_counts` and `connector_capabilities`,
//! which triggers keep with every write (migration 0014).

use super::connectors::{BindingRow, ConnectorRow, BINDING_COLUMNS, CONNECTOR_COLUMNS};
use super::*;
use crate::store::{BindingFilter, CapabilitySummary, CAPABILITY_SAMPLE};

/// A `WHERE` clause with numbered parameters, built from what a request
/// gives; `?1` is always the tenant.
pub(super) struct Where {
    sql: String,
    pub(super) params: Vec<Param>,
}

impl Where {
    pub(super) fn tenant(column: &str, tenant: &TenantId) -> Self {
        Where {
            sql: format!("{column} = ?1"),
            params: vec![tenant.as_str().into()],
        }
    }

    /// The next parameter's placeholder, bound to `p`.
    fn bind(&mut self, p: Param) -> String {
        self.params.push(p);
        format!("?{}", self.params.len())
    }

    /// `AND cond`, each bare `?` in `cond` bound to the next of `next()` (a
    /// numbered `?1` stays as it is).
    fn push(mut self, cond: &str, mut next: impl FnMut() -> Param) -> Self {
        self.sql.push_str(" AND ");
        let mut chars = cond.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '?' && !chars.peek().is_some_and(char::is_ascii_digit) {
                let p = self.bind(next());
                self.sql.push_str(&p);
            } else {
                self.sql.push(c);
            }
        }
        self
    }

    /// `AND cond`, its bare `?`s bound to `ps` in order.
    pub(super) fn and(self, cond: &str, ps: Vec<Param>) -> Self {
        let mut ps = ps.into_iter();
        self.push(cond, || ps.next().unwrap_or(Param::Null))
    }

    /// `AND cond` when `value` is given, every bare `?` bound to it.
    pub(super) fn and_opt(self, cond: &str, value: &Option<String>) -> Self {
        match value {
            Some(v) => self.push(cond, || v.as_str().into()),
            None => self,
        }
    }

    /// Strictly after the cursor's `(created_at, id)`, newest first.
    pub(super) fn before(self, at: &str, id: &str, after: Option<(String, String)>) -> Self {
        match after {
            Some((a, i)) => self.and(&format!("({at}, {id}) < (?, ?)"), vec![a.into(), i.into()]),
            None => self,
        }
    }

    /// `WHERE … ORDER BY … LIMIT n` as one statement's text and parameters.
    pub(super) fn statement(mut self, head: &str, order: &str, limit: usize) -> Statement {
        let n = self.bind(limit.into());
        Statement {
            sql: format!("{head} WHERE {} ORDER BY {order} LIMIT {n}", self.sql),
            params: self.params,
        }
    }
}

/// The oldest `connected` instance fulfilling `{cap}` of tenant `{tenant}`
/// (SQL expressions): a seek on `connector_capabilities_serving`.
fn serving_id(tenant: &str, cap: &str) -> String {
    format!(
        "(SELECT connector_id FROM connector_capabilities
           WHERE tenant_id = {tenant} AND capability = {cap} AND connected = 1
           ORDER BY created_at, connector_id LIMIT 1)"
    )
}

/// The instances serving consumer `?2`'s unpinned bindings, found by key.
pub(super) fn serving_unpinned() -> String {
    format!(
        "SELECT {CONNECTOR_COLUMNS} FROM connectors WHERE +tenant_id = ?1 AND id IN
           (SELECT {} FROM bindings b WHERE b.tenant_id = ?1 AND b.consumer = ?2 AND b.connector_id IS NULL)",
        serving_id("b.tenant_id", "b.capability")
    )
}

/// The columns of an instance in a list (`c`: the table's prefix), where
/// `tools` is cut down in SQLite to what a list shows of each tool (name,
/// capability, side effect): a full tool set with its schemas and request
/// templates is kilobytes an instance that the page would only parse to drop.
fn listed_columns(c: &str) -> String {
    CONNECTOR_COLUMNS
        .split(", ")
        .map(|col| match col {
            "tools" => format!(
                "(SELECT json_group_array(json_object('name', value -> '$.name', 'capability', value -> '$.capability',
                    'side_effect', value -> '$.side_effect')) FROM json_each({c}tools)) AS tools"
            ),
            col => format!("{c}{col}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Deserialize)]
struct CapabilityRow {
    capability: String,
    connectors: i64,
    bindings: i64,
    connector_ids: String,
    binding_ids: String,
}

#[derive(Deserialize)]
pub(super) struct EventRow {
    id: String,
    tenant_id: String,
    #[serde(rename = "type")]
    kind: String,
    connector_id: Option<String>,
    data: String,
    created_at: String,
}

impl EventRow {
    pub(super) fn into_record(self) -> StoreResult<EventRecord> {
        Ok(EventRecord {
            id: self.id,
            tenant: TenantId::from_trusted(self.tenant_id),
            kind: self.kind,
            connector_id: self.connector_id,
            data: serde_json::from_str(&self.data)?,
            created_at: self.created_at,
        })
    }
}

const NEWEST: &str = "created_at DESC, id DESC";

impl<S: Sql> SqlStore<S> {
    pub(super) async fn list_connectors_sql(
        &self,
        tenant: &TenantId,
        f: &ConnectorFilter,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<ConnectorRecord>> {
        // By capability, the page walks that capability's rows (newest first,
        // the instance's own `created_at`) and joins each instance by key.
        let (w, from, c, at, id, order) = match &f.capability {
            Some(cap) => (
                Where::tenant("m.tenant_id", tenant)
                    .and("m.capability = ?", vec![cap.as_str().into()]),
                "connector_capabilities m JOIN connectors c ON c.id = m.connector_id",
                "c.",
                "m.created_at",
                "m.connector_id",
                "m.created_at DESC, m.connector_id DESC",
            ),
            None => (
                Where::tenant("tenant_id", tenant),
                "connectors",
                "",
                "created_at",
                "id",
                NEWEST,
            ),
        };
        let head = format!("SELECT {} FROM {from}", listed_columns(c));
        let stmt = w
            // A listing by id, or a private one by its short name.
            .and_opt(
                &format!("({c}listing_id = ? OR {c}listing_id = ?1 || '/' || ?)"),
                &f.listing,
            )
            .and_opt(&format!("{c}kind = ?"), &f.kind)
            .and_opt(&format!("{c}status = ?"), &f.status)
            .and_opt(&format!("{c}crew_id = ?"), &f.crew_id)
            .before(at, id, after)
            .statement(&head, order, limit);
        let rows = stmt.all::<ConnectorRow>(&self.db).await?;
        rows.into_iter().map(ConnectorRow::into_record).collect()
    }

    pub(super) async fn list_bindings_sql(
        &self,
        tenant: &TenantId,
        f: &BindingFilter,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<BindingRecord>> {
        let stmt = Where::tenant("tenant_id", tenant)
            .and_opt("consumer = ?", &f.consumer)
            .and_opt("capability = ?", &f.capability)
            .and_opt("connector_id = ?", &f.connector_id)
            .before("created_at", "id", after)
            .statement(
                &format!("SELECT {BINDING_COLUMNS} FROM bindings"),
                NEWEST,
                limit,
            );
        let rows = stmt.all::<BindingRow>(&self.db).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub(super) async fn list_events_sql(
        &self,
        tenant: &TenantId,
        f: &EventFilter,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<EventRecord>> {
        let stmt = Where::tenant("tenant_id", tenant)
            .and_opt("type = ?", &f.kind)
            .and_opt("connector_id = ?", &f.connector_id)
            .before("created_at", "id", after)
            .statement(
                "SELECT id, tenant_id, type, connector_id, data, created_at FROM events",
                NEWEST,
                limit,
            );
        let rows = stmt.all::<EventRow>(&self.db).await?;
        rows.into_iter().map(EventRow::into_record).collect()
    }

    pub(super) async fn serving_sql(
        &self,
        tenant: &TenantId,
        capability: &str,
    ) -> StoreResult<Option<ConnectorRecord>> {
        let sql = format!(
            "SELECT {CONNECTOR_COLUMNS} FROM connectors WHERE +tenant_id = ?1 AND id = {}",
            serving_id("?1", "?2")
        );
        let row = self
            .stmt(&sql, &[tenant.as_str().into(), capability.into()])?
            .first::<ConnectorRow>(&self.db)
            .await?;
        row.map(ConnectorRow::into_record).transpose()
    }

    /// One statement: the page of `capability_counts`, and for each of its
    /// rows the newest ids of both kinds, each an index range of at most
    /// [`CAPABILITY_SAMPLE`] rows.
    pub(super) async fn capabilities_sql(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<CapabilitySummary>> {
        let sql = "SELECT p.capability, p.connectors, p.bindings,
               (SELECT json_group_array(connector_id) FROM (SELECT connector_id FROM connector_capabilities
                  WHERE tenant_id = ?1 AND capability = p.capability ORDER BY created_at DESC, connector_id DESC LIMIT ?3)) AS connector_ids,
               (SELECT json_group_array(id) FROM (SELECT id FROM bindings
                  WHERE tenant_id = ?1 AND capability = p.capability ORDER BY created_at DESC, id DESC LIMIT ?3)) AS binding_ids
             FROM capability_counts p WHERE p.tenant_id = ?1 AND p.capability > ?2
             ORDER BY p.capability LIMIT ?4";
        let rows = self
            .stmt(
                sql,
                &[
                    tenant.as_str().into(),
                    after.unwrap_or("").into(),
                    CAPABILITY_SAMPLE.into(),
                    limit.into(),
                ],
            )?
            .all::<CapabilityRow>(&self.db)
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(CapabilitySummary {
                    capability: r.capability,
                    connectors: r.connectors.max(0) as u64,
                    bindings: r.bindings.max(0) as u64,
                    connector_ids: serde_json::from_str(&r.connector_ids)?,
                    binding_ids: serde_json::from_str(&r.binding_ids)?,
                })
            })
            .collect()
    }

    pub(super) async fn dependents_sql(
        &self,
        tenant: &TenantId,
        id: &ConnectorId,
    ) -> StoreResult<Vec<BindingRecord>> {
        // Pinned to it (by `bindings_by_connector`), or unpinned on one of
        // its capabilities that only it fulfils (by the counts).
        let sql = format!(
            "SELECT {BINDING_COLUMNS} FROM bindings WHERE tenant_id = ?1 AND connector_id = ?2
             UNION ALL
             SELECT {BINDING_COLUMNS} FROM bindings WHERE tenant_id = ?1 AND connector_id IS NULL AND capability IN
               (SELECT k.capability FROM connector_capabilities m JOIN capability_counts k
                  ON k.tenant_id = m.tenant_id AND k.capability = m.capability
                WHERE m.connector_id = ?2 AND m.tenant_id = ?1 AND k.connectors <= 1)
             ORDER BY {NEWEST}"
        );
        let rows = self
            .stmt(&sql, &[tenant.as_str().into(), id.as_str().into()])?
            .all::<BindingRow>(&self.db)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
