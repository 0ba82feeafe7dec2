//! Governed side effects (API §15): what a binding's policy lets one call of
//! a tool do, rate limits as a sliding window, and approvals' lifetime. Pure.

use super::Error;

/// What a binding lets its side-effecting tools do (read tools always run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Allow,
    /// A person decides each live call.
    Approve,
    /// Only ever the tool's dry run.
    DryRun,
    Deny,
}

impl Policy {
    pub const ALL: [Policy; 4] = [Policy::Allow, Policy::Approve, Policy::DryRun, Policy::Deny];

    pub fn parse(s: &str) -> Option<Policy> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Allow => "allow",
            Policy::Approve => "approve",
            Policy::DryRun => "dry_run",
            Policy::Deny => "deny",
        }
    }

    /// A tenant's default until an admin changes it.
    pub const DEFAULT: Policy = Policy::Approve;
}

/// What happens to one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send it (`dry_run`: the tool's read-only check instead).
    Run { dry_run: bool },
    /// Store an approval; nothing is sent until a person approves.
    AwaitApproval,
    /// Nothing is sent; the receipt says why.
    Deny(String),
}

/// The action for a call of a tool under `policy`. A read tool always runs;
/// a dry run (asked for, or forced by `dry_run`) runs under every policy
/// but `deny`, since it changes nothing.
pub fn action(policy: Policy, side_effect: bool, dry_run_asked: bool, has_dry_run: bool) -> Action {
    if !side_effect {
        return Action::Run { dry_run: false };
    }
    match policy {
        Policy::Deny => Action::Deny(
            "The binding's policy is 'deny': this consumer may not call side-effecting tools of this capability.".into(),
        ),
        Policy::DryRun if !has_dry_run => Action::Deny(
            "The binding's policy is 'dry_run' and this tool declares no dry run, so it cannot be called.".into(),
        ),
        Policy::DryRun => Action::Run { dry_run: true },
        _ if dry_run_asked => Action::Run { dry_run: true },
        Policy::Allow => Action::Run { dry_run: false },
        Policy::Approve => Action::AwaitApproval,
    }
}

/// How long an approval waits for a decision unless the tenant says
/// otherwise (`approval_ttl_seconds`).
pub const APPROVAL_TTL_MS: i64 = 24 * 3600 * 1000;

/// The most calls a binding's `rate_limit.per_minute` may allow.
pub const RATE_MAX: u32 = 100_000;

/// A `rate_limit` object: `{per_minute}` with 1..=[`RATE_MAX`].
pub fn parse_rate_limit(v: &serde_json::Value) -> Result<Option<u32>, Error> {
    let bad = || {
        Error::invalid(
            "rate_limit",
            format!("Invalid rate_limit: expected {{\"per_minute\": 1…{RATE_MAX}}} or null."),
        )
    };
    match v {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Object(o) => {
            if o.keys().any(|k| k != "per_minute") {
                return Err(bad());
            }
            match o.get("per_minute").and_then(serde_json::Value::as_u64) {
                Some(n) if (1..=RATE_MAX as u64).contains(&n) => Ok(Some(n as u32)),
                _ => Err(bad()),
            }
        }
        _ => Err(bad()),
    }
}

/// The sliding window a rate limit is held by: the times (ms) of the calls
/// allowed in the last minute.
pub const WINDOW_MS: i64 = 60_000;

/// Takes one call from `window` at `now` under `per_minute`: `Ok` records
/// it, `Err(wait_ms)` says how long until one is free. Exact: at most
/// `per_minute` calls in any 60 s.
pub fn take(window: &mut Vec<i64>, per_minute: u32, now: i64) -> Result<(), i64> {
    window.retain(|t| now - t < WINDOW_MS);
    if window.len() < per_minute as usize {
        window.push(now);
        Ok(())
    } else {
        let oldest = window.iter().copied().min().unwrap_or(now);
        Err((oldest + WINDOW_MS - now).max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_decide_only_side_effects() {
        for p in Policy::ALL {
            assert_eq!(
                action(p, false, false, false),
                Action::Run { dry_run: false }
            );
            assert_eq!(Policy::parse(p.as_str()), Some(p));
        }
        assert_eq!(
            action(Policy::Allow, true, false, true),
            Action::Run { dry_run: false }
        );
        assert_eq!(
            action(Policy::Approve, true, false, true),
            Action::AwaitApproval
        );
        assert_eq!(
            action(Policy::Approve, true, true, true),
            Action::Run { dry_run: true }
        );
        assert_eq!(
            action(Policy::DryRun, true, false, true),
            Action::Run { dry_run: true }
        );
        assert!(matches!(
            action(Policy::DryRun, true, false, false),
            Action::Deny(_)
        ));
        assert!(matches!(
            action(Policy::Deny, true, true, true),
            Action::Deny(_)
        ));
        assert_eq!(Policy::parse("maybe"), None);
    }

    #[test]
    fn the_window_is_exact_and_slides() {
        let mut w = vec![];
        for i in 0..50 {
            assert!(take(&mut w, 50, 1_000 + i).is_ok());
        }
        assert_eq!(take(&mut w, 50, 2_000), Err(59_000));
        // One minute after the first call, one is free again.
        assert!(take(&mut w, 50, 61_000).is_ok());
        assert!(take(&mut w, 50, 61_000).is_err());
    }

    #[test]
    fn rate_limits_parse() {
        use serde_json::json;
        assert_eq!(
            parse_rate_limit(&json!({"per_minute": 50})).unwrap(),
            Some(50)
        );
        assert_eq!(parse_rate_limit(&json!(null)).unwrap(), None);
        for bad in [
            json!({}),
            json!({"per_minute": 0}),
            json!({"per_minute": 1.5}),
            json!({"per_minute": 5, "x": 1}),
            json!(5),
        ] {
            assert!(parse_rate_limit(&bad).is_err(), "{bad}");
        }
    }
}
