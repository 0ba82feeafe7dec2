//! Webhooks (API §16): endpoints (their secret sealed), deliveries with their
//! attempts, and the outbox scan over `events`. A sender holds a delivery by
//! a lease (a token until a time), so one delivery is never sent twice at
//! once, and records its attempt only while it holds it.

use super::{EventRecord, StoreResult};
use crate::domain::ids::{TenantId, WebhookDeliveryId, WebhookEndpointId};
use async_trait::async_trait;
use serde_json::Value;

/// A webhook endpoint as stored. `secret` is vault ciphertext only.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointRecord {
    pub id: WebhookEndpointId,
    pub tenant: TenantId,
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<String>,
    pub secret: String,
    /// `enabled` or `disabled` (it answered `410 Gone`).
    pub status: String,
    pub disabled_reason: Option<String>,
    /// Events after this one (a rowid of `events`) are delivered to it.
    pub since_seq: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// A delivery as the list shows it: `attempts` are JSON objects, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    pub id: WebhookDeliveryId,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `succeeded`, `failed` or `canceled`.
    pub status: String,
    pub attempts: Vec<Value>,
    pub next_attempt_ms: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

/// A delivery to create: due at once.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    pub id: WebhookDeliveryId,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
}

/// A sender's hold on the deliveries it claims.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    pub token: String,
    pub now_ms: i64,
    pub until_ms: i64,
    pub now: String,
}

/// A claimed delivery with what sending it needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    pub id: WebhookDeliveryId,
    pub endpoint_id: WebhookEndpointId,
    pub url: String,
    pub secret: String,
    pub attempt_count: u32,
    pub first_attempt_ms: Option<i64>,
    pub event: EventRecord,
}

/// One attempt's outcome, to record.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempted {
    pub id: WebhookDeliveryId,
    /// The attempt as listed (`attempted_at`, `status_code`, `error`, …).
    pub attempt: Value,
    /// `pending` (retry at `next_attempt_ms`), `succeeded` or `failed`.
    pub status: String,
    pub next_attempt_ms: Option<i64>,
    pub attempted_ms: i64,
}

/// An endpoint that answered `410 Gone`: disabled, its pending deliveries
/// canceled, and the event recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Disable {
    pub endpoint_id: WebhookEndpointId,
    pub reason: String,
    pub event: EventRecord,
}

/// One event of the outbox scan.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    pub seq: i64,
    pub id: String,
    pub kind: String,
}

/// What the fan-out reads: the enabled endpoints and the events after the
/// tenant's cursor (and after the oldest endpoint's start).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outbox {
    pub endpoints: Vec<EndpointRecord>,
    pub events: Vec<OutboxEvent>,
}

/// Endpoints: each with its sealed secret and where in the outbox it starts.
#[async_trait(?Send)]
pub trait WebhookEndpoints {
    /// Inserts the endpoint (starting after the latest event) and its event,
    /// unless the tenant has `max` endpoints already (`false`).
    async fn insert_endpoint(
        &self,
        tenant: &TenantId,
        e: &EndpointRecord,
        max: usize,
        event: &EventRecord,
    ) -> StoreResult<bool>;
    async fn endpoint(
        &self,
        tenant: &TenantId,
        id: &WebhookEndpointId,
    ) -> StoreResult<Option<EndpointRecord>>;
    /// Newest first, after the `(created_at, id)` cursor.
    async fn list_endpoints(
        &self,
        tenant: &TenantId,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<EndpointRecord>>;
    /// Deletes the endpoint (and its ciphertext) with its deliveries; the
    /// event is written only if it existed.
    async fn delete_endpoint(
        &self,
        tenant: &TenantId,
        id: &WebhookEndpointId,
        event: &EventRecord,
    ) -> StoreResult<bool>;
    /// Tenants with an enabled endpoint: the cron's backstop. Not scoped by
    /// a tenant, because finding the tenants is its purpose.
    async fn tenants_with_webhooks(&self) -> StoreResult<Vec<TenantId>>;
}

/// Deliveries: the outbox scan, the fan-out, leases and attempts.
#[async_trait(?Send)]
pub trait WebhookDeliveries {
    /// An endpoint's deliveries, newest first, after the `(created_at, id)` cursor.
    async fn list_deliveries(
        &self,
        tenant: &TenantId,
        endpoint: &WebhookEndpointId,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<DeliveryRecord>>;
    async fn delivery(
        &self,
        tenant: &TenantId,
        id: &WebhookDeliveryId,
    ) -> StoreResult<Option<DeliveryRecord>>;
    /// The outbox scan: at most `limit` events in insertion order.
    async fn outbox(&self, tenant: &TenantId, limit: usize) -> StoreResult<Outbox>;
    /// In one transaction: creates the deliveries (a repeat is ignored),
    /// moves the cursor to `cursor`, then claims up to `limit` due
    /// deliveries under `lease`; answers them.
    async fn fan_out_and_claim(
        &self,
        tenant: &TenantId,
        new: &[NewDelivery],
        cursor: Option<i64>,
        lease: &Lease,
        limit: usize,
    ) -> StoreResult<Vec<Due>>;
    /// The test event and its delivery to one endpoint, already claimed.
    async fn insert_test(
        &self,
        tenant: &TenantId,
        event: &EventRecord,
        delivery: &NewDelivery,
        lease: &Lease,
    ) -> StoreResult<Option<Due>>;
    /// Records attempts (only those still held under `lease`), disables the
    /// endpoints that answered 410; answers when the next pending delivery
    /// is due, if any.
    async fn record(
        &self,
        tenant: &TenantId,
        attempts: &[Attempted],
        disable: &[Disable],
        lease: &Lease,
    ) -> StoreResult<Option<i64>>;
}

/// Both, as `App` holds them.
pub trait WebhookStore: WebhookEndpoints + WebhookDeliveries {}

impl<T: WebhookEndpoints + WebhookDeliveries> WebhookStore for T {}
