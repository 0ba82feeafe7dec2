//! D1 (SQLite at the edge): every SQL statement of the worker lives in this
//! module (tenants, keys and the catalog here; instances, bindings and events
//! in `connectors.rs`).

mod connectors;
mod oauth;

use super::*;
use crate::domain::auth::Role;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

pub struct D1Store {
    pub(super) db: D1Database,
}

impl D1Store {
    pub fn new(db: D1Database) -> Self {
        Self { db }
    }

    pub(super) fn stmt(&self, sql: &str, args: &[JsValue]) -> StoreResult<D1PreparedStatement> {
        Ok(self.db.prepare(sql).bind(args)?)
    }

    pub(super) fn event_stmt(&self, e: &EventRecord) -> StoreResult<D1PreparedStatement> {
        self.stmt(
            "INSERT INTO events (id, tenant_id, type, connector_id, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            &[
                e.id.as_str().into(),
                e.tenant.as_str().into(),
                e.kind.as_str().into(),
                e.connector_id.as_deref().map_or(JsValue::NULL, JsValue::from),
                e.data.to_string().into(),
                e.created_at.as_str().into(),
            ],
        )
    }

    /// The event, written only if the statement before it in the same batch
    /// changed a row (a batch is one transaction on one connection).
    pub(super) fn conditional_event(&self, e: &EventRecord) -> StoreResult<D1PreparedStatement> {
        self.stmt(
            "INSERT INTO events (id, tenant_id, type, connector_id, data, created_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE changes() = 1",
            &[
                e.id.as_str().into(),
                e.tenant.as_str().into(),
                e.kind.as_str().into(),
                e.connector_id.as_deref().map_or(JsValue::NULL, JsValue::from),
                e.data.to_string().into(),
                e.created_at.as_str().into(),
            ],
        )
    }

    fn key_stmt(&self, k: &KeyRecord) -> StoreResult<D1PreparedStatement> {
        self.stmt(
            "INSERT INTO api_keys (id, tenant_id, name, role, secret_hash, last4, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            &[
                k.id.as_str().into(),
                k.tenant.as_str().into(),
                k.name.as_deref().map_or(JsValue::NULL, JsValue::from),
                k.role.as_str().into(),
                k.secret_hash.as_str().into(),
                k.last4.as_str().into(),
                k.created_at.as_str().into(),
            ],
        )
    }
}

#[derive(Deserialize)]
struct KeyRow {
    id: String,
    tenant_id: String,
    name: Option<String>,
    role: String,
    secret_hash: String,
    last4: String,
    created_at: String,
}

impl KeyRow {
    fn into_record(self) -> StoreResult<KeyRecord> {
        Ok(KeyRecord {
            id: KeyId::from_trusted(self.id),
            tenant: TenantId::from_trusted(self.tenant_id),
            name: self.name,
            role: Role::parse(&self.role).map_err(|e| StoreError(e.to_string()))?,
            secret_hash: self.secret_hash,
            last4: self.last4,
            created_at: self.created_at,
        })
    }
}

const KEY_COLUMNS: &str = "id, tenant_id, name, role, secret_hash, last4, created_at";

#[async_trait(?Send)]
impl TenantStore for D1Store {
    async fn create_tenant(
        &self,
        t: &TenantRecord,
        k: &KeyRecord,
        e: &EventRecord,
    ) -> StoreResult<()> {
        // A D1 batch is one transaction: the tenant never exists without its key.
        let tenant = self.stmt(
            "INSERT INTO tenants (id, name, created_at) VALUES (?1, ?2, ?3)",
            &[
                t.id.as_str().into(),
                t.name.as_str().into(),
                t.created_at.as_str().into(),
            ],
        )?;
        self.db
            .batch(vec![tenant, self.key_stmt(k)?, self.event_stmt(e)?])
            .await?;
        Ok(())
    }

    async fn insert_key(
        &self,
        _tenant: &TenantId,
        k: &KeyRecord,
        e: &EventRecord,
    ) -> StoreResult<()> {
        self.db
            .batch(vec![self.key_stmt(k)?, self.event_stmt(e)?])
            .await?;
        Ok(())
    }

    async fn list_keys(
        &self,
        tenant: &TenantId,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<KeyRecord>> {
        let stmt = match after {
            None => self.stmt(
                &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = ?1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC LIMIT ?2"),
                &[tenant.as_str().into(), (limit as f64).into()],
            )?,
            Some((at, id)) => self.stmt(
                &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = ?1 AND revoked_at IS NULL AND (created_at, id) < (?2, ?3) ORDER BY created_at DESC, id DESC LIMIT ?4"),
                &[tenant.as_str().into(), at.into(), id.into(), (limit as f64).into()],
            )?,
        };
        stmt.all()
            .await?
            .results::<KeyRow>()?
            .into_iter()
            .map(KeyRow::into_record)
            .collect()
    }

    async fn revoke_key(
        &self,
        tenant: &TenantId,
        id: &KeyId,
        at: &str,
        e: &EventRecord,
    ) -> StoreResult<bool> {
        let update = self.stmt(
            "UPDATE api_keys SET revoked_at = ?3 WHERE tenant_id = ?1 AND id = ?2 AND revoked_at IS NULL",
            &[tenant.as_str().into(), id.as_str().into(), at.into()],
        )?;
        let event = self.conditional_event(e)?;
        let results = self.db.batch(vec![update, event]).await?;
        let changed = results
            .first()
            .and_then(|r| r.meta().ok().flatten())
            .and_then(|m| m.changes)
            .unwrap_or(0);
        Ok(changed == 1)
    }

    async fn live_key(&self, id: &KeyId) -> StoreResult<Option<KeyRecord>> {
        let row = self
            .stmt(
                &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ?1 AND revoked_at IS NULL"),
                &[id.as_str().into()],
            )?
            .first::<KeyRow>(None)
            .await?;
        row.map(KeyRow::into_record).transpose()
    }

    async fn ping(&self) -> StoreResult<()> {
        self.db
            .prepare("SELECT 1")
            .first::<serde_json::Value>(None)
            .await?;
        Ok(())
    }
}

#[derive(Deserialize)]
struct ListingRow {
    etag: String,
    manifest: String,
}

#[derive(Deserialize)]
struct SummaryRow {
    summary: String,
}

#[async_trait(?Send)]
impl CatalogStore for D1Store {
    async fn put_listing(&self, m: &ValidManifest, now: &str) -> StoreResult<bool> {
        let summary = serde_json::to_string(&m.summary)?;
        let result = self
            .stmt(
                "INSERT INTO listings (id, version, etag, manifest, summary, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
                 ON CONFLICT (id) DO UPDATE SET version = excluded.version, etag = excluded.etag, manifest = excluded.manifest,
                   summary = excluded.summary, updated_at = excluded.updated_at
                 WHERE listings.etag <> excluded.etag",
                &[
                    m.summary.id.as_str().into(),
                    m.summary.version.as_str().into(),
                    m.etag.as_str().into(),
                    m.raw.as_str().into(),
                    summary.into(),
                    now.into(),
                ],
            )?
            .run()
            .await?;
        let changes = result.meta()?.and_then(|m| m.changes).unwrap_or(0);
        Ok(changes > 0)
    }

    async fn listing(&self, id: &ListingId) -> StoreResult<Option<StoredListing>> {
        let row = self
            .stmt(
                "SELECT etag, manifest FROM listings WHERE id = ?1",
                &[id.as_str().into()],
            )?
            .first::<ListingRow>(None)
            .await?;
        Ok(row.map(|r| StoredListing {
            etag: r.etag,
            raw: r.manifest,
        }))
    }

    async fn summaries(&self) -> StoreResult<Vec<ListingSummary>> {
        self.db
            .prepare("SELECT summary FROM listings ORDER BY id")
            .all()
            .await?
            .results::<SummaryRow>()?
            .into_iter()
            .map(|r| Ok(serde_json::from_str(&r.summary)?))
            .collect()
    }
}
