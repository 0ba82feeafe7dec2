//! Webhook endpoints over HTTP: admin only, validation, the secret shown
//! once, the test event and the deliveries list, pokes after writes, and the
//! body a receiver gets equal to what `GET /v1/events` shows.

use super::*;
use crate::app::webhook_delivery::run_once;
use crate::domain::ids::TenantId;
use crate::routes::http::Method;
use serde_json::json;

const BASE: &str = "/v1/webhook-endpoints";

fn create(w: &World, admin: &str, body: Value) -> (u16, Value) {
    w.call(Method::Post, BASE, Some(admin), Some(body))
}

#[test]
fn only_admins_manage_endpoints() {
    let w = World::new();
    let (_, admin) = w.tenant("acme");
    let (_, m) = w.key(&admin, "manager");
    let (_, v) = w.key(&admin, "viewer");
    let ok = json!({"url": format!("{HOOKS}in"), "events": ["*"]});
    for weak in [format!("Bearer {m}"), format!("Bearer {v}")] {
        assert_eq!(create(&w, &weak, ok.clone()).0, 403);
        assert_eq!(w.call(Method::Get, BASE, Some(&weak), None).0, 403);
    }
    let (s, a) = w.call(
        Method::Post,
        "/v1/api-keys",
        Some(&admin),
        Some(json!({"role": "agent", "consumer": "bot"})),
    );
    assert_eq!(s, 201);
    let agent = format!("Bearer {}", a["secret"].as_str().unwrap());
    assert_eq!(create(&w, &agent, ok.clone()).0, 403);
    assert_eq!(create(&w, OP, ok.clone()).0, 403);
    assert_eq!(w.call(Method::Post, BASE, None, Some(ok)).0, 401);
}

#[test]
fn bodies_are_validated_and_targets_guarded() {
    let w = World::new();
    let (_, admin) = w.tenant("acme");
    for (body, code, param) in [
        (json!({"events": ["*"]}), "missing_parameter", "url"),
        (
            json!({"url": format!("{HOOKS}x")}),
            "missing_parameter",
            "events",
        ),
        (
            json!({"url": format!("{HOOKS}x"), "events": []}),
            "invalid_parameter",
            "events",
        ),
        (
            json!({"url": format!("{HOOKS}x"), "events": ["connector.nope"]}),
            "invalid_parameter",
            "events",
        ),
        (
            json!({"url": "not a url", "events": ["*"]}),
            "invalid_parameter",
            "url",
        ),
        (
            json!({"url": 7, "events": ["*"]}),
            "invalid_parameter",
            "url",
        ),
        (
            json!({"url": "http://hooks.example.com/x", "events": ["*"]}),
            "target_not_allowed",
            "url",
        ),
        (
            json!({"url": "https://10.0.0.8/x", "events": ["*"]}),
            "target_not_allowed",
            "url",
        ),
        (
            json!({"url": "https://[::1]/x", "events": ["*"]}),
            "target_not_allowed",
            "url",
        ),
        (
            json!({"url": "https://metadata.google.internal/", "events": ["*"]}),
            "target_not_allowed",
            "url",
        ),
        (
            json!({"url": format!("{HOOKS}x"), "events": ["*"], "secret": "mine"}),
            "invalid_parameter",
            "secret",
        ),
        (
            json!({"url": format!("{HOOKS}x"), "events": ["*"], "description": ""}),
            "invalid_parameter",
            "description",
        ),
    ] {
        let (s, v) = create(&w, &admin, body.clone());
        assert_eq!(
            (s, err_code(&v), v["error"]["param"].as_str()),
            (400, code, Some(param)),
            "{body}"
        );
    }
    assert!(w.rows("SELECT id FROM webhook_endpoints").is_empty());
}

#[test]
fn the_secret_is_shown_once_and_endpoints_list_and_delete() {
    let w = World::new();
    let (_, admin) = w.tenant("acme");
    let (s, created) = create(
        &w,
        &admin,
        json!({"url": format!("{HOOKS}in"), "events": ["connector.installed", "binding.created"], "description": "ops"}),
    );
    assert_eq!(s, 201, "{created}");
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(created["object"], "webhook_endpoint");
    assert_eq!(created["status"], "enabled");
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("we_") && id.len() == 23);
    let (s, one) = w.call(Method::Get, &format!("{BASE}/{id}"), Some(&admin), None);
    assert_eq!(s, 200);
    assert!(one.get("secret").is_none());
    assert_eq!(
        one["events"],
        json!(["connector.installed", "binding.created"])
    );
    for _ in 0..2 {
        create(
            &w,
            &admin,
            json!({"url": format!("{HOOKS}more"), "events": ["*"]}),
        );
    }
    let (_, page) = w.call(Method::Get, &format!("{BASE}?limit=2"), Some(&admin), None);
    assert_eq!(
        (
            page["data"].as_array().unwrap().len(),
            page["has_more"].clone()
        ),
        (2, json!(true))
    );
    let next = page["next_cursor"].as_str().unwrap();
    let (_, rest) = w.call(
        Method::Get,
        &format!("{BASE}?limit=2&cursor={next}"),
        Some(&admin),
        None,
    );
    assert_eq!(
        rest["data"][0]["id"],
        json!(id),
        "newest first: the first one last"
    );
    let (_, everything) = w.call(
        Method::Get,
        &format!("{BASE}?limit=100"),
        Some(&admin),
        None,
    );
    assert!(!everything.to_string().contains(&secret[6..]));
    let (s, v) = w.call(
        Method::Get,
        &format!("{BASE}?status=enabled"),
        Some(&admin),
        None,
    );
    assert_eq!((s, err_code(&v)), (400, "invalid_parameter"));
    // Another tenant sees none of it.
    let (_, other) = w.tenant("globex");
    assert_eq!(
        w.call(Method::Get, &format!("{BASE}/{id}"), Some(&other), None)
            .0,
        404
    );
    assert_eq!(
        w.call(Method::Delete, &format!("{BASE}/{id}"), Some(&other), None)
            .0,
        404
    );
    assert_eq!(
        w.call(Method::Get, &format!("{BASE}/we_nope"), Some(&admin), None)
            .0,
        404
    );
    let (s, gone) = w.call(Method::Delete, &format!("{BASE}/{id}"), Some(&admin), None);
    assert_eq!((s, gone["deleted"].clone()), (200, json!(true)));
    assert_eq!(
        w.call(Method::Get, &format!("{BASE}/{id}"), Some(&admin), None)
            .0,
        404
    );
    assert_eq!(
        w.call(Method::Delete, &format!("{BASE}/{id}"), Some(&admin), None)
            .0,
        404
    );
    let (_, events) = w.call(
        Method::Get,
        "/v1/events?type=webhook_endpoint.deleted",
        Some(&admin),
        None,
    );
    assert_eq!(events["data"][0]["data"]["webhook_endpoint_id"], json!(id));
    assert!(!w
        .rows("SELECT data FROM events")
        .iter()
        .any(|r| r.to_string().contains(&secret[6..])));
}

#[test]
fn a_test_event_is_sent_at_once_and_its_delivery_listed() {
    let w = World::new();
    let (tid, admin) = w.tenant("acme");
    let (_, created) = create(
        &w,
        &admin,
        json!({"url": format!("{HOOKS}in"), "events": ["*"]}),
    );
    let id = created["id"].as_str().unwrap();
    let (s, d) = w.call(
        Method::Post,
        &format!("{BASE}/{id}/test"),
        Some(&admin),
        None,
    );
    assert_eq!(s, 200, "{d}");
    assert_eq!(
        (d["object"].as_str(), d["status"].as_str()),
        (Some("webhook_delivery"), Some("succeeded"))
    );
    assert_eq!(d["event_type"], "webhook.test");
    assert_eq!(d["attempts"][0]["status_code"], 204);
    assert!(d["id"].as_str().unwrap().starts_with("whd_"));
    // A receiver down: the delivery is pending, its retry scheduled.
    w.provider.hook_answers.borrow_mut().push_back(503);
    let (_, d2) = w.call(
        Method::Post,
        &format!("{BASE}/{id}/test"),
        Some(&admin),
        None,
    );
    assert_eq!(d2["status"], "pending");
    assert_eq!(d2["attempts"][0]["status_code"], 503);
    assert!(
        d2["next_attempt_at"].is_string()
            && d2["attempts"][0]["next_attempt_at"] == d2["next_attempt_at"]
    );
    let (s, list) = w.call(
        Method::Get,
        &format!("{BASE}/{id}/deliveries"),
        Some(&admin),
        None,
    );
    assert_eq!(s, 200);
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&d["id"].as_str().unwrap()) && ids.contains(&d2["id"].as_str().unwrap()));
    // A test goes to the tested endpoint only, never fanned out.
    let tenant = TenantId::from_trusted(tid);
    let r = pollster::block_on(run_once(&w.app(), &tenant)).unwrap();
    assert_eq!(r.created, 0, "{r:?}");
    let (s, v) = w.call(
        Method::Post,
        &format!("{BASE}/{id}/test"),
        Some(&admin),
        Some(json!({"x": 1})),
    );
    assert_eq!((s, err_code(&v)), (400, "invalid_parameter"));
    assert_eq!(
        w.call(
            Method::Get,
            &format!("{BASE}/we_AAAAAAAAAAAAAAAAAAAA/deliveries"),
            Some(&admin),
            None
        )
        .0,
        404
    );
}

#[test]
fn writes_poke_the_tenant_object_and_the_body_is_the_listed_event() {
    let w = World::new();
    let (tid, admin) = w.tenant("acme");
    let tenant = TenantId::from_trusted(tid);
    let pokes = |w: &World| w.objects.pokes.borrow().clone();
    let (_, created) = create(
        &w,
        &admin,
        json!({"url": format!("{HOOKS}in"), "events": ["api_key.created"]}),
    );
    assert_eq!(
        pokes(&w).last(),
        Some(&(tenant.clone(), true)),
        "armed by the creation"
    );
    let before = pokes(&w).len();
    w.key(&admin, "viewer");
    assert_eq!(pokes(&w).len(), before + 1);
    assert_eq!(pokes(&w).last(), Some(&(tenant.clone(), false)));
    // A read writes no event and pokes nobody.
    w.call(Method::Get, "/v1/api-keys", Some(&admin), None);
    assert_eq!(pokes(&w).len(), before + 1);
    let r = pollster::block_on(run_once(&w.app(), &tenant)).unwrap();
    assert_eq!(r.delivered, 1);
    let sent = w.provider.sent.borrow().last().cloned().unwrap();
    let (_, listed) = w.call(
        Method::Get,
        "/v1/events?type=api_key.created&limit=1",
        Some(&admin),
        None,
    );
    let body: Value = serde_json::from_str(sent.body.as_deref().unwrap()).unwrap();
    assert_eq!(body, listed["data"][0]);
    assert_eq!(sent.body.as_deref().unwrap(), listed["data"][0].to_string());
    let id = created["id"].as_str().unwrap();
    let (_, list) = w.call(
        Method::Get,
        &format!("{BASE}/{id}/deliveries"),
        Some(&admin),
        None,
    );
    assert_eq!(list["data"][0]["event_id"], body["id"]);
    assert_eq!(list["data"][0]["status"], "succeeded");
}

#[test]
fn every_documented_event_type_can_be_subscribed_to() {
    let doc: Value = serde_json::from_str(crate::routes::service::OPENAPI).unwrap();
    let s = &doc["components"]["schemas"];
    let mut documented: Vec<&str> = s["EventType"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    documented.extend(
        s["WebhookEventType"]["anyOf"][1]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap()),
    );
    let mut subscribable = crate::domain::webhook::EVENT_TYPES.to_vec();
    documented.sort();
    documented.dedup();
    subscribable.sort();
    assert_eq!(documented, subscribable);
}

#[test]
fn a_tenant_without_endpoints_costs_no_poke() {
    let w = World::new();
    let (_, admin) = w.tenant("quiet");
    let before = w.objects.pokes.borrow().len();
    w.key(&admin, "viewer");
    w.key(&admin, "viewer");
    assert_eq!(
        w.objects.pokes.borrow().len(),
        before,
        "no endpoints: no object call per write"
    );
    // One endpoint, and the next write is poked for.
    let (_, _) = create(
        &w,
        &admin,
        json!({"url": format!("{HOOKS}in"), "events": ["*"]}),
    );
    let armed = w.objects.pokes.borrow().len();
    w.key(&admin, "viewer");
    assert_eq!(w.objects.pokes.borrow().len(), armed + 1);
}
