//! Tenants and their API keys: the keys are stored hashed, never in clear.

use super::{EventRecord, StoreResult};
use crate::domain::auth::Role;
use crate::domain::ids::{KeyId, TenantId};
use async_trait::async_trait;

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
    /// The consumer an `agent` key acts for (`None` for other roles).
    pub consumer: Option<String>,
    pub secret_hash: String,
    pub last4: String,
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
