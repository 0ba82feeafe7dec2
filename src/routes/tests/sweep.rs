//! The health sweep on SQLite: bounded runs, changes-only writes,
//! one event per flip, and a failing provider backed off between passes.

use super::*;
use crate::app::sweep::{run_once, SweepState};
use crate::domain::ids::TenantId;
use crate::domain::sweep::MAX_OUTBOUND_PER_RUN;
use crate::routes::http::Method;
use serde_json::json;

/// Runs one full pass; answers (runs, probed, changed, skipped).
fn pass(w: &World, tenant: &TenantId, st: &mut SweepState) -> (usize, usize, usize, usize) {
    st.active = true;
    st.cursor = None;
    w.advance(1);
    st.started_ms = w.now.get();
    let (mut runs, mut probed, mut changed, mut skipped) = (0, 0, 0, 0);
    loop {
        w.advance(1);
        let r = pollster::block_on(run_once(&w.app(), tenant, st, 0.5)).expect("a run");
        assert!(r.outbound_budget <= MAX_OUTBOUND_PER_RUN);
        runs += 1;
        probed += r.probed;
        changed += r.changed;
        skipped += r.skipped;
        assert_eq!(r.details.len(), r.probed);
        if r.done {
            return (runs, probed, changed, skipped);
        }
        assert!(runs < 100, "the pass must end");
    }
}

#[test]
fn sweeps_are_bounded_and_write_only_changes() {
    let w = World::new();
    w.load_catalog();
    let (tid, admin) = w.tenant("acme");
    let tenant = TenantId::from_trusted(tid);
    let (_, m) = w.key(&admin, "manager");
    let m = format!("Bearer {m}");
    for i in 0..120 {
        let (s, v) = w.call(
            Method::Post,
            "/v1/connectors",
            Some(&m),
            Some(json!({"listing": "github", "name": format!("gh-{i}"), "auth": {"type": "pat", "token": GOOD_TOKEN}})),
        );
        assert_eq!(s, 201, "{v}");
    }
    let events = || {
        w.rows("SELECT id FROM events WHERE type = 'connector.health_changed'")
            .len()
    };
    let mut st = SweepState::default();
    let (runs, probed, changed, _) = pass(&w, &tenant, &mut st);
    assert_eq!(
        (runs, probed, changed, events()),
        (3, 120, 0, 0),
        "healthy stays healthy: no writes"
    );

    *w.provider.mode.borrow_mut() = "down";
    let (_, probed, changed, _) = pass(&w, &tenant, &mut st);
    assert_eq!(
        (probed, changed, events()),
        (120, 120, 120),
        "every instance flips once, one event each"
    );
    let health = w.rows("SELECT health FROM connectors");
    assert_eq!(health.len(), 120);
    assert!(health.iter().all(|c| {
        let h: Value = serde_json::from_str(c["health"].as_str().unwrap()).unwrap();
        h["healthy"] == false
    }));

    // The provider earned a backoff: the next pass leaves it alone.
    let (_, probed, changed, skipped) = pass(&w, &tenant, &mut st);
    assert_eq!((probed, changed, skipped, events()), (0, 0, 120, 120));

    // After the backoff, it recovers: one event each again.
    *w.provider.mode.borrow_mut() = "";
    w.advance(10 * 60_000);
    let (_, probed, changed, _) = pass(&w, &tenant, &mut st);
    assert_eq!((probed, changed, events()), (120, 120, 240));
    assert!(st.backoff.is_empty());
}
