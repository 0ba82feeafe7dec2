//! In-memory stores for native route tests. They keep the same contracts as
//! the D1/KV ones (ordering, tenant scoping, atomicity) so route tests mean
//! something.

use super::*;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// The audit log, shared by the memory stores as D1 shares one table.
pub type EventLog = Rc<RefCell<Vec<EventRecord>>>;

#[derive(Default)]
pub struct MemoryTenants {
    pub tenants: RefCell<Vec<TenantRecord>>,
    /// Keys with their revocation time.
    pub keys: RefCell<Vec<(KeyRecord, Option<String>)>>,
    pub events: EventLog,
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

/// A published version: (etag, manifest text, published_at).
type Version = (String, String, String);

#[derive(Default)]
pub struct MemoryCatalog {
    pub listings: RefCell<BTreeMap<String, (StoredListing, ListingSummary)>>,
    /// Every published version: (listing, version) → (etag, text, published_at).
    pub versions: RefCell<BTreeMap<(String, String), Version>>,
    pub submissions: RefCell<Vec<SubmissionRecord>>,
    pub events: EventLog,
    /// How many reads reached this store (to prove the cache works).
    pub reads: RefCell<usize>,
    /// Runs once at the start of the next `publish`: what a concurrent
    /// writer did between the route's read and its write.
    #[allow(clippy::type_complexity)]
    pub before_publish: RefCell<Option<Box<dyn FnOnce(&MemoryCatalog)>>>,
}

#[async_trait(?Send)]
impl CatalogStore for MemoryCatalog {
    async fn put_listing(&self, m: &ValidManifest, now: &str) -> StoreResult<Put> {
        let mut all = self.listings.borrow_mut();
        let previous = all.get(&m.summary.id).map(|(s, _)| s.clone());
        if previous.as_ref().is_some_and(|s| s.etag == m.etag) {
            return Ok(Put::Unchanged);
        }
        let mut stored =
            previous.unwrap_or_else(|| StoredListing::new(String::new(), String::new()));
        stored.etag = m.etag.clone();
        stored.raw = m.raw.clone();
        all.insert(m.summary.id.clone(), (stored, m.summary.clone()));
        self.versions.borrow_mut().insert(
            (m.summary.id.clone(), m.summary.version.clone()),
            (m.etag.clone(), m.raw.clone(), now.to_string()),
        );
        Ok(Put::Changed)
    }

    async fn listing(&self, id: &ListingId) -> StoreResult<Option<StoredListing>> {
        *self.reads.borrow_mut() += 1;
        Ok(self
            .listings
            .borrow()
            .get(id.as_str())
            .map(|(s, _)| s.clone()))
    }

    async fn summaries(&self) -> StoreResult<Vec<CatalogEntry>> {
        *self.reads.borrow_mut() += 1;
        Ok(self
            .listings
            .borrow()
            .values()
            .map(|(l, s)| CatalogEntry {
                summary: s.clone(),
                status: l.status.clone(),
                visibility: l.visibility.clone(),
                owner: l.owner.clone(),
            })
            .collect())
    }

    async fn listing_version(
        &self,
        id: &ListingId,
        version: &str,
    ) -> StoreResult<Option<StoredListing>> {
        let Some((head, _)) = self.listings.borrow().get(id.as_str()).cloned() else {
            return Ok(None);
        };
        Ok(self
            .versions
            .borrow()
            .get(&(id.as_str().to_string(), version.to_string()))
            .map(|(etag, raw, _)| StoredListing {
                etag: etag.clone(),
                raw: raw.clone(),
                ..head
            }))
    }

    async fn versions(&self, id: &ListingId) -> StoreResult<Vec<VersionRecord>> {
        let mut v: Vec<VersionRecord> = self
            .versions
            .borrow()
            .iter()
            .filter(|((l, _), _)| l == id.as_str())
            .map(|((_, version), (etag, _, at))| VersionRecord {
                version: version.clone(),
                etag: etag.clone(),
                published_at: at.clone(),
            })
            .collect();
        v.sort_by(|a, b| (&a.published_at, &a.version).cmp(&(&b.published_at, &b.version)));
        Ok(v)
    }

    async fn publish(
        &self,
        s: &SubmissionRecord,
        m: &ValidManifest,
        seen: Option<&str>,
        now: &str,
        e: &EventRecord,
    ) -> StoreResult<Written> {
        let meanwhile = self.before_publish.borrow_mut().take();
        if let Some(f) = meanwhile {
            f(self);
        }
        let current = self
            .listings
            .borrow()
            .get(m.summary.id.as_str())
            .map(|(l, _)| l.etag.clone());
        if current.as_deref() != seen {
            return Ok(Written::Gone);
        }
        let mut subs = self.submissions.borrow_mut();
        let Some(sub) = subs
            .iter_mut()
            .find(|x| x.id == s.id && x.status == "pending")
        else {
            return Ok(Written::Gone);
        };
        let key = (m.summary.id.clone(), m.summary.version.clone());
        if self.versions.borrow().contains_key(&key) {
            return Ok(Written::NameTaken);
        }
        sub.status = "approved".into();
        sub.decided_at = Some(now.to_string());
        self.versions
            .borrow_mut()
            .insert(key, (m.etag.clone(), m.raw.clone(), now.to_string()));
        let stored = StoredListing {
            etag: m.etag.clone(),
            raw: m.raw.clone(),
            status: "live".into(),
            visibility: s.visibility.clone(),
            owner: Some(s.tenant.to_string()),
        };
        self.listings
            .borrow_mut()
            .insert(m.summary.id.clone(), (stored, m.summary.clone()));
        self.events.borrow_mut().push(e.clone());
        Ok(Written::Done)
    }

    async fn relist(&self, id: &ListingId, _now: &str) -> StoreResult<bool> {
        let mut all = self.listings.borrow_mut();
        match all.get_mut(id.as_str()) {
            Some((l, _)) if l.status == "delisted" => {
                l.status = "live".into();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn delist(&self, id: &ListingId, _now: &str) -> StoreResult<bool> {
        let mut all = self.listings.borrow_mut();
        match all.get_mut(id.as_str()) {
            Some((l, _)) if l.status == "live" => {
                l.status = "delisted".into();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn insert_submission(&self, s: &SubmissionRecord, e: &EventRecord) -> StoreResult<()> {
        self.submissions.borrow_mut().push(s.clone());
        self.events.borrow_mut().push(e.clone());
        Ok(())
    }

    async fn submission(&self, id: &str) -> StoreResult<Option<SubmissionRecord>> {
        Ok(self
            .submissions
            .borrow()
            .iter()
            .find(|s| s.id == id)
            .cloned())
    }

    async fn submissions(
        &self,
        f: &SubmissionFilter,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<SubmissionRecord>> {
        let mut v: Vec<SubmissionRecord> = self
            .submissions
            .borrow()
            .iter()
            .filter(|s| f.tenant.as_ref().is_none_or(|t| &s.tenant == t))
            .filter(|s| f.status.as_ref().is_none_or(|st| &s.status == st))
            .filter(|s| {
                after
                    .as_ref()
                    .is_none_or(|(at, id)| (&s.created_at, &s.id) < (at, id))
            })
            .cloned()
            .collect();
        v.sort_by(|a, b| (&b.created_at, &b.id).cmp(&(&a.created_at, &a.id)));
        v.truncate(limit);
        Ok(v)
    }

    async fn reject(
        &self,
        id: &str,
        reason: &str,
        now: &str,
        e: &EventRecord,
    ) -> StoreResult<bool> {
        let mut subs = self.submissions.borrow_mut();
        let Some(sub) = subs
            .iter_mut()
            .find(|x| x.id == id && x.status == "pending")
        else {
            return Ok(false);
        };
        sub.status = "rejected".into();
        sub.reason = Some(reason.to_string());
        sub.decided_at = Some(now.to_string());
        self.events.borrow_mut().push(e.clone());
        Ok(true)
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

/// Tenant objects in memory: one `Book` per tenant, as the Durable Object keeps.
#[derive(Default)]
pub struct MemoryObjects {
    pub books: RefCell<std::collections::HashMap<TenantId, crate::tenant::protocol::Book>>,
    /// Tenants asked to sweep.
    pub sweeps: RefCell<Vec<TenantId>>,
}

#[async_trait(?Send)]
impl TenantObjects for MemoryObjects {
    async fn ping(&self, _name: &str) -> StoreResult<()> {
        Ok(())
    }

    async fn begin(
        &self,
        tenant: &TenantId,
        idem: Option<crate::tenant::protocol::Idem>,
        locks: Vec<String>,
        now_ms: i64,
    ) -> StoreResult<crate::tenant::protocol::Answer> {
        let mut books = self.books.borrow_mut();
        Ok(books
            .entry(tenant.clone())
            .or_default()
            .begin(idem.as_ref(), &locks, now_ms)
            .0)
    }

    async fn sweep(&self, tenant: &TenantId, _now_ms: i64) -> StoreResult<()> {
        self.sweeps.borrow_mut().push(tenant.clone());
        Ok(())
    }

    async fn details(
        &self,
        tenant: &TenantId,
        ids: Vec<String>,
    ) -> StoreResult<std::collections::HashMap<String, Value>> {
        let books = self.books.borrow();
        let Some(b) = books.get(tenant) else {
            return Ok(Default::default());
        };
        Ok(ids
            .into_iter()
            .filter_map(|id| b.details.get(&id).map(|d| (id, d.clone())))
            .collect())
    }

    async fn finish(
        &self,
        tenant: &TenantId,
        idem: Option<String>,
        answer: Option<crate::domain::idempotency::Stored>,
        locks: Vec<String>,
    ) -> StoreResult<()> {
        let mut books = self.books.borrow_mut();
        books
            .entry(tenant.clone())
            .or_default()
            .finish(idem.as_deref(), answer, &locks);
        Ok(())
    }
}

/// Instances, bindings and events in memory, with D1's uniqueness and order.
#[derive(Default)]
pub struct MemoryConnectors {
    pub connectors: RefCell<Vec<ConnectorRecord>>,
    pub bindings: RefCell<Vec<BindingRecord>>,
    pub events: EventLog,
}

fn newest_first<T>(
    items: &mut Vec<T>,
    key: impl Fn(&T) -> (String, String),
    after: Option<(String, String)>,
    limit: usize,
) {
    items.sort_by_key(|t| std::cmp::Reverse(key(t)));
    if let Some(a) = after {
        items.retain(|t| key(t) < a);
    }
    items.truncate(limit);
}

#[async_trait(?Send)]
impl ConnectorStore for MemoryConnectors {
    async fn insert_connector(
        &self,
        tenant: &TenantId,
        c: &ConnectorRecord,
        e: &EventRecord,
    ) -> StoreResult<Written> {
        let mut all = self.connectors.borrow_mut();
        if all.iter().any(|x| &x.tenant == tenant && x.name == c.name) {
            return Ok(Written::NameTaken);
        }
        all.push(c.clone());
        self.events.borrow_mut().push(e.clone());
        Ok(Written::Done)
    }

    async fn connector(
        &self,
        tenant: &TenantId,
        id: &ConnectorId,
    ) -> StoreResult<Option<ConnectorRecord>> {
        Ok(self
            .connectors
            .borrow()
            .iter()
            .find(|c| &c.tenant == tenant && &c.id == id)
            .cloned())
    }

    async fn name_taken(&self, tenant: &TenantId, name: &str) -> StoreResult<bool> {
        Ok(self
            .connectors
            .borrow()
            .iter()
            .any(|c| &c.tenant == tenant && c.name == name))
    }

    async fn list_connectors(
        &self,
        tenant: &TenantId,
        f: &ConnectorFilter,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<ConnectorRecord>> {
        let mut v: Vec<_> = self
            .connectors
            .borrow()
            .iter()
            .filter(|c| &c.tenant == tenant && f.matches(c))
            .cloned()
            .collect();
        newest_first(
            &mut v,
            |c| (c.created_at.clone(), c.id.to_string()),
            after,
            limit,
        );
        Ok(v)
    }

    async fn all_connectors(&self, tenant: &TenantId) -> StoreResult<Vec<ConnectorRecord>> {
        Ok(self
            .connectors
            .borrow()
            .iter()
            .filter(|c| &c.tenant == tenant)
            .cloned()
            .collect())
    }

    async fn update_connector(
        &self,
        tenant: &TenantId,
        c: &ConnectorRecord,
        e: Option<&EventRecord>,
    ) -> StoreResult<Written> {
        let mut all = self.connectors.borrow_mut();
        if all
            .iter()
            .any(|x| &x.tenant == tenant && x.name == c.name && x.id != c.id)
        {
            return Ok(Written::NameTaken);
        }
        match all.iter_mut().find(|x| &x.tenant == tenant && x.id == c.id) {
            Some(slot) => {
                *slot = c.clone();
                self.events.borrow_mut().extend(e.cloned());
                Ok(Written::Done)
            }
            None => Ok(Written::Gone),
        }
    }

    async fn delete_connector(
        &self,
        tenant: &TenantId,
        id: &ConnectorId,
        e: &EventRecord,
    ) -> StoreResult<bool> {
        let mut all = self.connectors.borrow_mut();
        let before = all.len();
        all.retain(|c| !(&c.tenant == tenant && &c.id == id));
        let deleted = all.len() < before;
        if deleted {
            self.events.borrow_mut().push(e.clone());
        }
        Ok(deleted)
    }

    async fn insert_binding(
        &self,
        _tenant: &TenantId,
        b: &BindingRecord,
        e: &EventRecord,
    ) -> StoreResult<()> {
        self.bindings.borrow_mut().push(b.clone());
        self.events.borrow_mut().push(e.clone());
        Ok(())
    }

    async fn binding(
        &self,
        tenant: &TenantId,
        id: &BindingId,
    ) -> StoreResult<Option<BindingRecord>> {
        Ok(self
            .bindings
            .borrow()
            .iter()
            .find(|b| &b.tenant == tenant && &b.id == id)
            .cloned())
    }

    async fn list_bindings(
        &self,
        tenant: &TenantId,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<BindingRecord>> {
        let mut v = self.all_bindings(tenant).await?;
        newest_first(
            &mut v,
            |b| (b.created_at.clone(), b.id.to_string()),
            after,
            limit,
        );
        Ok(v)
    }

    async fn all_bindings(&self, tenant: &TenantId) -> StoreResult<Vec<BindingRecord>> {
        Ok(self
            .bindings
            .borrow()
            .iter()
            .filter(|b| &b.tenant == tenant)
            .cloned()
            .collect())
    }

    async fn delete_binding(
        &self,
        tenant: &TenantId,
        id: &BindingId,
        e: &EventRecord,
    ) -> StoreResult<bool> {
        let mut all = self.bindings.borrow_mut();
        let before = all.len();
        all.retain(|b| !(&b.tenant == tenant && &b.id == id));
        let deleted = all.len() < before;
        if deleted {
            self.events.borrow_mut().push(e.clone());
        }
        Ok(deleted)
    }

    async fn insert_event(&self, _tenant: &TenantId, e: &EventRecord) -> StoreResult<()> {
        self.events.borrow_mut().push(e.clone());
        Ok(())
    }

    async fn list_events(
        &self,
        tenant: &TenantId,
        f: &EventFilter,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<EventRecord>> {
        let mut v: Vec<_> = self
            .events
            .borrow()
            .iter()
            .filter(|e| &e.tenant == tenant)
            .filter(|e| f.kind.as_deref().is_none_or(|k| k == e.kind))
            .filter(|e| {
                f.connector_id
                    .as_deref()
                    .is_none_or(|c| Some(c) == e.connector_id.as_deref())
            })
            .cloned()
            .collect();
        newest_first(
            &mut v,
            |e| (e.created_at.clone(), e.id.clone()),
            after,
            limit,
        );
        Ok(v)
    }
}

/// Consent states in memory: spent once, like the D1 conditional update.
#[derive(Default)]
pub struct MemoryOAuth {
    pub states: RefCell<BTreeMap<String, (OAuthStateRecord, bool)>>,
}

#[async_trait(?Send)]
impl OAuthStore for MemoryOAuth {
    async fn insert_state(&self, s: &OAuthStateRecord) -> StoreResult<()> {
        self.states
            .borrow_mut()
            .insert(s.state_hash.clone(), (s.clone(), false));
        Ok(())
    }

    async fn take_state(&self, state_hash: &str, now_ms: i64, _now: &str) -> StoreResult<Taken> {
        let mut all = self.states.borrow_mut();
        Ok(match all.get_mut(state_hash) {
            None => Taken::Unknown,
            Some((_, true)) => Taken::Used,
            Some((r, _)) if now_ms >= r.expires_at_ms => Taken::Expired,
            Some((r, used)) => {
                *used = true;
                Taken::Fresh(r.clone())
            }
        })
    }
}

#[async_trait(?Send)]
impl SweepStore for MemoryConnectors {
    async fn sweep_batch(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<ConnectorRecord>> {
        let mut v: Vec<_> = self
            .connectors
            .borrow()
            .iter()
            .filter(|c| &c.tenant == tenant && after.is_none_or(|a| c.id.as_str() > a))
            .cloned()
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v.truncate(limit);
        Ok(v)
    }

    async fn tenants_with_connectors(&self) -> StoreResult<Vec<TenantId>> {
        let mut v: Vec<TenantId> = self
            .connectors
            .borrow()
            .iter()
            .map(|c| c.tenant.clone())
            .collect();
        v.sort();
        v.dedup();
        Ok(v)
    }
}
