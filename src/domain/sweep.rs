//! The health sweep's rules (API §6), pure: which instances one run probes
//! within its outbound budget, and per-provider backoff so that a failing
//! provider is probed less and never stalls the others.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// No single invocation makes more outbound requests than this.
pub const MAX_OUTBOUND_PER_RUN: usize = 50;
/// Instances read per run (some may be skipped, so a little above the budget).
pub const BATCH: usize = 60;
const BACKOFF_BASE_MS: i64 = 60_000;
const BACKOFF_MAX_MS: i64 = 3_600_000;

/// A provider that keeps failing is left alone until `until_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backoff {
    pub failures: u32,
    /// When the last failure was seen.
    pub since_ms: i64,
    pub until_ms: i64,
}

/// The backoff after one more result for a provider; `None` when it answered.
/// `jitter` in [0, 1) spreads retries so providers are not hit in lockstep.
pub fn next_backoff(
    prev: Option<&Backoff>,
    reachable: bool,
    now_ms: i64,
    jitter: f64,
) -> Option<Backoff> {
    if reachable {
        return None;
    }
    let failures = prev.map_or(1, |b| b.failures.saturating_add(1));
    let base = BACKOFF_BASE_MS
        .saturating_mul(1i64 << (failures - 1).min(10))
        .min(BACKOFF_MAX_MS);
    let spread = (base as f64 * 0.2 * jitter.clamp(0.0, 1.0)) as i64;
    Some(Backoff {
        failures,
        since_ms: now_ms,
        until_ms: now_ms + base + spread,
    })
}

/// One instance as the planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: String,
    /// The backoff key: the listing (one provider behind it).
    pub provider: String,
    /// OAuth instances may need a token refresh before their probe.
    pub oauth: bool,
    pub pending_auth: bool,
}

/// What one run does with a batch.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    pub probe: Vec<String>,
    /// Skipped this pass: consent pending, or the provider is backing off.
    pub skipped: Vec<String>,
    /// Where the next run starts (the last id this run took a decision on).
    pub cursor: Option<String>,
    /// Outbound requests the probes may make, at most `MAX_OUTBOUND_PER_RUN`.
    pub outbound: usize,
}

/// Takes candidates in id order until the outbound budget is spent. A
/// provider is skipped only for a backoff it earned before this pass began
/// (`pass_started_ms`): within a pass every instance is checked once, so a
/// provider going down flips all of its instances in the same sweep.
pub fn plan(
    batch: &[Candidate],
    backoff: &HashMap<String, Backoff>,
    now_ms: i64,
    pass_started_ms: i64,
) -> Plan {
    let mut p = Plan::default();
    for c in batch {
        let cost = if c.oauth { 2 } else { 1 };
        let backing_off = backoff
            .get(&c.provider)
            .is_some_and(|b| b.since_ms < pass_started_ms && now_ms < b.until_ms);
        if c.pending_auth || backing_off {
            p.skipped.push(c.id.clone());
        } else if p.outbound + cost > MAX_OUTBOUND_PER_RUN {
            break;
        } else {
            p.outbound += cost;
            p.probe.push(c.id.clone());
        }
        p.cursor = Some(c.id.clone());
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(i: usize, provider: &str, oauth: bool) -> Candidate {
        Candidate {
            id: format!("cn_{i:04}"),
            provider: provider.into(),
            oauth,
            pending_auth: false,
        }
    }

    #[test]
    fn budget_bounds_a_run_and_the_cursor_resumes() {
        let batch: Vec<_> = (0..60).map(|i| cand(i, "github", false)).collect();
        let p = plan(&batch, &HashMap::new(), 0, 0);
        assert_eq!((p.probe.len(), p.outbound), (50, 50));
        assert_eq!(p.cursor.as_deref(), Some("cn_0049"));
        let oauth: Vec<_> = (0..60).map(|i| cand(i, "slack", true)).collect();
        let p = plan(&oauth, &HashMap::new(), 0, 0);
        assert_eq!((p.probe.len(), p.outbound), (25, 50));
    }

    #[test]
    fn a_failing_provider_is_skipped_not_the_others() {
        let mut batch: Vec<_> = (0..10).map(|i| cand(i, "down", false)).collect();
        batch.extend((10..20).map(|i| cand(i, "up", false)));
        let mut b = HashMap::new();
        b.insert(
            "down".to_string(),
            next_backoff(None, false, 0, 0.0).unwrap(),
        );
        // A backoff earned in an earlier pass skips the provider…
        let p = plan(&batch, &b, 1_000, 500);
        assert_eq!((p.probe.len(), p.skipped.len()), (10, 10));
        assert!(p.probe.iter().all(|id| id.as_str() >= "cn_0010"));
        // …but not within the pass that earned it, nor after it ends.
        assert_eq!(plan(&batch, &b, 1_000, 0).probe.len(), 20);
        assert_eq!(plan(&batch, &b, 60_000, 500).probe.len(), 20);
    }

    #[test]
    fn backoff_grows_caps_and_clears() {
        let b1 = next_backoff(None, false, 0, 0.0).unwrap();
        let b2 = next_backoff(Some(&b1), false, 0, 0.0).unwrap();
        assert_eq!((b1.until_ms, b2.until_ms), (60_000, 120_000));
        assert_eq!(b1.since_ms, 0);
        let mut b = b2;
        for _ in 0..20 {
            b = next_backoff(Some(&b), false, 0, 0.0).unwrap();
        }
        assert_eq!(b.until_ms, BACKOFF_MAX_MS);
        assert!(next_backoff(Some(&b), false, 0, 0.99).unwrap().until_ms > BACKOFF_MAX_MS);
        assert_eq!(next_backoff(Some(&b), true, 0, 0.5), None);
    }
}
