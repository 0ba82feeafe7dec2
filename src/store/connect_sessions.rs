//! Connect sessions (single-use install links): stored with the token's
//! hash, never the token.

use super::{EventRecord, StoreResult};
use crate::domain::ids::{ConnectSessionId, ConnectorId, TenantId};
use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq)]
pub struct ConnectSessionRecord {
    pub id: ConnectSessionId,
    pub tenant: TenantId,
    pub token_hash: String,
    pub listing: Option<String>,
    pub consumer: Option<String>,
    pub return_url: String,
    /// Stored `completed`; otherwise pending until `expires_at_ms`.
    pub completed: bool,
    pub connector_id: Option<ConnectorId>,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: String,
    pub expires_at_ms: i64,
    pub completed_at: Option<String>,
}

#[async_trait(?Send)]
pub trait ConnectSessionStore {
    async fn insert_connect_session(
        &self,
        tenant: &TenantId,
        s: &ConnectSessionRecord,
        event: &EventRecord,
    ) -> StoreResult<()>;
    /// The authentication lookup: not scoped by a tenant, because the tenant
    /// is what it finds out.
    async fn connect_session_by_id(
        &self,
        id: &ConnectSessionId,
    ) -> StoreResult<Option<ConnectSessionRecord>>;
    async fn connect_session(
        &self,
        tenant: &TenantId,
        id: &ConnectSessionId,
    ) -> StoreResult<Option<ConnectSessionRecord>>;
    /// Newest first, strictly after `(created_at, id)` when given.
    async fn list_connect_sessions(
        &self,
        tenant: &TenantId,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<ConnectSessionRecord>>;
    /// Spends a pending session on the connector it installed, with its
    /// event; `false` when it was no longer pending.
    async fn complete_connect_session(
        &self,
        tenant: &TenantId,
        id: &ConnectSessionId,
        connector: &ConnectorId,
        at: &str,
        event: &EventRecord,
    ) -> StoreResult<bool>;
}
