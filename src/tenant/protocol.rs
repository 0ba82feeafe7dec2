//! The typed command set a worker sends to a tenant object, and how objects
//! are named. Pure, so both sides agree on it and tests can check it.

use serde::{Deserialize, Serialize};

/// The Durable Object binding.
pub const BINDING: &str = "TENANT";

/// Commands, sent as the JSON body of a `POST` to the object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Reachability: the object answers without touching storage.
    Ping,
}

/// Answers, the JSON body of the object's response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    Pong,
    /// The command could not be read (a version skew between worker and object).
    Refused {
        reason: String,
    },
}

/// Applies a command; storage-free commands are answered here.
pub fn answer(body: &[u8]) -> Answer {
    match serde_json::from_slice::<Command>(body) {
        Ok(Command::Ping) => Answer::Pong,
        Err(e) => Answer::Refused {
            reason: format!("unreadable command: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip() {
        let body = serde_json::to_vec(&Command::Ping).unwrap();
        assert_eq!(body, br#"{"command":"ping"}"#);
        assert_eq!(answer(&body), Answer::Pong);
        assert!(matches!(
            answer(b"{\"command\":\"explode\"}"),
            Answer::Refused { .. }
        ));
    }
}
