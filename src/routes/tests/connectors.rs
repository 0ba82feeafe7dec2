//! Installed connectors on SQLite and a fake provider: verify,
//! install, idempotency, list filters, rename, rotation, bindings, uninstall,
//! events, and that no credential leaks anywhere.

use super::*;
use crate::routes::http::{HttpRequest, Method};
use serde_json::{json, Value};

const BAD_TOKEN: &str = "ghp_BadToken0987654321zyxwvutsrqponmlk";

fn setup() -> (World, String, String) {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    let (_, manager) = w.key(&admin, "manager");
    (w, admin, format!("Bearer {manager}"))
}

fn install(w: &World, auth: &str, body: Value) -> (u16, Value) {
    w.call(Method::Post, "/v1/connectors", Some(auth), Some(body))
}

fn github(token: &str, name: &str) -> Value {
    json!({"listing": "github", "name": name, "auth": {"type": "pat", "token": token}})
}

#[test]
fn verify_answers_ok_or_not() {
    let (w, _, m) = setup();
    let (s, v) = w.call(
        Method::Post,
        "/v1/catalog/github/verify",
        Some(&m),
        Some(json!({"auth": {"type": "pat", "token": GOOD_TOKEN}})),
    );
    assert_eq!((s, v["ok"].as_bool()), (200, Some(true)), "{v}");
    let (s, v) = w.call(
        Method::Post,
        "/v1/catalog/github/verify",
        Some(&m),
        Some(json!({"auth": {"type": "pat", "token": BAD_TOKEN}})),
    );
    assert_eq!((s, v["ok"].as_bool()), (200, Some(false)));
    assert!(v["message"].as_str().unwrap().contains("Bad credentials"));
    *w.provider.mode.borrow_mut() = "down";
    let (s, v) = w.call(
        Method::Post,
        "/v1/catalog/github/verify",
        Some(&m),
        Some(json!({"auth": {"type": "pat", "token": GOOD_TOKEN}})),
    );
    assert_eq!((s, err_code(&v)), (502, "connector_upstream_error"));
    // The probe went to GitHub's real endpoint with the token as a Bearer.
    let sent = w.provider.sent.borrow();
    assert_eq!(sent[0].url, "https://api.github.com/user");
    assert!(sent[0]
        .headers
        .iter()
        .any(|(k, v)| k == "Authorization" && v == &format!("Bearer {GOOD_TOKEN}")));
}

#[test]
fn install_validates_before_anything_is_stored() {
    let (w, admin, m) = setup();
    let (_, viewer) = w.key(&admin, "viewer");
    let cases = [
        (
            json!({"auth": {"type": "pat", "token": GOOD_TOKEN}}),
            400,
            "listing",
        ),
        (
            json!({"listing": "nope-nope", "auth": {"type": "none"}}),
            404,
            "listing",
        ),
        (
            json!({"listing": "github", "auth": {"type": "api_key", "key": "x"}}),
            400,
            "auth.type",
        ),
        (
            json!({"listing": "github", "auth": {"type": "pat"}}),
            400,
            "auth.token",
        ),
        (
            json!({"listing": "github", "auth": {"type": "pat", "token": GOOD_TOKEN}, "config": {"base_url": 7}}),
            400,
            "config.base_url",
        ),
        (
            json!({"listing": "github", "name": "bad name!", "auth": {"type": "pat", "token": GOOD_TOKEN}}),
            400,
            "name",
        ),
        (
            json!({"listing": "mongodb-atlas", "auth": {"type": "basic", "username": "mdb_sa_id_x", "password": "x"}}),
            422,
            "listing",
        ),
    ];
    for (body, status, param) in cases {
        let (s, v) = install(&w, &m, body.clone());
        assert_eq!(
            (s, v["error"]["param"].as_str()),
            (status, Some(param)),
            "{body}: {v}"
        );
    }
    let (s, v) = install(&w, &format!("Bearer {viewer}"), github(GOOD_TOKEN, "gh"));
    assert_eq!((s, err_code(&v)), (403, "forbidden"));
    let (s, v) = install(&w, &m, github(BAD_TOKEN, "gh"));
    assert_eq!((s, err_code(&v)), (422, "auth_failed"));
    *w.provider.mode.borrow_mut() = "slow";
    let (s, v) = install(&w, &m, github(GOOD_TOKEN, "gh"));
    assert_eq!((s, err_code(&v)), (502, "connector_upstream_error"));
    assert!(
        w.rows("SELECT id FROM connectors").is_empty(),
        "nothing stored"
    );
}

#[test]
fn lifecycle_with_bindings_and_events() {
    let (w, _, m) = setup();
    let (s, c) = install(&w, &m, github(GOOD_TOKEN, "gh-main"));
    assert_eq!(s, 201, "{c}");
    let id = c["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("cn_"));
    assert_eq!(
        (c["status"].as_str(), c["auth"]["hint"].as_str()),
        (Some("connected"), Some("ghp_****op"))
    );
    assert_eq!(c["health"]["healthy"], true);
    assert_eq!(c["config"]["base_url"], "https://api.github.com");
    // Priced listings state their price.
    let (s, k) = install(
        &w,
        &m,
        json!({"listing": "kustomer", "auth": {"type": "api_key", "key": GOOD_TOKEN}}),
    );
    assert_eq!(s, 201, "{k}");
    assert_eq!(k["price"]["amount_cents"], 2900);
    // OAuth listings wait for consent.
    let (s, o) = install(
        &w,
        &m,
        json!({"listing": "slack", "auth": {"type": "oauth2", "client_id": "123.456", "client_secret": "shh-its-a-secret"}}),
    );
    assert_eq!(
        (s, o["status"].as_str(), o["next_step"].as_str()),
        (201, Some("pending_auth"), Some("oauth")),
        "{o}"
    );
    assert!(o["authorize_url"]
        .as_str()
        .unwrap()
        .starts_with("https://slack.com/oauth/v2/authorize?"));
    // Names are unique in the tenant.
    let (s, v) = install(&w, &m, github(GOOD_TOKEN, "gh-main"));
    assert_eq!((s, err_code(&v)), (409, "state_conflict"));
    // Filters.
    for (q, n) in [
        ("listing=github", 1),
        ("status=pending_auth", 1),
        ("capability=issue.read", 1),
        ("kind=saas", 3),
        ("crew_id=none", 0),
    ] {
        let (s, v) = w.call(Method::Get, &format!("/v1/connectors?{q}"), Some(&m), None);
        assert_eq!((s, v["data"].as_array().unwrap().len()), (200, n), "{q}");
    }
    let (_, v) = w.call(Method::Get, "/v1/connectors?limit=2", Some(&m), None);
    assert_eq!(v["data"][0]["name"], "slack", "newest first");
    assert!(v["has_more"].as_bool().unwrap());
    // Rename; rotate (bad keeps the old secret, good replaces it).
    let (s, v) = w.call(
        Method::Patch,
        &format!("/v1/connectors/{id}"),
        Some(&m),
        Some(json!({"name": "gh-renamed"})),
    );
    assert_eq!((s, v["name"].as_str()), (200, Some("gh-renamed")));
    let sealed = || w.rows(&format!("SELECT secret FROM connectors WHERE id = '{id}'"));
    let sealed_before = sealed();
    assert!(sealed_before[0]["secret"].is_string(), "{sealed_before:?}");
    let (s, v) = w.call(
        Method::Patch,
        &format!("/v1/connectors/{id}"),
        Some(&m),
        Some(json!({"auth": {"type": "pat", "token": BAD_TOKEN}})),
    );
    assert_eq!((s, err_code(&v)), (422, "auth_failed"));
    let sealed_after = sealed();
    assert_eq!(
        sealed_before, sealed_after,
        "a failed rotation keeps the old secret"
    );
    let good2 = format!("{GOOD_TOKEN}-v2");
    let (s, _) = w.call(
        Method::Patch,
        &format!("/v1/connectors/{id}"),
        Some(&m),
        Some(json!({"auth": {"type": "pat", "token": good2}})),
    );
    assert_eq!(s, 200);
    // Changing config without the credential is refused.
    let (s, v) = w.call(
        Method::Patch,
        &format!("/v1/connectors/{id}"),
        Some(&m),
        Some(json!({"config": {"base_url": "https://ghe.example.com/api/v3"}})),
    );
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("auth")));
    // A binding pinned to it blocks the uninstall.
    let (s, b) = w.call(
        Method::Post,
        "/v1/bindings",
        Some(&m),
        Some(json!({"consumer": "triage-agent", "capability": "issue.read", "connector_id": id})),
    );
    assert_eq!(s, 201, "{b}");
    let (s, v) = w.call(
        Method::Post,
        "/v1/bindings",
        Some(&m),
        Some(json!({"consumer": "x", "capability": "payment.refund", "connector_id": id})),
    );
    assert_eq!(
        (s, v["error"]["param"].as_str()),
        (400, Some("connector_id"))
    );
    let (s, caps) = w.call(Method::Get, "/v1/capabilities", Some(&m), None);
    assert_eq!(s, 200);
    let issue_read = caps["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "issue.read")
        .unwrap()
        .clone();
    assert_eq!(issue_read["connectors"], json!([id]));
    let (s, v) = w.call(
        Method::Delete,
        &format!("/v1/connectors/{id}"),
        Some(&m),
        None,
    );
    assert_eq!((s, err_code(&v)), (409, "connector_in_use"));
    assert_eq!(v["error"]["bindings"], json!([b["id"]]));
    // The message names who depends on it and how; the body lists them.
    let bid = b["id"].as_str().unwrap();
    assert_eq!(
        v["error"]["dependents"],
        json!([{"binding": bid, "consumer": "triage-agent", "capability": "issue.read", "pinned": true}])
    );
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("triage-agent ({bid}) is pinned to {id}")),
        "{message}"
    );
    // An unpinned binding whose capability only this instance fulfils.
    let (s, b2) = w.call(
        Method::Post,
        "/v1/bindings",
        Some(&m),
        Some(json!({"consumer": "op_8f2a1c", "capability": "issue.read"})),
    );
    assert_eq!(s, 201, "{b2}");
    let (_, v) = w.call(
        Method::Delete,
        &format!("/v1/connectors/{id}"),
        Some(&m),
        None,
    );
    let message = v["error"]["message"].as_str().unwrap();
    let b2id = b2["id"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "issue.read is fulfilled only by {id}; op_8f2a1c ({b2id}) depends on it"
        )),
        "{message}"
    );
    let mut ids: Vec<&str> = v["error"]["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    ids.sort_unstable();
    let mut want = [bid, b2id];
    want.sort_unstable();
    assert_eq!(ids, want);
    let (s, _) = w.call(
        Method::Delete,
        &format!("/v1/bindings/{b2id}"),
        Some(&m),
        None,
    );
    assert_eq!(s, 200);
    let (s, _) = w.call(
        Method::Delete,
        &format!("/v1/bindings/{}", b["id"].as_str().unwrap()),
        Some(&m),
        None,
    );
    assert_eq!(s, 200);
    let (s, v) = w.call(
        Method::Delete,
        &format!("/v1/connectors/{id}"),
        Some(&m),
        None,
    );
    assert_eq!((s, v["deleted"].as_bool()), (200, Some(true)));
    assert_eq!(
        w.call(Method::Get, &format!("/v1/connectors/{id}"), Some(&m), None)
            .0,
        404
    );
    // Events survive the uninstall and carry no secrets.
    let (_, ev) = w.call(
        Method::Get,
        &format!("/v1/events?connector_id={id}&limit=100"),
        Some(&m),
        None,
    );
    let types: Vec<&str> = ev["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for t in [
        "connector.installed",
        "connector.updated",
        "binding.created",
        "binding.deleted",
        "connector.uninstalled",
    ] {
        assert!(types.contains(&t), "{t} missing from {types:?}");
    }
    let (_, all) = w.call(Method::Get, "/v1/events?limit=100", Some(&m), None);
    let everything = format!(
        "{all}{:?}{:?}",
        w.rows("SELECT * FROM connectors"),
        w.logs.borrow()
    );
    for secret in [GOOD_TOKEN, BAD_TOKEN, "shh-its-a-secret"] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
}

#[test]
fn idempotency_keys_replay_and_refuse_reuse() {
    let (w, _, m) = setup();
    let send = |key: &str, body: &Value| {
        let r = w.send(
            HttpRequest::new(Method::Post, "/v1/connectors")
                .with_header("authorization", &m)
                .with_header("idempotency-key", key)
                .with_body(body.to_string()),
        );
        (
            r.status,
            r.get_header("idempotent-replayed").map(str::to_string),
            String::from_utf8(r.body).unwrap(),
        )
    };
    let body = github(GOOD_TOKEN, "gh-idem");
    let first = send("k-1", &body);
    assert_eq!((first.0, first.1.as_deref()), (201, None));
    let again = send("k-1", &body);
    assert_eq!((again.0, again.1.as_deref()), (201, Some("true")));
    assert_eq!(again.2, first.2, "the same body");
    assert_eq!(w.rows("SELECT id FROM connectors").len(), 1);
    let other = send("k-1", &github(GOOD_TOKEN, "gh-other"));
    assert_eq!(other.0, 422);
    assert!(other.2.contains("idempotency_key_reused"));
    // A request refused by validation stores nothing: the key stays usable.
    let bad = send("k-2", &json!({"listing": "github"}));
    assert_eq!(bad.0, 400);
    let ok = send("k-2", &github(GOOD_TOKEN, "gh-second"));
    assert_eq!(ok.0, 201);
    let bad_key = send(&"k".repeat(256), &body);
    assert_eq!(bad_key.0, 400);
}

#[test]
fn other_tenants_see_404() {
    let (w, _, m) = setup();
    let (_, c) = install(&w, &m, github(GOOD_TOKEN, "gh"));
    let id = c["id"].as_str().unwrap();
    let (_, other_admin) = w.tenant("globex");
    for (method, path, body) in [
        (Method::Get, format!("/v1/connectors/{id}"), None),
        (
            Method::Patch,
            format!("/v1/connectors/{id}"),
            Some(json!({"name": "mine"})),
        ),
        (Method::Delete, format!("/v1/connectors/{id}"), None),
        (
            Method::Post,
            "/v1/bindings".to_string(),
            Some(json!({"consumer": "x", "capability": "issue.read", "connector_id": id})),
        ),
    ] {
        let (s, v) = w.call(method, &path, Some(&other_admin), body);
        assert_eq!(
            (s, err_code(&v)),
            (404, "not_found"),
            "{} {path}",
            method.as_str()
        );
    }
}

#[test]
fn tools_run_live_or_dry() {
    let (w, _, m) = setup();
    let (_, c) = install(&w, &m, github(GOOD_TOKEN, "gh-test"));
    let id = c["id"].as_str().unwrap();
    let path = format!("/v1/connectors/{id}/test");
    let (s, v) = w.call(Method::Post, &path, Some(&m), Some(json!({})));
    assert_eq!((s, v["status"].as_str()), (200, Some("passed")), "{v}");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 9);
    let mode = |t: &str| results.iter().find(|r| r["tool"] == t).unwrap()["mode"].clone();
    assert_eq!(mode("users_get_authenticated"), "live");
    assert_eq!(
        mode("issues_create"),
        "dry_run",
        "side effects are never run"
    );
    // No probe ever wrote: every request the provider saw was a GET.
    assert!(w.provider.sent.borrow().iter().all(|r| r.method == "GET"));
    let (s, v) = w.call(
        Method::Post,
        &path,
        Some(&m),
        Some(json!({"tools": ["nope"]})),
    );
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("tools")));
    let (s, v) = w.call(
        Method::Post,
        &path,
        Some(&m),
        Some(json!({"tools": ["users_get_authenticated"]})),
    );
    assert_eq!((s, v["results"].as_array().unwrap().len()), (200, 1));
    // Unreachable: 502 and the instance is marked.
    *w.provider.mode.borrow_mut() = "down";
    let (s, v) = w.call(Method::Post, &path, Some(&m), Some(json!({})));
    assert_eq!((s, err_code(&v)), (502, "connector_upstream_error"));
    let (_, now) = w.call(Method::Get, &format!("/v1/connectors/{id}"), Some(&m), None);
    assert_eq!(now["status"], "error");
    // Pending consent: 409.
    *w.provider.mode.borrow_mut() = "";
    let (_, o) = install(
        &w,
        &m,
        json!({"listing": "slack", "auth": {"type": "oauth2", "client_id": "1.2", "client_secret": "s"}}),
    );
    let (s, v) = w.call(
        Method::Post,
        &format!("/v1/connectors/{}/test", o["id"].as_str().unwrap()),
        Some(&m),
        Some(json!({})),
    );
    assert_eq!((s, err_code(&v)), (409, "state_conflict"));
}

#[test]
fn mcp_tools_are_listed_not_called() {
    let (w, _, m) = setup();
    let (s, c) = install(
        &w,
        &m,
        json!({"listing": "github-mcp", "auth": {"type": "pat", "token": GOOD_TOKEN}}),
    );
    assert_eq!(s, 201, "{c}");
    let path = format!("/v1/connectors/{}/test", c["id"].as_str().unwrap());
    let (s, v) = w.call(
        Method::Post,
        &path,
        Some(&m),
        Some(json!({"tools": ["get_me", "list_issues"]})),
    );
    assert_eq!((s, v["status"].as_str()), (200, Some("passed")), "{v}");
    let (_, v) = w.call(Method::Post, &path, Some(&m), Some(json!({})));
    assert_eq!(v["status"], "failed");
    let missing: Vec<&Value> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ok"] == false)
        .collect();
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0]["tool"], "create_pull_request");
    // The session id from initialize was sent on, and no tool was ever called.
    let sent = w.provider.sent.borrow();
    assert!(sent.iter().any(|r| r
        .headers
        .iter()
        .any(|(k, v)| k == "Mcp-Session-Id" && v == "sess-1")));
    assert!(sent
        .iter()
        .all(|r| !r.body.as_deref().unwrap_or("").contains("tools/call")));
}

#[test]
fn a_name_is_free_again_after_uninstall_or_rename() {
    // A successful install without an Idempotency-Key leaves its name lock in
    // the tenant object (no bookkeeping call); uninstall and rename free it.
    let (w, _, m) = setup();
    let (s, a) = install(&w, &m, github(GOOD_TOKEN, "alpha"));
    assert_eq!(s, 201, "{a}");
    let (s, e) = install(&w, &m, github(GOOD_TOKEN, "alpha"));
    assert_eq!((s, err_code(&e)), (409, "state_conflict"));
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already exists"),
        "a taken name is reported as taken, not as busy: {e}"
    );
    let id = a["id"].as_str().unwrap();
    let (s, _) = w.call(
        Method::Delete,
        &format!("/v1/connectors/{id}"),
        Some(&m),
        None,
    );
    assert_eq!(s, 200);
    let (s, b) = install(&w, &m, github(GOOD_TOKEN, "alpha"));
    assert_eq!(s, 201, "reinstalled at once: {b}");
    let id = b["id"].as_str().unwrap();
    let (s, _) = w.call(
        Method::Patch,
        &format!("/v1/connectors/{id}"),
        Some(&m),
        Some(json!({"name": "beta"})),
    );
    assert_eq!(s, 200);
    let (s, c) = install(&w, &m, github(GOOD_TOKEN, "alpha"));
    assert_eq!(s, 201, "the old name is free after the rename: {c}");
}
