//! Governed side effects end to end (API §15): an agent, through the MCP
//! gateway with the official Python SDK, calls a side-effecting tool under
//! the tenant's default policy (`approve`); the provider sees nothing until a
//! manager approves, then exactly one call, and the agent's retry with the
//! same key collects the result. Deny, expiry, a second approval, racing
//! managers, the `dry_run` and `deny` policies, and a rate limit under 200
//! concurrent calls. `approval.requested` reaches a webhook receiver that
//! verifies it with the Standard Webhooks library.

use crate::connectors::{Seen, GOOD};
use crate::gateway::{agent, client, post};
use crate::support::fake::Provider;
use crate::support::receiver::Receiver;
use crate::support::{call, Answer, Server};
use crate::tenant;
use serde_json::{json, Value};

const KEY: &str = "dev.connector-marketplace/idempotency_key";
const RECEIPT: &str = "dev.connector-marketplace/tool_call_id";

/// Polls `f` for up to 20 s.
fn wait_for<T>(f: impl Fn() -> Option<T>) -> T {
    let started = std::time::Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(started.elapsed().as_secs() < 20, "not within 20 s");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn holds(p: &Provider, order: u64) -> usize {
    let path = format!("/rest/V1/orders/{order}/hold");
    p.seen()
        .iter()
        .filter(|x| x.method == "POST" && x.path == path)
        .count()
}

fn decide(s: &Server, m: &str, id: &str, verb: &str, body: Value) -> Answer {
    call("POST", &s.url(&format!("/v1/approvals/{id}/{verb}")))
        .auth(m)
        .json(&body)
}

/// A hold asked for over REST by the agent; answers the receipt.
fn hold(s: &Server, bot: &str, mg: &str, order: u64, key: &str) -> Value {
    let a = call(
        "POST",
        &s.url(&format!("/v1/connectors/{mg}/tools/hold_order/call")),
    )
    .auth(bot)
    .header("idempotency-key", key)
    .json(&json!({"arguments": {"order_id": order}}));
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    a.json()
}

pub fn governance(s: &Server, p: &Provider, seen: &Seen, r: &Receiver) {
    let (_, admin, _) = tenant(s, "governed");
    let m = post(s, &admin, "/v1/api-keys", json!({"role": "manager"}))["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let mg = post(s, &m, "/v1/connectors", json!({"listing": "magento", "name": "store", "auth": {"type": "api_key", "key": GOOD}, "config": {"base_url": p.base()}}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let bot = agent(s, &admin, "ops-bot");
    let b_hold = post(
        s,
        &m,
        "/v1/bindings",
        json!({"consumer": "ops-bot", "capability": "order.hold"}),
    );
    assert_eq!(
        b_hold["policy"],
        Value::Null,
        "the tenant's default applies"
    );
    let b_hold = b_hold["id"].as_str().unwrap().to_string();
    // A person is told: approval.requested reaches a webhook receiver that
    // verifies it with the Standard Webhooks library.
    let a = call("POST", &s.url("/v1/webhook-endpoints"))
        .auth(&admin)
        .json(&json!({"url": r.url("/approvals"), "events": ["approval.requested", "approval.approved"]}));
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    r.set(
        "/approvals",
        Some(a.json()["secret"].as_str().unwrap()),
        Some(204),
    );
    // 1. Under approve, through the official client: nothing is sent.
    p.clear();
    let call42 = json!([{"op": "call", "name": "magento_hold_order", "arguments": {"order_id": 42}, "meta": {KEY: "hold-42"}}]);
    let out = client(s, "client.py", "python", &bot, &call42);
    seen.lock().unwrap().push(out.to_string().into_bytes());
    let pending = &out["steps"][0];
    assert_eq!(pending["isError"], false, "{out}");
    assert_eq!(
        pending["structuredContent"]["status"], "pending_approval",
        "{out}"
    );
    let approval = pending["structuredContent"]["approval_id"]
        .as_str()
        .unwrap()
        .to_string();
    let receipt = pending["_meta"][RECEIPT].as_str().unwrap().to_string();
    assert_eq!(
        holds(p, 42),
        0,
        "nothing reaches the provider before a decision"
    );
    let told = wait_for(|| {
        r.received().into_iter().find(|x| {
            x["path"] == "/approvals"
                && serde_json::from_str::<Value>(x["body"].as_str().unwrap_or("null")).is_ok_and(
                    |b| {
                        b["type"] == "approval.requested"
                            && b["data"]["approval_id"] == approval.as_str()
                    },
                )
        })
    });
    assert_eq!(told["verified"], true, "{told}");
    let listed = call("GET", &s.url("/v1/approvals?status=pending"))
        .auth(&m)
        .send()
        .json();
    assert_eq!(listed["data"][0]["id"], approval.as_str());
    assert_eq!(listed["data"][0]["arguments"], json!({"order_id": 42}));
    // An agent key can never decide; a manager approves: exactly one call.
    assert_eq!(decide(s, &bot, &approval, "approve", json!({})).status, 403);
    let a = decide(s, &m, &approval, "approve", json!({}));
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.json()["tool_call"]["status"], "succeeded");
    assert_eq!(holds(p, 42), 1);
    assert_eq!(
        decide(s, &m, &approval, "approve", json!({})).status,
        409,
        "a decision is made once"
    );
    assert_eq!(holds(p, 42), 1);
    // The agent's retry with the same key collects the result.
    let out = client(s, "client.py", "python", &bot, &call42);
    let done = &out["steps"][0];
    assert_eq!(
        (
            done["isError"].as_bool(),
            done["content"][0]["text"].as_str()
        ),
        (Some(false), Some("true")),
        "{out}"
    );
    assert_eq!(done["_meta"][RECEIPT], receipt.as_str());
    assert_eq!(holds(p, 42), 1);
    let r = call("GET", &s.url(&format!("/v1/tool-calls/{receipt}")))
        .auth(&m)
        .send()
        .json();
    assert_eq!(
        (r["status"].as_str(), r["approval_id"].as_str()),
        (Some("succeeded"), Some(approval.as_str()))
    );
    // 2. Denied: never runs; the retry says why.
    let call43 = json!([{"op": "call", "name": "magento_hold_order", "arguments": {"order_id": 43}, "meta": {KEY: "hold-43"}}]);
    let out = client(s, "client.py", "python", &bot, &call43);
    let r = &out["steps"][0]["structuredContent"];
    let a = decide(
        s,
        &m,
        r["approval_id"].as_str().unwrap(),
        "deny",
        json!({"reason": "Order 43 ships today."}),
    );
    assert_eq!(a.status, 200);
    let out = client(
        s,
        "client_modern.mjs",
        "node",
        &bot,
        &json!([{"op": "call", "name": "magento_hold_order", "arguments": {"order_id": 43}, "meta": {KEY: "hold-43"}}]),
    );
    let denied = &out["steps"][0];
    assert_eq!(denied["isError"], true, "{out}");
    assert!(
        denied["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Order 43 ships today."),
        "{out}"
    );
    assert_eq!(holds(p, 43), 0);
    // 3. Two managers race: one decides, the other gets 409; one call.
    let m2 = post(s, &admin, "/v1/api-keys", json!({"role": "manager"}))["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let r = hold(s, &bot, &mg, 44, "hold-44");
    let ap = r["approval_id"].as_str().unwrap().to_string();
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let a = scope.spawn(|| decide(s, &m, &ap, "approve", json!({})).status);
        let b = scope.spawn(|| decide(s, &m2, &ap, "approve", json!({})).status);
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    let mut sorted = statuses.clone();
    sorted.sort();
    assert_eq!(sorted, [200, 409], "{statuses:?}");
    assert_eq!(holds(p, 44), 1);
    // 4. Expiry: the tenant's approvals wait one second; the cron records it.
    let a = call("PATCH", &s.url("/v1/settings"))
        .auth(&admin)
        .json(&json!({"approval_ttl_seconds": 1}));
    assert_eq!(a.status, 200);
    let r = hold(s, &bot, &mg, 45, "hold-45");
    let ap = r["approval_id"].as_str().unwrap().to_string();
    std::thread::sleep(std::time::Duration::from_millis(1_500));
    let a = decide(s, &m, &ap, "approve", json!({}));
    assert_eq!(a.status, 409);
    assert!(a.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));
    let r = hold(s, &bot, &mg, 46, "hold-46");
    std::thread::sleep(std::time::Duration::from_millis(1_500));
    assert_eq!(
        call("GET", &s.url("/cdn-cgi/handler/scheduled?cron=*/5+*+*+*+*"))
            .send()
            .status,
        200
    );
    let ev = call("GET", &s.url("/v1/events?type=approval.expired"))
        .auth(&m)
        .send()
        .json();
    assert!(
        ev["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["data"]["approval_id"] == r["approval_id"]),
        "{ev}"
    );
    let back = hold(s, &bot, &mg, 46, "hold-46");
    assert_eq!(
        (back["status"].as_str(), back["error"]["code"].as_str()),
        (Some("denied"), Some("approval_expired"))
    );
    assert_eq!(holds(p, 45) + holds(p, 46), 0);
    call("PATCH", &s.url("/v1/settings"))
        .auth(&admin)
        .json(&json!({"approval_ttl_seconds": 86400}));
    // 5. dry_run and deny policies, through the gateway.
    let set = |policy: &str| {
        let a = call("PATCH", &s.url(&format!("/v1/bindings/{b_hold}")))
            .auth(&m)
            .json(&json!({"policy": policy}));
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    };
    set("dry_run");
    let out = client(
        s,
        "client_legacy.mjs",
        "node",
        &bot,
        &json!([{"op": "call", "name": "magento_hold_order", "arguments": {"order_id": 47}, "meta": {KEY: "hold-47"}}]),
    );
    let dry = &out["steps"][0];
    assert_eq!(dry["isError"], false, "{out}");
    let r = call(
        "GET",
        &s.url(&format!(
            "/v1/tool-calls/{}",
            dry["_meta"][RECEIPT].as_str().unwrap()
        )),
    )
    .auth(&m)
    .send()
    .json();
    assert_eq!(r["mode"], "dry_run");
    assert_eq!(holds(p, 47), 0, "a dry run sends only its read-only check");
    set("deny");
    let out = client(
        s,
        "client_legacy.mjs",
        "node",
        &bot,
        &json!([{"op": "call", "name": "magento_hold_order", "arguments": {"order_id": 48}, "meta": {KEY: "hold-48"}}]),
    );
    assert_eq!(out["steps"][0]["isError"], true, "{out}");
    assert_eq!(holds(p, 48), 0);
    // 6. 200 concurrent calls at 50 a minute: exactly 50 reach the provider.
    post(
        s,
        &m,
        "/v1/bindings",
        json!({"consumer": "ops-bot", "capability": "order.read", "rate_limit": {"per_minute": 50}}),
    );
    p.clear();
    let answers: Vec<Answer> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..200)
            .map(|_| {
                scope.spawn(|| {
                    call(
                        "POST",
                        &s.url(&format!("/v1/connectors/{mg}/tools/get_order/call")),
                    )
                    .auth(&bot)
                    .json(&json!({"arguments": {"order_id": 49}}))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok = answers.iter().filter(|a| a.status == 200).count();
    let limited: Vec<&Answer> = answers.iter().filter(|a| a.status == 429).collect();
    assert_eq!(
        (ok, limited.len()),
        (50, 150),
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    assert!(limited
        .iter()
        .all(|a| a.header("retry-after").is_some() && a.code() == "rate_limit_exceeded"));
    let reached = p
        .seen()
        .iter()
        .filter(|x| x.method == "GET" && x.path == "/rest/V1/orders/49")
        .count();
    assert_eq!(reached, 50);
}
