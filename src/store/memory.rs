//! In-memory stores for native route tests. They keep the same contracts as
//! the D1/KV ones (ordering, tenant scoping, atomicity) so route tests mean
//! something.

use super::*;
use std::cell::RefCell;
use std::collections::BTreeMap;

#[derive(Default)]
pub struct MemoryTenants {
    pub tenants: RefCell<Vec<TenantRecord>>,
    /// Keys with their revocation time.
    pub keys: RefCell<Vec<(KeyRecord, Option<String>)>>,
    pub events: RefCell<Vec<EventRecord>>,
}

#[async_trait(?Send)]
impl TenantStore for MemoryTenants {
    async fn create_tenant(
        &self,
        t: &TenantRecord,
        k: &KeyRecord,
        e: &EventRecord,
    ) -> StoreResult<()> {
        self.tenants.borrow_mut().push(t.clone());
        self.keys.borrow_mut().push((k.clone(), None));
        self.events.borrow_mut().push(e.clone());
        Ok(())
    }

    async fn insert_key(
        &self,
        tenant: &TenantId,
        k: &KeyRecord,
        e: &EventRecord,
    ) -> StoreResult<()> {
        assert_eq!(&k.tenant, tenant, "a key is stored under its own tenant");
        self.keys.borrow_mut().push((k.clone(), None));
        self.events.borrow_mut().push(e.clone());
        Ok(())
    }

    async fn list_keys(
        &self,
        tenant: &TenantId,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<KeyRecord>> {
        let mut keys: Vec<KeyRecord> = self
            .keys
            .borrow()
            .iter()
            .filter(|(k, revoked)| &k.tenant == tenant && revoked.is_none())
            .map(|(k, _)| k.clone())
            .filter(|k| {
                after.as_ref().is_none_or(|(at, id)| {
                    (k.created_at.as_str(), k.id.as_str()) < (at.as_str(), id.as_str())
                })
            })
            .collect();
        keys.sort_by(|a, b| (&b.created_at, &b.id).cmp(&(&a.created_at, &a.id)));
        keys.truncate(limit);
        Ok(keys)
    }

    async fn revoke_key(
        &self,
        tenant: &TenantId,
        id: &KeyId,
        at: &str,
        e: &EventRecord,
    ) -> StoreResult<bool> {
        let mut keys = self.keys.borrow_mut();
        match keys
            .iter_mut()
            .find(|(k, revoked)| &k.tenant == tenant && &k.id == id && revoked.is_none())
        {
            Some((_, revoked)) => {
                *revoked = Some(at.to_string());
                self.events.borrow_mut().push(e.clone());
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn live_key(&self, id: &KeyId) -> StoreResult<Option<KeyRecord>> {
        Ok(self
            .keys
            .borrow()
            .iter()
            .find(|(k, revoked)| &k.id == id && revoked.is_none())
            .map(|(k, _)| k.clone()))
    }

    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }
}

#[derive(Default)]
pub struct MemoryCatalog {
    pub listings: RefCell<BTreeMap<String, (StoredListing, ListingSummary)>>,
    /// How many reads reached this store (to prove the cache works).
    pub reads: RefCell<usize>,
}

#[async_trait(?Send)]
impl CatalogStore for MemoryCatalog {
    async fn put_listing(&self, m: &ValidManifest, _now: &str) -> StoreResult<bool> {
        let stored = StoredListing {
            etag: m.etag.clone(),
            raw: m.raw.clone(),
        };
        let mut all = self.listings.borrow_mut();
        if all.get(&m.summary.id).is_some_and(|(s, _)| s == &stored) {
            return Ok(false);
        }
        all.insert(m.summary.id.clone(), (stored, m.summary.clone()));
        Ok(true)
    }

    async fn listing(&self, id: &ListingId) -> StoreResult<Option<StoredListing>> {
        *self.reads.borrow_mut() += 1;
        Ok(self
            .listings
            .borrow()
            .get(id.as_str())
            .map(|(s, _)| s.clone()))
    }

    async fn summaries(&self) -> StoreResult<Vec<ListingSummary>> {
        *self.reads.borrow_mut() += 1;
        Ok(self
            .listings
            .borrow()
            .values()
            .map(|(_, s)| s.clone())
            .collect())
    }
}

#[derive(Default)]
pub struct MemoryCache {
    pub entries: RefCell<BTreeMap<String, String>>,
}

#[async_trait(?Send)]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(self.entries.borrow().get(key).cloned())
    }

    async fn put(&self, key: &str, value: &str, _ttl: u64) -> StoreResult<()> {
        self.entries.borrow_mut().insert(key.into(), value.into());
        Ok(())
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        self.entries.borrow_mut().remove(key);
        Ok(())
    }
}

/// Tenant objects that always answer.
pub struct MemoryObjects;

#[async_trait(?Send)]
impl TenantObjects for MemoryObjects {
    async fn ping(&self, _name: &str) -> StoreResult<()> {
        Ok(())
    }
}
