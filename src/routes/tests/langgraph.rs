//! The `langgraph` listing (seed 001's agent connector) against the fake
//! LangGraph server: an optional API key, a write-only header block that
//! every request carries as credential headers, a verify that names a
//! missing assistant, a test that quotes the agent's answer, and `invoke`
//! as a side effect. No value of the key or the headers is ever answered.

use super::*;
use crate::routes::http::{HttpRequest, Method};
use serde_json::{json, Value};

const TENANT_HEADER: &str = "X-Tenant: acme-tenant-secret-42";

struct Setup {
    w: World,
    manager: String,
}

fn setup() -> Setup {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    let (_, manager) = w.key(&admin, "manager");
    Setup {
        w,
        manager: format!("Bearer {manager}"),
    }
}

fn config(base: &str, assistant: &str) -> Value {
    json!({"base_url": base, "assistant_id": assistant, "configurable": {"suffix": "x"}})
}

fn secured_auth() -> Value {
    json!({"type": "api_key", "key": LG_KEY, "headers": format!("{TENANT_HEADER}\nX-Trace: on")})
}

impl Setup {
    fn verify(&self, auth: Value, config: Value) -> (u16, Value) {
        self.w.call(
            Method::Post,
            "/v1/catalog/langgraph/verify",
            Some(&self.manager),
            Some(json!({"auth": auth, "config": config})),
        )
    }

    fn install(&self, name: &str, auth: Value, config: Value) -> String {
        let (s, v) = self.w.call(
            Method::Post,
            "/v1/connectors",
            Some(&self.manager),
            Some(json!({"listing": "langgraph", "name": name, "auth": auth, "config": config})),
        );
        assert_eq!(s, 201, "{v}");
        assert!(!v.to_string().contains("acme-tenant-secret"), "{v}");
        v["id"].as_str().unwrap().to_string()
    }
}

fn no_secret(v: &Value) {
    let text = v.to_string();
    for x in [LG_KEY, "acme-tenant-secret-42"] {
        assert!(!text.contains(x), "{x} in {text}");
    }
}

#[test]
fn the_key_and_the_header_block_go_out_as_credential_headers() {
    let t = setup();
    let (s, v) = t.verify(secured_auth(), config(LG_SECURED, LG_ASSISTANT));
    assert_eq!((s, v["ok"].as_bool()), (200, Some(true)), "{v}");
    let sent = t.w.provider.sent.borrow().last().cloned().unwrap();
    assert_eq!(sent.url, format!("{LG_SECURED}/assistants/{LG_ASSISTANT}"));
    for (name, value) in [
        ("X-Api-Key", LG_KEY),
        ("X-Tenant", "acme-tenant-secret-42"),
        ("X-Trace", "on"),
    ] {
        assert!(
            sent.headers.iter().any(|(k, v)| k == name && v == value),
            "{name}: {:?}",
            sent.headers.iter().map(|(k, _)| k).collect::<Vec<_>>()
        );
        assert!(sent.credential_headers.contains(&name.to_ascii_lowercase()));
    }
    // Without the key the secured server says no; a missing assistant is
    // named as such, not as a refused credential.
    let (_, v) = t.verify(
        json!({"type": "api_key", "headers": TENANT_HEADER}),
        config(LG_SECURED, LG_ASSISTANT),
    );
    assert_eq!(v["ok"], false);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("rejected the credentials (HTTP 401)"),
        "{v}"
    );
    let (_, v) = t.verify(
        secured_auth(),
        config(LG_SECURED, "00000000-0000-4000-8000-000000000000"),
    );
    let message = v["message"].as_str().unwrap();
    assert_eq!(v["ok"], false);
    assert!(
        message.starts_with(
            "LangGraph agent answered HTTP 404: the server has no assistant with this assistant_id"
        ) && message.contains("Not Found")
            && !message.contains("rejected the credentials"),
        "{message}"
    );
    // Not a UUID: refused before anything is sent.
    let (s, v) = t.verify(secured_auth(), config(LG_SECURED, "agent"));
    assert_eq!(
        (s, v["error"]["param"].as_str()),
        (400, Some("config.assistant_id")),
        "{v}"
    );
}

#[test]
fn the_key_and_the_headers_are_optional_and_a_block_is_checked_without_quoting_it() {
    let t = setup();
    let (s, v) = t.verify(json!({"type": "api_key"}), config(LG_OPEN, LG_ASSISTANT));
    assert_eq!((s, v["ok"].as_bool()), (200, Some(true)), "{v}");
    let sent = t.w.provider.sent.borrow().last().cloned().unwrap();
    assert!(
        !sent
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("x-api-key")),
        "an absent key sends no header"
    );
    for (block, why) in [
        (
            "X-Tenant acme-tenant-secret-42",
            "line 1 is not 'Name: value'",
        ),
        (
            "Host: acme-tenant-secret-42.example.com",
            "line 1 sets host",
        ),
        (
            "X-A: 1\nX-Bad\u{7}: acme-tenant-secret-42",
            "line 2 does not start with a header name",
        ),
    ] {
        let (s, v) = t.verify(
            json!({"type": "api_key", "headers": block}),
            config(LG_OPEN, LG_ASSISTANT),
        );
        assert_eq!((s, err_code(&v)), (400, "invalid_parameter"), "{v}");
        assert_eq!(v["error"]["param"], "auth.headers");
        assert!(v["error"]["message"].as_str().unwrap().contains(why), "{v}");
        no_secret(&v);
    }
    // A block never replaces a header the listing sets.
    let (_, v) = t.verify(
        json!({"type": "api_key", "key": LG_KEY, "headers": "x-api-key: acme-tenant-secret-42"}),
        config(LG_SECURED, LG_ASSISTANT),
    );
    assert!(
        v.to_string()
            .contains("auth.headers sets X-Api-Key, which this request sets itself"),
        "{v}"
    );
    no_secret(&v);
    // Only a listing that declares a header block takes one.
    let (s, v) = t.w.call(
        Method::Post,
        "/v1/catalog/github/verify",
        Some(&t.manager),
        Some(json!({"auth": {"type": "pat", "token": GOOD_TOKEN, "headers": TENANT_HEADER}})),
    );
    assert_eq!(
        (s, v["error"]["param"].as_str()),
        (400, Some("auth.headers")),
        "{v}"
    );
}

#[test]
fn the_test_quotes_the_agents_answer_and_never_runs_invoke() {
    let t = setup();
    let cn = t.install("agent", secured_auth(), config(LG_SECURED, LG_ASSISTANT));
    t.w.provider.sent.borrow_mut().clear();
    let (s, v) = t.w.call(
        Method::Post,
        &format!("/v1/connectors/{cn}/test"),
        Some(&t.manager),
        None,
    );
    assert_eq!((s, v["status"].as_str()), (200, Some("passed")), "{v}");
    let by_tool = |name: &str| {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["tool"] == name)
            .cloned()
            .unwrap()
    };
    let hello = by_tool("say_hello");
    assert_eq!(
        (hello["mode"].as_str(), hello["ok"].as_bool()),
        (Some("live"), Some(true))
    );
    assert_eq!(hello["output"], "echo: hello");
    assert!(hello["latency_ms"].is_u64());
    assert_eq!(by_tool("invoke")["mode"], "dry_run");
    assert!(by_tool("get_assistant").get("output").is_none());
    let sent = t.w.provider.sent.borrow().clone();
    let runs: Vec<Value> = sent
        .iter()
        .filter(|r| r.url.ends_with("/runs/wait"))
        .map(|r| serde_json::from_str(r.body.as_deref().unwrap()).unwrap())
        .collect();
    assert_eq!(runs.len(), 1, "the test ran the agent once: say_hello");
    assert_eq!(
        runs[0],
        json!({"assistant_id": LG_ASSISTANT, "input": {"messages": [{"role": "user", "content": "hello"}]},
               "config": {"configurable": {"suffix": "x"}}, "on_disconnect": "cancel"})
    );
    // An agent that repeats its headers: the quote is masked.
    let leaky = t.install(
        "leaky",
        secured_auth(),
        json!({"base_url": LG_SECURED, "assistant_id": LG_ASSISTANT, "configurable": {"repeat_headers": true}}),
    );
    let (_, v) = t.w.call(
        Method::Post,
        &format!("/v1/connectors/{leaky}/test"),
        Some(&t.manager),
        Some(json!({"tools": ["say_hello"]})),
    );
    let output = v["results"][0]["output"].as_str().unwrap();
    assert!(
        output.starts_with("echo: hello") && output.contains("****"),
        "{output}"
    );
    no_secret(&v);
}

#[test]
fn invoke_is_a_side_effect_answering_the_final_messages() {
    let t = setup();
    let cn = t.install("agent", secured_auth(), config(LG_SECURED, LG_ASSISTANT));
    let call = |body: Value, key: Option<&str>| {
        let mut req = HttpRequest::new(
            Method::Post,
            &format!("/v1/connectors/{cn}/tools/invoke/call"),
        )
        .with_header("authorization", &t.manager)
        .with_body(body.to_string());
        if let Some(k) = key {
            req = req.with_header("idempotency-key", k);
        }
        let r = t.w.send(req);
        (r.status, serde_json::from_slice::<Value>(&r.body).unwrap())
    };
    let (s, v) = call(json!({"arguments": {"message": "hi"}}), None);
    assert_eq!(s, 400, "a live side effect needs an Idempotency-Key: {v}");
    let (s, v) = call(
        json!({"arguments": {"message": "what is 2+2?"}}),
        Some("q-1"),
    );
    assert_eq!((s, v["status"].as_str()), (200, Some("succeeded")), "{v}");
    assert_eq!(
        v["result"][1],
        json!({"type": "ai", "content": "echo: what is 2+2?", "id": "m2", "tool_calls": []})
    );
    no_secret(&v);
    // A run that failed answers 200 with __error__: a failed call.
    let (s, v) = call(json!({"arguments": {"message": "fail"}}), Some("q-2"));
    assert_eq!((s, v["status"].as_str()), (200, Some("failed")), "{v}");
    assert!(v.to_string().contains("the graph failed"), "{v}");
    // The dry run only reads the assistant.
    t.w.provider.sent.borrow_mut().clear();
    let (s, v) = call(
        json!({"arguments": {"message": "x"}, "dry_run": true}),
        None,
    );
    assert_eq!(
        (s, v["mode"].as_str(), v["status"].as_str()),
        (200, Some("dry_run"), Some("succeeded")),
        "{v}"
    );
    assert!(t.w.provider.sent.borrow().iter().all(|r| r.method == "GET"));
}
