//! Installing connectors end to end, against a fake provider on 127.0.0.1.

use crate::support::fake::{Mode, Provider};
use crate::support::{call, Answer, Server};
use crate::{key, tenant};
use serde_json::{json, Value};

pub const GOOD: &str = "ghp_E2eGoodToken0123456789abcdefghijklmn";
pub const BAD: &str = "ghp_E2eBadToken9876543210zyxwvutsrqponm";
pub const ROTATED: &str = "ghp_E2eRotatedToken1122334455667788aabbcc";

fn gh(p: &Provider, token: &str, name: &str) -> Value {
    json!({"listing": "github", "name": name, "auth": {"type": "pat", "token": token}, "config": {"base_url": p.base()}})
}

fn post(s: &Server, auth: &str, path: &str, body: &Value) -> Answer {
    call("POST", &s.url(path)).auth(auth).json(body)
}

/// Every answer body a scenario saw, to search for leaked secrets.
pub type Seen = std::sync::Mutex<Vec<Vec<u8>>>;

pub fn keep(seen: &Seen, a: Answer) -> Answer {
    seen.lock().unwrap().push(a.body.clone());
    a
}

pub fn lifecycle(s: &Server, p: &Provider, seen: &Seen) {
    let (_, admin, _) = tenant(s, "lifecycle");
    let (_, m) = key(s, &admin, "manager");
    let (_, viewer) = key(s, &admin, "viewer");
    let verify = |token: &str| {
        keep(
            seen,
            post(
                s,
                &m,
                "/v1/catalog/github/verify",
                &json!({"auth": {"type": "pat", "token": token}, "config": {"base_url": p.base()}}),
            ),
        )
    };
    let a = verify(GOOD);
    assert_eq!(
        (a.status, a.json()["ok"].clone()),
        (200, json!(true)),
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    let a = verify(BAD);
    assert_eq!((a.status, a.json()["ok"].clone()), (200, json!(false)));
    assert!(a.json()["message"]
        .as_str()
        .unwrap()
        .contains("Bad credentials"));
    // The fake saw the token as a Bearer on GET /user.
    assert!(p.seen().iter().any(|r| r.path == "/user"
        && r.headers
            .iter()
            .any(|(k, v)| k == "authorization" && v.ends_with(GOOD))));

    let a = keep(seen, post(s, &viewer, "/v1/connectors", &gh(p, GOOD, "gh")));
    assert_eq!((a.status, a.code()), (403, "forbidden".into()));
    let a = keep(seen, post(s, &m, "/v1/connectors", &gh(p, BAD, "gh")));
    assert_eq!((a.status, a.code()), (422, "auth_failed".into()));
    let a = keep(seen, post(s, &m, "/v1/connectors", &gh(p, GOOD, "gh")));
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    let c = a.json();
    let id = c["id"].as_str().unwrap().to_string();
    assert_eq!(
        (c["status"].as_str(), c["auth"]["hint"].as_str()),
        (Some("connected"), Some("ghp_****mn"))
    );
    let a = keep(
        seen,
        post(
            s,
            &m,
            "/v1/connectors",
            &json!({"listing": "hacker-news", "name": "hn", "auth": {"type": "none"}, "config": {}}),
        ),
    );
    // hacker-news probes its real public host, which tests never reach: refused or upstream, never stored.
    assert!(a.status == 400 || a.status == 502, "{}", a.status);
    let a = keep(
        seen,
        post(
            s,
            &m,
            "/v1/connectors",
            &json!({"listing": "slack", "name": "slack", "auth": {"type": "oauth2", "client_id": "1.2", "client_secret": "xoxb-e2e-client-secret"}}),
        ),
    );
    assert_eq!(
        (a.status, a.json()["status"].clone()),
        (201, json!("pending_auth"))
    );
    for (q, n) in [
        ("listing=github", 1),
        ("status=pending_auth", 1),
        ("capability=issue.read", 1),
        ("kind=saas", 2),
        ("crew_id=x", 0),
    ] {
        let v = keep(
            seen,
            call("GET", &s.url(&format!("/v1/connectors?{q}")))
                .auth(&viewer)
                .send(),
        )
        .json();
        assert_eq!(v["data"].as_array().unwrap().len(), n, "{q}");
    }
    let got = keep(
        seen,
        call("GET", &s.url(&format!("/v1/connectors/{id}")))
            .auth(&viewer)
            .send(),
    );
    assert_eq!(got.json()["name"], "gh");
    let a = keep(
        seen,
        call("PATCH", &s.url(&format!("/v1/connectors/{id}")))
            .auth(&m)
            .json(&json!({"name": "gh-main"})),
    );
    assert_eq!(a.json()["name"], "gh-main");
    let a = keep(
        seen,
        call("PATCH", &s.url(&format!("/v1/connectors/{id}")))
            .auth(&m)
            .json(&json!({"auth": {"type": "pat", "token": ROTATED}})),
    );
    assert_eq!((a.status, a.code()), (422, "auth_failed".into()));
    // The old secret still works: the provider accepted GOOD, so a rotation to GOOD again succeeds.
    let a = keep(
        seen,
        call("PATCH", &s.url(&format!("/v1/connectors/{id}")))
            .auth(&m)
            .json(&json!({"auth": {"type": "pat", "token": GOOD}})),
    );
    assert_eq!(a.status, 200);
    let b = keep(
        seen,
        post(
            s,
            &m,
            "/v1/bindings",
            &json!({"consumer": "triage-agent", "capability": "issue.read", "connector_id": id}),
        ),
    );
    assert_eq!(b.status, 201);
    let bid = b.json()["id"].as_str().unwrap().to_string();
    let caps = keep(
        seen,
        call("GET", &s.url("/v1/capabilities")).auth(&viewer).send(),
    )
    .json();
    assert!(caps["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == "issue.read" && c["bindings"] == json!([bid])));
    // Paged by name from the summary local D1's triggers keep, with counts;
    // walked one at a time, every capability of both instances, each once.
    let mut names = vec![];
    let mut path = "/v1/capabilities?limit=1".to_string();
    loop {
        let page = keep(seen, call("GET", &s.url(&path)).auth(&viewer).send()).json();
        let c = &page["data"][0];
        if c["id"] == "issue.read" {
            assert_eq!(
                (c["connector_count"].as_u64(), c["binding_count"].as_u64()),
                (Some(1), Some(1)),
                "{c}"
            );
        }
        names.push(c["id"].as_str().unwrap().to_string());
        match page["next_cursor"].as_str() {
            Some(next) => path = format!("/v1/capabilities?limit=1&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(
        names,
        [
            "channel.read",
            "issue.read",
            "issue.write",
            "message.read",
            "message.send",
            "pull_request.read",
            "pull_request.write",
            "reaction.write",
            "repo.read",
            "user.read"
        ]
    );
    let mine = keep(
        seen,
        call(
            "GET",
            &s.url("/v1/bindings?consumer=triage-agent&capability=issue.read"),
        )
        .auth(&viewer)
        .send(),
    )
    .json();
    assert_eq!(mine["data"][0]["id"], json!(bid));
    let a = keep(
        seen,
        call("DELETE", &s.url(&format!("/v1/connectors/{id}")))
            .auth(&m)
            .send(),
    );
    assert_eq!((a.status, a.code()), (409, "connector_in_use".into()));
    assert_eq!(a.json()["error"]["bindings"], json!([bid]));
    assert_eq!(
        keep(
            seen,
            call("DELETE", &s.url(&format!("/v1/bindings/{bid}")))
                .auth(&m)
                .send()
        )
        .status,
        200
    );
    let a = keep(
        seen,
        call("DELETE", &s.url(&format!("/v1/connectors/{id}")))
            .auth(&m)
            .send(),
    );
    assert_eq!((a.status, a.json()["deleted"].clone()), (200, json!(true)));
    // Read back: GitHub's capabilities went with it; Slack's stay.
    let caps = keep(
        seen,
        call("GET", &s.url("/v1/capabilities?limit=100"))
            .auth(&viewer)
            .send(),
    )
    .json();
    let left: Vec<&str> = caps["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        left,
        [
            "channel.read",
            "message.read",
            "message.send",
            "reaction.write",
            "user.read"
        ]
    );
    assert_eq!(
        call("GET", &s.url(&format!("/v1/connectors/{id}")))
            .auth(&viewer)
            .send()
            .status,
        404
    );
    let ev = keep(
        seen,
        call(
            "GET",
            &s.url(&format!("/v1/events?connector_id={id}&limit=100")),
        )
        .auth(&viewer)
        .send(),
    )
    .json();
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
        assert!(types.contains(&t), "{t} not in {types:?}");
    }
    let all = keep(
        seen,
        call("GET", &s.url("/v1/events?limit=100"))
            .auth(&viewer)
            .send(),
    )
    .json();
    assert!(all["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["type"] == "connector.verified"));
}

pub fn concurrency(s: &Server, p: &Provider, seen: &Seen) {
    let (_, admin, _) = tenant(s, "concurrency");
    let (_, m) = key(s, &admin, "manager");
    let body = gh(p, GOOD, "gh-idem");
    let answers: Vec<Answer> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..20)
            .map(|_| {
                sc.spawn(|| {
                    call("POST", &s.url("/v1/connectors"))
                        .auth(&m)
                        .header("idempotency-key", "same-key-1")
                        .json(&body)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let first = &answers[0];
    for a in &answers {
        assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
        assert_eq!(a.body, first.body, "identical bodies");
    }
    let list = call("GET", &s.url("/v1/connectors?listing=github"))
        .auth(&m)
        .send()
        .json();
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "one instance");
    let answers: Vec<Answer> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..20)
            .map(|i| {
                let body = gh(p, GOOD, "gh-race");
                let m = &m;
                sc.spawn(move || {
                    call("POST", &s.url("/v1/connectors"))
                        .auth(m)
                        .header("idempotency-key", &format!("race-{i}"))
                        .json(&body)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created = answers.iter().filter(|a| a.status == 201).count();
    let conflicts = answers.iter().filter(|a| a.status == 409).count();
    assert_eq!(
        (created, conflicts),
        (1, 19),
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    for a in answers {
        keep(seen, a);
    }
}

pub fn isolation(s: &Server, p: &Provider, seen: &Seen) {
    let (_, admin, _) = tenant(s, "owner");
    let (_, m) = key(s, &admin, "manager");
    let (_, viewer) = key(s, &admin, "viewer");
    let c = keep(seen, post(s, &m, "/v1/connectors", &gh(p, GOOD, "mine"))).json();
    let id = c["id"].as_str().unwrap().to_string();
    let b = keep(
        seen,
        post(
            s,
            &m,
            "/v1/bindings",
            &json!({"consumer": "a", "capability": "repo.read", "connector_id": id}),
        ),
    )
    .json();
    let bid = b["id"].as_str().unwrap().to_string();
    let (_, stranger, _) = tenant(s, "stranger");
    for (method, path, body) in [
        ("GET", format!("/v1/connectors/{id}"), None),
        (
            "PATCH",
            format!("/v1/connectors/{id}"),
            Some(json!({"name": "x"})),
        ),
        ("DELETE", format!("/v1/connectors/{id}"), None),
        ("DELETE", format!("/v1/bindings/{bid}"), None),
        (
            "POST",
            "/v1/bindings".into(),
            Some(json!({"consumer": "x", "capability": "repo.read", "connector_id": id})),
        ),
    ] {
        let r = call(method, &s.url(&path)).auth(&stranger);
        let a = match body {
            Some(b) => r.json(&b),
            None => r.send(),
        };
        assert_eq!(
            (a.status, a.code()),
            (404, "not_found".into()),
            "{method} {path}"
        );
    }
    for (method, path, body) in [
        ("POST", "/v1/connectors".to_string(), gh(p, GOOD, "v")),
        (
            "PATCH",
            format!("/v1/connectors/{id}"),
            json!({"name": "v"}),
        ),
        (
            "POST",
            "/v1/bindings".into(),
            json!({"consumer": "x", "capability": "repo.read"}),
        ),
        (
            "POST",
            "/v1/catalog/github/verify".into(),
            json!({"auth": {"type": "pat", "token": GOOD}}),
        ),
    ] {
        let a = call(method, &s.url(&path)).auth(&viewer).json(&body);
        assert_eq!(a.status, 403, "{method} {path}");
    }
    let a = call("DELETE", &s.url(&format!("/v1/connectors/{id}")))
        .auth(&viewer)
        .send();
    assert_eq!(a.status, 403);
}

pub fn provider_failures(s: &Server, p: &Provider, seen: &Seen) {
    let (_, admin, _) = tenant(s, "failures");
    let (_, m) = key(s, &admin, "manager");
    for (mode, name) in [
        (Mode::Error500, "f500"),
        (Mode::Garbage, "fgarbage"),
        (Mode::Slow, "fslow"),
    ] {
        p.set(mode);
        let a = keep(seen, post(s, &m, "/v1/connectors", &gh(p, GOOD, name)));
        assert_eq!(
            (a.status, a.code()),
            (502, "connector_upstream_error".into()),
            "{mode:?}: {}",
            String::from_utf8_lossy(&a.body)
        );
        if mode == Mode::Slow {
            // The runtime's timeout is told apart from a failed connection.
            let message = a.json()["error"]["message"].as_str().unwrap().to_string();
            assert!(
                message.contains("did not answer within 10000 ms"),
                "{message}"
            );
        }
    }
    p.set(Mode::Normal);
    // Down: a port nothing listens on (allow-listed like the fake, so only the connection fails).
    let down = format!("http://127.0.0.1:{}", crate::DOWN_PORT.get().unwrap());
    let a = keep(
        seen,
        post(
            s,
            &m,
            "/v1/connectors",
            &json!({"listing": "github", "name": "fdown", "auth": {"type": "pat", "token": GOOD}, "config": {"base_url": down}}),
        ),
    );
    assert_eq!(
        (a.status, a.code()),
        (502, "connector_upstream_error".into())
    );
    let list = call("GET", &s.url("/v1/connectors")).auth(&m).send().json();
    assert_eq!(list["data"].as_array().unwrap().len(), 0, "nothing stored");
}

pub fn refused_targets(s: &Server, p: &Provider, seen: &Seen) {
    let (_, admin, _) = tenant(s, "ssrf");
    let (_, m) = key(s, &admin, "manager");
    p.clear();
    let port = p.port;
    for host in [
        "127.0.0.2",
        "localhost",
        "[::1]",
        "2130706433",
        "0x7f.1",
        "0.0.0.0",
    ] {
        let body = json!({"auth": {"type": "pat", "token": GOOD}, "config": {"base_url": format!("http://{host}:{port}")}});
        let a = keep(seen, post(s, &m, "/v1/catalog/github/verify", &body));
        assert_eq!(
            (a.status, a.code()),
            (400, "target_not_allowed".into()),
            "{host}: {}",
            String::from_utf8_lossy(&a.body)
        );
    }
    assert!(p.seen().is_empty(), "no refused probe reached the fake");
}

pub fn health_checks(s: &Server, p: &Provider, seen: &Seen) {
    let (_, admin, _) = tenant(s, "health");
    let (_, m) = key(s, &admin, "manager");
    let (_, viewer) = key(s, &admin, "viewer");
    let c = keep(seen, post(s, &m, "/v1/connectors", &gh(p, GOOD, "watched"))).json();
    let id = c["id"].as_str().unwrap().to_string();
    let health = || {
        keep(
            seen,
            call("GET", &s.url(&format!("/v1/connectors/{id}/health")))
                .auth(&viewer)
                .send(),
        )
        .json()
    };
    let changes = || {
        call(
            "GET",
            &s.url(&format!(
                "/v1/events?type=connector.health_changed&connector_id={id}"
            )),
        )
        .auth(&viewer)
        .send()
        .json()["data"]
            .as_array()
            .unwrap()
            .len()
    };
    let h = health();
    assert_eq!(
        (h["healthy"].as_bool(), h["status"].as_str()),
        (Some(true), Some("connected")),
        "{h}"
    );
    assert_eq!(changes(), 0, "installed healthy, still healthy: no change");
    p.set(Mode::Error500);
    let h = health();
    assert_eq!(h["healthy"], false);
    assert!(h["message"].as_str().unwrap().contains("500"));
    assert_eq!(changes(), 1);
    let h = health();
    assert_eq!(h["healthy"], false);
    assert_eq!(changes(), 1, "no change, no event");
    p.set(Mode::Normal);
    assert_eq!(health()["healthy"], true);
    assert_eq!(changes(), 2);
    let got = call("GET", &s.url(&format!("/v1/connectors/{id}")))
        .auth(&viewer)
        .send()
        .json();
    assert_eq!(got["health"]["healthy"], true);
    assert!(got["health"]["last_check"].is_string());
}

pub fn mcp_tools(s: &Server, p: &Provider, seen: &Seen) {
    let (_, admin, _) = tenant(s, "mcp");
    let (_, m) = key(s, &admin, "manager");
    let body = json!({"listing": "github-mcp", "auth": {"type": "pat", "token": GOOD}, "config": {"base_url": p.base()}});
    let c = keep(seen, post(s, &m, "/v1/connectors", &body));
    assert_eq!(c.status, 201, "{}", String::from_utf8_lossy(&c.body));
    let id = c.json()["id"].as_str().unwrap().to_string();
    p.clear();
    let t = keep(
        seen,
        post(
            s,
            &m,
            &format!("/v1/connectors/{id}/test"),
            &json!({"tools": ["get_me", "list_issues"]}),
        ),
    );
    assert_eq!(
        (t.status, t.json()["status"].clone()),
        (200, json!("passed")),
        "{}",
        String::from_utf8_lossy(&t.body)
    );
    let t = keep(
        seen,
        post(s, &m, &format!("/v1/connectors/{id}/test"), &json!({})),
    )
    .json();
    assert_eq!(t["status"], "failed");
    let missing: Vec<&Value> = t["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ok"] == false)
        .collect();
    assert_eq!(
        (missing.len(), missing[0]["tool"].as_str()),
        (1, Some("create_pull_request"))
    );
    // It spoke MCP (session id carried) and never called a tool.
    assert!(p.seen().iter().any(|r| r
        .headers
        .iter()
        .any(|(k, v)| k == "mcp-session-id" && v == "e2e-session")));
}
