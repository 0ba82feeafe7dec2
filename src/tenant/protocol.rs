//! The typed command set a worker sends to its tenant's object, and the pure
//! rules the object applies (`Book`): idempotency records and short-lived
//! locks on names and instances, so that two concurrent installs of one name
//! give one `201` and one `409`. Both the Durable Object and the test fake
//! run exactly this code.

use crate::domain::idempotency::{self, Decision, Record, Stored};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The Durable Object binding.
pub const BINDING: &str = "TENANT";
/// The storage key of a rate limit's window.
pub fn rate_key(key: &str) -> String {
    format!("rate:{key}")
}

/// A lock not released after this long (its worker died) is free again.
pub const LOCK_TTL_MS: i64 = 60_000;

/// An `Idempotency-Key` with the fingerprint of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Idem {
    pub key: String,
    pub fingerprint: String,
}

/// Commands, sent as the JSON body of a `POST` to the object. Externally
/// tagged (`{"begin": {…}}`, `"ping"`): an internally tagged enum buffers
/// every payload through serde's `Content`, which costs ~30 KB of Wasm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Reachability: the object answers without touching storage.
    Ping,
    /// Before a write: check the key, take the locks (all or none).
    Begin {
        idem: Option<Idem>,
        locks: Vec<String>,
        now_ms: i64,
    },
    /// After a write: store the answer (or forget the key when `answer` is
    /// `None`: the request may be retried) and release the locks.
    Finish {
        idem: Option<String>,
        answer: Option<Stored>,
        locks: Vec<String>,
    },
    /// Start a health sweep of the tenant's instances (API §6).
    Sweep { tenant: String, now_ms: i64 },
    /// The latest check details of these instances.
    Details { ids: Vec<String> },
    /// Takes one call from a rate limit's sliding window (API §15): `key` is
    /// the consumer and instance.
    Rate {
        key: String,
        per_minute: u32,
        now_ms: i64,
    },
    /// Events may be waiting for the tenant's webhook endpoints (API §16):
    /// fan them out soon. `armed`: the tenant has endpoints now (a poke
    /// without it is ignored by a tenant known to have none).
    Poke {
        tenant: String,
        armed: bool,
        now_ms: i64,
    },
}

/// Answers, the JSON body of the object's response (externally tagged too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Pong,
    Proceed,
    Replay(Stored),
    InProgress,
    KeyReused,
    /// Another request holds this lock.
    Busy {
        lock: String,
    },
    Done,
    Details {
        details: std::collections::HashMap<String, serde_json::Value>,
    },
    /// A rate limit's answer: `wait_ms` until a call is free, or none.
    Rate {
        wait_ms: Option<i64>,
    },
    /// The command could not be read (a version skew between worker and object).
    Refused {
        reason: String,
    },
}

impl Answer {
    /// The variant's name, for logs (without `Debug`'s formatting code).
    pub fn name(&self) -> &'static str {
        match self {
            Answer::Pong => "pong",
            Answer::Proceed => "proceed",
            Answer::Replay(_) => "replay",
            Answer::InProgress => "in_progress",
            Answer::KeyReused => "key_reused",
            Answer::Busy { .. } => "busy",
            Answer::Done => "done",
            Answer::Details { .. } => "details",
            Answer::Rate { .. } => "rate",
            Answer::Refused { .. } => "refused",
        }
    }
}

/// The object's state. Records are also persisted by the object; locks live
/// in memory only (a lost lock is backed by D1's unique index).
#[derive(Debug, Default)]
pub struct Book {
    pub records: HashMap<String, Record>,
    locks: HashMap<String, i64>,
    /// Latest sweep check per instance (the object's storage keeps them too).
    pub details: HashMap<String, serde_json::Value>,
    /// Rate limits' sliding windows (the object's storage keeps them too).
    pub windows: HashMap<String, Vec<i64>>,
    /// Size of `locks` at which expired entries are next purged.
    purge_at: usize,
}

const MIN_PURGE_AT: usize = 1_024;

impl Book {
    /// Applies `Begin`; answers the record to persist when one was created.
    pub fn begin(
        &mut self,
        idem: Option<&Idem>,
        locks: &[String],
        now_ms: i64,
    ) -> (Answer, Option<(String, Record)>) {
        let mut to_store = None;
        if let Some(i) = idem {
            let (decision, record) =
                idempotency::decide(self.records.get(&i.key), &i.fingerprint, now_ms);
            match decision {
                Decision::Proceed => to_store = record.map(|r| (i.key.clone(), r)),
                Decision::Replay(s) => return (Answer::Replay(s), None),
                Decision::InProgress => return (Answer::InProgress, None),
                Decision::Reused => return (Answer::KeyReused, None),
            }
        }
        // Expired locks count as free; the map is purged only when it has
        // doubled since the last purge (amortised O(1) per call, where
        // successful installs leave their name locks behind).
        if self.locks.len() >= self.purge_at {
            self.locks.retain(|_, since| now_ms - *since < LOCK_TTL_MS);
            self.purge_at = (self.locks.len() * 2).max(MIN_PURGE_AT);
        }
        let live = |since: &i64| now_ms - *since < LOCK_TTL_MS;
        if let Some(held) = locks.iter().find(|l| self.locks.get(*l).is_some_and(live)) {
            return (Answer::Busy { lock: held.clone() }, None);
        }
        for l in locks {
            self.locks.insert(l.clone(), now_ms);
        }
        if let Some((k, r)) = &to_store {
            self.records.insert(k.clone(), r.clone());
        }
        (Answer::Proceed, to_store)
    }

    /// Applies `Finish`; answers the record to persist (`None` = delete it).
    pub fn finish(
        &mut self,
        idem: Option<&str>,
        answer: Option<Stored>,
        locks: &[String],
    ) -> Option<(String, Option<Record>)> {
        for l in locks {
            self.locks.remove(l);
        }
        let key = idem?;
        match (self.records.get_mut(key), answer) {
            (Some(r), Some(a)) => {
                r.answer = Some(a);
                Some((key.to_string(), Some(r.clone())))
            }
            (Some(_), None) => {
                self.records.remove(key);
                Some((key.to_string(), None))
            }
            (None, _) => None,
        }
    }
}

/// Storage key of an instance's latest check details.
pub fn details_key(id: &str) -> String {
    format!("h:{id}")
}

/// Storage key of the sweep's progress.
pub const SWEEP_STATE: &str = "sweep:state";

/// Storage key of an idempotency record.
pub fn record_key(idem_key: &str) -> String {
    format!("idem:{idem_key}")
}

/// Applies a storage-free command (`Ping`); others need the object.
pub fn decode(body: &[u8]) -> Result<Command, Answer> {
    serde_json::from_slice::<Command>(body).map_err(|e| Answer::Refused {
        reason: format!("unreadable command: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idem(k: &str, f: &str) -> Idem {
        Idem {
            key: k.into(),
            fingerprint: f.into(),
        }
    }

    #[test]
    fn commands_round_trip() {
        let body = serde_json::to_vec(&Command::Ping).unwrap();
        assert_eq!(body, br#""ping""#);
        assert_eq!(decode(&body).unwrap(), Command::Ping);
        let sweep = Command::Sweep {
            tenant: "ten_1".into(),
            now_ms: 7,
        };
        let body = serde_json::to_vec(&sweep).unwrap();
        assert_eq!(body, br#"{"sweep":{"tenant":"ten_1","now_ms":7}}"#);
        assert_eq!(decode(&body).unwrap(), sweep);
        assert!(decode(b"\"explode\"").is_err());
        assert!(decode(b"{\"begin\":{}}").is_err());
    }

    #[test]
    fn keys_replay_and_locks_exclude() {
        let mut b = Book::default();
        let name = vec!["name:github".to_string()];
        let (a, rec) = b.begin(Some(&idem("k1", "f")), &name, 0);
        assert_eq!(a, Answer::Proceed);
        assert!(rec.is_some());
        // Same key while running; another key on the same name.
        assert_eq!(
            b.begin(Some(&idem("k1", "f")), &name, 1).0,
            Answer::InProgress
        );
        assert_eq!(
            b.begin(Some(&idem("k2", "g")), &name, 1).0,
            Answer::Busy {
                lock: "name:github".into()
            }
        );
        assert_eq!(
            b.begin(Some(&idem("k1", "other")), &[], 1).0,
            Answer::KeyReused
        );
        let stored = Stored {
            status: 201,
            body: "{\"id\":1}".into(),
        };
        let persisted = b.finish(Some("k1"), Some(stored.clone()), &name).unwrap();
        assert_eq!(persisted.1.unwrap().answer, Some(stored.clone()));
        assert_eq!(
            b.begin(Some(&idem("k1", "f")), &name, 2).0,
            Answer::Replay(stored)
        );
        // Lock released: a different key proceeds (the store then finds the name taken).
        assert_eq!(b.begin(Some(&idem("k2", "g")), &name, 2).0, Answer::Proceed);
        // A key whose request failed validation later is forgotten: safe to retry.
        assert_eq!(b.finish(Some("k2"), None, &name), Some(("k2".into(), None)));
        assert_eq!(
            b.begin(Some(&idem("k2", "changed")), &name, 3).0,
            Answer::Proceed
        );
    }

    #[test]
    fn locks_left_behind_are_purged_in_bulk() {
        let mut b = Book::default();
        for i in 0..3_000 {
            assert_eq!(b.begin(None, &[format!("name:n{i}")], 0).0, Answer::Proceed);
        }
        // Never released (successful installs): still held within the TTL…
        assert!(matches!(
            b.begin(None, &["name:n7".to_string()], 1).0,
            Answer::Busy { .. }
        ));
        // …free after it, and purged together once the map has grown enough.
        assert_eq!(
            b.begin(None, &["name:n7".to_string()], LOCK_TTL_MS).0,
            Answer::Proceed
        );
        for i in 0..3_000 {
            b.begin(None, &[format!("late:{i}")], LOCK_TTL_MS);
        }
        assert!(
            b.locks.len() < 6_000,
            "expired locks were purged: {}",
            b.locks.len()
        );
    }

    #[test]
    fn stale_locks_expire() {
        let mut b = Book::default();
        let l = vec!["cn:1".to_string()];
        assert_eq!(b.begin(None, &l, 0).0, Answer::Proceed);
        assert_eq!(
            b.begin(None, &l, LOCK_TTL_MS - 1).0,
            Answer::Busy {
                lock: "cn:1".into()
            }
        );
        assert_eq!(b.begin(None, &l, LOCK_TTL_MS).0, Answer::Proceed);
    }
}
