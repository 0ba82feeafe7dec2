//! An instance's health as stored and shown (API §4): whether the last check
//! passed (`null`: not checked, or a check that cannot run here), when, how
//! fast, and what it said. Built here only, so every writer agrees on it.

use super::time::Millis;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Health {
    pub healthy: Option<bool>,
    pub last_check: Option<String>,
    pub latency_ms: Option<u64>,
    pub message: String,
}

impl Health {
    /// The result of a check that ran at `now` (`healthy: None` when the
    /// probe kind cannot run here).
    pub fn checked(
        now: Millis,
        healthy: Option<bool>,
        latency_ms: Option<u64>,
        message: &str,
    ) -> Self {
        Health {
            healthy,
            last_check: Some(now.rfc3339()),
            latency_ms,
            message: message.to_string(),
        }
    }

    /// Nothing was checked (yet): waiting for consent, or not checkable.
    pub fn unchecked(message: &str) -> Self {
        Health {
            healthy: None,
            last_check: None,
            latency_ms: None,
            message: message.to_string(),
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("health serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_stored_shape() {
        assert_eq!(
            Health::checked(Millis(0), Some(true), Some(12), "").to_json(),
            json!({"healthy": true, "last_check": "1970-01-01T00:00:00.000Z", "latency_ms": 12, "message": ""})
        );
        assert_eq!(
            Health::unchecked("Waiting for OAuth consent.").to_json(),
            json!({"healthy": null, "last_check": null, "latency_ms": null, "message": "Waiting for OAuth consent."})
        );
    }
}
