//! The catalog read path: a listing from isolate memory → KV → D1, each
//! layer filled from the next with a bounded TTL; the catalog index (browse,
//! search, categories, statuses) kept in isolate memory and brought up to
//! date from D1's change sequence; and the write path that validates a
//! manifest, stores it in D1, invalidates the caches and reads the change
//! into the index before it answers.

use crate::domain::catalog::CatalogIndex;
use crate::domain::ids::ListingId;
use crate::domain::manifest;
use crate::domain::time::Millis;
use crate::domain::Error;
use crate::shared::Shared;
use crate::store::{Cache, CatalogStore, Fail, Put, StoreError, StoredListing};
use std::cell::RefCell;
use std::rc::Rc;

/// KV entries expire after this long even if nothing invalidates them.
pub const KV_TTL_SECS: u64 = 300;
/// Listings per read of the store's changes (each summary is a few hundred
/// bytes: a read stays well under a megabyte).
const CHANGES_PER_READ: usize = 1_000;

fn listing_key(id: &str) -> String {
    format!("catalog:v2:listing:{id}")
}

pub struct Catalog<'a> {
    pub store: &'a dyn CatalogStore,
    pub cache: &'a dyn Cache,
    pub shared: &'a Shared,
    pub now: Millis,
    pub allow: &'a crate::probe::guard::AllowList,
    /// Milliseconds since the epoch, read again (a first load is timed).
    pub clock: &'a dyn Fn() -> i64,
}

/// An informational line in the worker's log (not an error: those go
/// through `App::log`).
fn note(line: &str) {
    #[cfg(target_arch = "wasm32")]
    worker::console_log!("{line}");
    #[cfg(not(target_arch = "wasm32"))]
    let _ = line;
}

/// Lets the first load under way in another request go on: a timer of this
/// request's own (see `Shared::begin_catalog_read`).
async fn pause() {
    #[cfg(target_arch = "wasm32")]
    worker::Delay::from(std::time::Duration::from_millis(5)).await;
}

/// The Wasm instance's linear memory (it never shrinks: the high-water mark).
fn wasm_memory() -> String {
    #[cfg(target_arch = "wasm32")]
    return format!(
        "; Wasm memory {} KiB",
        core::arch::wasm32::memory_size(0) * 64
    );
    #[cfg(not(target_arch = "wasm32"))]
    String::new()
}

impl Catalog<'_> {
    /// The catalog index, fresh within the memory TTL: loaded whole once per
    /// isolate, then updated from the changes written since it last read
    /// them. While one request reads them, the others answer from the index
    /// as it is; before the first load, they wait for it (at the edge;
    /// natively, where requests do not overlap, they would load it too).
    pub async fn index(&self) -> Result<Rc<RefCell<CatalogIndex>>, StoreError> {
        loop {
            match self.shared.catalog_index(self.now) {
                Some((index, true)) => return Ok(index),
                Some((index, false)) => {
                    if let Some(_read) = self.shared.begin_catalog_read() {
                        let writes = self.shared.catalog_writes();
                        self.read_changes(&index).await?;
                        self.shared.remember_index(index.clone(), writes, self.now);
                    }
                    return Ok(index);
                }
                None => {
                    let read = self.shared.begin_catalog_read();
                    if read.is_none() && cfg!(target_arch = "wasm32") {
                        pause().await;
                        continue;
                    }
                    return self.load().await;
                }
            }
        }
    }

    /// The first load: every listing, a thousand per read.
    async fn load(&self) -> Result<Rc<RefCell<CatalogIndex>>, StoreError> {
        let writes = self.shared.catalog_writes();
        let started = (self.clock)();
        let index = Rc::new(RefCell::new(CatalogIndex::new()));
        let reads = self.read_changes(&index).await?;
        let loaded = {
            let i = index.borrow();
            format!(
                "catalog index: {} listings loaded in {reads} reads, {} ms, about {} KiB{}",
                i.len(),
                (self.clock)() - started,
                i.approx_bytes() / 1024,
                wasm_memory()
            )
        };
        note(&loaded);
        self.shared.remember_index(index.clone(), writes, self.now);
        Ok(index)
    }

    /// Reads every change after the index's last one into it; answers how
    /// many reads it took. Safe to run alongside another (an older change
    /// never replaces a newer one).
    async fn read_changes(&self, index: &RefCell<CatalogIndex>) -> Result<usize, StoreError> {
        let mut reads = 0;
        loop {
            let (seq, key) = {
                let i = index.borrow();
                let (seq, key) = i.after();
                (seq, key.to_string())
            };
            let changes = self.store.changes((seq, &key), CHANGES_PER_READ).await?;
            reads += 1;
            let full = changes.len() == CHANGES_PER_READ;
            index.borrow_mut().apply(changes);
            if !full {
                break;
            }
        }
        index.borrow_mut().settle();
        Ok(reads)
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

    /// After a publish or de-listing: drops every cached copy of the
    /// listing and reads the change into this isolate's index, so this
    /// isolate answers with it at once (others within the memory TTL).
    pub async fn invalidate(&self, id: &ListingId) -> Result<(), StoreError> {
        self.cache.delete(&listing_key(id.as_str())).await?;
        self.shared.forget_catalog(id.as_str());
        if let Some((index, _)) = self.shared.catalog_index(self.now) {
            let writes = self.shared.catalog_writes();
            self.read_changes(&index).await?;
            self.shared.remember_index(index, writes, self.now);
        }
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
