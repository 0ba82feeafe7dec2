//! The agent gateway end to end (API §14) with the official MCP SDKs — the
//! Python SDK (`mcp`, speaking 2026-07-28), the TypeScript SDK 1.x
//! (`initialize`, 2025-11-25) and the TypeScript v2 client (2026-07-28) —
//! each connecting with an agent key, listing its consumer's tools and
//! calling a read tool and a side effect against the fake provider; then
//! isolation, a deleted binding, and a replaced source.

use crate::connectors::{Seen, GOOD};
use crate::support::fake::Provider;
use crate::support::{call, Server};
use crate::tenant;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

const KEY: &str = "dev.connector-marketplace/idempotency_key";
const RECEIPT: &str = "dev.connector-marketplace/tool_call_id";

/// The three clients: (script, how to run it, the revision it must speak).
const CLIENTS: &[(&str, &str, &str)] = &[
    ("client.py", "python", "2026-07-28"),
    ("client_legacy.mjs", "node", "2025-11-25"),
    ("client_modern.mjs", "node", "2026-07-28"),
];

/// Runs one SDK client with `steps`; answers its output line.
pub fn client(s: &Server, script: &str, runner: &str, agent: &str, steps: &Value) -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let program = match runner {
        "python" => root.join(".state/venv/bin/python"),
        _ => "node".into(),
    };
    let out = Command::new(program)
        .current_dir(root)
        .arg(root.join("tests/mcp").join(script))
        .arg(s.url("/v1/mcp"))
        .arg(agent)
        .arg(steps.to_string())
        .output()
        .unwrap_or_else(|e| panic!("{script}: {e} (scripts/mcp-clients.sh installs the SDKs)"));
    assert!(
        out.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{script}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn names(list_step: &Value) -> Vec<String> {
    list_step["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("no tools: {list_step}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

pub fn post(s: &Server, auth: &str, path: &str, body: Value) -> Value {
    let a = call("POST", &s.url(path)).auth(auth).json(&body);
    assert!(
        a.status < 300,
        "{path}: {}",
        String::from_utf8_lossy(&a.body)
    );
    a.json()
}

pub fn agent(s: &Server, admin: &str, consumer: &str) -> String {
    post(
        s,
        admin,
        "/v1/api-keys",
        json!({"role": "agent", "consumer": consumer}),
    )["secret"]
        .as_str()
        .unwrap()
        .to_string()
}

pub fn gateway(s: &Server, p: &Provider, seen: &Seen) {
    let (_, admin, _) = tenant(s, "gateway");
    let m = post(s, &admin, "/v1/api-keys", json!({"role": "manager"}))["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let install = |name: &str, listing: &str, auth: Value| {
        post(s, &m, "/v1/connectors", json!({"listing": listing, "name": name, "auth": auth, "config": {"base_url": p.base()}}))["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let gh = install("gh", "github", json!({"type": "pat", "token": GOOD}));
    let mg = install("store", "magento", json!({"type": "api_key", "key": GOOD}));
    let bot = agent(s, &admin, "support-bot");
    let repo = post(
        s,
        &m,
        "/v1/bindings",
        json!({"consumer": "support-bot", "capability": "repo.read"}),
    );
    assert_eq!(repo["alias"], "github");
    let issues = post(
        s,
        &m,
        "/v1/bindings",
        json!({"consumer": "support-bot", "capability": "issue.write", "connector_id": gh, "alias": "gh", "policy": "allow"}),
    );
    let orders = post(
        s,
        &m,
        "/v1/bindings",
        json!({"consumer": "support-bot", "capability": "order.read"}),
    );
    post(
        s,
        &m,
        "/v1/bindings",
        json!({"consumer": "other-bot", "capability": "user.read"}),
    );
    let expected = [
        "gh_issues_create",
        "gh_issues_create_comment",
        "github_repos_get",
        "github_repos_list_for_authenticated_user",
        "magento_get_order",
        "magento_search_orders",
    ];
    // Each official client lists, reads, creates an issue with a key, and
    // retries it: the provider sees one POST per key.
    for (script, runner, revision) in CLIENTS {
        p.clear();
        let k = format!("issue-{script}");
        let steps = json!([
            {"op": "list"},
            {"op": "call", "name": "github_repos_get", "arguments": {"owner": "octocat", "repo": "hello-world"}},
            {"op": "call", "name": "gh_issues_create", "arguments": {"owner": "octocat", "repo": "hello-world", "title": "From an agent"}, "meta": {KEY: k}},
            {"op": "call", "name": "gh_issues_create", "arguments": {"owner": "octocat", "repo": "hello-world", "title": "From an agent"}, "meta": {KEY: k}},
            {"op": "call", "name": "gh_issues_create", "arguments": {"owner": "octocat", "repo": "hello-world", "title": "No key"}},
            {"op": "call", "name": "magento_get_order", "arguments": {"order_id": 42}},
        ]);
        let out = client(s, script, runner, &bot, &steps);
        seen.lock().unwrap().push(out.to_string().into_bytes());
        assert_eq!(out["protocol_version"], *revision, "{script}: {out}");
        let st = &out["steps"];
        assert_eq!(names(&st[0]), expected, "{script}");
        let create = st[0]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "gh_issues_create")
            .unwrap();
        assert_eq!(
            create["annotations"]["readOnlyHint"], false,
            "{script}: {create}"
        );
        assert!(create["inputSchema"]["required"]
            .as_array()
            .unwrap()
            .contains(&json!("title")));
        let read = &st[1];
        assert_eq!(read["isError"], false, "{script}: {read}");
        assert_eq!(
            read["structuredContent"]["full_name"], "octocat/hello-world",
            "{script}"
        );
        let receipt = read["_meta"][RECEIPT]
            .as_str()
            .unwrap_or_else(|| panic!("{script}: {read}"));
        let r = call("GET", &s.url(&format!("/v1/tool-calls/{receipt}")))
            .auth(&m)
            .send()
            .json();
        assert_eq!(
            (r["consumer"].as_str(), r["connector_id"].as_str()),
            (Some("support-bot"), Some(gh.as_str()))
        );
        assert_eq!(st[2]["isError"], false, "{script}: {}", st[2]);
        assert_eq!(
            st[3]["_meta"][RECEIPT], st[2]["_meta"][RECEIPT],
            "{script}: the retry replays"
        );
        assert_eq!(st[4]["isError"], true, "{script}");
        assert!(
            st[4]["content"][0]["text"].as_str().unwrap().contains(KEY),
            "{script}: {}",
            st[4]
        );
        assert_eq!(
            st[5]["structuredContent"]["entity_id"], 42,
            "{script}: {}",
            st[5]
        );
        let posts = p
            .seen()
            .into_iter()
            .filter(|x| x.method == "POST" && x.path.ends_with("/issues"))
            .count();
        assert_eq!(
            posts, 1,
            "{script}: the provider saw the side effect {posts} times"
        );
    }
    // Isolation: another consumer and another tenant's agent see only theirs.
    let other = agent(s, &admin, "other-bot");
    let out = client(
        s,
        "client.py",
        "python",
        &other,
        &json!([{"op": "list"}, {"op": "call", "name": "github_repos_get", "arguments": {"owner": "o", "repo": "r"}}]),
    );
    assert_eq!(names(&out["steps"][0]), ["github_users_get_authenticated"]);
    assert!(
        out["steps"][1]["error"]["code"] == -32602 || out["steps"][1]["isError"] == true,
        "{out}"
    );
    let (_, admin2, _) = tenant(s, "gateway-2");
    let stranger = agent(s, &admin2, "support-bot");
    let out = client(
        s,
        "client_legacy.mjs",
        "node",
        &stranger,
        &json!([{"op": "list"}]),
    );
    assert_eq!(names(&out["steps"][0]), Vec::<String>::new());
    // A deleted binding's tools are gone from the next list, and refused.
    let a = call(
        "DELETE",
        &s.url(&format!("/v1/bindings/{}", orders["id"].as_str().unwrap())),
    )
    .auth(&m)
    .send();
    assert_eq!(a.status, 200);
    p.clear();
    let out = client(
        s,
        "client_modern.mjs",
        "node",
        &bot,
        &json!([{"op": "list"}, {"op": "call", "name": "magento_get_order", "arguments": {"order_id": 42}}]),
    );
    assert!(!names(&out["steps"][0]).contains(&"magento_get_order".to_string()));
    let refused = &out["steps"][1];
    assert!(
        refused["error"]["code"] == -32602 || refused["isError"] == true,
        "{out}"
    );
    assert!(
        p.seen().iter().all(|x| !x.path.contains("/orders/")),
        "a refused call reached the provider"
    );
    // Replacing a source: a second instance, both bindings re-pointed, the
    // first uninstalled — same names, and the next call reaches the new one.
    let gh2 = install("gh-2", "github", json!({"type": "pat", "token": GOOD}));
    for b in [&repo, &issues] {
        let a = call(
            "PATCH",
            &s.url(&format!("/v1/bindings/{}", b["id"].as_str().unwrap())),
        )
        .auth(&m)
        .json(&json!({"connector_id": gh2}));
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    }
    let a = call("DELETE", &s.url(&format!("/v1/connectors/{gh}")))
        .auth(&m)
        .send();
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let out = client(
        s,
        "client.py",
        "python",
        &bot,
        &json!([{"op": "list"}, {"op": "call", "name": "github_repos_get", "arguments": {"owner": "octocat", "repo": "hello-world"}}]),
    );
    assert_eq!(
        names(&out["steps"][0]),
        [
            "gh_issues_create",
            "gh_issues_create_comment",
            "github_repos_get",
            "github_repos_list_for_authenticated_user"
        ]
    );
    let receipt = out["steps"][1]["_meta"][RECEIPT].as_str().unwrap();
    let r = call("GET", &s.url(&format!("/v1/tool-calls/{receipt}")))
        .auth(&m)
        .send()
        .json();
    assert_eq!(r["connector_id"], gh2.as_str());
    // The viewer's JSON view agrees.
    let v = call("GET", &s.url("/v1/consumers/support-bot/tools"))
        .auth(&m)
        .send()
        .json();
    let listed: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed, names(&out["steps"][0]));
    assert!(v["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["connector_id"] == gh2.as_str()));
    let _ = mg;
}
