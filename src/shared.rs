//! Per-isolate memory: caches that live as long as the worker's isolate and
//! are handed to each request explicitly (never a hidden global in the
//! domain). Bounded by short TTLs; writes in this isolate invalidate at once,
//! other isolates converge within the TTL.

use crate::domain::catalog::CatalogIndex;
use crate::domain::ids::{KeyId, TenantId};
use crate::domain::manifest::Listing;
use crate::domain::time::Millis;
use crate::domain::Error;
use crate::store::{KeyRecord, StoredListing};
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

/// How long a verified API key is trusted without a D1 read.
pub const KEY_TTL_MS: i64 = 10_000;
/// How long catalog reads are served from isolate memory (listings), and how
/// long the catalog index answers before it reads the store's changes again.
pub const CATALOG_MEMORY_TTL_MS: i64 = 10_000;
/// Bounds the key cache so a flood of distinct keys cannot grow it unboundedly.
const MAX_KEYS: usize = 10_000;
/// Parsed manifests kept, by ETag.
const MAX_PARSED: usize = 256;
/// Config verdicts kept (each bounded by the 64 KiB body limit; in practice
/// a few hundred bytes).
const MAX_VERDICTS: usize = 1_024;

/// A config checked against a listing version's `config_schema`: the config
/// with defaults applied, or the error naming the failing field.
pub type Verdict = Result<Map<String, Value>, Error>;

#[derive(Default)]
pub struct Shared {
    keys: RefCell<HashMap<KeyId, (KeyRecord, Millis)>>,
    /// The catalog index and when it last read the store's changes.
    index: RefCell<Option<(Rc<RefCell<CatalogIndex>>, Millis)>>,
    /// A read of the catalog's changes is under way (one at a time).
    catalog_read: Cell<bool>,
    /// Catalog writes this isolate made (a read that began before one does
    /// not count as fresh).
    catalog_writes: Cell<u64>,
    listings: RefCell<HashMap<String, (Rc<StoredListing>, Millis)>>,
    /// Parsed manifests by ETag. An ETag is a digest of the manifest text,
    /// so an entry never goes stale: no TTL.
    parsed: RefCell<HashMap<String, Rc<Listing>>>,
    /// Config verdicts by ETag and config text. Checking a config against a
    /// JSON Schema compiles every `pattern` anew (jsonschema-valid has no
    /// compiled form), ~0.2 ms natively and several times that in Wasm; the
    /// verdict is a pure function of schema and config, so it is memoised.
    verdicts: RefCell<HashMap<String, Verdict>>,
    /// Whether a tenant has webhook endpoints, as last read (the poke after
    /// an event-writing request skips tenants without any).
    hooked: RefCell<HashMap<TenantId, (bool, Millis)>>,
}

/// How long this isolate trusts what it read about a tenant's endpoints
/// (one made in another isolate is poked for within this; the cron's poke
/// is the backstop).
pub const HOOKED_TTL_MS: i64 = 60_000;
const MAX_HOOKED: usize = 10_000;

fn fresh(at: Millis, now: Millis, ttl: i64) -> bool {
    now.0 >= at.0 && now.0.saturating_sub(at.0) < ttl
}

impl Shared {
    pub fn cached_key(&self, id: &KeyId, now: Millis) -> Option<KeyRecord> {
        self.keys
            .borrow()
            .get(id)
            .filter(|(_, at)| fresh(*at, now, KEY_TTL_MS))
            .map(|(k, _)| k.clone())
    }

    pub fn remember_key(&self, k: KeyRecord, now: Millis) {
        let mut keys = self.keys.borrow_mut();
        if keys.len() >= MAX_KEYS {
            keys.retain(|_, (_, at)| fresh(*at, now, KEY_TTL_MS));
            if keys.len() >= MAX_KEYS {
                keys.clear();
            }
        }
        keys.insert(k.id.clone(), (k, now));
    }

    pub fn forget_key(&self, id: &KeyId) {
        self.keys.borrow_mut().remove(id);
    }

    /// Whether `tenant` has webhook endpoints, if this isolate knows.
    pub fn hooked(&self, tenant: &TenantId, now: Millis) -> Option<bool> {
        self.hooked
            .borrow()
            .get(tenant)
            .filter(|(_, at)| fresh(*at, now, HOOKED_TTL_MS))
            .map(|(h, _)| *h)
    }

    pub fn remember_hooked(&self, tenant: &TenantId, hooked: bool, now: Millis) {
        let mut m = self.hooked.borrow_mut();
        if m.len() >= MAX_HOOKED {
            m.retain(|_, (_, at)| fresh(*at, now, HOOKED_TTL_MS));
            if m.len() >= MAX_HOOKED {
                m.clear();
            }
        }
        m.insert(tenant.clone(), (hooked, now));
    }

    /// The catalog index, and whether it read the store's changes within
    /// the memory TTL.
    pub fn catalog_index(&self, now: Millis) -> Option<(Rc<RefCell<CatalogIndex>>, bool)> {
        self.index
            .borrow()
            .as_ref()
            .map(|(v, at)| (v.clone(), fresh(*at, now, CATALOG_MEMORY_TTL_MS)))
    }

    /// The index as read by a read that began when `writes` writes had been
    /// made (`catalog_writes`): fresh from `now` unless one came since.
    pub fn remember_index(&self, v: Rc<RefCell<CatalogIndex>>, writes: u64, now: Millis) {
        let at = if writes == self.catalog_writes.get() {
            now
        } else {
            Millis(i64::MIN)
        };
        *self.index.borrow_mut() = Some((v, at));
    }

    pub fn catalog_writes(&self) -> u64 {
        self.catalog_writes.get()
    }

    /// Begins the one read of the catalog's changes, unless one is under
    /// way; it ends when the guard drops (finished, failed or cancelled).
    /// Nothing waits on it by wake-up: workerd runs a task woken from another
    /// request's handler in that request's context, where its I/O fails, so
    /// whoever needs the read's result polls (`Catalog::index`).
    pub fn begin_catalog_read(&self) -> Option<ReadGuard<'_>> {
        if self.catalog_read.replace(true) {
            return None;
        }
        Some(ReadGuard(&self.catalog_read))
    }

    pub fn cached_listing(&self, id: &str, now: Millis) -> Option<Rc<StoredListing>> {
        self.listings
            .borrow()
            .get(id)
            .filter(|(_, at)| fresh(*at, now, CATALOG_MEMORY_TTL_MS))
            .map(|(v, _)| v.clone())
    }

    pub fn remember_listing(&self, id: &str, v: Rc<StoredListing>, now: Millis) {
        let mut l = self.listings.borrow_mut();
        if l.len() >= 1_000 {
            l.clear();
        }
        l.insert(id.to_string(), (v, now));
    }

    pub fn parsed(&self, etag: &str) -> Option<Rc<Listing>> {
        self.parsed.borrow().get(etag).cloned()
    }

    pub fn remember_parsed(&self, l: Rc<Listing>) {
        let mut m = self.parsed.borrow_mut();
        if m.len() >= MAX_PARSED {
            m.clear();
        }
        m.insert(l.etag.clone(), l);
    }

    /// The verdict for `config` under `listing`, computed by `check` once.
    pub fn verdict(
        &self,
        listing: &Listing,
        config: Option<&Value>,
        check: impl FnOnce() -> Verdict,
    ) -> Verdict {
        let key = format!("{}\n{}", listing.etag, config.unwrap_or(&Value::Null));
        if let Some(v) = self.verdicts.borrow().get(&key) {
            return v.clone();
        }
        let v = check();
        let mut m = self.verdicts.borrow_mut();
        if m.len() >= MAX_VERDICTS {
            m.clear();
        }
        m.insert(key, v.clone());
        v
    }

    /// After a write of listing `id`: its copies go, and the index is no
    /// longer fresh (the writer reads the changes before answering).
    pub fn forget_catalog(&self, id: &str) {
        let version_prefix = format!("{id}@");
        self.listings
            .borrow_mut()
            .retain(|k, _| k != id && !k.starts_with(&version_prefix));
        self.catalog_writes.set(self.catalog_writes.get() + 1);
        if let Some((_, at)) = self.index.borrow_mut().as_mut() {
            *at = Millis(i64::MIN);
        }
    }
}

/// Ends the catalog read when dropped.
pub struct ReadGuard<'a>(&'a Cell<bool>);

impl Drop for ReadGuard<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::auth::Role;
    use crate::domain::ids::TenantId;

    fn key(id: &str) -> KeyRecord {
        KeyRecord {
            id: KeyId::from_trusted(id.into()),
            tenant: TenantId::from_trusted("ten_x".into()),
            name: None,
            role: Role::Viewer,
            consumer: None,
            secret_hash: "h".into(),
            last4: "abcd".into(),
            created_at: "t".into(),
        }
    }

    #[test]
    fn keys_expire_and_can_be_forgotten() {
        let s = Shared::default();
        let id = KeyId::from_trusted("key_a".into());
        s.remember_key(key("key_a"), Millis(1_000));
        assert!(s.cached_key(&id, Millis(1_000 + KEY_TTL_MS - 1)).is_some());
        assert!(s.cached_key(&id, Millis(1_000 + KEY_TTL_MS)).is_none());
        // A clock that went backwards does not extend trust.
        assert!(s.cached_key(&id, Millis(999)).is_none());
        s.remember_key(key("key_a"), Millis(5_000));
        s.forget_key(&id);
        assert!(s.cached_key(&id, Millis(5_001)).is_none());
    }

    #[test]
    fn config_verdicts_are_memoised_per_listing_version() {
        let s = Shared::default();
        let mut l = crate::domain::manifest::Listing::parse(
            &std::fs::read_to_string("catalog/github.json").unwrap(),
        )
        .unwrap();
        l.etag = "\"v1\"".into();
        let calls = std::cell::Cell::new(0);
        let check = || {
            calls.set(calls.get() + 1);
            crate::domain::connector::validate_config(None, &l)
        };
        let a = s.verdict(&l, None, check);
        let b = s.verdict(&l, None, || unreachable!("memoised"));
        assert_eq!(a, b);
        assert_eq!(calls.get(), 1);
        // Another config, or another version of the listing, is checked anew.
        let cfg = serde_json::json!({"base_url": 7});
        let bad = s.verdict(&l, Some(&cfg), || {
            crate::domain::connector::validate_config(Some(&cfg), &l)
        });
        assert!(bad.is_err());
        l.etag = "\"v2\"".into();
        let c = s.verdict(&l, None, || {
            calls.set(calls.get() + 1);
            crate::domain::connector::validate_config(None, &l)
        });
        assert_eq!(c, a);
        assert_eq!(calls.get(), 2);
    }

    #[test]
    fn catalog_entries_expire_and_publishing_forgets_them() {
        let s = Shared::default();
        let listing = Rc::new(StoredListing::new("\"e\"".into(), "{}".into()));
        s.remember_listing("github", listing, Millis(0));
        let index = Rc::new(RefCell::new(CatalogIndex::new()));
        s.remember_index(index.clone(), s.catalog_writes(), Millis(0));
        assert!(s
            .cached_listing("github", Millis(CATALOG_MEMORY_TTL_MS - 1))
            .is_some());
        assert!(s
            .cached_listing("github", Millis(CATALOG_MEMORY_TTL_MS))
            .is_none());
        assert!(s.catalog_index(Millis(1)).is_some_and(|(_, fresh)| fresh));
        assert!(s
            .catalog_index(Millis(CATALOG_MEMORY_TTL_MS))
            .is_some_and(|(_, fresh)| !fresh));
        // A write keeps the index (it is updated, not dropped) but not fresh,
        // and a read that began before the write is not fresh either.
        let writes = s.catalog_writes();
        s.forget_catalog("github");
        assert!(s.cached_listing("github", Millis(1)).is_none());
        assert!(s.catalog_index(Millis(1)).is_some_and(|(_, fresh)| !fresh));
        s.remember_index(index.clone(), writes, Millis(2));
        assert!(s.catalog_index(Millis(3)).is_some_and(|(_, fresh)| !fresh));
        s.remember_index(index, s.catalog_writes(), Millis(4));
        assert!(s.catalog_index(Millis(5)).is_some_and(|(_, fresh)| fresh));
    }

    #[test]
    fn one_catalog_read_at_a_time() {
        let s = Shared::default();
        let first = s.begin_catalog_read().expect("none under way");
        assert!(s.begin_catalog_read().is_none());
        drop(first);
        assert!(s.begin_catalog_read().is_some(), "the slot is free again");
    }
}
