//! Storage ports: one trait per aggregate, one file each (tenants, events,
//! catalog, connectors, oauth, sweep, tool calls, webhooks; the KV cache and the
//! tenant objects).
//! Every tenant-owned read or write takes `&TenantId` first, so a query can
//! never cross tenants by accident. `d1/` holds all SQL (over the `sql.rs`
//! port: D1 at the edge, SQLite in native tests, `sqlite.rs`), `kv.rs` the
//! cache, `memory.rs` the test fakes of what has no native engine.

//! Storage ports: one trait per aggregate. Every tenant-owned read or write
//! takes `&TenantId` first, so a query can never cross tenants by accident.
//! `d1/` holds all SQL (over the `sql.rs` port: D1 at the edge, SQLite in
//! native tests, `sqlite.rs`), `kv.rs` the cache, `memory.rs` the test fakes
//! of what has no native engine.

pub mod d1;

#[cfg(target_arch = "wasm32")]
pub mod kv;

#[cfg(test)]
pub mod memory;

pub mod sql;

#[cfg(test)]
pub mod sqlite;
#[cfg(test)]
mod summary_tests;

// What the SQL stores (`d1/`, `use super::*`) build on.
use crate::domain::ids::{BindingId, ConnectSessionId, ConnectorId, KeyId, ListingId, TenantId};
use crate::domain::manifest::ValidManifest;
use async_trait::async_trait;

mod cache;
mod catalog;
mod connect_sessions;
mod connectors;
mod events;
mod oauth;
mod objects;
mod sweep;
mod tenants;
mod tool_calls;
pub mod webhooks;

pub use cache::Cache;
pub use catalog::{
    CatalogStore, Put, StoredListing, SubmissionFilter, SubmissionRecord, VersionRecord,
};
pub use connect_sessions::{ConnectSessionRecord, ConnectSessionStore};
pub use connectors::{
    BindingFilter, BindingRecord, CapabilitySummary, ConnectorFilter, ConnectorRecord,
    ConnectorStore, ConsumerBindings, HealthCheckRecord, CAPABILITY_SAMPLE, HEALTH_HISTORY,
};
pub use events::{EventFilter, EventRecord};
pub use oauth::{OAuthStateRecord, OAuthStore, Taken};
pub use objects::TenantObjects;
pub use sweep::SweepStore;
pub use tenants::{KeyRecord, TenantRecord, TenantStore};
pub use tool_calls::{
    ApprovalFilter, ApprovalRecord, SettingsRecord, ToolCallFilter, ToolCallRecord, ToolCallStore,
};
pub use webhooks::WebhookStore;

/// A platform or storage failure. Its text is for the log only; callers see
/// a generic `api_error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl<E: std::fmt::Display> From<E> for StoreError {
    fn from(e: E) -> Self {
        StoreError(e.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A failure of an operation that both validates and stores: either the
/// caller's fault (a domain error) or ours (a store error).
#[derive(Debug)]
pub enum Fail {
    Domain(crate::domain::Error),
    Store(StoreError),
}

impl From<crate::domain::Error> for Fail {
    fn from(e: crate::domain::Error) -> Self {
        Fail::Domain(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Store(e)
    }
}

/// What a write that must keep names unique found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Done,
    NameTaken,
    Gone,
}
