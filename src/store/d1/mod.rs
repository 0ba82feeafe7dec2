//! D1 (SQLite at the edge): every SQL statement of the worker lives in this
//! module (tenants, keys and the catalog here; instances, bindings and events
//! in `connectors.rs`). The statements run through the `Sql` port: on D1 at
//! the edge (`binding.rs`), on a native SQLite in tests (`store::sqlite`).

#[cfg(target_arch = "wasm32")]
mod binding;
mod connect_sessions;
mod connectors;
mod health_checks;
#[cfg(test)]
pub(crate) use connectors::PINNED_BY_CONSUMER;
mod oauth;
mod tenant_lists;
mod tool_calls;
mod webhook_deliveries;
mod webhooks;

use super::sql::{first_changes, Param, Sql, Statement};
use super::*;
use crate::domain::auth::Role;
use crate::domain::catalog::Change;
use serde::Deserialize;

/// The stores (tenants, catalog, connectors, OAuth, sweep) over one SQL database.
pub struct SqlStore<S> {
    pub(super) db: S,
}

/// The stores over the worker's D1 binding.
#[cfg(target_arch = "wasm32")]
pub type D1Store = SqlStore<worker::D1Database>;

impl<S: Sql> SqlStore<S> {
    pub fn new(db: S) -> Self {
        Self { db }
    }

    /// The database underneath (tests read it directly).
    pub fn db(&self) -> &S {
        &self.db
    }

    pub(super) fn stmt(&self, sql: &str, args: &[Param]) -> StoreResult<Statement> {
        Ok(Statement::new(sql, args))
    }

    pub(super) fn event_stmt(&self, e: &EventRecord) -> StoreResult<Statement> {
        self.stmt(
            "INSERT INTO events (id, tenant_id, type, connector_id, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            &[
                e.id.as_str().into(),
                e.tenant.as_str().into(),
                e.kind.as_str().into(),
                e.connector_id.as_deref().into(),
                e.data.to_string().into(),
                e.created_at.as_str().into(),
            ],
        )
    }

    /// The event, written only if the statement before it in the same batch
    /// changed a row (a batch is one transaction on one connection).
    pub(super) fn conditional_event(&self, e: &EventRecord) -> StoreResult<Statement> {
        self.stmt(
            "INSERT INTO events (id, tenant_id, type, connector_id, data, created_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE changes() = 1",
            &[
                e.id.as_str().into(),
                e.tenant.as_str().into(),
                e.kind.as_str().into(),
                e.connector_id.as_deref().into(),
                e.data.to_string().into(),
                e.created_at.as_str().into(),
            ],
        )
    }

    fn key_stmt(&self, k: &KeyRecord) -> StoreResult<Statement> {
        self.stmt(
            "INSERT INTO api_keys (id, tenant_id, name, role, secret_hash, last4, created_at, consumer) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            &[
                k.id.as_str().into(),
                k.tenant.as_str().into(),
                k.name.as_deref().into(),
                k.role.as_str().into(),
                k.secret_hash.as_str().into(),
                k.last4.as_str().into(),
                k.created_at.as_str().into(),
                k.consumer.as_deref().into(),
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
    consumer: Option<String>,
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
            consumer: self.consumer,
            secret_hash: self.secret_hash,
            last4: self.last4,
            created_at: self.created_at,
        })
    }
}

const KEY_COLUMNS: &str = "id, tenant_id, name, role, consumer, secret_hash, last4, created_at";

#[async_trait(?Send)]
impl<S: Sql> TenantStore for SqlStore<S> {
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
                &[tenant.as_str().into(), limit.into()],
            )?,
            Some((at, id)) => self.stmt(
                &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = ?1 AND revoked_at IS NULL AND (created_at, id) < (?2, ?3) ORDER BY created_at DESC, id DESC LIMIT ?4"),
                &[tenant.as_str().into(), at.into(), id.into(), limit.into()],
            )?,
        };
        stmt.all::<KeyRow>(&self.db)
            .await?
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
        Ok(first_changes(&results) > 0)
    }

    async fn live_key(&self, id: &KeyId) -> StoreResult<Option<KeyRecord>> {
        let row = self
            .stmt(
                &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ?1 AND revoked_at IS NULL"),
                &[id.as_str().into()],
            )?
            .first::<KeyRow>(&self.db)
            .await?;
        row.map(KeyRow::into_record).transpose()
    }

    async fn ping(&self) -> StoreResult<()> {
        self.stmt("SELECT 1", &[])?
            .first::<serde_json::Value>(&self.db)
            .await?;
        Ok(())
    }
}

#[derive(Deserialize)]
struct ListingRow {
    etag: String,
    manifest: String,
    status: String,
    visibility: String,
    owner_tenant: Option<String>,
}

impl ListingRow {
    fn into_stored(self) -> StoredListing {
        StoredListing {
            etag: self.etag,
            raw: self.manifest,
            status: self.status,
            visibility: self.visibility,
            owner: self.owner_tenant,
        }
    }
}

#[derive(Deserialize)]
struct ChangeRow {
    summary: String,
    status: String,
    visibility: String,
    owner_tenant: Option<String>,
    change_seq: i64,
}

/// The next change sequence number of `listings` (migration 0013): one more
/// than the highest, read in the writing statement itself.
const NEXT_CHANGE: &str = "(SELECT COALESCE(MAX(change_seq), 0) + 1 FROM listings)";

#[derive(Deserialize)]
struct VersionRow {
    version: String,
    etag: String,
    published_at: String,
}

#[derive(Deserialize)]
struct SubmissionRow {
    id: String,
    tenant_id: String,
    listing_id: String,
    version: String,
    visibility: String,
    manifest: String,
    status: String,
    reason: Option<String>,
    created_at: String,
    decided_at: Option<String>,
}

impl From<SubmissionRow> for SubmissionRecord {
    fn from(r: SubmissionRow) -> Self {
        SubmissionRecord {
            id: r.id,
            tenant: TenantId::from_trusted(r.tenant_id),
            listing_id: r.listing_id,
            version: r.version,
            visibility: r.visibility,
            manifest: r.manifest,
            status: r.status,
            reason: r.reason,
            created_at: r.created_at,
            decided_at: r.decided_at,
        }
    }
}

const SUBMISSION_COLUMNS: &str =
    "id, tenant_id, listing_id, version, visibility, manifest, status, reason, created_at, decided_at";

impl<S: Sql> SqlStore<S> {
    /// The `listing_versions` row of `m`, inserted only when the statement
    /// before it in the batch changed a row; `conflict` is its ON CONFLICT
    /// clause (empty: a duplicate version fails the batch).
    fn version_stmt(&self, m: &ValidManifest, now: &str, conflict: &str) -> StoreResult<Statement> {
        self.stmt(
            &format!(
                "INSERT INTO listing_versions (listing_id, version, etag, manifest, published_at)
                 SELECT ?1, ?2, ?3, ?4, ?5 WHERE changes() = 1 {conflict}"
            ),
            &[
                m.summary.id.as_str().into(),
                m.summary.version.as_str().into(),
                m.etag.as_str().into(),
                m.raw.as_str().into(),
                now.into(),
            ],
        )
    }
}

fn opt_str(v: Option<&str>) -> Param {
    v.into()
}

#[async_trait(?Send)]
impl<S: Sql> CatalogStore for SqlStore<S> {
    async fn put_listing(&self, m: &ValidManifest, now: &str) -> StoreResult<Put> {
        let summary = serde_json::to_string(&m.summary)?;
        // Public keys only (a private listing's key holds its tenant, so it
        // cannot be reached from here); the owner and the status are kept:
        // the operator repairs a listing, it does not take it or re-list it.
        let upsert = self.stmt(
            &format!("INSERT INTO listings (id, version, etag, manifest, summary, created_at, updated_at, change_seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, {NEXT_CHANGE})
             ON CONFLICT (id) DO UPDATE SET version = excluded.version, etag = excluded.etag, manifest = excluded.manifest,
               summary = excluded.summary, updated_at = excluded.updated_at, change_seq = excluded.change_seq
             WHERE listings.etag <> excluded.etag AND listings.visibility = 'public'"),
            &[
                m.summary.id.as_str().into(),
                m.summary.version.as_str().into(),
                m.etag.as_str().into(),
                m.raw.as_str().into(),
                summary.into(),
                now.into(),
            ],
        )?;
        // The version is kept too (replaced when the operator republishes
        // the same version), only when the listing changed.
        let version = self.version_stmt(
            m,
            now,
            "ON CONFLICT (listing_id, version) DO UPDATE SET etag = excluded.etag,
               manifest = excluded.manifest, published_at = excluded.published_at",
        )?;
        let results = self.db.batch(vec![upsert, version]).await?;
        Ok(if first_changes(&results) > 0 {
            Put::Changed
        } else {
            Put::Unchanged
        })
    }

    async fn listing(&self, id: &ListingId) -> StoreResult<Option<StoredListing>> {
        let row = self
            .stmt(
                "SELECT etag, manifest, status, visibility, owner_tenant FROM listings WHERE id = ?1",
                &[id.as_str().into()],
            )?
            .first::<ListingRow>(&self.db)
            .await?;
        Ok(row.map(ListingRow::into_stored))
    }

    async fn changes(&self, after: (i64, &str), limit: usize) -> StoreResult<Vec<Change>> {
        self.stmt(
            "SELECT summary, status, visibility, owner_tenant, change_seq FROM listings
             WHERE (change_seq, id) > (?1, ?2) ORDER BY change_seq, id LIMIT ?3",
            &[after.0.into(), after.1.into(), limit.into()],
        )?
        .all::<ChangeRow>(&self.db)
        .await?
        .into_iter()
        .map(|r| {
            Ok(Change {
                seq: r.change_seq,
                summary: serde_json::from_str(&r.summary)?,
                status: r.status,
                visibility: r.visibility,
                owner: r.owner_tenant,
            })
        })
        .collect()
    }

    async fn listing_version(
        &self,
        id: &ListingId,
        version: &str,
    ) -> StoreResult<Option<StoredListing>> {
        let row = self
            .stmt(
                "SELECT v.etag AS etag, v.manifest AS manifest, l.status AS status, l.visibility AS visibility,
                        l.owner_tenant AS owner_tenant
                 FROM listing_versions v JOIN listings l ON l.id = v.listing_id
                 WHERE v.listing_id = ?1 AND v.version = ?2",
                &[id.as_str().into(), version.into()],
            )?
            .first::<ListingRow>(&self.db)
            .await?;
        Ok(row.map(ListingRow::into_stored))
    }

    async fn versions(&self, id: &ListingId) -> StoreResult<Vec<VersionRecord>> {
        Ok(self
            .stmt(
                "SELECT version, etag, published_at FROM listing_versions WHERE listing_id = ?1 ORDER BY published_at, version",
                &[id.as_str().into()],
            )?
            .all::<VersionRow>(&self.db)
            .await?
            .into_iter()
            .map(|r| VersionRecord {
                version: r.version,
                etag: r.etag,
                published_at: r.published_at,
            })
            .collect())
    }

    async fn publish(
        &self,
        sub: &SubmissionRecord,
        m: &ValidManifest,
        seen: Option<&str>,
        now: &str,
        e: &EventRecord,
    ) -> StoreResult<Written> {
        // The tenant whose approved submission created the listing owns it
        // (only the owner publishes further versions: checked before).
        let owner = Some(sub.tenant.as_str());
        // One transaction; each statement runs only if the one before it
        // changed a row, so a submission decided meanwhile, or a listing
        // that changed since `seen` was read, publishes nothing.
        let decide = self.stmt(
            "UPDATE submissions SET status = 'approved', decided_at = ?2 WHERE id = ?1 AND status = 'pending'
               AND (SELECT etag FROM listings WHERE id = ?3) IS ?4",
            &[
                sub.id.as_str().into(),
                now.into(),
                m.summary.id.as_str().into(),
                opt_str(seen),
            ],
        )?;
        // No ON CONFLICT: an existing version fails the batch (`NameTaken`).
        let version = self.version_stmt(m, now, "")?;
        let listing = self.stmt(
            &format!("INSERT INTO listings (id, version, etag, manifest, summary, created_at, updated_at, status, visibility, owner_tenant, change_seq)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?6, 'live', ?7, ?8, {NEXT_CHANGE} WHERE changes() = 1
             ON CONFLICT (id) DO UPDATE SET version = excluded.version, etag = excluded.etag, manifest = excluded.manifest,
               summary = excluded.summary, updated_at = excluded.updated_at, status = 'live',
               visibility = excluded.visibility, owner_tenant = excluded.owner_tenant, change_seq = excluded.change_seq"),
            &[
                m.summary.id.as_str().into(),
                m.summary.version.as_str().into(),
                m.etag.as_str().into(),
                m.raw.as_str().into(),
                serde_json::to_string(&m.summary)?.into(),
                now.into(),
                sub.visibility.as_str().into(),
                opt_str(owner),
            ],
        )?;
        let event = self.conditional_event(e)?;
        match self.db.batch(vec![decide, version, listing, event]).await {
            Ok(r) if first_changes(&r) > 0 => Ok(Written::Done),
            Ok(_) => Ok(Written::Gone),
            Err(err) if err.0.contains("UNIQUE constraint failed") => Ok(Written::NameTaken),
            Err(err) => Err(err),
        }
    }

    async fn delist(&self, id: &ListingId, now: &str) -> StoreResult<bool> {
        let r = self
            .stmt(
                &format!("UPDATE listings SET status = 'delisted', updated_at = ?2, change_seq = {NEXT_CHANGE}
                  WHERE id = ?1 AND status = 'live'"),
                &[id.as_str().into(), now.into()],
            )?
            .run(&self.db)
            .await?;
        Ok(r > 0)
    }

    async fn relist(&self, id: &ListingId, now: &str) -> StoreResult<bool> {
        let r = self
            .stmt(
                &format!("UPDATE listings SET status = 'live', updated_at = ?2, change_seq = {NEXT_CHANGE}
                  WHERE id = ?1 AND status = 'delisted'"),
                &[id.as_str().into(), now.into()],
            )?
            .run(&self.db)
            .await?;
        Ok(r > 0)
    }

    async fn insert_submission(&self, s: &SubmissionRecord, e: &EventRecord) -> StoreResult<()> {
        let insert = self.stmt(
            &format!("INSERT INTO submissions ({SUBMISSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
            &[
                s.id.as_str().into(),
                s.tenant.as_str().into(),
                s.listing_id.as_str().into(),
                s.version.as_str().into(),
                s.visibility.as_str().into(),
                s.manifest.as_str().into(),
                s.status.as_str().into(),
                opt_str(s.reason.as_deref()),
                s.created_at.as_str().into(),
                opt_str(s.decided_at.as_deref()),
            ],
        )?;
        self.db.batch(vec![insert, self.event_stmt(e)?]).await?;
        Ok(())
    }

    async fn submission(&self, id: &str) -> StoreResult<Option<SubmissionRecord>> {
        let row = self
            .stmt(
                &format!("SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE id = ?1"),
                &[id.into()],
            )?
            .first::<SubmissionRow>(&self.db)
            .await?;
        Ok(row.map(Into::into))
    }

    async fn submissions(
        &self,
        f: &SubmissionFilter,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<SubmissionRecord>> {
        let (at, id) = match after {
            Some((a, i)) => (Param::from(a), Param::from(i)),
            None => (Param::Null, Param::Null),
        };
        let rows = self
            .stmt(
                &format!(
                    "SELECT {SUBMISSION_COLUMNS} FROM submissions
                     WHERE (?1 IS NULL OR tenant_id = ?1)
                       AND (?2 IS NULL OR status = ?2)
                       AND (?3 IS NULL OR (created_at, id) < (?3, ?4))
                     ORDER BY created_at DESC, id DESC LIMIT ?5"
                ),
                &[
                    opt_str(f.tenant.as_ref().map(|t| t.as_str())),
                    opt_str(f.status.as_deref()),
                    at,
                    id,
                    limit.into(),
                ],
            )?
            .all::<SubmissionRow>(&self.db)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn reject(
        &self,
        id: &str,
        reason: &str,
        now: &str,
        e: &EventRecord,
    ) -> StoreResult<bool> {
        let update = self.stmt(
            "UPDATE submissions SET status = 'rejected', reason = ?2, decided_at = ?3 WHERE id = ?1 AND status = 'pending'",
            &[id.into(), reason.into(), now.into()],
        )?;
        let r = self
            .db
            .batch(vec![update, self.conditional_event(e)?])
            .await?;
        Ok(first_changes(&r) > 0)
    }
}
