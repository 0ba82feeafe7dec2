//! The cron sweep end to end: 2,000 instances in 20 tenants on two fake
//! providers; every instance gets a fresh check; one provider failing flips
//! exactly its instances, with one event each.

use crate::support::fake::{Mode, Provider};
use crate::support::{call, Server};
use crate::{connectors::GOOD, key, tenant};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const TENANTS: usize = 20;
const PER_TENANT: usize = 100;

/// Every instance of the given tenants: id → (provider index, health).
fn snapshot(s: &Server, keys: &[String]) -> HashMap<String, Value> {
    let mut all = HashMap::new();
    for k in keys {
        let v = call("GET", &s.url("/v1/connectors?limit=100"))
            .auth(k)
            .send()
            .json();
        for c in v["data"].as_array().unwrap() {
            all.insert(c["id"].as_str().unwrap().to_string(), c.clone());
        }
    }
    all
}

fn trigger(s: &Server) {
    let a = call("GET", &s.url("/cdn-cgi/handler/scheduled?cron=*/5+*+*+*+*")).send();
    assert_eq!(a.status, 200);
}

/// Waits until `done` holds for the snapshot; answers how long it took.
fn wait_for(
    s: &Server,
    keys: &[String],
    what: &str,
    done: impl Fn(&HashMap<String, Value>) -> bool,
) -> Duration {
    let started = Instant::now();
    loop {
        if done(&snapshot(s, keys)) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "{what}: the sweep did not finish in 180 s"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

pub fn sweep(s: &Server, a: &Provider, b: &Provider) {
    // 20 tenants × 100 instances, alternating between the two providers.
    let keys: Vec<String> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..TENANTS)
            .map(|t| {
                sc.spawn(move || {
                    let (_, admin, _) = tenant(s, &format!("sweep-{t}"));
                    let (_, m) = key(s, &admin, "manager");
                    for i in 0..PER_TENANT {
                        let p = if i % 2 == 0 { a } else { b };
                        let body = json!({"listing": "github", "name": format!("gh-{i}"),
                                          "auth": {"type": "pat", "token": GOOD}, "config": {"base_url": p.base()}});
                        let r = call("POST", &s.url("/v1/connectors")).auth(&m).json(&body);
                        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
                    }
                    m
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let before = snapshot(s, &keys);
    assert_eq!(before.len(), TENANTS * PER_TENANT);
    let on_a = |c: &Value| c["config"]["base_url"] == json!(a.base());

    trigger(s);
    let took = wait_for(s, &keys, "first pass", |now| {
        now.iter().all(|(id, c)| {
            c["health"]["last_check"].as_str() > before[id]["health"]["last_check"].as_str()
        })
    });
    eprintln!(
        "[e2e] sweep: {} instances in {TENANTS} tenants checked in {took:?}",
        before.len()
    );
    let changes = |k: &String| {
        call(
            "GET",
            &s.url("/v1/events?type=connector.health_changed&limit=100"),
        )
        .auth(k)
        .send()
        .json()["data"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(
        keys.iter().map(changes).sum::<usize>(),
        0,
        "healthy stayed healthy: no events"
    );

    a.set(Mode::Error500);
    trigger(s);
    let took = wait_for(s, &keys, "second pass", |now| {
        now.values()
            .filter(|c| on_a(c))
            .all(|c| c["health"]["healthy"] == false)
    });
    eprintln!("[e2e] sweep: provider A down, its instances flipped in {took:?}");
    let now = snapshot(s, &keys);
    assert!(
        now.values()
            .filter(|c| !on_a(c))
            .all(|c| c["health"]["healthy"] == true),
        "B's instances untouched"
    );
    let events: usize = keys.iter().map(changes).sum();
    assert_eq!(
        events,
        TENANTS * PER_TENANT / 2,
        "one event per flipped instance"
    );
    a.set(Mode::Normal);
}
