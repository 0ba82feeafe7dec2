//! `Idempotency-Key` records (API §2): what a repeated key answers. Pure, so
//! the tenant Durable Object and the test fake apply the same rules.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The hex SHA-256 of a value's canonical text: equal for equal values
/// however they were encoded.
pub fn canonical_sha256(v: &Value) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(canonical_json(v).as_bytes()))
}

/// A JSON value as canonical text: object keys sorted at every depth, no
/// whitespace, so two encodings of the same value read the same.
pub fn canonical_json(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical_json(&m[k])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical_json).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// Records are kept at least this long (the contract says ≥ 24 h).
pub const RETAIN_MS: i64 = 48 * 3_600_000;
/// A request still "running" after this long is taken as abandoned (its
/// worker died); the key may then be used again.
pub const ABANDONED_MS: i64 = 120_000;
pub const MAX_KEY_LEN: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub fingerprint: String,
    pub created_ms: i64,
    /// `None` while the first request runs.
    pub answer: Option<Stored>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    pub status: u16,
    pub body: String,
}

/// What a request carrying a key should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// First use (or an expired/abandoned record): run, then store the answer.
    Proceed,
    /// Same key, same request, finished: answer this again.
    Replay(Stored),
    /// Same key, same request, still running.
    InProgress,
    /// Same key, different request.
    Reused,
}

/// Decides for `fingerprint` given the stored record; answers the record to
/// store when the request proceeds.
pub fn decide(
    existing: Option<&Record>,
    fingerprint: &str,
    now_ms: i64,
) -> (Decision, Option<Record>) {
    let fresh = Record {
        fingerprint: fingerprint.to_string(),
        created_ms: now_ms,
        answer: None,
    };
    match existing {
        Some(r) if now_ms - r.created_ms < RETAIN_MS => {
            if r.fingerprint != fingerprint {
                (Decision::Reused, None)
            } else if let Some(a) = &r.answer {
                (Decision::Replay(a.clone()), None)
            } else if now_ms - r.created_ms < ABANDONED_MS {
                (Decision::InProgress, None)
            } else {
                (Decision::Proceed, Some(fresh))
            }
        }
        _ => (Decision::Proceed, Some(fresh)),
    }
}

/// Checks the header value: 1–255 visible ASCII characters.
pub fn valid_key(k: &str) -> bool {
    (1..=MAX_KEY_LEN).contains(&k.len()) && k.bytes().all(|b| (0x21..0x7f).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions() {
        let (d, rec) = decide(None, "f1", 1_000);
        assert_eq!(d, Decision::Proceed);
        let mut rec = rec.unwrap();
        assert_eq!(decide(Some(&rec), "f1", 2_000).0, Decision::InProgress);
        assert_eq!(decide(Some(&rec), "f2", 2_000).0, Decision::Reused);
        // An abandoned run may be taken over.
        assert_eq!(
            decide(Some(&rec), "f1", 1_000 + ABANDONED_MS).0,
            Decision::Proceed
        );
        rec.answer = Some(Stored {
            status: 201,
            body: "{}".into(),
        });
        assert!(
            matches!(decide(Some(&rec), "f1", 5_000).0, Decision::Replay(s) if s.status == 201)
        );
        assert_eq!(decide(Some(&rec), "f2", 5_000).0, Decision::Reused);
        // Kept for 48 h, then the key is free again.
        assert!(matches!(
            decide(Some(&rec), "f1", 1_000 + RETAIN_MS - 1).0,
            Decision::Replay(_)
        ));
        assert_eq!(
            decide(Some(&rec), "f2", 1_000 + RETAIN_MS).0,
            Decision::Proceed
        );
    }

    #[test]
    fn key_syntax() {
        assert!(valid_key("a") && valid_key(&"k".repeat(255)));
        assert!(
            !valid_key("") && !valid_key(&"k".repeat(256)) && !valid_key("a b") && !valid_key("é")
        );
    }
}
