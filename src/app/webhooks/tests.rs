//! Webhooks as use cases over the production SQL on SQLite and the fake
//! receiver (`testing::HOOKS`): sealing, the outbox fan-out, signatures,
//! retries to the horizon, 410, leases and the per-run bound.

use super::*;
use crate::app::webhook_delivery::{run_once, HooksReport, LEASE_MS, MAX_SENDS_PER_RUN};
use crate::domain::auth::Role;
use crate::domain::webhook::{sign, signing_key};
use crate::probe::client::OutboundRequest;
use crate::store::webhooks::Lease;
use crate::testing::{World, HOOKS};
use pollster::block_on;
use serde_json::Value;

struct Setup {
    w: World,
    tenant: TenantId,
    by: KeyId,
}

fn setup() -> Setup {
    let w = World::new();
    let (t, k) = block_on(crate::app::keys::create_tenant(&w.app(), "acme".into())).unwrap();
    Setup {
        w,
        tenant: t.id,
        by: k.key.id,
    }
}

impl Setup {
    fn endpoint(&self, path: &str, events: &[&str]) -> Created {
        block_on(create(
            &self.w.app(),
            &self.tenant,
            &self.by,
            NewEndpoint {
                url: format!("{HOOKS}{path}"),
                events: events.iter().map(|e| e.to_string()).collect(),
                description: None,
            },
        ))
        .unwrap()
    }

    /// An audit event the usual way: a new API key.
    fn key_event(&self) {
        block_on(crate::app::keys::create_key(
            &self.w.app(),
            &self.tenant,
            &self.by,
            Role::Viewer,
            None,
            None,
        ))
        .unwrap();
    }

    fn run(&self) -> HooksReport {
        self.w.advance(1);
        block_on(run_once(&self.w.app(), &self.tenant)).unwrap()
    }

    /// What the receiver got, in order.
    fn received(&self) -> Vec<OutboundRequest> {
        self.w
            .provider
            .sent
            .borrow()
            .iter()
            .filter(|r| r.url.starts_with(HOOKS))
            .cloned()
            .collect()
    }

    fn deliveries(&self, e: &Created) -> Vec<DeliveryRecord> {
        block_on(deliveries(
            &self.w.app(),
            &self.tenant,
            e.endpoint.id.as_str(),
            None,
            100,
        ))
        .unwrap()
    }

    fn answers(&self, statuses: &[u16]) {
        self.w.provider.hook_answers.borrow_mut().extend(statuses);
    }
}

fn header<'a>(r: &'a OutboundRequest, name: &str) -> &'a str {
    r.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name}"))
}

#[test]
fn the_secret_is_answered_once_and_stored_sealed() {
    let s = setup();
    let c = s.endpoint("in?token=abc", &["*"]);
    assert!(c.secret.starts_with("whsec_"));
    let rows = s.w.rows("SELECT * FROM webhook_endpoints");
    let text = Value::from(rows.clone()).to_string();
    assert!(!text.contains(&c.secret) && !text.contains(&c.secret[6..]));
    assert!(rows[0]["secret"].as_str().unwrap().starts_with("v1:"));
    let opened = crate::app::vault::open_secret(
        &s.w.app(),
        &s.tenant,
        c.endpoint.id.as_str(),
        rows[0]["secret"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(opened, c.secret);
    // The event names the host only (a receiver's URL may hold a token).
    let events =
        s.w.rows("SELECT type, data FROM events WHERE type = 'webhook_endpoint.created'");
    let data = events[0]["data"].as_str().unwrap();
    assert!(
        data.contains("hooks.example.com") && !data.contains("token"),
        "{data}"
    );
    assert!(!data.contains(&c.secret[6..]));
}

#[test]
fn events_are_fanned_out_signed_and_delivered_once() {
    let s = setup();
    s.key_event(); // before any endpoint: never delivered
    let all = s.endpoint("all", &["*"]);
    let keys = s.endpoint("keys", &["api_key.revoked"]);
    s.key_event();
    s.key_event();
    let r = s.run();
    assert_eq!((r.created, r.sent, r.delivered), (3, 3, 3), "{r:?}");
    assert_eq!(r.next_ms, None);
    // `all` got its sibling's creation and both keys; `keys` nothing.
    let got = s.received();
    assert!(got.iter().all(|g| g.url == format!("{HOOKS}all")));
    let mut kinds: Vec<String> = got
        .iter()
        .map(|g| {
            serde_json::from_str::<Value>(g.body.as_deref().unwrap()).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "api_key.created",
            "api_key.created",
            "webhook_endpoint.created"
        ]
    );
    assert!(s.deliveries(&keys).is_empty());
    let key = signing_key(&all.secret).unwrap();
    for g in &got {
        let body = g.body.as_deref().unwrap();
        let id = header(g, "webhook-id");
        let ts: i64 = header(g, "webhook-timestamp").parse().unwrap();
        assert_eq!(header(g, "webhook-signature"), sign(&key, id, ts, body));
        assert_eq!(header(g, "content-type"), "application/json");
        assert!(g.no_redirects, "a receiver's redirect is never followed");
        // The body is the event as GET /v1/events renders it.
        let v: Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["id"], id);
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["id", "object", "type", "connector_id", "data", "created_at"]
        );
    }
    // Nothing more to send; a second run delivers nothing twice.
    let r = s.run();
    assert_eq!((r.created, r.sent), (0, 0));
    assert_eq!(s.received().len(), 3);
    let ds = s.deliveries(&all);
    assert!(ds
        .iter()
        .all(|d| d.status == "succeeded" && d.attempts.len() == 1));
    assert_eq!(ds[0].attempts[0]["status_code"], 204);
}

#[test]
fn failures_are_retried_on_the_schedule_with_the_same_id() {
    let s = setup();
    let e = s.endpoint("x", &["api_key.created"]);
    s.answers(&[500, 0, 503]);
    s.key_event();
    let r = s.run();
    assert_eq!((r.sent, r.delivered), (1, 0));
    let first = s.w.now.get();
    let next = r.next_ms.unwrap();
    assert!(
        (4_500..=5_500).contains(&(next - first)),
        "{}",
        next - first
    );
    // Not before it is due.
    assert_eq!(s.run().sent, 0);
    for _ in 0..3 {
        let due = s.deliveries(&e)[0].next_attempt_ms.unwrap();
        s.w.now.set(due);
        assert_eq!(s.run().sent, 1);
    }
    let d = &s.deliveries(&e)[0];
    assert_eq!(d.status, "succeeded");
    let codes: Vec<&Value> = d.attempts.iter().map(|a| &a["status_code"]).collect();
    assert_eq!(
        codes,
        [
            &Value::from(500),
            &Value::Null,
            &Value::from(503),
            &Value::from(204)
        ]
    );
    assert!(d.attempts[1]["error"]
        .as_str()
        .unwrap()
        .contains("connection refused"));
    assert!(d.attempts[0]["next_attempt_at"].is_string());
    assert!(d.attempts[3]["next_attempt_at"].is_null());
    assert_eq!(d.next_attempt_ms, None);
    let got = s.received();
    assert_eq!(got.len(), 4);
    let ids: Vec<&str> = got.iter().map(|g| header(g, "webhook-id")).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "stable across retries");
    assert_ne!(
        header(&got[0], "webhook-timestamp"),
        header(&got[3], "webhook-timestamp")
    );
}

#[test]
fn a_receiver_that_never_answers_is_retried_for_24_hours_then_failed() {
    let s = setup();
    let e = s.endpoint("x", &["*"]);
    s.answers(&[500; 40]);
    s.key_event();
    let mut at = vec![];
    loop {
        let r = s.run();
        at.push(s.w.now.get());
        let Some(next) = r.next_ms else { break };
        s.w.now.set(next - 1);
        assert!(at.len() < 100);
    }
    let d = &s.deliveries(&e)[0];
    assert_eq!(d.status, "failed");
    assert_eq!(d.attempts.len(), at.len());
    // About 30 (jittered): 6 backoff steps, then hourly.
    assert!((28..=31).contains(&at.len()), "{}", at.len());
    let (first, n) = (at[0], at.len());
    assert!(
        at[n - 1] - first >= 24 * 3_600_000,
        "the last at or after 24 h"
    );
    assert!(
        at[n - 2] - first < 24 * 3_600_000,
        "and the one before within"
    );
}

#[test]
fn gone_disables_the_endpoint_and_cancels_what_is_pending() {
    let s = setup();
    let e = s.endpoint("x", &["*"]);
    let other = s.endpoint("y", &["webhook_endpoint.disabled"]);
    // The creation of `other` (to `x`) fails; the key event answers 410.
    s.answers(&[500, 410]);
    s.w.provider.sent.borrow_mut().clear();
    s.key_event();
    let r = s.run();
    assert_eq!(
        r.next_ms,
        Some(s.w.now.get()),
        "its event is fanned out next"
    );
    let got: Vec<String> = s.received().iter().map(|g| g.url.clone()).collect();
    assert_eq!(got.len(), 2);
    let ep = block_on(get(&s.w.app(), &s.tenant, e.endpoint.id.as_str())).unwrap();
    assert_eq!(ep.status, "disabled");
    assert!(ep.disabled_reason.unwrap().contains("410"));
    let mut statuses: Vec<String> = s.deliveries(&e).into_iter().map(|d| d.status).collect();
    statuses.sort();
    assert_eq!(statuses, ["canceled", "failed"]);
    // Later events are not delivered to it; the other endpoint learns.
    s.key_event();
    let r = s.run();
    assert_eq!(r.sent, 1);
    assert!(s.received().last().unwrap().url.ends_with("/y"));
    assert_eq!(
        s.deliveries(&other)[0].event_type,
        "webhook_endpoint.disabled"
    );
    assert_eq!(s.deliveries(&e).len(), 2);
    let test = block_on(crate::app::webhook_delivery::send_test(
        &s.w.app(),
        &s.tenant,
        &s.by,
        e.endpoint.id.as_str(),
    ));
    assert!(matches!(test, Err(Fail::Domain(Error::StateConflict(_)))));
}

#[test]
fn a_held_delivery_is_not_sent_again_until_its_lease_ends() {
    let s = setup();
    let e = s.endpoint("x", &["*"]);
    s.key_event();
    // Another sender claims it (and then dies without recording).
    let app = s.w.app();
    let outbox = block_on(app.webhooks.outbox(&s.tenant, 100)).unwrap();
    assert_eq!(outbox.events.len(), 1);
    let new = vec![crate::store::webhooks::NewDelivery {
        id: crate::domain::ids::WebhookDeliveryId::generate(app.rng.as_ref()),
        endpoint_id: e.endpoint.id.to_string(),
        event_id: outbox.events[0].id.clone(),
        event_type: outbox.events[0].kind.clone(),
    }];
    let lease = Lease {
        token: "other-sender".into(),
        now_ms: app.now.0,
        until_ms: app.now.0 + LEASE_MS,
        now: app.now.rfc3339(),
    };
    let held = block_on(app.webhooks.fan_out_and_claim(
        &s.tenant,
        &new,
        Some(outbox.events[0].seq),
        &lease,
        10,
    ))
    .unwrap();
    assert_eq!(held.len(), 1);
    // A repeat of the same fan-out makes no second delivery.
    block_on(
        app.webhooks
            .fan_out_and_claim(&s.tenant, &new, None, &lease, 0),
    )
    .unwrap();
    assert_eq!(s.deliveries(&e).len(), 1);
    let r = s.run();
    assert_eq!((r.created, r.sent), (0, 0), "held by the other sender");
    assert!(
        r.next_ms.unwrap() >= app.now.0 + LEASE_MS,
        "due when the lease ends"
    );
    s.w.now.set(app.now.0 + LEASE_MS);
    assert_eq!(s.run().delivered, 1);
    // The dead sender's late record changes nothing.
    let late = crate::store::webhooks::Attempted {
        id: held[0].id.clone(),
        attempt: serde_json::json!({"late": true}),
        status: "failed".into(),
        next_attempt_ms: None,
        attempted_ms: 0,
    };
    block_on(app.webhooks.record(&s.tenant, &[late], &[], &lease)).unwrap();
    let d = &s.deliveries(&e)[0];
    assert_eq!((d.status.as_str(), d.attempts.len()), ("succeeded", 1));
}

#[test]
fn a_run_is_bounded_and_the_rest_follows() {
    let s = setup();
    let e = s.endpoint("x", &["api_key.created"]);
    for _ in 0..120 {
        s.key_event();
    }
    let r = s.run();
    assert_eq!((r.created, r.sent), (100, MAX_SENDS_PER_RUN));
    assert_eq!(r.next_ms, Some(s.w.now.get()), "more is waiting: at once");
    while s.run().next_ms.is_some() {}
    assert_eq!(s.received().len(), 120, "each once");
    assert_eq!(s.deliveries(&e).len(), 100, "the list's page");
    assert_eq!(
        s.w.rows("SELECT id FROM webhook_deliveries WHERE status = 'succeeded'")
            .len(),
        120
    );
}

#[test]
fn without_endpoints_a_run_is_idle_and_deleting_removes_deliveries() {
    let s = setup();
    s.key_event();
    assert!(s.run().idle);
    let e = s.endpoint("x", &["*"]);
    s.answers(&[500]);
    s.key_event();
    assert!(!s.run().idle);
    block_on(delete(&s.w.app(), &s.tenant, &s.by, e.endpoint.id.as_str())).unwrap();
    assert!(s.w.rows("SELECT id FROM webhook_deliveries").is_empty());
    assert!(s.run().idle);
    let gone = block_on(get(&s.w.app(), &s.tenant, e.endpoint.id.as_str()));
    assert!(matches!(gone, Err(Fail::Domain(Error::NotFound { .. }))));
    // Its events stay in the audit trail.
    assert_eq!(
        s.w.rows("SELECT id FROM events WHERE type = 'webhook_endpoint.deleted'")
            .len(),
        1
    );
}

#[test]
fn a_tenant_has_at_most_16_endpoints() {
    let s = setup();
    for i in 0..MAX_ENDPOINTS {
        s.endpoint(&format!("{i}"), &["*"]);
    }
    let over = block_on(create(
        &s.w.app(),
        &s.tenant,
        &s.by,
        NewEndpoint {
            url: format!("{HOOKS}17"),
            events: vec!["*".into()],
            description: None,
        },
    ));
    assert!(matches!(over, Err(Fail::Domain(Error::StateConflict(_)))));
}
