//! Governed side effects (API §15) on SQLite and the fake provider: policies,
//! approvals bound to the exact call (approved once, denied, expired, raced),
//! the tenant's default, and rate limits held by the tenant object.

use super::*;
use crate::routes::http::{HttpRequest, Method};
use serde_json::{json, Value};

struct Setup {
    w: World,
    admin: String,
    manager: String,
    store: String,
    agent: String,
    binding: String,
}

/// A Magento instance, an agent of `support-bot`, and its binding of
/// `order.hold` with the tenant's default policy (`approve`).
fn setup() -> Setup {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    let (_, manager) = w.key(&admin, "manager");
    let manager = format!("Bearer {manager}");
    let (s, v) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&manager),
        Some(json!({"listing": "magento", "name": "store", "auth": {"type": "api_key", "key": GOOD_TOKEN}, "config": {"base_url": "https://shop.example.com"}})),
    );
    assert_eq!(s, 201, "{v}");
    let store = v["id"].as_str().unwrap().to_string();
    let (s, k) = w.call(
        Method::Post,
        "/v1/api-keys",
        Some(&admin),
        Some(json!({"role": "agent", "consumer": "support-bot"})),
    );
    assert_eq!(s, 201);
    let agent = format!("Bearer {}", k["secret"].as_str().unwrap());
    let (s, b) = w.call(
        Method::Post,
        "/v1/bindings",
        Some(&manager),
        Some(json!({"consumer": "support-bot", "capability": "order.hold"})),
    );
    assert_eq!((s, &b["policy"]), (201, &Value::Null), "{b}");
    w.provider.sent.borrow_mut().clear();
    Setup {
        binding: b["id"].as_str().unwrap().to_string(),
        w,
        admin,
        manager,
        store,
        agent,
    }
}

fn hold(t: &Setup, key: &str, order: u64) -> (u16, Value) {
    let r = t.w.send(
        HttpRequest::new(
            Method::Post,
            &format!("/v1/connectors/{}/tools/hold_order/call", t.store),
        )
        .with_header("authorization", &t.agent)
        .with_header("idempotency-key", key)
        .with_body(json!({"arguments": {"order_id": order}}).to_string()),
    );
    (r.status, serde_json::from_slice(&r.body).unwrap())
}

fn posts(t: &Setup) -> usize {
    t.w.provider
        .sent
        .borrow()
        .iter()
        .filter(|r| r.method == "POST")
        .count()
}

fn decide(t: &Setup, auth: &str, id: &str, verb: &str, body: Value) -> (u16, Value) {
    t.w.call(
        Method::Post,
        &format!("/v1/approvals/{id}/{verb}"),
        Some(auth),
        Some(body),
    )
}

fn events(t: &Setup, kind: &str) -> Vec<Value> {
    let (_, v) = t.w.call(
        Method::Get,
        &format!("/v1/events?type={kind}"),
        Some(&t.manager),
        None,
    );
    v["data"].as_array().unwrap().clone()
}

#[test]
fn an_approved_call_runs_once_and_the_retry_collects_its_result() {
    let t = setup();
    let (s, r) = hold(&t, "hold-1", 42);
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["status"], "pending_approval");
    let approval = r["approval_id"].as_str().unwrap().to_string();
    assert_eq!(posts(&t), 0, "nothing is sent before a decision");
    // The approval reads back with the exact call.
    let (s, a) = t.w.call(
        Method::Get,
        &format!("/v1/approvals/{approval}"),
        Some(&t.manager),
        None,
    );
    assert_eq!(s, 200);
    assert_eq!(
        (
            a["status"].as_str(),
            a["consumer"].as_str(),
            a["tool"].as_str()
        ),
        (Some("pending"), Some("support-bot"), Some("hold_order"))
    );
    assert_eq!(a["arguments"], json!({"order_id": 42}));
    assert_eq!(a["arguments_sha256"], r["arguments_sha256"]);
    assert_eq!(
        (a["idempotency_key"].as_str(), a["tool_call_id"].as_str()),
        (Some("hold-1"), r["id"].as_str())
    );
    let (_, list) = t.w.call(
        Method::Get,
        "/v1/approvals?status=pending&consumer=support-bot",
        Some(&t.manager),
        None,
    );
    assert_eq!(list["data"][0]["id"], approval.as_str());
    assert_eq!(events(&t, "approval.requested").len(), 1);
    // The retry answers the waiting receipt; an agent can never decide.
    let (_, again) = hold(&t, "hold-1", 42);
    assert_eq!(
        (again["id"].clone(), again["status"].as_str()),
        (r["id"].clone(), Some("pending_approval"))
    );
    let (s, _) = decide(&t, &t.agent, &approval, "approve", json!({}));
    assert_eq!(s, 403);
    assert_eq!(posts(&t), 0);
    // A manager approves: exactly that call runs, once.
    let (s, d) = decide(&t, &t.manager, &approval, "approve", json!({}));
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["status"], "approved");
    assert_eq!(d["tool_call"]["status"], "succeeded", "{d}");
    assert_eq!(d["tool_call"]["id"], r["id"]);
    {
        let sent = t.w.provider.sent.borrow();
        let post: Vec<_> = sent.iter().filter(|r| r.method == "POST").collect();
        assert_eq!(post.len(), 1);
        assert_eq!(
            post[0].url,
            "https://shop.example.com/rest/V1/orders/42/hold"
        );
    }
    let (s, again) = decide(&t, &t.manager, &approval, "approve", json!({}));
    assert_eq!((s, err_code(&again)), (409, "state_conflict"), "{again}");
    // The agent's retry with the same key collects the result.
    let (_, done) = hold(&t, "hold-1", 42);
    assert_eq!(
        (done["id"].clone(), done["status"].as_str()),
        (r["id"].clone(), Some("succeeded")),
        "{done}"
    );
    let (_, receipt) = t.w.call(
        Method::Get,
        &format!("/v1/tool-calls/{}", r["id"].as_str().unwrap()),
        Some(&t.manager),
        None,
    );
    assert_eq!(receipt["status"], "succeeded");
    assert_eq!(receipt["approval_id"], approval.as_str());
    assert_eq!(posts(&t), 1);
    assert_eq!(events(&t, "approval.approved").len(), 1);
}

#[test]
fn denied_and_expired_approvals_never_run() {
    let t = setup();
    let (_, r) = hold(&t, "hold-d", 7);
    let ap = r["approval_id"].as_str().unwrap().to_string();
    let (s, d) = decide(
        &t,
        &t.manager,
        &ap,
        "deny",
        json!({"reason": "Order 7 ships today."}),
    );
    assert_eq!(s, 200, "{d}");
    assert_eq!(
        (d["status"].as_str(), d["reason"].as_str()),
        (Some("denied"), Some("Order 7 ships today."))
    );
    assert_eq!(d["tool_call"]["status"], "denied");
    assert_eq!(d["tool_call"]["error"]["code"], "approval_denied");
    let (s, _) = decide(&t, &t.manager, &ap, "approve", json!({}));
    assert_eq!(s, 409);
    let (_, retry) = hold(&t, "hold-d", 7);
    assert_eq!(retry["status"], "denied");
    let (s, v) = decide(&t, &t.manager, &ap, "deny", json!({"nope": 1}));
    assert_eq!((s, err_code(&v)), (400, "invalid_parameter"));
    // Past 24 h nothing can approve it.
    let (_, r) = hold(&t, "hold-e", 8);
    let ap = r["approval_id"].as_str().unwrap().to_string();
    t.w.now.set(t.w.now.get() + 24 * 3600 * 1000 + 1);
    let (_, shown) = t.w.call(
        Method::Get,
        &format!("/v1/approvals/{ap}"),
        Some(&t.manager),
        None,
    );
    assert_eq!(shown["status"], "expired");
    let (s, v) = decide(&t, &t.manager, &ap, "approve", json!({}));
    assert_eq!((s, err_code(&v)), (409, "state_conflict"));
    assert!(
        v["error"]["message"].as_str().unwrap().contains("expired"),
        "{v}"
    );
    let (_, retry) = hold(&t, "hold-e", 8);
    assert_eq!(
        (retry["status"].as_str(), retry["error"]["code"].as_str()),
        (Some("denied"), Some("approval_expired"))
    );
    assert_eq!(events(&t, "approval.expired").len(), 1);
    assert_eq!(events(&t, "approval.denied").len(), 1);
    assert_eq!(posts(&t), 0);
    // Unknown ids.
    let (s, _) = decide(&t, &t.manager, "ap_nope", "approve", json!({}));
    assert_eq!(s, 404);
}

#[test]
fn policies_and_the_tenant_default_decide_side_effects_only() {
    let t = setup();
    let patch = |body: Value| {
        t.w.call(
            Method::Patch,
            &format!("/v1/bindings/{}", t.binding),
            Some(&t.manager),
            Some(body),
        )
    };
    let (s, b) = patch(json!({"policy": "deny"}));
    assert_eq!((s, b["policy"].as_str()), (200, Some("deny")), "{b}");
    let (s, r) = hold(&t, "deny-1", 1);
    assert_eq!(
        (s, r["status"].as_str(), r["error"]["code"].as_str()),
        (200, Some("denied"), Some("policy_denied"))
    );
    let (_, r) = t.w.call(
        Method::Get,
        &format!("/v1/tool-calls/{}", r["id"].as_str().unwrap()),
        Some(&t.manager),
        None,
    );
    assert_eq!(r["status"], "denied", "the denial is a stored receipt");
    let (_, b) = patch(json!({"policy": "dry_run"}));
    assert_eq!(b["policy"], "dry_run");
    let (_, r) = hold(&t, "dry-1", 2);
    assert_eq!(
        (r["mode"].as_str(), r["status"].as_str()),
        (Some("dry_run"), Some("succeeded")),
        "{r}"
    );
    assert_eq!(posts(&t), 0, "a dry run sends only its read-only check");
    let (_, b) = patch(json!({"policy": "allow"}));
    assert_eq!(b["policy"], "allow");
    let (_, r) = hold(&t, "allow-1", 3);
    assert_eq!(
        (r["mode"].as_str(), r["status"].as_str()),
        (Some("live"), Some("succeeded"))
    );
    assert_eq!(posts(&t), 1);
    let (s, v) = patch(json!({"policy": "sometimes"}));
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("policy")));
    // The tenant's default: approve until an admin changes it.
    let (_, b) = patch(json!({"policy": null}));
    assert_eq!(b["policy"], Value::Null);
    let (s, v) =
        t.w.call(Method::Get, "/v1/settings", Some(&t.manager), None);
    assert_eq!((s, v["default_policy"].as_str()), (200, Some("approve")));
    let (s, _) = t.w.call(
        Method::Patch,
        "/v1/settings",
        Some(&t.manager),
        Some(json!({"default_policy": "allow"})),
    );
    assert_eq!(s, 403, "an admin sets the default");
    let (s, v) = t.w.call(
        Method::Patch,
        "/v1/settings",
        Some(&t.admin),
        Some(json!({"default_policy": "deny"})),
    );
    assert_eq!((s, v["default_policy"].as_str()), (200, Some("deny")));
    let (_, v) =
        t.w.call(Method::Get, "/v1/settings", Some(&t.manager), None);
    assert_eq!(v["default_policy"], "deny");
    let (_, r) = hold(&t, "default-1", 4);
    assert_eq!(r["status"], "denied");
    let (s, v) = t.w.call(
        Method::Patch,
        "/v1/settings",
        Some(&t.admin),
        Some(json!({"default_policy": "never"})),
    );
    assert_eq!(
        (s, v["error"]["param"].as_str()),
        (400, Some("default_policy"))
    );
    let (s, v) = t.w.call(
        Method::Patch,
        "/v1/settings",
        Some(&t.admin),
        Some(json!({"approval_ttl_seconds": 0})),
    );
    assert_eq!(
        (s, v["error"]["param"].as_str()),
        (400, Some("approval_ttl_seconds"))
    );
    let (s, v) = t.w.call(
        Method::Patch,
        "/v1/settings",
        Some(&t.admin),
        Some(json!({"approval_ttl_seconds": 60})),
    );
    assert_eq!(
        (
            s,
            v["approval_ttl_seconds"].as_u64(),
            v["default_policy"].as_str()
        ),
        (200, Some(60), Some("deny")),
        "the other field is kept"
    );
    let (_, v) =
        t.w.call(Method::Get, "/v1/settings", Some(&t.manager), None);
    assert_eq!(v["approval_ttl_seconds"], 60);
    // Read tools always run, whatever the policy.
    let (s, _) = t.w.call(
        Method::Post,
        "/v1/bindings",
        Some(&t.manager),
        Some(json!({"consumer": "support-bot", "capability": "order.read", "policy": "deny"})),
    );
    assert_eq!(s, 201);
    let r = t.w.send(
        HttpRequest::new(
            Method::Post,
            &format!("/v1/connectors/{}/tools/get_order/call", t.store),
        )
        .with_header("authorization", &t.agent)
        .with_body(json!({"arguments": {"order_id": 5}}).to_string()),
    );
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        (r.status, v["status"].as_str()),
        (200, Some("succeeded")),
        "{v}"
    );
    // A manager's own call is not governed by a consumer's binding.
    let r = t.w.send(
        HttpRequest::new(
            Method::Post,
            &format!("/v1/connectors/{}/tools/hold_order/call", t.store),
        )
        .with_header("authorization", &t.manager)
        .with_header("idempotency-key", "manager-1")
        .with_body(json!({"arguments": {"order_id": 6}}).to_string()),
    );
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["status"], "succeeded", "{v}");
}

#[test]
fn a_rate_limit_holds_per_consumer_and_instance() {
    let t = setup();
    let (s, b) = t.w.call(
        Method::Post,
        "/v1/bindings",
        Some(&t.manager),
        Some(json!({"consumer": "support-bot", "capability": "order.read", "rate_limit": {"per_minute": 3}})),
    );
    assert_eq!(
        (s, &b["rate_limit"]),
        (201, &json!({"per_minute": 3})),
        "{b}"
    );
    let get = || {
        t.w.send(
            HttpRequest::new(
                Method::Post,
                &format!("/v1/connectors/{}/tools/get_order/call", t.store),
            )
            .with_header("authorization", &t.agent)
            .with_body(json!({"arguments": {"order_id": 5}}).to_string()),
        )
    };
    for _ in 0..3 {
        assert_eq!(get().status, 200);
    }
    let r = get();
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        (r.status, err_code(&v)),
        (429, "rate_limit_exceeded"),
        "{v}"
    );
    let wait: u64 = r.get_header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(
        t.w.provider.sent.borrow().len(),
        3,
        "the fourth call was not sent"
    );
    t.w.now.set(t.w.now.get() + 61_000);
    assert_eq!(get().status, 200, "the window slides");
    for bad in [json!({"per_minute": 0}), json!({"every": 3}), json!(3)] {
        let (s, v) = t.w.call(
            Method::Post,
            "/v1/bindings",
            Some(&t.manager),
            Some(json!({"consumer": "x", "capability": "order.read", "rate_limit": bad})),
        );
        assert_eq!(
            (s, v["error"]["param"].as_str()),
            (400, Some("rate_limit")),
            "{v}"
        );
    }
}
