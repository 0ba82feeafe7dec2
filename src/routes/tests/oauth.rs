//! OAuth consent on SQLite: state and PKCE in the authorize URL, the
//! callback's exchange, and every way a state is refused.

use super::*;
use crate::domain::oauth::pkce_challenge;
use crate::routes::http::{HttpRequest, Method};
use serde_json::json;
use std::collections::HashMap;

fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn callback(w: &World, params: &str) -> HttpResponse {
    w.send(HttpRequest::new(
        Method::Get,
        &format!("/v1/oauth/callback?{params}"),
    ))
}

#[test]
fn consent_round_trip_and_refusals() {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    let (_, m) = w.key(&admin, "manager");
    let m = format!("Bearer {m}");
    let body = json!({"listing": "google-drive", "name": "drive", "return_url": "https://app.example.com/done?tab=1",
                      "auth": {"type": "oauth2", "client_id": "1234567890-abc123def.apps.googleusercontent.com", "client_secret": "GOCSPX-client-secret"}});
    let (s, c) = w.call(Method::Post, "/v1/connectors", Some(&m), Some(body));
    assert_eq!(
        (s, c["status"].as_str()),
        (201, Some("pending_auth")),
        "{c}"
    );
    let id = c["id"].as_str().unwrap().to_string();
    let q = query(c["authorize_url"].as_str().unwrap());
    assert_eq!(q["redirect_uri"], "https://api.test/v1/oauth/callback");
    assert_eq!(
        (q["client_id"].as_str(), q["code_challenge_method"].as_str()),
        ("1234567890-abc123def.apps.googleusercontent.com", "S256")
    );
    assert!(q["state"].starts_with("st_"));

    // The provider's answer completes it; the verifier sent matches the challenge.
    let r = callback(&w, &format!("state={}&code=good-code", q["state"]));
    assert_eq!(r.status, 302, "{}", String::from_utf8_lossy(&r.body));
    let loc = query(r.get_header("location").unwrap());
    assert_eq!(
        (
            loc["tab"].as_str(),
            loc["connector_id"].as_str(),
            loc["status"].as_str()
        ),
        ("1", id.as_str(), "connected")
    );
    let sent = w.provider.sent.borrow().last().unwrap().clone();
    let form: HashMap<String, String> = url::form_urlencoded::parse(sent.body.unwrap().as_bytes())
        .into_owned()
        .collect();
    assert_eq!(pkce_challenge(&form["code_verifier"]), q["code_challenge"]);
    assert_eq!(form["redirect_uri"], q["redirect_uri"]);
    let (_, now) = w.call(Method::Get, &format!("/v1/connectors/{id}"), Some(&m), None);
    assert_eq!(now["status"], "connected");
    let (_, ev) = w.call(
        Method::Get,
        &format!("/v1/events?type=connector.authorized&connector_id={id}"),
        Some(&m),
        None,
    );
    assert_eq!(ev["data"].as_array().unwrap().len(), 1);

    // Health runs the probe with the access token; near expiry it refreshes first.
    let (s, h) = w.call(
        Method::Get,
        &format!("/v1/connectors/{id}/health"),
        Some(&m),
        None,
    );
    assert_eq!((s, h["healthy"].as_bool()), (200, Some(true)), "{h}");
    let probe = w.provider.sent.borrow().last().unwrap().clone();
    assert!(probe
        .url
        .starts_with("https://www.googleapis.com/drive/v3/about"));
    assert!(probe
        .headers
        .iter()
        .any(|(k, v)| k == "Authorization" && v == "Bearer ya29.access-secret-1234"));
    w.advance(3_599_000 - 4 * 60_000);
    let (_, h) = w.call(
        Method::Get,
        &format!("/v1/connectors/{id}/health"),
        Some(&m),
        None,
    );
    assert_eq!(h["healthy"], true);
    let sent = w.provider.sent.borrow().clone();
    assert!(
        sent.iter().any(|r| r
            .body
            .as_deref()
            .is_some_and(|b| b.contains("grant_type=refresh_token"))),
        "refreshed"
    );
    assert!(sent
        .last()
        .unwrap()
        .headers
        .iter()
        .any(|(_, v)| v == "Bearer ya29.access-secret-1234-renewed"));
    // A refused refresh moves the instance to error, with one event.
    w.advance(3_599_000);
    *w.provider.mode.borrow_mut() = "refuse-refresh";
    let (_, h) = w.call(
        Method::Get,
        &format!("/v1/connectors/{id}/health"),
        Some(&m),
        None,
    );
    assert_eq!(
        (h["healthy"].as_bool(), h["status"].as_str()),
        (Some(false), Some("error")),
        "{h}"
    );
    assert!(h["message"].as_str().unwrap().contains("invalid_grant"));
    // Two changes: unknown → healthy at the first check, healthy → failing now.
    let (_, ev) = w.call(
        Method::Get,
        &format!("/v1/events?type=connector.health_changed&connector_id={id}"),
        Some(&m),
        None,
    );
    assert_eq!(ev["data"].as_array().unwrap().len(), 2);
    assert_eq!(ev["data"][0]["data"]["healthy"], false);
    *w.provider.mode.borrow_mut() = "";

    // Spent, tampered, unknown.
    for params in [
        format!("state={}&code=good-code", q["state"]),
        format!("state={}x&code=good-code", q["state"]),
        "state=st_nope&code=x".into(),
    ] {
        let r = callback(&w, &params);
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!((r.status, err_code(&v)), (400, "invalid_state"), "{params}");
    }
    let r = callback(&w, "code=x");
    assert_eq!(r.status, 400);

    // Expired after 10 minutes.
    let (s, a) = w.call(
        Method::Post,
        &format!("/v1/connectors/{id}/authorize"),
        Some(&m),
        None,
    );
    assert_eq!(s, 200, "{a}");
    let q2 = query(a["authorize_url"].as_str().unwrap());
    w.advance(10 * 60 * 1000 + 1);
    let r = callback(&w, &format!("state={}&code=good-code", q2["state"]));
    assert_eq!(r.status, 400);

    // The provider refuses: the instance records it.
    let (_, a) = w.call(
        Method::Post,
        &format!("/v1/connectors/{id}/authorize"),
        Some(&m),
        None,
    );
    let q3 = query(a["authorize_url"].as_str().unwrap());
    let r = callback(&w, &format!("state={}&error=access_denied", q3["state"]));
    assert_eq!(query(r.get_header("location").unwrap())["status"], "error");
    let (_, now) = w.call(Method::Get, &format!("/v1/connectors/{id}"), Some(&m), None);
    assert_eq!(now["status"], "error");
    assert!(now["health"]["message"]
        .as_str()
        .unwrap()
        .contains("access_denied"));

    // A bad code fails the exchange without storing anything partial.
    let (_, a) = w.call(
        Method::Post,
        &format!("/v1/connectors/{id}/authorize"),
        Some(&m),
        None,
    );
    let q4 = query(a["authorize_url"].as_str().unwrap());
    let r = callback(&w, &format!("state={}&code=bad-code", q4["state"]));
    assert_eq!(query(r.get_header("location").unwrap())["status"], "error");

    // Another tenant cannot start a consent for this connector.
    let (_, other) = w.tenant("globex");
    assert_eq!(
        w.call(
            Method::Post,
            &format!("/v1/connectors/{id}/authorize"),
            Some(&other),
            None
        )
        .0,
        404
    );
    // A static-credential connector takes no consent.
    let (_, g) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&m),
        Some(json!({"listing": "github", "auth": {"type": "pat", "token": GOOD_TOKEN}})),
    );
    let (s, _) = w.call(
        Method::Post,
        &format!("/v1/connectors/{}/authorize", g["id"].as_str().unwrap()),
        Some(&m),
        None,
    );
    assert_eq!(s, 409);

    // Tokens are sealed, never shown, never in events.
    let (_, all) = w.call(Method::Get, "/v1/events?limit=100", Some(&m), None);
    let everything = format!("{all}{now}{:?}", w.rows("SELECT * FROM connectors"));
    for secret in [
        "ya29.access-secret-1234",
        "1//refresh-secret-5678",
        "GOCSPX-client-secret",
    ] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
}

#[test]
fn mcp_oauth_discovers_registers_and_consents() {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    let (_, m) = w.key(&admin, "manager");
    let m = format!("Bearer {m}");
    let install = |name: &str| {
        w.call(
            Method::Post,
            "/v1/connectors",
            Some(&m),
            Some(
                json!({"listing": "remote-mcp", "name": name, "auth": {"type": "mcp_oauth"},
                        "config": {"server_url": "https://mcp.example.com/mcp"}}),
            ),
        )
    };
    // Without dynamic registration there is no client to consent for:
    // a clear 502, and nothing stored.
    *w.provider.mode.borrow_mut() = "no-dcr";
    let (s, e) = install("mcp");
    assert_eq!((s, err_code(&e)), (502, "connector_upstream_error"), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("RFC 7591"));
    *w.provider.mode.borrow_mut() = "no-prm";
    let (s, e) = install("mcp");
    assert_eq!((s, err_code(&e)), (502, "connector_upstream_error"), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("RFC 9728"));
    let (_, list) = w.call(Method::Get, "/v1/connectors", Some(&m), None);
    assert_eq!(list["data"].as_array().unwrap().len(), 0);

    *w.provider.mode.borrow_mut() = "ok";
    w.provider.sent.borrow_mut().clear();
    let (s, c) = install("mcp");
    assert_eq!(
        (s, c["status"].as_str()),
        (201, Some("pending_auth")),
        "{c}"
    );
    // 401 challenge → protected-resource metadata → server metadata → registration.
    let steps: Vec<String> = w
        .provider
        .sent
        .borrow()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url))
        .collect();
    assert_eq!(
        steps,
        [
            "POST https://mcp.example.com/mcp",
            "GET https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
            "GET https://auth.example.com/.well-known/oauth-authorization-server",
            "POST https://auth.example.com/register",
        ]
    );
    let reg: Value =
        serde_json::from_str(w.provider.sent.borrow()[3].body.as_deref().unwrap()).unwrap();
    assert_eq!(
        reg["redirect_uris"],
        json!(["https://api.test/v1/oauth/callback"])
    );
    assert_eq!(reg["token_endpoint_auth_method"], "none");
    let id = c["id"].as_str().unwrap().to_string();
    let url = c["authorize_url"].as_str().unwrap();
    assert!(
        url.starts_with("https://auth.example.com/authorize?"),
        "{url}"
    );
    let q = query(url);
    assert_eq!(
        (
            q["client_id"].as_str(),
            q["resource"].as_str(),
            q["code_challenge_method"].as_str()
        ),
        ("dcr-client-1", "https://mcp.example.com/mcp", "S256")
    );

    // The callback exchanges the code at the discovered token endpoint,
    // with the resource (RFC 8707) and the PKCE verifier.
    let r = callback(&w, &format!("state={}&code=good-code", q["state"]));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let sent = w.provider.sent.borrow().last().unwrap().clone();
    assert_eq!(sent.url, "https://auth.example.com/token");
    let form: HashMap<String, String> = url::form_urlencoded::parse(sent.body.unwrap().as_bytes())
        .into_owned()
        .collect();
    assert_eq!(pkce_challenge(&form["code_verifier"]), q["code_challenge"]);
    let (_, now) = w.call(Method::Get, &format!("/v1/connectors/{id}"), Some(&m), None);
    assert_eq!(now["status"], "connected");

    // Its health is the MCP handshake, with the access token.
    let (s, h) = w.call(
        Method::Get,
        &format!("/v1/connectors/{id}/health"),
        Some(&m),
        None,
    );
    assert_eq!((s, h["healthy"].as_bool()), (200, Some(true)), "{h}");
    let last = w.provider.sent.borrow().last().unwrap().clone();
    assert_eq!(last.url, "https://mcp.example.com/mcp");
    assert!(last.headers.iter().any(|(_, v)| v == "Bearer mcp-access-1"));

    // The generic connector's requests go as they are, with the token; its
    // tools/call pins the upstream tool it names.
    let tool = |name: &str, body: Value, key: Option<&str>| {
        let mut req = HttpRequest::new(
            Method::Post,
            &format!("/v1/connectors/{id}/tools/{name}/call"),
        )
        .with_header("authorization", &m)
        .with_body(body.to_string());
        if let Some(k) = key {
            req = req.with_header("idempotency-key", k);
        }
        let r = w.send(req);
        (r.status, serde_json::from_slice::<Value>(&r.body).unwrap())
    };
    let (s, v) = tool(
        "call_tool",
        json!({"arguments": {"name": "echo", "arguments": {"x": 1}}}),
        Some("echo-1"),
    );
    assert_eq!((s, v["status"].as_str()), (200, Some("succeeded")), "{v}");
    assert_eq!(v["result"]["content"][0]["text"], r#"echo {"x":1}"#);
    assert_eq!(w.rows("SELECT tool FROM tool_pins")[0]["tool"], "echo");
    let sent = w.provider.sent.borrow().last().unwrap().clone();
    assert!(sent.headers.iter().any(|(_, v)| v == "Bearer mcp-access-1"));
    let (s, v) = tool(
        "read_resource",
        json!({"arguments": {"uri": "file:///a"}}),
        None,
    );
    assert_eq!(
        (s, v["result"]["contents"][0]["text"].as_str()),
        (200, Some("hello")),
        "{v}"
    );
    let (s, v) = tool(
        "call_tool",
        json!({"arguments": {"name": "nope"}}),
        Some("nope-1"),
    );
    assert_eq!((s, err_code(&v)), (409, "tool_changed"), "{v}");

    // Re-consent discovers again but keeps the registered client.
    w.provider.sent.borrow_mut().clear();
    let (s, a) = w.call(
        Method::Post,
        &format!("/v1/connectors/{id}/authorize"),
        Some(&m),
        None,
    );
    assert_eq!(s, 200, "{a}");
    assert_eq!(
        query(a["authorize_url"].as_str().unwrap())["client_id"],
        "dcr-client-1"
    );
    assert!(!w
        .provider
        .sent
        .borrow()
        .iter()
        .any(|r| r.url.ends_with("/register")));
    // Nothing discovered or registered ever shows: no client id, no token.
    let (_, now) = w.call(Method::Get, &format!("/v1/connectors/{id}"), Some(&m), None);
    let text = now.to_string();
    assert!(
        !text.contains("mcp-access-1") && !text.contains("mcp-refresh-1"),
        "{text}"
    );
}
