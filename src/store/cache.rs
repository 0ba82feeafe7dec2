//! A string cache with expiry (KV at the edge).

use super::StoreResult;
use async_trait::async_trait;

/// A string cache with expiry (KV).
#[async_trait(?Send)]
pub trait Cache {
    async fn get(&self, key: &str) -> StoreResult<Option<String>>;
    async fn put(&self, key: &str, value: &str, ttl_secs: u64) -> StoreResult<()>;
    async fn delete(&self, key: &str) -> StoreResult<()>;
}
