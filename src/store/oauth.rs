//! OAuth consents in flight: single-use states, spent exactly once.

use super::StoreResult;
use crate::domain::ids::{ConnectorId, TenantId};
use async_trait::async_trait;

/// An OAuth consent in flight. `verifier` is vault ciphertext.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthStateRecord {
    pub state_hash: String,
    pub tenant: TenantId,
    pub connector_id: ConnectorId,
    pub verifier: Option<String>,
    pub redirect_uri: String,
    pub expires_at_ms: i64,
}

/// What presenting a state found.
#[derive(Debug, Clone, PartialEq)]
pub enum Taken {
    /// First use within its lifetime: now spent.
    Fresh(OAuthStateRecord),
    Expired,
    Used,
    Unknown,
}

#[async_trait(?Send)]
pub trait OAuthStore {
    async fn insert_state(&self, s: &OAuthStateRecord) -> StoreResult<()>;
    /// Spends a state exactly once, however many callbacks race for it.
    async fn take_state(&self, state_hash: &str, now_ms: i64, now: &str) -> StoreResult<Taken>;
}
