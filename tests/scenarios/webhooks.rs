//! Webhooks end to end (API §16) against a receiver on 127.0.0.1 that
//! verifies every request with the Standard Webhooks reference library
//! (tests/webhooks/receiver.py, PyPI `standardwebhooks`), not with our code:
//! an event delivered and verified, the test event, the receiver answering
//! 500 and then not listening until every pending event arrives once it is
//! up (the retries in the deliveries list), `410 Gone` disabling an
//! endpoint, no secret in the log or the local state, and — across
//! `wrangler dev`'s restart — a delivery pending before it arriving after.
//! The worker runs with WEBHOOK_RETRY_SCALE=0.001 (5 ms, 30 ms, … 3.6 s).

pub use crate::support::receiver::Receiver;
use crate::support::{call, files_under, Server};
use crate::{key, tenant};
use serde_json::{json, Value};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The retry schedule's scale the e2e worker runs with.
pub const RETRY_SCALE: &str = "0.001";

fn wait_until(what: &str, secs: u64, done: impl Fn() -> bool) -> Duration {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(secs),
            "{what}: not within {secs} s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    started.elapsed()
}

/// Creates an endpoint; answers (id, secret).
fn endpoint(s: &Server, admin: &str, url: &str, events: Value) -> (String, String) {
    let a = call("POST", &s.url("/v1/webhook-endpoints"))
        .auth(admin)
        .json(&json!({"url": url, "events": events}));
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    let v = a.json();
    (
        v["id"].as_str().unwrap().into(),
        v["secret"].as_str().unwrap().into(),
    )
}

fn get(s: &Server, admin: &str, path: &str) -> Value {
    let a = call("GET", &s.url(path)).auth(admin).send();
    assert_eq!(
        a.status,
        200,
        "{path}: {}",
        String::from_utf8_lossy(&a.body)
    );
    a.json()
}

fn deliveries(s: &Server, admin: &str, endpoint: &str) -> Vec<Value> {
    get(
        s,
        admin,
        &format!("/v1/webhook-endpoints/{endpoint}/deliveries?limit=100"),
    )["data"]
        .as_array()
        .unwrap()
        .clone()
}

fn delivery_of(s: &Server, admin: &str, endpoint: &str, event: &str) -> Option<Value> {
    deliveries(s, admin, endpoint)
        .into_iter()
        .find(|d| d["event_id"] == event)
}

/// An `api_key.created` event (a new viewer key); answers the event.
fn event(s: &Server, admin: &str) -> Value {
    let (id, _) = key(s, admin, "viewer");
    let v = get(s, admin, "/v1/events?type=api_key.created&limit=1");
    let e = v["data"][0].clone();
    assert_eq!(e["data"]["api_key_id"], json!(id));
    e
}

fn codes(d: &Value) -> Vec<Value> {
    d["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].clone())
        .collect()
}

pub fn webhooks(s: &Server, r: &Receiver) {
    let (_, admin, _) = tenant(s, "hooks");
    let (_, viewer) = key(s, &admin, "viewer");
    let body = json!({"url": r.url("/e1"), "events": ["*"]});
    let a = call("POST", &s.url("/v1/webhook-endpoints"))
        .auth(&viewer)
        .json(&body);
    assert_eq!(a.status, 403);
    // Plain http only to an allow-listed pair; never to a private address.
    for refused in [
        "http://127.0.0.1:1/e1",
        "https://10.1.2.3/e1",
        "https://localhost/e1",
    ] {
        let a = call("POST", &s.url("/v1/webhook-endpoints"))
            .auth(&admin)
            .json(&json!({"url": refused, "events": ["*"]}));
        assert_eq!(
            (a.status, a.code()),
            (400, "target_not_allowed".into()),
            "{refused}"
        );
        assert_eq!(a.json()["error"]["param"], "url");
    }

    // One event, delivered soon after the request that wrote it (the
    // poke; no cron), verified by the reference library.
    let (e1, secret1) = endpoint(s, &admin, &r.url("/e1"), json!(["*"]));
    r.set("/e1", Some(&secret1), Some(204));
    let shown = get(s, &admin, &format!("/v1/webhook-endpoints/{e1}"));
    assert!(shown.get("secret").is_none());
    let asked = Instant::now();
    let ev = event(s, &admin);
    let id = ev["id"].as_str().unwrap();
    wait_until("the first delivery", 15, || !r.of("/e1", id).is_empty());
    eprintln!(
        "[e2e] webhooks: an event reached the receiver within {:?} of its request",
        asked.elapsed()
    );
    let got = &r.of("/e1", id)[0];
    assert_eq!(got["verified"], true, "{got}");
    assert_eq!(got["content_type"], "application/json");
    let sent: Value = serde_json::from_str(got["body"].as_str().unwrap()).unwrap();
    assert_eq!(sent, ev, "the body is the event as GET /v1/events shows it");
    let d = delivery_of(s, &admin, &e1, id).unwrap();
    assert_eq!(
        (d["status"].as_str(), codes(&d)),
        (Some("succeeded"), vec![json!(204)])
    );

    // The test event goes out at once and is answered with its delivery.
    let a = call("POST", &s.url(&format!("/v1/webhook-endpoints/{e1}/test")))
        .auth(&admin)
        .send();
    assert_eq!(a.status, 200);
    let t = a.json();
    assert_eq!(
        (t["status"].as_str(), t["event_type"].as_str()),
        (Some("succeeded"), Some("webhook.test"))
    );
    let test = r.of("/e1", t["event_id"].as_str().unwrap());
    assert_eq!((test.len(), test[0]["verified"].clone()), (1, json!(true)));

    // The receiver fails (500), then is not listening, then is up: every
    // event is delivered, once, and the retries show in the list.
    r.set("/e1", None, Some(500));
    let events: Vec<String> = (0..3)
        .map(|_| event(s, &admin)["id"].as_str().unwrap().to_string())
        .collect();
    let has = |code: &dyn Fn(&Value) -> bool, n: usize| {
        events.iter().all(|e| {
            delivery_of(s, &admin, &e1, e)
                .is_some_and(|d| codes(&d).iter().filter(|c| code(c)).count() >= n)
        })
    };
    wait_until("two 500s for each event", 15, || {
        has(&|c| *c == json!(500), 2)
    });
    r.down();
    wait_until("an unanswered attempt for each event", 20, || {
        has(&|c| c.is_null(), 1)
    });
    r.set("/e1", None, Some(204));
    r.up();
    let took = wait_until("every event delivered once the receiver is up", 20, || {
        events
            .iter()
            .all(|e| delivery_of(s, &admin, &e1, e).is_some_and(|d| d["status"] == "succeeded"))
    });
    eprintln!("[e2e] webhooks: the backlog arrived {took:?} after the receiver came back");
    for e in &events {
        let d = delivery_of(s, &admin, &e1, e).unwrap();
        let c = codes(&d);
        assert_eq!(c.last(), Some(&json!(204)), "{d}");
        assert!(c.iter().filter(|c| **c == json!(500)).count() >= 2, "{d}");
        let unanswered = &d["attempts"][c.iter().position(Value::is_null).unwrap()];
        assert!(
            unanswered["error"].as_str().unwrap().contains("127.0.0.1"),
            "{d}"
        );
        assert!(d["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["latency_ms"].is_u64()));
        let got = r.of("/e1", e);
        assert!(
            got.iter().all(|g| g["verified"] == true),
            "every request verifies"
        );
        let ok: Vec<_> = got.iter().filter(|g| g["answered"] == 204).collect();
        assert_eq!(ok.len(), 1, "delivered once: {got:?}");
    }

    // 410 Gone disables an endpoint: later events are not sent to it.
    let (e2, secret2) = endpoint(s, &admin, &r.url("/e2"), json!(["api_key.created"]));
    r.set("/e2", Some(&secret2), Some(410));
    let gone = event(s, &admin);
    wait_until("the endpoint disabled", 15, || {
        get(s, &admin, &format!("/v1/webhook-endpoints/{e2}"))["status"] == "disabled"
    });
    let d = deliveries(s, &admin, &e2);
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0]["status"].as_str(), codes(&d[0])),
        (Some("failed"), vec![json!(410)])
    );
    let disabled = get(s, &admin, "/v1/events?type=webhook_endpoint.disabled");
    let disabled_id = disabled["data"][0]["id"].as_str().unwrap().to_string();
    wait_until(
        "the disabling event delivered to the other endpoint",
        15,
        || {
            r.of("/e1", &disabled_id)
                .iter()
                .any(|g| g["verified"] == true)
        },
    );
    let later = event(s, &admin);
    let later_id = later["id"].as_str().unwrap();
    wait_until("a later event delivered", 15, || {
        !r.of("/e1", later_id).is_empty()
    });
    assert!(
        r.of("/e2", later_id).is_empty(),
        "a disabled endpoint gets nothing"
    );
    assert_eq!(
        r.received().iter().filter(|g| g["path"] == "/e2").count(),
        1
    );
    assert_eq!(deliveries(s, &admin, &e2).len(), 1);
    assert_eq!(r.of("/e2", gone["id"].as_str().unwrap()).len(), 1);
    let a = call("POST", &s.url(&format!("/v1/webhook-endpoints/{e2}/test")))
        .auth(&admin)
        .send();
    assert_eq!((a.status, a.code()), (409, "state_conflict".into()));

    // No signing secret in clear in the log or the local D1/KV/DO state.
    for secret in [&secret1, &secret2] {
        let key = &secret[6..];
        assert!(
            !s.log_text().contains(key),
            "the log carried a signing secret"
        );
        for f in files_under(&s.state.join("persist")) {
            let bytes = std::fs::read(&f).unwrap_or_default();
            assert!(
                !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
                "a signing secret in clear in {}",
                f.display()
            );
        }
    }
}

/// A delivery left pending across the restart.
struct Pending {
    admin: String,
    endpoint: String,
    event: String,
    attempts: usize,
}

static PENDING: Mutex<Option<Pending>> = Mutex::new(None);

/// Before `wrangler dev` restarts: a delivery failing (500) and retried.
pub fn before_restart(s: &Server, r: &Receiver) {
    let (_, admin, _) = tenant(s, "hooks-restart");
    let (e3, secret3) = endpoint(s, &admin, &r.url("/e3"), json!(["api_key.created"]));
    r.set("/e3", Some(&secret3), Some(500));
    let ev = event(s, &admin)["id"].as_str().unwrap().to_string();
    wait_until("two failed attempts before the restart", 15, || {
        delivery_of(s, &admin, &e3, &ev).is_some_and(|d| codes(&d).len() >= 2)
    });
    let d = delivery_of(s, &admin, &e3, &ev).unwrap();
    assert_eq!(d["status"], "pending");
    *PENDING.lock().unwrap() = Some(Pending {
        admin,
        endpoint: e3,
        event: ev,
        attempts: codes(&d).len(),
    });
}

/// After the restart: the pending delivery arrives.
pub fn after_restart(s: &Server, r: &Receiver) {
    let p = PENDING
        .lock()
        .unwrap()
        .take()
        .expect("webhooks:before_restart ran");
    // Up only now: what arrives was pending across the restart.
    r.set("/e3", None, Some(204));
    let delivered = || {
        delivery_of(s, &p.admin, &p.endpoint, &p.event).is_some_and(|d| d["status"] == "succeeded")
    };
    let took = wait_until("delivered after the restart", 30, delivered);
    eprintln!("[e2e] webhooks: the pending delivery arrived {took:?} after the restart");
    let d = delivery_of(s, &p.admin, &p.endpoint, &p.event).unwrap();
    let c = codes(&d);
    assert!(c.len() > p.attempts, "{d}");
    assert_eq!(c.last(), Some(&json!(204)));
    assert!(
        c[..c.len() - 1].iter().all(|c| *c == json!(500)),
        "the attempts before it are kept: {d}"
    );
    let got = r.of("/e3", &p.event);
    assert!(got.iter().all(|g| g["verified"] == true));
    assert_eq!(got.iter().filter(|g| g["answered"] == 204).count(), 1);
}
