//! The audit trail (API §9): events are written with the change they record
//! and never carry secrets.

use crate::domain::ids::TenantId;
use serde_json::Value;

/// An audit event (API §9); `data` never carries secrets.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub id: String,
    pub tenant: TenantId,
    pub kind: String,
    pub connector_id: Option<String>,
    pub data: Value,
    pub created_at: String,
}

/// `GET /v1/events` filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    pub kind: Option<String>,
    pub connector_id: Option<String>,
}

impl EventRecord {
    /// The event as `GET /v1/events` renders it, which is also a webhook's
    /// body (API §16).
    pub fn view(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "object": "event",
            "type": self.kind,
            "connector_id": self.connector_id,
            "data": self.data,
            "created_at": self.created_at,
        })
    }
}
