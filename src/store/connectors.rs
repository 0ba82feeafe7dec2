//! Installed connectors (instances) and the bindings that depend on them.

use super::{EventFilter, EventRecord, StoreResult, Written};
use crate::domain::ids::{BindingId, ConnectorId, TenantId};
use async_trait::async_trait;
use serde_json::Value;

/// An installed connector as stored. `secret` is vault ciphertext only.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorRecord {
    pub id: ConnectorId,
    pub tenant: TenantId,
    pub listing: String,
    pub listing_version: String,
    pub name: String,
    pub kind: String,
    pub transport: String,
    pub crew_id: Option<String>,
    pub capabilities: Vec<String>,
    pub tools: Value,
    pub config: Value,
    pub auth_type: crate::domain::connector::AuthMode,
    pub auth_hint: Option<String>,
    pub secret: Option<String>,
    pub status: crate::domain::connector::Status,
    pub health: crate::domain::health::Health,
    pub return_url: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub last_synced_at: Option<String>,
}

/// `GET /v1/connectors` filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectorFilter {
    pub listing: Option<String>,
    pub capability: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub crew_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BindingRecord {
    pub id: BindingId,
    pub tenant: TenantId,
    pub consumer: String,
    pub capability: String,
    pub connector_id: Option<ConnectorId>,
    /// Namespaces the consumer's tool names (`{alias}_{tool}`, API §14);
    /// fixed at creation.
    pub alias: String,
    /// `None`: the tenant's default (API §15).
    pub policy: Option<crate::domain::governance::Policy>,
    /// Calls per minute per consumer and instance.
    pub rate_limit: Option<u32>,
    pub created_at: String,
}

/// A consumer's bindings with the instances that serve them: those they pin
/// and, for its unpinned bindings, the instance serving each capability.
#[derive(Debug, Clone, Default)]
pub struct ConsumerBindings {
    pub bindings: Vec<BindingRecord>,
    pub pinned: Vec<ConnectorRecord>,
    /// For each capability of an unpinned binding, the oldest `connected`
    /// instance fulfilling it (none when nothing serves it).
    pub serving: Vec<ConnectorRecord>,
}

/// How many ids of each kind a [`CapabilitySummary`] carries.
pub const CAPABILITY_SAMPLE: usize = 10;

/// One capability of a tenant, from the summary the database maintains.
#[derive(Debug, Clone, PartialEq)]
pub struct CapabilitySummary {
    pub capability: String,
    /// How many instances fulfil it and bindings use it.
    pub connectors: u64,
    pub bindings: u64,
    /// The newest of each (at most [`CAPABILITY_SAMPLE`]), newest first.
    pub connector_ids: Vec<String>,
    pub binding_ids: Vec<String>,
}

/// `GET /v1/bindings` filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BindingFilter {
    pub consumer: Option<String>,
    pub capability: Option<String>,
    pub connector_id: Option<String>,
}

#[async_trait(?Send)]
pub trait ConnectorStore {
    /// Inserts the instance and its event in one transaction.
    async fn insert_connector(
        &self,
        tenant: &TenantId,
        c: &ConnectorRecord,
        e: &EventRecord,
    ) -> StoreResult<Written>;
    async fn connector(
        &self,
        tenant: &TenantId,
        id: &ConnectorId,
    ) -> StoreResult<Option<ConnectorRecord>>;
    async fn name_taken(&self, tenant: &TenantId, name: &str) -> StoreResult<bool>;
    /// Newest first, strictly after `(created_at, id)`. What a list shows:
    /// each record's `tools` holds only each tool's `name`, `capability` and
    /// `side_effect` (read one instance with [`Self::connector`] for all).
    async fn list_connectors(
        &self,
        tenant: &TenantId,
        f: &ConnectorFilter,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<ConnectorRecord>>;
    /// The instance serving an unpinned binding of `capability`: the oldest
    /// `connected` instance fulfilling it (one index seek).
    async fn serving(
        &self,
        tenant: &TenantId,
        capability: &str,
    ) -> StoreResult<Option<ConnectorRecord>>;
    /// A page of the tenant's capabilities by name, strictly after `after`.
    async fn capabilities(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<CapabilitySummary>>;
    /// Replaces the mutable fields of an instance (all but its id, tenant,
    /// listing, auth type, return URL and timestamps of creation and sync:
    /// an upgrade moves its version, kind, transport, capabilities and
    /// tools), with its event.
    async fn update_connector(
        &self,
        tenant: &TenantId,
        c: &ConnectorRecord,
        e: Option<&EventRecord>,
    ) -> StoreResult<Written>;
    /// [`Self::update_connector`] after a health check, recording the check
    /// in the instance's history (the newest [`HEALTH_HISTORY`] are kept).
    async fn record_check(
        &self,
        tenant: &TenantId,
        c: &ConnectorRecord,
        e: Option<&EventRecord>,
        check: &HealthCheckRecord,
    ) -> StoreResult<Written>;
    /// The instance's checks, newest first, strictly before `seq` when given.
    async fn health_checks(
        &self,
        tenant: &TenantId,
        connector: &ConnectorId,
        before: Option<i64>,
        limit: usize,
    ) -> StoreResult<Vec<HealthCheckRecord>>;
    /// Deletes the instance (and with it the ciphertext and its check
    /// history), keeping events.
    async fn delete_connector(
        &self,
        tenant: &TenantId,
        id: &ConnectorId,
        e: &EventRecord,
    ) -> StoreResult<bool>;

    async fn insert_binding(
        &self,
        tenant: &TenantId,
        b: &BindingRecord,
        e: &EventRecord,
    ) -> StoreResult<()>;
    async fn binding(
        &self,
        tenant: &TenantId,
        id: &BindingId,
    ) -> StoreResult<Option<BindingRecord>>;
    /// Newest first, strictly after `(created_at, id)`.
    async fn list_bindings(
        &self,
        tenant: &TenantId,
        f: &BindingFilter,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<BindingRecord>>;
    /// The bindings that need the instance `id`: those pinned to it, and the
    /// unpinned ones whose capability no other instance fulfils; newest first.
    async fn dependents(
        &self,
        tenant: &TenantId,
        id: &ConnectorId,
    ) -> StoreResult<Vec<BindingRecord>>;
    /// One consumer's bindings, oldest first (the gateway's order of
    /// precedence), and the instances serving them — one round trip that
    /// reads nothing else of the tenant.
    async fn consumer_bindings(
        &self,
        tenant: &TenantId,
        consumer: &str,
    ) -> StoreResult<ConsumerBindings>;
    /// Re-points a binding and sets its policy and rate limit, with its
    /// event; `Gone` when it no longer exists.
    async fn update_binding(
        &self,
        tenant: &TenantId,
        b: &BindingRecord,
        e: &EventRecord,
    ) -> StoreResult<Written>;
    async fn delete_binding(
        &self,
        tenant: &TenantId,
        id: &BindingId,
        e: &EventRecord,
    ) -> StoreResult<bool>;

    async fn insert_event(&self, tenant: &TenantId, e: &EventRecord) -> StoreResult<()>;
    async fn list_events(
        &self,
        tenant: &TenantId,
        f: &EventFilter,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<EventRecord>>;
}

/// How many checks an instance's history keeps.
pub const HEALTH_HISTORY: usize = 100;

/// One health check as the history keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheckRecord {
    /// Orders the history (the cursor).
    pub seq: i64,
    pub checked_at: String,
    pub healthy: Option<bool>,
    pub latency_ms: Option<u64>,
    /// The instance's status after the check.
    pub status: String,
    pub message: String,
}
