//! Per-isolate memory: caches that live as long as the worker's isolate and
//! are handed to each request explicitly (never a hidden global in the
//! domain). Bounded by short TTLs; writes in this isolate invalidate at once,
//! other isolates converge within the TTL.

use crate::domain::ids::KeyId;
use crate::domain::manifest::ListingSummary;
use crate::domain::time::Millis;
use crate::store::{KeyRecord, StoredListing};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// How long a verified API key is trusted without a D1 read.
pub const KEY_TTL_MS: i64 = 10_000;
/// How long catalog reads are served from isolate memory.
pub const CATALOG_MEMORY_TTL_MS: i64 = 10_000;
/// Bounds the key cache so a flood of distinct keys cannot grow it unboundedly.
const MAX_KEYS: usize = 10_000;

#[derive(Default)]
pub struct Shared {
    keys: RefCell<HashMap<KeyId, (KeyRecord, Millis)>>,
    index: RefCell<Option<(Rc<Vec<ListingSummary>>, Millis)>>,
    listings: RefCell<HashMap<String, (Rc<StoredListing>, Millis)>>,
}

fn fresh(at: Millis, now: Millis, ttl: i64) -> bool {
    now.0 >= at.0 && now.0 - at.0 < ttl
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

    pub fn cached_index(&self, now: Millis) -> Option<Rc<Vec<ListingSummary>>> {
        self.index
            .borrow()
            .as_ref()
            .filter(|(_, at)| fresh(*at, now, CATALOG_MEMORY_TTL_MS))
            .map(|(v, _)| v.clone())
    }

    pub fn remember_index(&self, v: Rc<Vec<ListingSummary>>, now: Millis) {
        *self.index.borrow_mut() = Some((v, now));
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

    pub fn forget_catalog(&self, id: &str) {
        self.listings.borrow_mut().remove(id);
        *self.index.borrow_mut() = None;
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
    fn catalog_entries_expire_and_publishing_forgets_them() {
        let s = Shared::default();
        let listing = Rc::new(StoredListing {
            etag: "\"e\"".into(),
            raw: "{}".into(),
        });
        s.remember_listing("github", listing, Millis(0));
        s.remember_index(Rc::new(vec![]), Millis(0));
        assert!(s
            .cached_listing("github", Millis(CATALOG_MEMORY_TTL_MS - 1))
            .is_some());
        assert!(s
            .cached_listing("github", Millis(CATALOG_MEMORY_TTL_MS))
            .is_none());
        assert!(s.cached_index(Millis(1)).is_some());
        s.forget_catalog("github");
        assert!(s.cached_index(Millis(1)).is_none());
        assert!(s.cached_listing("github", Millis(1)).is_none());
    }
}
