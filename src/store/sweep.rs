//! What the health sweep reads: a tenant's instances in batches, and the
//! tenants that have any.

use super::{ConnectorRecord, StoreResult};
use crate::domain::ids::TenantId;
use async_trait::async_trait;

/// What the sweep reads.
#[async_trait(?Send)]
pub trait SweepStore {
    /// A tenant's instances in id order, strictly after `after`.
    async fn sweep_batch(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<ConnectorRecord>>;
    /// Every tenant that has instances: the cron's fan-out list. Not scoped
    /// by a tenant, because finding the tenants is its purpose.
    async fn tenants_with_connectors(&self) -> StoreResult<Vec<TenantId>>;
}
