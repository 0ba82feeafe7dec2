//! The tenant Durable Objects as the stateless worker sees them: the
//! idempotency book, locks, the sweep and its check details, the webhooks' poke.

use super::StoreResult;
use crate::domain::ids::TenantId;
use async_trait::async_trait;
use serde_json::Value;

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
    /// Takes one call from the rate limit `key` (`per_minute`, a sliding
    /// minute): `None` if it may run, else the wait in ms.
    async fn rate(
        &self,
        tenant: &TenantId,
        key: &str,
        per_minute: u32,
        now_ms: i64,
    ) -> StoreResult<Option<i64>>;
    /// Tells the tenant's object that events may wait for its webhook
    /// endpoints (`armed`: it has endpoints now); its alarm fans them out.
    async fn poke(&self, tenant: &TenantId, armed: bool, now_ms: i64) -> StoreResult<()>;
    /// Stores the answer (or forgets the key) and releases the locks.
    async fn finish(
        &self,
        tenant: &TenantId,
        idem: Option<String>,
        answer: Option<crate::domain::idempotency::Stored>,
        locks: Vec<String>,
    ) -> StoreResult<()>;
}
