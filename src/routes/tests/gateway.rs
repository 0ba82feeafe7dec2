//! The agent gateway (API §14) on SQLite and the fake provider: the MCP wire
//! (both eras, headers, framing), the consumer's assembled tools, calls on
//! the tool-call path with receipts and idempotency from `_meta`, and names
//! that are unique and survive a re-pointed binding.

use super::*;
use crate::routes::http::{HttpRequest, Method};
use crate::routes::mcp::{META_IDEMPOTENCY_KEY, META_TOOL_CALL, MODERN};
use serde_json::{json, Value};

struct Setup {
    w: World,
    admin: String,
    manager: String,
    connector: String,
    agent: String,
}

fn setup() -> Setup {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    let (_, manager) = w.key(&admin, "manager");
    let manager = format!("Bearer {manager}");
    let connector = install(&w, &manager, "gh", "https://api.github.com");
    let agent = agent_key(&w, &admin, "support-bot");
    w.provider.sent.borrow_mut().clear();
    Setup {
        w,
        admin,
        manager,
        connector,
        agent,
    }
}

fn install(w: &World, manager: &str, name: &str, base: &str) -> String {
    let (s, v) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(manager),
        Some(json!({"listing": "github", "name": name, "auth": {"type": "pat", "token": GOOD_TOKEN}, "config": {"base_url": base}})),
    );
    assert_eq!(s, 201, "{v}");
    v["id"].as_str().unwrap().to_string()
}

fn agent_key(w: &World, admin: &str, consumer: &str) -> String {
    let (s, k) = w.call(
        Method::Post,
        "/v1/api-keys",
        Some(admin),
        Some(json!({"role": "agent", "consumer": consumer})),
    );
    assert_eq!(s, 201, "{k}");
    format!("Bearer {}", k["secret"].as_str().unwrap())
}

fn bind(w: &World, manager: &str, body: Value) -> (u16, Value) {
    w.call(Method::Post, "/v1/bindings", Some(manager), Some(body))
}

/// One legacy-era JSON-RPC request (no `_meta` version): status, body.
fn rpc(w: &World, auth: &str, method: &str, params: Value) -> (u16, Value) {
    let req = HttpRequest::new(Method::Post, "/v1/mcp")
        .with_header("authorization", auth)
        .with_header("mcp-protocol-version", "2025-11-25")
        .with_body(
            json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}).to_string(),
        );
    let r = w.send(req);
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    )
}

/// One 2026-07-28 request with its `_meta` and mirrored headers.
fn modern(w: &World, auth: &str, method: &str, mut params: Value) -> (u16, Value) {
    params["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!(MODERN);
    params["_meta"]["io.modelcontextprotocol/clientCapabilities"] = json!({});
    let mut req = HttpRequest::new(Method::Post, "/v1/mcp")
        .with_header("authorization", auth)
        .with_header("mcp-protocol-version", MODERN)
        .with_header("mcp-method", method);
    if let Some(n) = params["name"].as_str() {
        req = req.with_header("mcp-name", n);
    }
    let req = req.with_body(
        json!({"jsonrpc": "2.0", "id": "a", "method": method, "params": params}).to_string(),
    );
    let r = w.send(req);
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    )
}

fn names(list: &Value) -> Vec<String> {
    list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn tools_list_is_exactly_what_the_consumers_bindings_grant() {
    let t = setup();
    let (s, init) = rpc(
        &t.w,
        &t.agent,
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
    );
    assert_eq!(s, 200, "{init}");
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(
        init["result"]["capabilities"]["tools"],
        json!({"listChanged": false})
    );
    let (_, empty) = rpc(&t.w, &t.agent, "tools/list", json!({}));
    assert_eq!(names(&empty), Vec::<String>::new());
    let (s, b) = bind(
        &t.w,
        &t.manager,
        json!({"consumer": "support-bot", "capability": "repo.read"}),
    );
    assert_eq!((s, b["alias"].as_str()), (201, Some("github")), "{b}");
    let (s, _) = bind(
        &t.w,
        &t.manager,
        json!({"consumer": "support-bot", "capability": "issue.write", "connector_id": t.connector, "alias": "gh"}),
    );
    assert_eq!(s, 201);
    // Another consumer's binding is not this agent's.
    bind(
        &t.w,
        &t.manager,
        json!({"consumer": "other-bot", "capability": "user.read"}),
    );
    let (s, list) = rpc(&t.w, &t.agent, "tools/list", json!({}));
    assert_eq!(s, 200, "{list}");
    assert_eq!(
        names(&list),
        [
            "gh_issues_create",
            "gh_issues_create_comment",
            "github_repos_get",
            "github_repos_list_for_authenticated_user"
        ]
    );
    let create = &list["result"]["tools"][0];
    assert_eq!(create["annotations"]["readOnlyHint"], false);
    assert!(
        create["inputSchema"]["properties"]["title"].is_object(),
        "{create}"
    );
    assert!(create["title"].is_string() && create["description"].is_string());
    assert_eq!(
        list["result"]["tools"][2]["annotations"]["readOnlyHint"],
        true
    );
    // Legacy answers carry no 2026-07-28 fields.
    assert!(list["result"].get("ttlMs").is_none() && list["result"].get("resultType").is_none());
    // The same set, stateless.
    let (s, m) = modern(&t.w, &t.agent, "tools/list", json!({}));
    assert_eq!(s, 200, "{m}");
    assert_eq!(names(&m), names(&list));
    assert_eq!(
        (
            m["result"]["resultType"].as_str(),
            m["result"]["cacheScope"].as_str(),
            m["result"]["ttlMs"].as_u64()
        ),
        (Some("complete"), Some("private"), Some(0))
    );
    assert_eq!(
        m["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "connector-marketplace"
    );
    // The viewer's JSON view, with provenance.
    let (s, v) = t.w.call(
        Method::Get,
        "/v1/consumers/support-bot/tools",
        Some(&t.manager),
        None,
    );
    assert_eq!(s, 200, "{v}");
    let got: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(got, names(&list));
    assert_eq!(
        (
            v["data"][0]["connector_id"].as_str(),
            v["data"][0]["listing"].as_str()
        ),
        (Some(t.connector.as_str()), Some("github"))
    );
    let (_, page) = t.w.call(
        Method::Get,
        "/v1/consumers/support-bot/tools?limit=3",
        Some(&t.manager),
        None,
    );
    assert_eq!(
        (
            page["data"].as_array().unwrap().len(),
            page["has_more"].as_bool()
        ),
        (3, Some(true))
    );
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, rest) = t.w.call(
        Method::Get,
        &format!("/v1/consumers/support-bot/tools?limit=3&cursor={cursor}"),
        Some(&t.manager),
        None,
    );
    assert_eq!(
        rest["data"][0]["name"],
        "github_repos_list_for_authenticated_user"
    );
    // An agent of another tenant sees nothing of this one.
    let (_, admin2) = t.w.tenant("globex");
    let stranger = agent_key(&t.w, &admin2, "support-bot");
    let (_, none) = rpc(&t.w, &stranger, "tools/list", json!({}));
    assert_eq!(names(&none), Vec::<String>::new());
    let (_, refused) = rpc(
        &t.w,
        &stranger,
        "tools/call",
        json!({"name": "github_repos_get", "arguments": {"owner": "o", "repo": "r"}}),
    );
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
    assert!(t.w.provider.sent.borrow().is_empty());
    let _ = t.admin;
}

#[test]
fn tools_call_runs_on_the_tool_call_path_with_a_receipt_and_its_key_from_meta() {
    let t = setup();
    bind(
        &t.w,
        &t.manager,
        json!({"consumer": "support-bot", "capability": "repo.read"}),
    );
    bind(
        &t.w,
        &t.manager,
        json!({"consumer": "support-bot", "capability": "issue.write", "policy": "allow"}),
    );
    let (s, r) = modern(
        &t.w,
        &t.agent,
        "tools/call",
        json!({"name": "github_repos_get", "arguments": {"owner": "octocat", "repo": "hello-world"}}),
    );
    assert_eq!(s, 200, "{r}");
    let result = &r["result"];
    assert_eq!(result["isError"], false, "{r}");
    assert_eq!(result["structuredContent"], json!({"login": "octocat"}));
    assert_eq!(result["content"][0]["type"], "text");
    let receipt = result["_meta"][META_TOOL_CALL].as_str().unwrap();
    let (s, rc) = t.w.call(
        Method::Get,
        &format!("/v1/tool-calls/{receipt}"),
        Some(&t.manager),
        None,
    );
    assert_eq!(
        (s, rc["consumer"].as_str(), rc["tool"].as_str()),
        (200, Some("support-bot"), Some("repos_get"))
    );
    {
        let sent = t.w.provider.sent.borrow();
        assert_eq!(sent.len(), 1);
        assert_eq!(
            sent[0].url,
            "https://api.github.com/repos/octocat/hello-world"
        );
        assert!(sent[0]
            .headers
            .iter()
            .any(|(_, v)| v == &format!("Bearer {GOOD_TOKEN}")));
    }
    assert!(!r.to_string().contains(GOOD_TOKEN));
    t.w.provider.sent.borrow_mut().clear();
    // Arguments are checked first: a tool error, nothing sent.
    let (_, bad) = rpc(
        &t.w,
        &t.agent,
        "tools/call",
        json!({"name": "github_repos_get", "arguments": {"owner": "octocat"}}),
    );
    assert_eq!(bad["result"]["isError"], true, "{bad}");
    assert!(bad["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("arguments.repo"));
    // A side effect without a key says what to send; nothing is sent.
    let create = json!({"name": "github_issues_create", "arguments": {"owner": "o", "repo": "r", "title": "t"}});
    let (_, nokey) = rpc(&t.w, &t.agent, "tools/call", create.clone());
    assert_eq!(nokey["result"]["isError"], true);
    assert!(
        nokey["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains(META_IDEMPOTENCY_KEY),
        "{nokey}"
    );
    assert!(t.w.provider.sent.borrow().is_empty());
    // With the key: once, and a retry replays the same receipt.
    let mut keyed = create.clone();
    keyed["_meta"] = json!({META_IDEMPOTENCY_KEY: "issue-1"});
    let (_, first) = rpc(&t.w, &t.agent, "tools/call", keyed.clone());
    // (This fake answers 200 where GitHub answers 201: a failed receipt, still one call.)
    assert!(
        first["result"]["_meta"][META_TOOL_CALL].is_string(),
        "{first}"
    );
    let (_, again) = rpc(&t.w, &t.agent, "tools/call", keyed.clone());
    assert_eq!(
        again["result"]["_meta"][META_TOOL_CALL],
        first["result"]["_meta"][META_TOOL_CALL]
    );
    assert_eq!(t.w.provider.sent.borrow().len(), 1);
    // The same key with other arguments is refused as a tool error.
    keyed["arguments"]["title"] = json!("other");
    let (_, reused) = rpc(&t.w, &t.agent, "tools/call", keyed);
    assert_eq!(reused["result"]["isError"], true);
    assert!(reused["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("idempotency_key_reused"));
    assert_eq!(t.w.provider.sent.borrow().len(), 1);
    // An unknown name is a protocol error.
    let (_, unknown) = rpc(
        &t.w,
        &t.agent,
        "tools/call",
        json!({"name": "github_users_get_authenticated"}),
    );
    assert_eq!(unknown["error"]["code"], -32602);
    let (_, list) = t.w.call(
        Method::Get,
        "/v1/tool-calls?consumer=support-bot",
        Some(&t.manager),
        None,
    );
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
}

#[test]
fn the_wire_follows_the_transport_rules() {
    let t = setup();
    let post = |body: &str, headers: &[(&str, &str)]| {
        let mut req =
            HttpRequest::new(Method::Post, "/v1/mcp").with_header("authorization", &t.agent);
        for (k, v) in headers {
            req = req.with_header(k, v);
        }
        let r = t.w.send(req.with_body(body.to_string()));
        let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        (r.status, v, r)
    };
    let (s, v, _) = post("{nope", &[]);
    assert_eq!(
        (s, v["error"]["code"].as_i64(), v["id"].is_null()),
        (400, Some(-32700), true)
    );
    let (s, v, _) = post(r#"[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]"#, &[]);
    assert_eq!((s, v["error"]["code"].as_i64()), (400, Some(-32600)));
    let (s, v, _) = post(r#"{"jsonrpc":"2.0","id":null,"method":"tools/list"}"#, &[]);
    assert_eq!((s, v["error"]["code"].as_i64()), (400, Some(-32600)));
    let (s, _, r) = post(
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        &[],
    );
    assert_eq!((s, r.body.is_empty()), (202, true));
    assert!(r.get_header("mcp-session-id").is_none());
    // 2026-07-28: headers must mirror the body.
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}}}).to_string();
    let (s, v, _) = post(&list, &[]);
    assert_eq!((s, v["error"]["code"].as_i64()), (400, Some(-32020)), "{v}");
    let (s, v, _) = post(&list, &[("mcp-protocol-version", MODERN)]);
    assert_eq!(
        (s, v["error"]["code"].as_i64()),
        (400, Some(-32020)),
        "Mcp-Method missing: {v}"
    );
    let (s, v, _) = post(
        &list,
        &[
            ("mcp-protocol-version", MODERN),
            ("mcp-method", "tools/list"),
        ],
    );
    assert_eq!(s, 200, "{v}");
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "x_y", "_meta": {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}}}).to_string();
    let (s, v, _) = post(
        &call,
        &[
            ("mcp-protocol-version", MODERN),
            ("mcp-method", "tools/call"),
            ("mcp-name", "other"),
        ],
    );
    assert_eq!((s, v["error"]["code"].as_i64()), (400, Some(-32020)));
    // The base64 sentinel is decoded before comparing.
    let (s, v, _) = post(
        &call,
        &[
            ("mcp-protocol-version", MODERN),
            ("mcp-method", "tools/call"),
            ("mcp-name", "=?base64?eF95?="),
        ],
    );
    assert_eq!(
        (s, v["error"]["code"].as_i64()),
        (200, Some(-32602)),
        "unknown tool, headers fine: {v}"
    );
    let future = list.replace(MODERN, "2099-01-01");
    let (s, v, _) = post(
        &future,
        &[
            ("mcp-protocol-version", "2099-01-01"),
            ("mcp-method", "tools/list"),
        ],
    );
    assert_eq!((s, v["error"]["code"].as_i64()), (400, Some(-32022)));
    assert!(v["error"]["data"]["supported"]
        .as_array()
        .unwrap()
        .contains(&json!(MODERN)));
    let nocaps = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN}}}).to_string();
    let (s, v, _) = post(
        &nocaps,
        &[
            ("mcp-protocol-version", MODERN),
            ("mcp-method", "tools/list"),
        ],
    );
    assert_eq!((s, v["error"]["code"].as_i64()), (400, Some(-32602)));
    let (s, v) = modern(&t.w, &t.agent, "ping", json!({}));
    assert_eq!(
        (s, v["error"]["code"].as_i64()),
        (404, Some(-32601)),
        "ping is gone in {MODERN}"
    );
    let (s, v) = rpc(&t.w, &t.agent, "ping", json!({}));
    assert_eq!((s, &v["result"]), (200, &json!({})));
    let (s, d) = modern(&t.w, &t.agent, "server/discover", json!({}));
    assert_eq!(s, 200);
    assert!(d["result"]["supportedVersions"]
        .as_array()
        .unwrap()
        .contains(&json!(MODERN)));
    assert_eq!(d["result"]["capabilities"]["tools"], json!({}));
    // One SSE event when the client takes only a stream.
    let (s, _, r) = post(
        &list,
        &[
            ("mcp-protocol-version", MODERN),
            ("mcp-method", "tools/list"),
            ("accept", "text/event-stream"),
        ],
    );
    assert_eq!(
        (s, r.get_header("content-type")),
        (200, Some("text/event-stream"))
    );
    let text = String::from_utf8(r.body.clone()).unwrap();
    let data = text
        .strip_prefix("event: message\ndata: ")
        .unwrap()
        .trim_end();
    assert_eq!(serde_json::from_str::<Value>(data).unwrap()["id"], 1);
    // Origins, keys, methods.
    let (s, _, _) = post(&list, &[("origin", "https://evil.example")]);
    assert_eq!(s, 403);
    let (s, _, _) = post(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
        &[("origin", "https://agents.example.com")],
    );
    assert_eq!(s, 200);
    let r =
        t.w.send(HttpRequest::new(Method::Post, "/v1/mcp").with_body(list.clone()));
    assert_eq!(r.status, 401);
    assert!(r
        .get_header("www-authenticate")
        .is_some_and(|h| h.starts_with("Bearer")));
    let r = t.w.send(
        HttpRequest::new(Method::Post, "/v1/mcp")
            .with_header("authorization", &t.manager)
            .with_body(list),
    );
    assert_eq!(r.status, 403);
    for m in [Method::Get, Method::Delete] {
        let r =
            t.w.send(HttpRequest::new(m, "/v1/mcp").with_header("authorization", &t.agent));
        assert_eq!(r.status, 405);
    }
}

#[test]
fn names_never_clash_and_survive_a_re_pointed_binding() {
    let t = setup();
    let (s, b) = bind(
        &t.w,
        &t.manager,
        json!({"consumer": "support-bot", "capability": "repo.read", "connector_id": t.connector}),
    );
    assert_eq!(s, 201, "{b}");
    let binding = b["id"].as_str().unwrap().to_string();
    // The same alias and capability again: refused, naming the first.
    let (s, v) = bind(
        &t.w,
        &t.manager,
        json!({"consumer": "support-bot", "capability": "repo.read"}),
    );
    assert_eq!((s, err_code(&v)), (409, "tool_name_taken"), "{v}");
    assert_eq!(v["error"]["binding_id"], binding.as_str());
    // Another alias is fine; a too-long name is refused at bind time.
    let (s, _) = bind(
        &t.w,
        &t.manager,
        json!({"consumer": "support-bot", "capability": "repo.read", "alias": "mirror"}),
    );
    assert_eq!(s, 201);
    let (s, v) = bind(
        &t.w,
        &t.manager,
        json!({"consumer": "support-bot", "capability": "repo.read", "alias": "a".repeat(31)}),
    );
    assert_eq!(
        (s, v["error"]["param"].as_str()),
        (400, Some("alias")),
        "{v}"
    );
    let (s, v) = bind(
        &t.w,
        &t.manager,
        json!({"consumer": "support-bot", "capability": "repo.read", "alias": "Bad_Alias"}),
    );
    assert_eq!((s, err_code(&v)), (400, "invalid_parameter"));
    let (_, before) = rpc(&t.w, &t.agent, "tools/list", json!({}));
    // Re-point to a second instance of the same listing: same names, the
    // next call reaches the new instance.
    let second = install(&t.w, &t.manager, "gh-2", "https://ghe.example.com/api/v3");
    let patch = |body: Value| {
        t.w.call(
            Method::Patch,
            &format!("/v1/bindings/{binding}"),
            Some(&t.manager),
            Some(body),
        )
    };
    let (s, v) = patch(json!({"connector_id": second}));
    assert_eq!(
        (s, v["connector_id"].as_str()),
        (200, Some(second.as_str())),
        "{v}"
    );
    let (_, bindings) =
        t.w.call(Method::Get, "/v1/bindings", Some(&t.manager), None);
    assert!(bindings["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["id"] == binding.as_str() && b["connector_id"] == second.as_str()));
    let (_, after) = rpc(&t.w, &t.agent, "tools/list", json!({}));
    assert_eq!(names(&after), names(&before));
    t.w.provider.sent.borrow_mut().clear();
    let (_, r) = rpc(
        &t.w,
        &t.agent,
        "tools/call",
        json!({"name": "github_repos_get", "arguments": {"owner": "o", "repo": "r"}}),
    );
    assert_eq!(r["result"]["isError"], false, "{r}");
    assert_eq!(
        t.w.provider.sent.borrow()[0].url,
        "https://ghe.example.com/api/v3/repos/o/r"
    );
    // Not to another listing (issue.write: GitHub and GitLab both fulfil it).
    let (s, m) = t.w.call(Method::Post, "/v1/connectors", Some(&t.manager), Some(json!({"listing": "gitlab", "name": "gl", "auth": {"type": "pat", "token": GOOD_TOKEN}})));
    assert_eq!(s, 201, "{m}");
    let (s, issues) = bind(
        &t.w,
        &t.manager,
        json!({"consumer": "support-bot", "capability": "issue.write", "connector_id": t.connector, "alias": "issues"}),
    );
    assert_eq!(s, 201, "{issues}");
    let (s, v) = t.w.call(
        Method::Patch,
        &format!("/v1/bindings/{}", issues["id"].as_str().unwrap()),
        Some(&t.manager),
        Some(json!({"connector_id": m["id"]})),
    );
    assert_eq!(
        (s, v["error"]["param"].as_str()),
        (400, Some("connector_id")),
        "{v}"
    );
    assert!(
        v["error"]["message"].as_str().unwrap().contains("same"),
        "{v}"
    );
    let (s, v) = patch(json!({}));
    assert_eq!((s, err_code(&v)), (400, "missing_parameter"));
    let (s, v) = patch(json!({"connector_id": "cn_nope"}));
    assert_eq!(s, 404, "{v}");
    // A deleted binding's tools disappear and their calls are refused.
    let (s, _) = t.w.call(
        Method::Delete,
        &format!("/v1/bindings/{binding}"),
        Some(&t.manager),
        None,
    );
    assert_eq!(s, 200);
    let (_, gone) = rpc(&t.w, &t.agent, "tools/list", json!({}));
    assert!(
        !names(&gone).contains(&"github_repos_get".to_string()),
        "{gone}"
    );
    let (_, r) = rpc(
        &t.w,
        &t.agent,
        "tools/call",
        json!({"name": "github_repos_get", "arguments": {"owner": "o", "repo": "r"}}),
    );
    assert_eq!(r["error"]["code"], -32602);
}

#[test]
fn tools_list_pages_past_a_hundred_tools_in_a_stable_order() {
    let t = setup();
    // repo.read gives two tools: 51 aliases make 102 names.
    for i in 0..51 {
        let (s, v) = bind(
            &t.w,
            &t.manager,
            json!({"consumer": "support-bot", "capability": "repo.read", "alias": format!("r{i:02}")}),
        );
        assert_eq!(s, 201, "{v}");
    }
    let (_, first) = modern(&t.w, &t.agent, "tools/list", json!({}));
    let page1 = names(&first);
    assert_eq!(page1.len(), 100);
    let cursor = first["result"]["nextCursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let (_, second) = modern(&t.w, &t.agent, "tools/list", json!({"cursor": cursor}));
    let page2 = names(&second);
    assert_eq!(
        page2,
        ["r50_repos_get", "r50_repos_list_for_authenticated_user"]
    );
    assert!(second["result"].get("nextCursor").is_none());
    let mut all = page1.clone();
    all.extend(page2);
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(all, sorted, "sorted, no name twice");
    let (_, again) = modern(&t.w, &t.agent, "tools/list", json!({}));
    assert_eq!(names(&again), page1, "the same order every time");
    let (_, bad) = modern(
        &t.w,
        &t.agent,
        "tools/list",
        json!({"cursor": "not-a-cursor!"}),
    );
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
}
