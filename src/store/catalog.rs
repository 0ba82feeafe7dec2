//! The catalog: listings with every published version, their status,
//! visibility and owner, and marketplace submissions.

use super::{EventRecord, StoreResult, Written};
use crate::domain::catalog::Change;
use crate::domain::ids::{ListingId, TenantId};
use crate::domain::manifest::ValidManifest;
use async_trait::async_trait;

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

/// What the operator's publish of a listing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    Changed,
    /// The same manifest was already published.
    Unchanged,
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
    /// The listings written after `after` (`(change_seq, id)`, exclusive),
    /// in that order, at most `limit`: whatever their status and visibility
    /// (the catalog index's first load and its updates).
    async fn changes(&self, after: (i64, &str), limit: usize) -> StoreResult<Vec<Change>>;
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
