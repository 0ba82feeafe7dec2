//! Tool calls end to end (API §13): a manager and an agent call read and
//! side-effecting tools of two listings (GitHub with a `pat`, Magento with an
//! `api_key`) against the fake provider's real endpoint shapes.

use crate::connectors::{Seen, GOOD};
use crate::support::fake::{Mode, Provider};
use crate::support::{call, Answer, Server};
use crate::{key, tenant};
use serde_json::{json, Value};

fn keep(seen: &Seen, a: Answer) -> Answer {
    seen.lock().unwrap().push(a.body.clone());
    a
}

fn install(s: &Server, auth: &str, body: Value) -> String {
    let a = call("POST", &s.url("/v1/connectors"))
        .auth(auth)
        .json(&body);
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    a.json()["id"].as_str().unwrap().to_string()
}

fn tool(s: &Server, auth: &str, cn: &str, tool: &str, body: Value, key: Option<&str>) -> Answer {
    let mut c = call(
        "POST",
        &s.url(&format!("/v1/connectors/{cn}/tools/{tool}/call")),
    )
    .auth(auth);
    if let Some(k) = key {
        c = c.header("idempotency-key", k);
    }
    c.json(&body)
}

pub fn tool_calls(s: &Server, p: &Provider, seen: &Seen) {
    let (_, admin, _) = tenant(s, "tools");
    let (_, m) = key(s, &admin, "manager");
    let gh = install(
        s,
        &m,
        json!({"listing": "github", "name": "gh-tools", "auth": {"type": "pat", "token": GOOD}, "config": {"base_url": p.base()}}),
    );
    let mg = install(
        s,
        &m,
        json!({"listing": "magento", "name": "store", "auth": {"type": "api_key", "key": GOOD}, "config": {"base_url": p.base()}}),
    );
    // A manager's read: the provider sees the credential, the caller a receipt.
    p.clear();
    let a = keep(
        seen,
        tool(
            s,
            &m,
            &gh,
            "repos_get",
            json!({"arguments": {"owner": "octocat", "repo": "hello-world"}}),
            None,
        ),
    );
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let r = a.json();
    assert_eq!(
        (r["status"].as_str(), r["upstream_status"].as_u64()),
        (Some("succeeded"), Some(200))
    );
    assert_eq!(r["result"]["full_name"], "octocat/hello-world");
    let hit = p
        .seen()
        .into_iter()
        .find(|x| x.path == "/repos/octocat/hello-world")
        .expect("the fake saw the call");
    assert!(hit
        .headers
        .iter()
        .any(|(k, v)| k == "authorization" && v == &format!("Bearer {GOOD}")));
    let id = r["id"].as_str().unwrap();
    let back = keep(
        seen,
        call("GET", &s.url(&format!("/v1/tool-calls/{id}")))
            .auth(&m)
            .send(),
    );
    assert_eq!(back.json(), r, "the receipt reads back as answered");
    // Magento: an order read, and the provider saying no.
    let a = keep(
        seen,
        tool(
            s,
            &m,
            &mg,
            "get_order",
            json!({"arguments": {"order_id": 42}}),
            None,
        ),
    );
    assert_eq!(
        (a.status, a.json()["result"]["entity_id"].as_u64()),
        (200, Some(42)),
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    let a = keep(
        seen,
        tool(
            s,
            &m,
            &mg,
            "get_order",
            json!({"arguments": {"order_id": 404}}),
            None,
        ),
    );
    let v = a.json();
    assert_eq!(
        (
            a.status,
            v["status"].as_str(),
            v["upstream_status"].as_u64()
        ),
        (200, Some("failed"), Some(404)),
        "{v}"
    );
    let a = keep(
        seen,
        tool(
            s,
            &m,
            &mg,
            "get_order",
            json!({"arguments": {"order_id": "42/../../admin"}}),
            None,
        ),
    );
    assert_eq!(
        (a.status, a.json()["error"]["param"].as_str()),
        (400, Some("arguments.order_id"))
    );

    // Injection attempts never change the target the fake sees.
    for evil in [
        "../admin",
        "..",
        "%2e%2e",
        "x?admin=1",
        "x#f",
        "x\r\nX-Evil: 1",
        "@evil.example",
        "http://evil.example/x",
        "//evil.example",
    ] {
        p.clear();
        let a = keep(
            seen,
            tool(
                s,
                &m,
                &gh,
                "repos_get",
                json!({"arguments": {"owner": evil, "repo": "r"}}),
                None,
            ),
        );
        if a.status == 400 {
            assert!(p.seen().is_empty(), "{evil:?}: refused yet sent");
            continue;
        }
        assert_eq!(
            a.status,
            200,
            "{evil:?}: {}",
            String::from_utf8_lossy(&a.body)
        );
        let seen_paths: Vec<String> = p.seen().iter().map(|x| x.path.clone()).collect();
        assert_eq!(seen_paths.len(), 1, "{evil:?}: {seen_paths:?}");
        let path = &seen_paths[0];
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        assert_eq!(
            (segs.len(), segs[0], segs[2]),
            (3, "repos", "r"),
            "{evil:?}: {path}"
        );
        assert!(
            !path.contains('?') && !path.contains('#'),
            "{evil:?}: {path}"
        );
        assert!(
            p.seen()[0].headers.iter().all(|(k, _)| k != "x-evil"),
            "{evil:?}"
        );
    }

    // An agent: nothing before its binding, then exactly what the binding grants.
    let a = call("POST", &s.url("/v1/api-keys"))
        .auth(&admin)
        .json(&json!({"role": "agent", "consumer": "support-bot"}));
    assert_eq!(a.status, 201);
    let agent = a.json()["secret"].as_str().unwrap().to_string();
    let hold = json!({"arguments": {"order_id": 42}});
    let a = tool(s, &agent, &mg, "hold_order", hold.clone(), Some("hold-42"));
    assert_eq!((a.status, a.code()), (403, "forbidden".into()));
    let b = call("POST", &s.url("/v1/bindings"))
        .auth(&m)
        .json(&json!({"consumer": "support-bot", "capability": "order.hold", "policy": "allow"}));
    assert_eq!(b.status, 201);
    assert_eq!(
        call("GET", &s.url("/v1/connectors"))
            .auth(&agent)
            .send()
            .status,
        403
    );
    let a = tool(
        s,
        &agent,
        &gh,
        "repos_get",
        json!({"arguments": {"owner": "o", "repo": "r"}}),
        None,
    );
    assert_eq!(a.status, 403, "repo.read is not granted");
    // Ten concurrent side-effecting calls with one key: one reaches the provider.
    p.clear();
    let answers: Vec<Answer> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..10)
            .map(|_| {
                scope.spawn(|| tool(s, &agent, &mg, "hold_order", hold.clone(), Some("hold-42")))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ids: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|a| {
            assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
            a.json()["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        ids.len(),
        1,
        "the answers carry different receipts: {ids:?}"
    );
    let holds = p
        .seen()
        .iter()
        .filter(|x| x.method == "POST" && x.path == "/rest/V1/orders/42/hold")
        .count();
    assert_eq!(holds, 1, "the provider saw the hold {holds} times");
    let receipt = answers[0].json();
    assert_eq!(
        (receipt["consumer"].as_str(), receipt["status"].as_str()),
        (Some("support-bot"), Some("succeeded"))
    );
    for a in answers {
        keep(seen, a);
    }
    // Another tenant's connector id is not found, for an agent too.
    let (_, other_admin, _) = tenant(s, "tools-other");
    let a = call("POST", &s.url("/v1/api-keys"))
        .auth(&other_admin)
        .json(&json!({"role": "agent", "consumer": "support-bot"}));
    let other_agent = a.json()["secret"].as_str().unwrap().to_string();
    assert_eq!(
        tool(s, &other_agent, &mg, "hold_order", hold.clone(), Some("x")).status,
        404
    );

    // 500, garbage, slow past the 10 s timeout: 502 with a stored receipt;
    // nothing half-written.
    for mode in [Mode::Error500, Mode::Garbage, Mode::Slow] {
        p.set(mode);
        let a = keep(
            seen,
            tool(
                s,
                &m,
                &gh,
                "repos_get",
                json!({"arguments": {"owner": "o", "repo": "r"}}),
                None,
            ),
        );
        assert_eq!(
            (a.status, a.code()),
            (502, "connector_upstream_error".into()),
            "{mode:?}"
        );
        let id = a.json()["error"]["tool_call_id"]
            .as_str()
            .expect("a receipt")
            .to_string();
        let r = call("GET", &s.url(&format!("/v1/tool-calls/{id}")))
            .auth(&m)
            .send()
            .json();
        assert_eq!(
            (r["status"].as_str(), r["error"]["code"].as_str()),
            (Some("failed"), Some("connector_upstream_error")),
            "{mode:?}"
        );
    }
    p.set(Mode::Normal);
    let list = call(
        "GET",
        &s.url(&format!(
            "/v1/tool-calls?connector_id={mg}&status=succeeded"
        )),
    )
    .auth(&m)
    .send()
    .json();
    assert!(list["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["connector_id"] == mg.as_str() && r["status"] == "succeeded"));
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        2,
        "get_order 42 and one hold"
    );
}

/// An MCP server's tools are proxied; a definition that changes after it was
/// pinned is withheld until a manager accepts it.
pub fn mcp_pins(s: &Server, p: &Provider, seen: &Seen) {
    let (_, admin, _) = tenant(s, "mcp-pins");
    let (_, m) = key(s, &admin, "manager");
    let cn = install(
        s,
        &m,
        json!({"listing": "github-mcp", "name": "gh-mcp", "auth": {"type": "pat", "token": GOOD}, "config": {"base_url": p.base()}}),
    );
    let a = keep(seen, tool(s, &m, &cn, "get_me", json!({}), None));
    assert_eq!(
        (a.status, a.json()["status"].as_str()),
        (200, Some("succeeded")),
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    assert_eq!(a.json()["result"]["content"][0]["text"], "called get_me");
    p.set(Mode::McpChanged);
    p.clear();
    let a = keep(seen, tool(s, &m, &cn, "get_me", json!({}), None));
    assert_eq!(
        (a.status, a.code()),
        (409, "tool_changed".into()),
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    let called = |p: &Provider| {
        p.seen()
            .iter()
            .filter(|x| String::from_utf8_lossy(&x.body).contains("\"tools/call\""))
            .count()
    };
    assert_eq!(called(p), 0, "a withheld tool reached the server");
    let a = call("POST", &s.url(&format!("/v1/connectors/{cn}/tools/accept")))
        .auth(&m)
        .json(&json!({"tools": ["get_me"]}));
    assert_eq!(
        (a.status, a.json()["accepted"].clone()),
        (200, json!(["get_me"]))
    );
    let a = keep(seen, tool(s, &m, &cn, "get_me", json!({}), None));
    assert_eq!(
        (a.status, a.json()["status"].as_str()),
        (200, Some("succeeded"))
    );
    assert_eq!(called(p), 1);
    p.set(Mode::Normal);
}
