//! Workers KV as the catalog cache.

use super::*;
use worker::KvStore;

/// KV refuses expirations under 60 seconds.
const KV_MIN_TTL: u64 = 60;

pub struct KvCache {
    kv: KvStore,
}

impl KvCache {
    pub fn new(kv: KvStore) -> Self {
        Self { kv }
    }
}

#[async_trait(?Send)]
impl Cache for KvCache {
    async fn get(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(self.kv.get(key).text().await?)
    }

    async fn put(&self, key: &str, value: &str, ttl_secs: u64) -> StoreResult<()> {
        self.kv
            .put(key, value)?
            .expiration_ttl(ttl_secs.max(KV_MIN_TTL))
            .execute()
            .await?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        Ok(self.kv.delete(key).await?)
    }
}
