//! Connect sessions: a manager mints a short-lived, single-use link
//! (`/connect/{token}`) through which an end user with no API key installs
//! one connector into the tenant. The token embeds the session id (so it is
//! looked up by id, then checked against a hash); only the hash is stored.

use super::auth::hash_secret;
use super::ids::{random_base62, ConnectSessionId, Random};
use super::time::Millis;
use super::Error;

const TOKEN_PREFIX: &str = "cst_";
const TOKEN_RANDOM_LEN: usize = 40;

/// The longest a link lives, and the default: 30 minutes.
pub const MAX_EXPIRES_IN: i64 = 1800;
/// The shortest: one minute, enough to open the page.
pub const MIN_EXPIRES_IN: i64 = 60;

/// A fresh token: `secret` exists only in the answer that creates the session.
pub struct MintedToken {
    pub id: ConnectSessionId,
    pub secret: String,
    pub hash: String,
}

/// Mints `cst_<id>_<random>` (238 bits of randomness besides the id).
pub fn mint(rng: &dyn Random) -> MintedToken {
    let id = ConnectSessionId::generate(rng);
    let secret = format!(
        "{TOKEN_PREFIX}{}_{}",
        &id.as_str()[ConnectSessionId::PREFIX.len()..],
        random_base62(rng, TOKEN_RANDOM_LEN)
    );
    MintedToken {
        hash: hash_secret(&secret),
        id,
        secret,
    }
}

/// The session id a token names, if it is shaped like a connect token.
pub fn token_id(token: &str) -> Option<ConnectSessionId> {
    let (id, random) = token.strip_prefix(TOKEN_PREFIX)?.split_once('_')?;
    if random.len() != TOKEN_RANDOM_LEN || !random.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    ConnectSessionId::parse(&format!("{}{id}", ConnectSessionId::PREFIX)).ok()
}

/// `expires_in` (seconds): 60 to 1800, 1800 when absent.
pub fn expires_in(v: Option<&serde_json::Value>) -> Result<i64, Error> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(MAX_EXPIRES_IN),
        Some(n) => n
            .as_i64()
            .filter(|s| (MIN_EXPIRES_IN..=MAX_EXPIRES_IN).contains(s))
            .ok_or_else(|| {
                Error::invalid(
                    "expires_in",
                    format!("Invalid expires_in: expected whole seconds from {MIN_EXPIRES_IN} to {MAX_EXPIRES_IN} (30 minutes)."),
                )
            }),
    }
}

/// A session's state as callers see it: a pending session past its expiry
/// is `expired` (nothing rewrites the row when it lapses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Pending,
    Completed,
    Expired,
}

impl State {
    /// From the stored status and expiry (epoch milliseconds).
    pub fn of(completed: bool, expires_at_ms: i64, now: Millis) -> Self {
        if completed {
            State::Completed
        } else if now.0 >= expires_at_ms {
            State::Expired
        } else {
            State::Pending
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Completed => "completed",
            State::Expired => "expired",
        }
    }

    /// Whether the link may still install; the error says why not.
    pub fn usable(self) -> Result<(), Error> {
        match self {
            State::Pending => Ok(()),
            State::Completed => Err(Error::ConnectSessionInactive { used: true }),
            State::Expired => Err(Error::ConnectSessionInactive { used: false }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::testing::SeqRandom;

    #[test]
    fn a_minted_token_names_its_session_and_only_its_hash_is_kept() {
        let t = mint(&SeqRandom(std::cell::Cell::new(7)));
        assert!(t.secret.starts_with("cst_"));
        assert_eq!(token_id(&t.secret), Some(t.id.clone()));
        assert_eq!(t.hash, hash_secret(&t.secret));
        assert!(!t.hash.contains(&t.secret[4..24]));
    }

    #[test]
    fn tokens_of_the_wrong_shape_name_no_session() {
        let t = mint(&SeqRandom(std::cell::Cell::new(7)));
        for bad in [
            "",
            "cst_",
            &t.secret[..t.secret.len() - 1],
            &format!("{}x", t.secret),
            &t.secret.replace("cst_", "mk_"),
            &format!("{}!", &t.secret[..t.secret.len() - 1]),
        ] {
            assert_eq!(token_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn expires_in_is_bounded_to_thirty_minutes() {
        use serde_json::json;
        assert_eq!(expires_in(None), Ok(1800));
        assert_eq!(expires_in(Some(&json!(60))), Ok(60));
        for bad in [json!(59), json!(1801), json!(1.5), json!("600"), json!(-1)] {
            let e = expires_in(Some(&bad)).unwrap_err();
            assert!(
                matches!(e, Error::InvalidParameter { ref param, .. } if param == "expires_in"),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_pending_session_expires_at_its_deadline() {
        assert_eq!(State::of(false, 1000, Millis(999)), State::Pending);
        assert_eq!(State::of(false, 1000, Millis(1000)), State::Expired);
        assert_eq!(State::of(true, 1000, Millis(5000)), State::Completed);
        assert_eq!(
            State::Completed.usable(),
            Err(Error::ConnectSessionInactive { used: true })
        );
        assert!(State::Pending.usable().is_ok());
    }
}
