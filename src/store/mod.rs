//! Storage ports: one trait per aggregate. Every tenant-owned read or write
//! takes `&TenantId` first, so a query can never cross tenants by accident.
//! `d1/` holds all SQL (over the `sql.rs` port: D1 at the edge, SQLite in
//! native tests, `sqlite.rs`), `kv.rs` the cache, `memory.rs` the test fakes
//! of what has no native engine.

pub mod d1;
#[cfg(target_arch = "wasm32")]
pub mod kv;
#[cfg(test)]
pub mod memory;
pub mod sql;
#[cfg(test)]
pub mod sqlite;

use crate::domain::auth::Role;
use crate::domain::ids::{BindingId, ConnectorId, KeyId, ListingId, TenantId};
use crate::domain::manifest::{ListingSummary, ValidManifest};
use async_trait::async_trait;
use serde_json::Value;

/// A platform or storage failure. Its text is for the log only; callers see
/// a generic `api_error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl<E: std::fmt::Display> From<E> for StoreError {
    fn from(e: E) -> Self {
        StoreError(e.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, PartialEq)]
pub struct TenantRecord {
    pub id: TenantId,
    pub name: String,
    pub created_at: String,
}

/// A stored API key: the secret itself is never stored, only its hash.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRecord {
    pub id: KeyId,
    pub tenant: TenantId,
    pub name: Option<String>,
    pub role: Role,
    pub secret_hash: String,
    pub last4: String,
    pub created_at: String,
}

/// An audit event (API §9); `data` never carries secrets.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub id: String,
    pub tenant: TenantId,
    pub kind: String,
    pub connector_id: Option<String>,
    pub data: Value,
    pub created_at: String,
}

#[async_trait(?Send)]
pub trait TenantStore {
    /// Creates the tenant, its first key and the event, all or nothing.
    async fn create_tenant(
        &self,
        tenant: &TenantRecord,
        key: &KeyRecord,
        event: &EventRecord,
    ) -> StoreResult<()>;
    async fn insert_key(
        &self,
        tenant: &TenantId,
        key: &KeyRecord,
        event: &EventRecord,
    ) -> StoreResult<()>;
    /// Live keys, newest first, strictly after `(created_at, id)` when given.
    async fn list_keys(
        &self,
        tenant: &TenantId,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<KeyRecord>>;
    /// Revokes a live key; `false` when the tenant has no such live key.
    async fn revoke_key(
        &self,
        tenant: &TenantId,
        id: &KeyId,
        revoked_at: &str,
        event: &EventRecord,
    ) -> StoreResult<bool>;
    /// The authentication lookup: the only read not scoped by a tenant,
    /// because the tenant is what it finds out. Revoked keys are not found.
    async fn live_key(&self, id: &KeyId) -> StoreResult<Option<KeyRecord>>;
    async fn ping(&self) -> StoreResult<()>;
}

/// A listing as stored: the manifest text verbatim and its ETag, with the
/// listing's status and visibility (those of the listing, whatever version).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoredListing {
    pub etag: String,
    pub raw: String,
    #[serde(default = "live")]
    pub status: String,
    #[serde(default = "public")]
    pub visibility: String,
    /// The tenant a private listing belongs to.
    #[serde(default)]
    pub owner: Option<String>,
}

fn live() -> String {
    "live".into()
}

fn public() -> String {
    "public".into()
}

impl StoredListing {
    pub fn new(etag: String, raw: String) -> Self {
        StoredListing {
            etag,
            raw,
            status: live(),
            visibility: public(),
            owner: None,
        }
    }

    /// Whether `tenant` (or the operator, `None`) may see this listing at all.
    pub fn visible_to(&self, tenant: Option<&TenantId>) -> bool {
        visible(&self.visibility, self.owner.as_deref(), tenant)
    }
}

/// Public listings are seen by everyone, private ones by their tenant only.
fn visible(visibility: &str, owner: Option<&str>, tenant: Option<&TenantId>) -> bool {
    visibility == "public" || tenant.is_some_and(|t| owner == Some(t.as_str()))
}

/// One listing in the catalog index.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CatalogEntry {
    pub summary: ListingSummary,
    pub status: String,
    pub visibility: String,
    pub owner: Option<String>,
}

impl CatalogEntry {
    /// Whether `tenant` may browse it: live, and visible to it.
    pub fn browsable_by(&self, tenant: Option<&TenantId>) -> bool {
        self.status == "live" && visible(&self.visibility, self.owner.as_deref(), tenant)
    }
}

/// One published version of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRecord {
    pub version: String,
    pub etag: String,
    pub published_at: String,
}

/// A manifest submitted for review (API §8).
#[derive(Debug, Clone, PartialEq)]
pub struct SubmissionRecord {
    pub id: String,
    pub tenant: TenantId,
    pub listing_id: String,
    pub version: String,
    pub visibility: String,
    pub manifest: String,
    pub status: String,
    pub reason: Option<String>,
    pub created_at: String,
    pub decided_at: Option<String>,
}

/// Which submissions a list shows.
#[derive(Debug, Clone, Default)]
pub struct SubmissionFilter {
    /// One tenant's, or (the operator) every tenant's.
    pub tenant: Option<TenantId>,
    pub status: Option<String>,
}

/// The catalog's source of truth (D1).
#[async_trait(?Send)]
pub trait CatalogStore {
    /// Inserts or replaces a public listing (the operator's direct publish),
    /// and keeps the version; `Unchanged` when the stored text is identical.
    /// Owner and status are kept.
    async fn put_listing(&self, m: &ValidManifest, now: &str) -> StoreResult<Put>;
    /// The latest version of a listing, whatever its status.
    async fn listing(&self, id: &ListingId) -> StoreResult<Option<StoredListing>>;
    /// Every listing, whatever its status and visibility.
    async fn summaries(&self) -> StoreResult<Vec<CatalogEntry>>;
    /// One published version (status and visibility are the listing's).
    async fn listing_version(
        &self,
        id: &ListingId,
        version: &str,
    ) -> StoreResult<Option<StoredListing>>;
    /// Every published version, oldest first.
    async fn versions(&self, id: &ListingId) -> StoreResult<Vec<VersionRecord>>;
    /// Publishes an approved submission in one transaction: the submission
    /// leaves `pending`, the version is added, the listing points at it, and
    /// the event is written, all only while the listing's ETag is still
    /// `seen` (`None`: no listing yet). `Gone` when the submission was no
    /// longer pending or the listing changed; `NameTaken` when that version
    /// already exists.
    async fn publish(
        &self,
        s: &SubmissionRecord,
        m: &ValidManifest,
        seen: Option<&str>,
        now: &str,
        e: &EventRecord,
    ) -> StoreResult<Written>;
    /// De-lists a live listing; `false` when it was not live.
    async fn delist(&self, id: &ListingId, now: &str) -> StoreResult<bool>;
    /// Re-lists a de-listed listing; `false` when it was live.
    async fn relist(&self, id: &ListingId, now: &str) -> StoreResult<bool>;
    async fn insert_submission(&self, s: &SubmissionRecord, e: &EventRecord) -> StoreResult<()>;
    async fn submission(&self, id: &str) -> StoreResult<Option<SubmissionRecord>>;
    /// Newest first, after `(created_at, id)`.
    async fn submissions(
        &self,
        f: &SubmissionFilter,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<SubmissionRecord>>;
    /// Rejects a pending submission; `false` when it was no longer pending.
    async fn reject(&self, id: &str, reason: &str, now: &str, e: &EventRecord)
        -> StoreResult<bool>;
}

/// A string cache with expiry (KV).
#[async_trait(?Send)]
pub trait Cache {
    async fn get(&self, key: &str) -> StoreResult<Option<String>>;
    async fn put(&self, key: &str, value: &str, ttl_secs: u64) -> StoreResult<()>;
    async fn delete(&self, key: &str) -> StoreResult<()>;
}

/// The tenant Durable Objects, seen from the stateless worker.
#[async_trait(?Send)]
pub trait TenantObjects {
    async fn ping(&self, name: &str) -> StoreResult<()>;
    /// Checks an idempotency key and takes locks before a write.
    async fn begin(
        &self,
        tenant: &TenantId,
        idem: Option<crate::tenant::protocol::Idem>,
        locks: Vec<String>,
        now_ms: i64,
    ) -> StoreResult<crate::tenant::protocol::Answer>;
    /// Asks the tenant's object to sweep its instances (from its alarm).
    async fn sweep(&self, tenant: &TenantId, now_ms: i64) -> StoreResult<()>;
    /// The latest check details the object holds for these instances.
    async fn details(
        &self,
        tenant: &TenantId,
        ids: Vec<String>,
    ) -> StoreResult<std::collections::HashMap<String, Value>>;
    /// Stores the answer (or forgets the key) and releases the locks.
    async fn finish(
        &self,
        tenant: &TenantId,
        idem: Option<String>,
        answer: Option<crate::domain::idempotency::Stored>,
        locks: Vec<String>,
    ) -> StoreResult<()>;
}

/// A failure of an operation that both validates and stores: either the
/// caller's fault (a domain error) or ours (a store error).
#[derive(Debug)]
pub enum Fail {
    Domain(crate::domain::Error),
    Store(StoreError),
}

impl From<crate::domain::Error> for Fail {
    fn from(e: crate::domain::Error) -> Self {
        Fail::Domain(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Store(e)
    }
}

/// An installed connector as stored. `secret` is vault ciphertext only.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorRecord {
    pub id: ConnectorId,
    pub tenant: TenantId,
    pub listing: String,
    pub listing_version: String,
    pub name: String,
    pub kind: String,
    pub transport: String,
    pub crew_id: Option<String>,
    pub capabilities: Vec<String>,
    pub tools: Value,
    pub config: Value,
    pub auth_type: String,
    pub auth_hint: Option<String>,
    pub secret: Option<String>,
    pub status: String,
    pub health: Value,
    pub return_url: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub last_synced_at: Option<String>,
}

/// `GET /v1/connectors` filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectorFilter {
    pub listing: Option<String>,
    pub capability: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub crew_id: Option<String>,
}

impl ConnectorFilter {
    pub fn matches(&self, c: &ConnectorRecord) -> bool {
        let eq = |want: &Option<String>, have: Option<&str>| {
            want.as_deref().is_none_or(|w| Some(w) == have)
        };
        eq(&self.listing, Some(crate::domain::ids::slug_of(&c.listing)))
            && eq(&self.kind, Some(&c.kind))
            && eq(&self.status, Some(&c.status))
            && eq(&self.crew_id, c.crew_id.as_deref())
            && self
                .capability
                .as_deref()
                .is_none_or(|cap| c.capabilities.iter().any(|x| x == cap))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BindingRecord {
    pub id: BindingId,
    pub tenant: TenantId,
    pub consumer: String,
    pub capability: String,
    pub connector_id: Option<ConnectorId>,
    pub created_at: String,
}

/// `GET /v1/events` filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    pub kind: Option<String>,
    pub connector_id: Option<String>,
}

/// What the operator's publish of a listing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    Changed,
    /// The same manifest was already published.
    Unchanged,
}

/// What a write that must keep names unique found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Done,
    NameTaken,
    Gone,
}

#[async_trait(?Send)]
pub trait ConnectorStore {
    /// Inserts the instance and its event in one transaction.
    async fn insert_connector(
        &self,
        tenant: &TenantId,
        c: &ConnectorRecord,
        e: &EventRecord,
    ) -> StoreResult<Written>;
    async fn connector(
        &self,
        tenant: &TenantId,
        id: &ConnectorId,
    ) -> StoreResult<Option<ConnectorRecord>>;
    async fn name_taken(&self, tenant: &TenantId, name: &str) -> StoreResult<bool>;
    /// Newest first, strictly after `(created_at, id)`.
    async fn list_connectors(
        &self,
        tenant: &TenantId,
        f: &ConnectorFilter,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<ConnectorRecord>>;
    /// Every instance of the tenant (capability resolution; bounded by the tenant's size).
    async fn all_connectors(&self, tenant: &TenantId) -> StoreResult<Vec<ConnectorRecord>>;
    /// Replaces the mutable fields of an instance (all but its id, tenant,
    /// listing, auth type, return URL and timestamps of creation and sync:
    /// an upgrade moves its version, kind, transport, capabilities and
    /// tools), with its event.
    async fn update_connector(
        &self,
        tenant: &TenantId,
        c: &ConnectorRecord,
        e: Option<&EventRecord>,
    ) -> StoreResult<Written>;
    /// Deletes the instance (and with it the ciphertext), keeping events.
    async fn delete_connector(
        &self,
        tenant: &TenantId,
        id: &ConnectorId,
        e: &EventRecord,
    ) -> StoreResult<bool>;

    async fn insert_binding(
        &self,
        tenant: &TenantId,
        b: &BindingRecord,
        e: &EventRecord,
    ) -> StoreResult<()>;
    async fn binding(
        &self,
        tenant: &TenantId,
        id: &BindingId,
    ) -> StoreResult<Option<BindingRecord>>;
    async fn list_bindings(
        &self,
        tenant: &TenantId,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<BindingRecord>>;
    async fn all_bindings(&self, tenant: &TenantId) -> StoreResult<Vec<BindingRecord>>;
    async fn delete_binding(
        &self,
        tenant: &TenantId,
        id: &BindingId,
        e: &EventRecord,
    ) -> StoreResult<bool>;

    async fn insert_event(&self, tenant: &TenantId, e: &EventRecord) -> StoreResult<()>;
    async fn list_events(
        &self,
        tenant: &TenantId,
        f: &EventFilter,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<EventRecord>>;
}

/// An OAuth consent in flight. `verifier` is vault ciphertext.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthStateRecord {
    pub state_hash: String,
    pub tenant: TenantId,
    pub connector_id: ConnectorId,
    pub verifier: Option<String>,
    pub redirect_uri: String,
    pub expires_at_ms: i64,
}

/// What presenting a state found.
#[derive(Debug, Clone, PartialEq)]
pub enum Taken {
    /// First use within its lifetime: now spent.
    Fresh(OAuthStateRecord),
    Expired,
    Used,
    Unknown,
}

#[async_trait(?Send)]
pub trait OAuthStore {
    async fn insert_state(&self, s: &OAuthStateRecord) -> StoreResult<()>;
    /// Spends a state exactly once, however many callbacks race for it.
    async fn take_state(&self, state_hash: &str, now_ms: i64, now: &str) -> StoreResult<Taken>;
}

/// What the sweep reads.
#[async_trait(?Send)]
pub trait SweepStore {
    /// A tenant's instances in id order, strictly after `after`.
    async fn sweep_batch(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<ConnectorRecord>>;
    /// Every tenant that has instances: the cron's fan-out list. Not scoped
    /// by a tenant, because finding the tenants is its purpose.
    async fn tenants_with_connectors(&self) -> StoreResult<Vec<TenantId>>;
}
