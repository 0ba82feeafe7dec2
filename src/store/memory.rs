//! In-memory fakes for native tests, of what has no native engine: the KV
//! cache and the tenant Durable Objects. (SQL-backed stores run the
//! production SQL on SQLite instead: `store::sqlite`.)

use super::*;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::BTreeMap;

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
    /// Webhook pokes: (tenant, armed).
    pub pokes: RefCell<Vec<(TenantId, bool)>>,
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

    async fn rate(
        &self,
        tenant: &TenantId,
        key: &str,
        per_minute: u32,
        now_ms: i64,
    ) -> StoreResult<Option<i64>> {
        let mut books = self.books.borrow_mut();
        let window = books
            .entry(tenant.clone())
            .or_default()
            .windows
            .entry(key.to_string())
            .or_default();
        Ok(crate::domain::governance::take(window, per_minute, now_ms).err())
    }

    async fn sweep(&self, tenant: &TenantId, _now_ms: i64) -> StoreResult<()> {
        self.sweeps.borrow_mut().push(tenant.clone());
        Ok(())
    }

    async fn poke(&self, tenant: &TenantId, armed: bool, _now_ms: i64) -> StoreResult<()> {
        self.pokes.borrow_mut().push((tenant.clone(), armed));
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
