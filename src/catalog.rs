//! The catalog read path: isolate memory → KV → D1, each layer filled from
//! the next with a bounded TTL, and the write path that validates a manifest,
//! stores it in D1 and invalidates both caches.

use crate::domain::ids::ListingId;
use crate::domain::manifest;
use crate::domain::time::Millis;
use crate::domain::Error;
use crate::shared::Shared;
use crate::store::{Cache, CatalogEntry, CatalogStore, Fail, Put, StoreError, StoredListing};
use std::rc::Rc;

/// KV entries expire after this long even if nothing invalidates them.
pub const KV_TTL_SECS: u64 = 300;
const INDEX_KEY: &str = "catalog:v2:index";

fn listing_key(id: &str) -> String {
    format!("catalog:v2:listing:{id}")
}

pub struct Catalog<'a> {
    pub store: &'a dyn CatalogStore,
    pub cache: &'a dyn Cache,
    pub shared: &'a Shared,
    pub now: Millis,
    pub allow: &'a crate::probe::guard::AllowList,
}

impl Catalog<'_> {
    /// Every listing's summary, status and visibility (filter before showing).
    pub async fn index(&self) -> Result<Rc<Vec<CatalogEntry>>, StoreError> {
        if let Some(v) = self.shared.cached_index(self.now) {
            return Ok(v);
        }
        let cached = self.cache.get(INDEX_KEY).await?;
        let v = match cached.and_then(|s| serde_json::from_str::<Vec<CatalogEntry>>(&s).ok()) {
            Some(v) => v,
            None => {
                let v = self.store.summaries().await?;
                let text = serde_json::to_string(&v)?;
                self.cache.put(INDEX_KEY, &text, KV_TTL_SECS).await?;
                v
            }
        };
        let v = Rc::new(v);
        self.shared.remember_index(v.clone(), self.now);
        Ok(v)
    }

    /// One listing's manifest text and ETag.
    pub async fn listing(&self, id: &ListingId) -> Result<Option<Rc<StoredListing>>, StoreError> {
        if let Some(v) = self.shared.cached_listing(id.as_str(), self.now) {
            return Ok(Some(v));
        }
        let key = listing_key(id.as_str());
        let cached = self.cache.get(&key).await?;
        let v = match cached.and_then(|s| serde_json::from_str::<StoredListing>(&s).ok()) {
            Some(v) => v,
            None => match self.store.listing(id).await? {
                Some(v) => {
                    self.cache
                        .put(&key, &serde_json::to_string(&v)?, KV_TTL_SECS)
                        .await?;
                    v
                }
                // Misses are not cached: a listing published a moment later
                // must be visible at once.
                None => return Ok(None),
            },
        };
        let v = Rc::new(v);
        self.shared
            .remember_listing(id.as_str(), v.clone(), self.now);
        Ok(Some(v))
    }

    /// One published version of a listing (isolate memory, then D1: versions
    /// never change, but the listing's status may, so the memory TTL holds).
    pub async fn version(
        &self,
        id: &ListingId,
        version: &str,
    ) -> Result<Option<Rc<StoredListing>>, StoreError> {
        let key = format!("{}@{version}", id.as_str());
        if let Some(v) = self.shared.cached_listing(&key, self.now) {
            return Ok(Some(v));
        }
        let Some(v) = self.store.listing_version(id, version).await? else {
            return Ok(None);
        };
        let v = Rc::new(v);
        self.shared.remember_listing(&key, v.clone(), self.now);
        Ok(Some(v))
    }

    /// Drops every cached copy of a listing (after a publish or de-listing).
    pub async fn invalidate(&self, id: &ListingId) -> Result<(), StoreError> {
        self.cache.delete(&listing_key(id.as_str())).await?;
        self.cache.delete(INDEX_KEY).await?;
        self.shared.forget_catalog(id.as_str());
        Ok(())
    }

    /// Validates and publishes a manifest (the operator's `PUT`); answers
    /// whether anything changed. The latest version never moves back (the
    /// same version may be replaced: a repair), and a de-listed listing stays
    /// de-listed, so reloading the catalog from disk cannot undo an approval
    /// or a de-listing. Checked against the store, not a cache.
    pub async fn put(&self, id: &ListingId, raw: &str) -> Result<Put, Fail> {
        let m = manifest::validate_for(raw, Some(id.as_str()), self.allow)?;
        if let Some(current) = self.store.listing(id).await? {
            if current.status != "live" {
                return Err(Error::StateConflict(format!(
                    "The listing '{}' is de-listed; re-list it first (POST /v1/catalog/{}/relist).",
                    id.as_str(),
                    id.as_str()
                ))
                .into());
            }
            let published = serde_json::from_str::<serde_json::Value>(&current.raw)
                .ok()
                .and_then(|v| v["version"].as_str().map(str::to_string))
                .unwrap_or_default();
            if manifest::version_cmp(&m.summary.version, &published) == std::cmp::Ordering::Less {
                return Err(Error::StateConflict(format!(
                    "Version {} of '{}' is lower than the published {published}; a listing's latest version never moves back.",
                    m.summary.version,
                    id.as_str()
                ))
                .into());
            }
        }
        let put = self.store.put_listing(&m, &self.now.rfc3339()).await?;
        if put == Put::Changed {
            self.invalidate(id).await?;
        }
        Ok(put)
    }
}
