//! Tool calls (API §13) on SQLite and the fake provider: receipts read back,
//! the credential injected and never shown, arguments that cannot move the
//! target, idempotency on side effects, agent keys limited to their grants.

use super::*;
use crate::routes::http::{HttpRequest, Method};
use serde_json::{json, Value};

struct Setup {
    w: World,
    admin: String,
    manager: String,
    connector: String,
}

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
        Some(json!({"listing": "github", "name": "gh", "auth": {"type": "pat", "token": GOOD_TOKEN}})),
    );
    assert_eq!(s, 201, "{v}");
    w.provider.sent.borrow_mut().clear();
    Setup {
        connector: v["id"].as_str().unwrap().to_string(),
        w,
        admin,
        manager,
    }
}

fn call(
    w: &World,
    auth: &str,
    connector: &str,
    tool: &str,
    body: Value,
    key: Option<&str>,
) -> (u16, Value, bool) {
    let mut req = HttpRequest::new(
        Method::Post,
        &format!("/v1/connectors/{connector}/tools/{tool}/call"),
    )
    .with_header("authorization", auth)
    .with_body(body.to_string());
    if let Some(k) = key {
        req = req.with_header("idempotency-key", k);
    }
    let r = w.send(req);
    let replayed = r.get_header("idempotent-replayed") == Some("true");
    (r.status, serde_json::from_slice(&r.body).unwrap(), replayed)
}

#[test]
fn a_read_tool_runs_with_the_credential_and_its_receipt_reads_back() {
    let t = setup();
    let (s, v, _) = call(
        &t.w,
        &t.manager,
        &t.connector,
        "repos_get",
        json!({"arguments": {"owner": "octocat", "repo": "hello-world"}}),
        None,
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["object"], "tool_call");
    assert_eq!(
        (v["status"].as_str(), v["mode"].as_str()),
        (Some("succeeded"), Some("live"))
    );
    assert_eq!(v["result"], json!({"login": "octocat"}));
    assert_eq!(
        (v["upstream_status"].as_u64(), v["consumer"].is_null()),
        (Some(200), true)
    );
    assert_eq!(v["capability"], "repo.read");
    let sent = t.w.provider.sent.borrow().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "GET");
    assert_eq!(
        sent[0].url,
        "https://api.github.com/repos/octocat/hello-world"
    );
    assert!(sent[0]
        .headers
        .iter()
        .any(|(k, val)| k == "Authorization" && *val == format!("Bearer {GOOD_TOKEN}")));
    // Read back, and in the list.
    let id = v["id"].as_str().unwrap();
    let (s, got) = t.w.call(
        Method::Get,
        &format!("/v1/tool-calls/{id}"),
        Some(&t.manager),
        None,
    );
    assert_eq!((s, &got), (200, &v));
    let (s, list) = t.w.call(
        Method::Get,
        "/v1/tool-calls?tool=repos_get",
        Some(&t.manager),
        None,
    );
    assert_eq!(s, 200);
    assert_eq!(list["data"][0]["id"], id);
    let (_, none) = t.w.call(
        Method::Get,
        "/v1/tool-calls?tool=issues_create",
        Some(&t.manager),
        None,
    );
    assert_eq!(none["data"], json!([]));
    // The digest is of the canonical arguments: key order does not matter.
    let (_, again, _) = call(
        &t.w,
        &t.manager,
        &t.connector,
        "repos_get",
        json!({"arguments": {"repo": "hello-world", "owner": "octocat"}}),
        None,
    );
    assert_eq!(again["arguments_sha256"], v["arguments_sha256"]);
    assert_ne!(again["id"], v["id"]);
}

#[test]
fn no_receipt_row_or_answer_carries_the_credential() {
    let t = setup();
    *t.w.provider.mode.borrow_mut() = "echo";
    let (s, v, _) = call(
        &t.w,
        &t.manager,
        &t.connector,
        "users_get_authenticated",
        json!({}),
        None,
    );
    assert_eq!(s, 200, "{v}");
    let text = v.to_string();
    assert!(text.contains("Bearer ****"), "{text}");
    assert!(!text.contains(GOOD_TOKEN));
    for row in t.w.rows("SELECT * FROM tool_calls") {
        assert!(!row.to_string().contains(GOOD_TOKEN));
    }
}

#[test]
fn arguments_are_checked_and_can_never_move_the_target() {
    let t = setup();
    let (s, v, _) = call(
        &t.w,
        &t.manager,
        &t.connector,
        "repos_get",
        json!({"arguments": {"owner": "octocat"}}),
        None,
    );
    assert_eq!(
        (s, err_code(&v), v["error"]["param"].as_str()),
        (400, "missing_parameter", Some("arguments.repo"))
    );
    let (s, v, _) = call(
        &t.w,
        &t.manager,
        &t.connector,
        "repos_get",
        json!({"arguments": {"owner": {"a": 1}, "repo": "r"}}),
        None,
    );
    assert_eq!((s, err_code(&v)), (400, "invalid_parameter"), "{v}");
    assert!(
        t.w.provider.sent.borrow().is_empty(),
        "a refused call sent something"
    );
    for evil in [
        "../admin",
        "..",
        "%2e%2e",
        "x?admin=1",
        "x#frag",
        "x\r\nX-Evil: 1",
        "@evil.com",
        "https://evil.com/x",
        "//evil.com",
    ] {
        t.w.provider.sent.borrow_mut().clear();
        let (s, v, _) = call(
            &t.w,
            &t.manager,
            &t.connector,
            "repos_get",
            json!({"arguments": {"owner": evil, "repo": "r"}}),
            None,
        );
        if s == 400 {
            assert!(
                t.w.provider.sent.borrow().is_empty(),
                "{evil:?}: refused but sent"
            );
            continue;
        }
        assert_eq!(s, 200, "{evil:?}: {v}");
        let sent = t.w.provider.sent.borrow();
        let u = url::Url::parse(&sent[0].url).unwrap();
        assert_eq!(
            (u.scheme(), u.host_str(), u.port()),
            ("https", Some("api.github.com"), None),
            "{evil:?}"
        );
        let segments: Vec<&str> = u.path_segments().unwrap().collect();
        assert_eq!(segments.len(), 3, "{evil:?}: {segments:?}");
        assert_eq!((segments[0], segments[2]), ("repos", "r"), "{evil:?}");
        assert!(
            u.query().is_none() && u.fragment().is_none(),
            "{evil:?}: {u}"
        );
        assert!(sent[0]
            .headers
            .iter()
            .all(|(k, _)| !k.eq_ignore_ascii_case("x-evil")));
    }
    // An unknown tool of the listing, and another tenant's connector.
    let (s, v, _) = call(&t.w, &t.manager, &t.connector, "nope", json!({}), None);
    assert_eq!((s, err_code(&v)), (404, "not_found"));
    let (_, other_admin) = t.w.tenant("other");
    let (_, other) = t.w.key(&other_admin, "manager");
    let (s, _, _) = call(
        &t.w,
        &format!("Bearer {other}"),
        &t.connector,
        "repos_get",
        json!({"arguments": {"owner": "o", "repo": "r"}}),
        None,
    );
    assert_eq!(s, 404);
}

#[test]
fn a_side_effect_needs_a_key_and_runs_once_per_key() {
    let t = setup();
    let args =
        json!({"arguments": {"owner": "octocat", "repo": "hello-world", "title": "Found a bug"}});
    let (s, v, _) = call(
        &t.w,
        &t.manager,
        &t.connector,
        "issues_create",
        args.clone(),
        None,
    );
    assert_eq!(
        (s, err_code(&v), v["error"]["param"].as_str()),
        (400, "missing_parameter", Some("Idempotency-Key"))
    );
    assert!(t.w.provider.sent.borrow().is_empty());
    let (s, first, replayed) = call(
        &t.w,
        &t.manager,
        &t.connector,
        "issues_create",
        args.clone(),
        Some("bug-1"),
    );
    assert_eq!((s, replayed), (200, false), "{first}");
    assert_eq!(first["idempotency_key"], "bug-1");
    let (s, second, replayed) = call(
        &t.w,
        &t.manager,
        &t.connector,
        "issues_create",
        args.clone(),
        Some("bug-1"),
    );
    assert_eq!((s, replayed), (200, true));
    assert_eq!(second["id"], first["id"]);
    let posts: Vec<_> =
        t.w.provider
            .sent
            .borrow()
            .iter()
            .filter(|r| r.method == "POST")
            .cloned()
            .collect();
    assert_eq!(posts.len(), 1, "the provider saw the side effect twice");
    assert_eq!(
        posts[0].url,
        "https://api.github.com/repos/octocat/hello-world/issues"
    );
    assert_eq!(
        serde_json::from_str::<Value>(posts[0].body.as_deref().unwrap()).unwrap(),
        json!({"title": "Found a bug"})
    );
    assert_eq!(t.w.rows("SELECT id FROM tool_calls").len(), 1);
    // A dry run sends only the read-only check.
    t.w.provider.sent.borrow_mut().clear();
    let mut dry = args.clone();
    dry["dry_run"] = json!(true);
    let (s, v, _) = call(&t.w, &t.manager, &t.connector, "issues_create", dry, None);
    assert_eq!((s, v["mode"].as_str()), (200, Some("dry_run")), "{v}");
    let sent = t.w.provider.sent.borrow();
    assert!(sent.iter().all(|r| r.method == "GET"), "a dry run wrote");
    assert_eq!(
        sent[0].url,
        "https://api.github.com/repos/octocat/hello-world"
    );
}

#[test]
fn the_provider_saying_no_is_a_failed_receipt_and_no_answer_is_a_502_with_one() {
    let t = setup();
    let args = json!({"arguments": {"owner": "octocat", "repo": "missing"}});
    *t.w.provider.mode.borrow_mut() = "404";
    let (s, v, _) = call(
        &t.w,
        &t.manager,
        &t.connector,
        "repos_get",
        args.clone(),
        None,
    );
    assert_eq!(
        (s, v["status"].as_str(), v["upstream_status"].as_u64()),
        (200, Some("failed"), Some(404)),
        "{v}"
    );
    assert_eq!(v["error"]["code"], "provider_rejected");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Not Found"));
    for mode in ["down", "500"] {
        *t.w.provider.mode.borrow_mut() = mode;
        let (s, v, _) = call(
            &t.w,
            &t.manager,
            &t.connector,
            "repos_get",
            args.clone(),
            None,
        );
        assert_eq!(
            (s, err_code(&v)),
            (502, "connector_upstream_error"),
            "{mode}: {v}"
        );
        let id = v["error"]["tool_call_id"].as_str().expect("a receipt id");
        let (s, r) = t.w.call(
            Method::Get,
            &format!("/v1/tool-calls/{id}"),
            Some(&t.manager),
            None,
        );
        assert_eq!((s, r["status"].as_str()), (200, Some("failed")));
        assert_eq!(r["error"]["code"], "connector_upstream_error");
    }
    // A side effect whose provider did not answer keeps that answer for the
    // key: the retry does not send it again.
    *t.w.provider.mode.borrow_mut() = "down";
    let write = json!({"arguments": {"owner": "o", "repo": "r", "title": "t"}});
    let (s, first, _) = call(
        &t.w,
        &t.manager,
        &t.connector,
        "issues_create",
        write.clone(),
        Some("k-502"),
    );
    assert_eq!(s, 502);
    *t.w.provider.mode.borrow_mut() = "";
    t.w.provider.sent.borrow_mut().clear();
    let (s, again, replayed) = call(
        &t.w,
        &t.manager,
        &t.connector,
        "issues_create",
        write,
        Some("k-502"),
    );
    assert_eq!((s, replayed), (502, true));
    assert_eq!(
        again["error"]["tool_call_id"],
        first["error"]["tool_call_id"]
    );
    assert!(t.w.provider.sent.borrow().is_empty());
}

#[test]
fn an_agent_key_calls_only_what_its_bindings_grant() {
    let t = setup();
    let (s, v) = t.w.call(
        Method::Post,
        "/v1/api-keys",
        Some(&t.admin),
        Some(json!({"role": "agent"})),
    );
    assert_eq!(
        (s, err_code(&v), v["error"]["param"].as_str()),
        (400, "missing_parameter", Some("consumer"))
    );
    let (s, v) = t.w.call(
        Method::Post,
        "/v1/api-keys",
        Some(&t.admin),
        Some(json!({"role": "viewer", "consumer": "x"})),
    );
    assert_eq!((s, err_code(&v)), (400, "invalid_parameter"));
    let (s, key) = t.w.call(
        Method::Post,
        "/v1/api-keys",
        Some(&t.admin),
        Some(json!({"role": "agent", "consumer": "support-bot"})),
    );
    assert_eq!(
        (s, key["consumer"].as_str()),
        (201, Some("support-bot")),
        "{key} {:?}",
        t.w.logs.borrow()
    );
    let agent = format!("Bearer {}", key["secret"].as_str().unwrap());
    // The key reads back with its consumer.
    let (_, keys) = t.w.call(Method::Get, "/v1/api-keys", Some(&t.admin), None);
    assert!(keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["consumer"] == "support-bot" && k["role"] == "agent"));
    let read = json!({"arguments": {"owner": "octocat", "repo": "hello-world"}});
    let (s, v, _) = call(&t.w, &agent, &t.connector, "repos_get", read.clone(), None);
    assert_eq!((s, err_code(&v)), (403, "forbidden"), "{v}");
    assert!(t.w.provider.sent.borrow().is_empty());
    let (s, b) = t.w.call(
        Method::Post,
        "/v1/bindings",
        Some(&t.manager),
        Some(json!({"consumer": "support-bot", "capability": "repo.read"})),
    );
    assert_eq!(s, 201, "{b}");
    let (s, v, _) = call(&t.w, &agent, &t.connector, "repos_get", read, None);
    assert_eq!(
        (s, v["consumer"].as_str()),
        (200, Some("support-bot")),
        "{v}"
    );
    // repo.read does not grant issue.write.
    let (s, _, _) = call(
        &t.w,
        &agent,
        &t.connector,
        "issues_create",
        json!({"arguments": {"owner": "o", "repo": "r", "title": "t"}}),
        Some("a-1"),
    );
    assert_eq!(s, 403);
    // Every other route refuses an agent key.
    for (m, path) in [
        (Method::Get, "/v1/connectors"),
        (Method::Get, "/v1/tool-calls"),
        (Method::Get, "/v1/catalog/github"),
    ] {
        let (s, v) = t.w.call(m, path, Some(&agent), None);
        assert_eq!((s, err_code(&v)), (403, "forbidden"), "{path}: {v}");
    }
    let (_, list) = t.w.call(
        Method::Get,
        "/v1/tool-calls?consumer=support-bot",
        Some(&t.manager),
        None,
    );
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}

#[test]
fn a_test_runs_read_tools_live_with_their_test_arguments_and_never_a_side_effect() {
    let t = setup();
    let (s, v) = t.w.call(
        Method::Post,
        &format!("/v1/connectors/{}/test", t.connector),
        Some(&t.manager),
        Some(json!({"tools": ["repos_list_for_authenticated_user", "issues_create"]})),
    );
    assert_eq!((s, v["status"].as_str()), (200, Some("passed")), "{v}");
    assert_eq!(v["results"][0]["mode"], "live");
    assert_eq!(v["results"][1]["mode"], "dry_run");
    let sent = t.w.provider.sent.borrow();
    assert!(
        sent.iter()
            .any(|r| r.url == "https://api.github.com/user/repos?sort=updated&per_page=1"),
        "{:?}",
        sent.iter().map(|r| &r.url).collect::<Vec<_>>()
    );
    assert!(sent.iter().all(|r| r.method == "GET"), "a test wrote");
}

#[test]
fn mcp_tools_are_proxied_and_a_changed_definition_is_withheld_until_accepted() {
    let t = setup();
    let (s, v) = t.w.call(
        Method::Post,
        "/v1/connectors",
        Some(&t.manager),
        Some(json!({"listing": "github-mcp", "auth": {"type": "pat", "token": GOOD_TOKEN}})),
    );
    assert_eq!(s, 201, "{v}");
    let cn = v["id"].as_str().unwrap().to_string();
    // Pinned at install: one row per upstream tool the manifest names and the server offers.
    let pins = t.w.rows("SELECT tool FROM tool_pins");
    assert!(pins.iter().any(|r| r["tool"] == "get_me"), "{pins:?}");
    let (s, v, _) = call(&t.w, &t.manager, &cn, "get_me", json!({}), None);
    assert_eq!((s, v["status"].as_str()), (200, Some("succeeded")), "{v}");
    assert!(v["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("called get_me"));
    let sent = t.w.provider.sent.borrow().clone();
    let call_sent = sent
        .iter()
        .find(|r| r.body.as_deref().is_some_and(|b| b.contains("tools/call")))
        .expect("a tools/call was sent");
    assert!(call_sent.url.ends_with("/mcp/"));
    assert!(call_sent
        .headers
        .iter()
        .any(|(_, v)| *v == format!("Bearer {GOOD_TOKEN}")));
    // The tool says no: a failed receipt.
    let (s, v, _) = call(
        &t.w,
        &t.manager,
        &cn,
        "create_branch",
        json!({"arguments": {"owner": "o", "repo": "r", "branch": "b"}}),
        Some("br-1"),
    );
    assert_eq!((s, v["status"].as_str()), (200, Some("failed")), "{v}");
    // The server changes get_me: withheld from calls and reported by a test.
    t.w.provider.mcp_changed.set(true);
    t.w.provider.sent.borrow_mut().clear();
    let (s, v, _) = call(&t.w, &t.manager, &cn, "get_me", json!({}), None);
    assert_eq!((s, err_code(&v)), (409, "tool_changed"), "{v}");
    assert!(
        !t.w.provider
            .sent
            .borrow()
            .iter()
            .any(|r| r.body.as_deref().is_some_and(|b| b.contains("tools/call"))),
        "a withheld tool was called"
    );
    let (_, test) = t.w.call(
        Method::Post,
        &format!("/v1/connectors/{cn}/test"),
        Some(&t.manager),
        Some(json!({"tools": ["get_me", "list_issues"]})),
    );
    assert_eq!(test["status"], "failed", "{test}");
    assert!(test["results"][0]["error"]
        .as_str()
        .unwrap()
        .starts_with("tool_changed"));
    assert_eq!(test["results"][1]["ok"], true);
    // A viewer cannot accept; a manager can, and the tool runs again.
    let (_, viewer) = t.w.key(&t.admin, "viewer");
    let (s, _) = t.w.call(
        Method::Post,
        &format!("/v1/connectors/{cn}/tools/accept"),
        Some(&format!("Bearer {viewer}")),
        Some(json!({})),
    );
    assert_eq!(s, 403);
    let (s, v) = t.w.call(
        Method::Post,
        &format!("/v1/connectors/{cn}/tools/accept"),
        Some(&t.manager),
        Some(json!({"tools": ["get_me"]})),
    );
    assert_eq!((s, v["accepted"].clone()), (200, json!(["get_me"])), "{v}");
    let (s, v, _) = call(&t.w, &t.manager, &cn, "get_me", json!({}), None);
    assert_eq!((s, v["status"].as_str()), (200, Some("succeeded")), "{v}");
    // Uninstalled, its pins go with it.
    let (s, _) = t.w.call(
        Method::Delete,
        &format!("/v1/connectors/{cn}"),
        Some(&t.manager),
        None,
    );
    assert_eq!(s, 200);
    assert!(t
        .w
        .rows(&format!(
            "SELECT tool FROM tool_pins WHERE connector_id = '{cn}'"
        ))
        .is_empty());
}
