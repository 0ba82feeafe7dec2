//! What the tenant object's alarm does next, pure: the webhooks' state (due
//! when poked, off for a tenant without endpoints), the turns the health
//! sweep and the webhooks take, and when the alarm fires again. The object
//! (`object.rs`) persists the state and applies these rules.

use serde::{Deserialize, Serialize};

/// Storage key of the webhooks' state (`HooksState`).
pub const HOOKS_STATE: &str = "wh:state";
/// The pause between two alarm runs while work remains (the sweep's steps).
pub const STEP_MS: i64 = 10;

/// Whether the tenant's webhooks want the alarm, kept in the object's storage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HooksState {
    /// The tenant this object belongs to (objects are named by tenant id).
    pub tenant: String,
    /// The tenant has endpoints (or had them when last looked at).
    pub on: bool,
    /// When the next webhook step is due: events to fan out, a retry.
    pub next_ms: Option<i64>,
}

impl HooksState {
    /// Applies a poke; answers whether anything changed (to persist).
    pub fn poke(&mut self, tenant: &str, armed: bool, now_ms: i64) -> bool {
        let before = self.clone();
        if armed {
            self.on = true;
            self.tenant = tenant.to_string();
        }
        if self.on && self.next_ms.is_none_or(|n| n > now_ms) {
            self.next_ms = Some(now_ms);
        }
        *self != before
    }

    pub fn due(&self, now_ms: i64) -> bool {
        self.on && self.next_ms.is_some_and(|n| n <= now_ms)
    }

    /// After a webhook step that asked for `next_ms` (`None`: nothing
    /// pending) and found the tenant `idle` (no endpoint): a poke that came
    /// in during the step keeps its earlier time.
    pub fn after_step(&mut self, next_ms: Option<i64>, idle: bool) {
        self.next_ms = match (self.next_ms, next_ms) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if idle && self.next_ms.is_none() {
            self.on = false;
        }
    }
}

/// Which work an alarm run does. The sweep and the webhooks take turns when
/// both have work, so neither starves the other and no run makes more
/// outbound requests than one of them may (50).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Turn {
    #[default]
    Sweep,
    Hooks,
}

pub fn turn(sweep_active: bool, hooks_due: bool, last: Turn) -> Option<Turn> {
    match (sweep_active, hooks_due) {
        (true, true) if last == Turn::Sweep => Some(Turn::Hooks),
        (true, _) => Some(Turn::Sweep),
        (false, true) => Some(Turn::Hooks),
        (false, false) => None,
    }
}

/// When the alarm fires next: the earliest of the sweep's next step, the
/// webhooks' next step and the idempotency purge, never sooner than one step.
pub fn next_alarm(
    now_ms: i64,
    sweep_active: bool,
    hooks_next: Option<i64>,
    purge_at: Option<i64>,
) -> Option<i64> {
    let step = now_ms + STEP_MS;
    [
        sweep_active.then_some(step),
        hooks_next.map(|n| n.max(step)),
        purge_at.map(|p| p.max(step)),
    ]
    .into_iter()
    .flatten()
    .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::protocol::Command;

    #[test]
    fn pokes_wake_the_webhooks_only_when_there_are_endpoints() {
        let mut h = HooksState::default();
        assert!(!h.poke("ten_1", false, 5), "no endpoints known: ignored");
        assert!(!h.due(5));
        assert!(h.poke("ten_1", true, 5));
        assert!(h.due(5) && h.tenant == "ten_1");
        assert!(!h.poke("ten_1", false, 6), "already due");
        // A step that finds a retry in 30 s; a poke meanwhile brings it forward.
        h.next_ms = None;
        h.after_step(Some(30_000), false);
        assert_eq!(h.next_ms, Some(30_000));
        assert!(h.poke("ten_1", false, 7));
        assert_eq!(h.next_ms, Some(7));
        // Idle (no endpoint, nothing pending): off until armed again.
        h.next_ms = None;
        h.after_step(None, true);
        assert!(!h.on);
        assert!(!h.poke("ten_1", false, 8));
        // A poke during an idle step keeps it on.
        h.poke("ten_1", true, 9);
        h.after_step(None, true);
        assert!(h.on && h.due(9));
        let body = serde_json::to_vec(&Command::Poke {
            tenant: "ten_1".into(),
            armed: true,
            now_ms: 1,
        })
        .unwrap();
        assert_eq!(
            body,
            br#"{"poke":{"tenant":"ten_1","armed":true,"now_ms":1}}"#
        );
    }

    #[test]
    fn the_sweep_and_the_webhooks_take_turns() {
        assert_eq!(turn(true, true, Turn::Sweep), Some(Turn::Hooks));
        assert_eq!(turn(true, true, Turn::Hooks), Some(Turn::Sweep));
        assert_eq!(turn(true, false, Turn::Sweep), Some(Turn::Sweep));
        assert_eq!(turn(false, true, Turn::Hooks), Some(Turn::Hooks));
        assert_eq!(turn(false, false, Turn::Hooks), None);
        // The earliest of what is due, never sooner than one step.
        assert_eq!(next_alarm(100, true, Some(5_000), Some(1_000)), Some(110));
        assert_eq!(
            next_alarm(100, false, Some(5_000), Some(1_000)),
            Some(1_000)
        );
        assert_eq!(next_alarm(100, false, Some(50), None), Some(110));
        assert_eq!(next_alarm(100, false, None, None), None);
    }
}
