//! OAuth consent end to end: a listing whose OAuth endpoints are a fake
//! authorization server on 127.0.0.1, a browser-free round trip (follow the
//! authorize redirect, call the callback), and refused states.

use crate::connectors::Seen;
use crate::support::fake::{Mode, Provider, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET};
use crate::support::{call, Server, OPERATOR};
use crate::{key, tenant};
use serde_json::{json, Value};
use std::collections::HashMap;

fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// A copy of the google-drive manifest, published as `id`, whose OAuth
/// endpoints are the fake.
pub fn publish_oauth_listing(s: &Server, p: &Provider, id: &str, name: &str) {
    let raw = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/catalog/google-drive.json"
    ))
    .unwrap();
    let mut m: Value = serde_json::from_str(&raw).unwrap();
    m["id"] = json!(id);
    m["name"] = json!(name);
    m["oauth"]["authorize_url"] = json!(format!("{}/authorize", p.base()));
    m["oauth"]["token_url"] = json!(format!("{}/token", p.base()));
    m["auth"]["fields"][0]
        .as_object_mut()
        .unwrap()
        .remove("pattern");
    let a = call("PUT", &s.url(&format!("/v1/catalog/{id}")))
        .auth(OPERATOR)
        .json(&m);
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
}

pub fn consent(s: &Server, p: &Provider, seen: &Seen) {
    publish_oauth_listing(s, p, "e2e-oauth", "E2E OAuth provider");
    let (_, admin, _) = tenant(s, "oauth");
    let (_, m) = key(s, &admin, "manager");
    let body = json!({"listing": "e2e-oauth", "name": "drive", "return_url": format!("{}/done", p.base()),
                      "config": {"base_url": p.base()},
                      "auth": {"type": "oauth2", "client_id": OAUTH_CLIENT_ID, "client_secret": OAUTH_CLIENT_SECRET}});
    let a = call("POST", &s.url("/v1/connectors")).auth(&m).json(&body);
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    seen.lock().unwrap().push(a.body.clone());
    let c = a.json();
    let id = c["id"].as_str().unwrap().to_string();
    assert_eq!(
        (c["status"].as_str(), c["next_step"].as_str()),
        (Some("pending_auth"), Some("oauth"))
    );
    let authorize = c["authorize_url"].as_str().unwrap().to_string();
    assert_eq!(query(&authorize)["code_challenge_method"], "S256");

    // The "browser": the provider approves and redirects to our callback.
    let consent = call("GET", &authorize).send_foreign();
    assert_eq!(consent.status, 302);
    let callback = consent.header("location").unwrap().to_string();
    assert!(
        callback.starts_with(&s.url("/v1/oauth/callback?")),
        "{callback}"
    );
    let done = call("GET", &callback).send();
    assert_eq!(done.status, 302, "{}", String::from_utf8_lossy(&done.body));
    let back = query(done.header("location").unwrap());
    assert_eq!(
        (back["connector_id"].as_str(), back["status"].as_str()),
        (id.as_str(), "connected")
    );
    let now = call("GET", &s.url(&format!("/v1/connectors/{id}")))
        .auth(&m)
        .send();
    seen.lock().unwrap().push(now.body.clone());
    assert_eq!(now.json()["status"], "connected");
    let ev = call(
        "GET",
        &s.url(&format!(
            "/v1/events?type=connector.authorized&connector_id={id}"
        )),
    )
    .auth(&m)
    .send()
    .json();
    assert_eq!(ev["data"].as_array().unwrap().len(), 1);

    // The same state again, a tampered one, an unknown one.
    let state = query(&callback)["state"].clone();
    for bad in [
        callback.clone(),
        callback.replace(&state, &format!("{state}x")),
        s.url("/v1/oauth/callback?state=st_forged&code=x"),
    ] {
        let a = call("GET", &bad).send();
        assert_eq!((a.status, a.code()), (400, "invalid_state".into()), "{bad}");
    }
    // Another tenant cannot start a consent for this connector.
    let (_, stranger, _) = tenant(s, "oauth-stranger");
    let a = call("POST", &s.url(&format!("/v1/connectors/{id}/authorize")))
        .auth(&stranger)
        .send();
    assert_eq!((a.status, a.code()), (404, "not_found".into()));
    // Re-consent works, and a provider refusal marks the connector.
    let a = call("POST", &s.url(&format!("/v1/connectors/{id}/authorize")))
        .auth(&m)
        .send();
    assert_eq!(a.status, 200);
    let fresh = query(a.json()["authorize_url"].as_str().unwrap())["state"].clone();
    let r = call(
        "GET",
        &s.url(&format!(
            "/v1/oauth/callback?state={fresh}&error=access_denied"
        )),
    )
    .send();
    assert_eq!(query(r.header("location").unwrap())["status"], "error");
    let now = call("GET", &s.url(&format!("/v1/connectors/{id}")))
        .auth(&m)
        .send()
        .json();
    assert_eq!(now["status"], "error");
}

/// `mcp_oauth` end to end: the generic remote-MCP listing pointed at the
/// fake MCP server, whose authorization server is discovered (RFC 9728 →
/// 8414) and registers the worker as a client (RFC 7591); consent, health
/// over the MCP handshake, refresh before expiry, and a refused refresh.
pub fn mcp_consent(s: &Server, p: &Provider, seen: &Seen) {
    let (_, admin, _) = tenant(s, "mcp-oauth");
    let (_, m) = key(s, &admin, "manager");
    let server = format!("{}/mcp", p.base());
    let body = json!({"listing": "remote-mcp", "name": "remote",
                      "config": {"server_url": server}, "auth": {"type": "mcp_oauth"}});
    p.clear();
    let a = call("POST", &s.url("/v1/connectors")).auth(&m).json(&body);
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    seen.lock().unwrap().push(a.body.clone());
    let c = a.json();
    let id = c["id"].as_str().unwrap().to_string();
    assert_eq!(c["status"], "pending_auth");
    let steps: Vec<String> = p
        .seen()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        steps,
        [
            "POST /mcp",
            "GET /.well-known/oauth-protected-resource/mcp",
            "GET /.well-known/oauth-authorization-server",
            "POST /register",
        ]
    );
    let authorize = c["authorize_url"].as_str().unwrap().to_string();
    assert!(
        authorize.starts_with(&format!("{}/authorize?", p.base())),
        "{authorize}"
    );
    let q = query(&authorize);
    assert!(q["client_id"].starts_with("dcr-client-"), "{authorize}");
    assert_eq!(q["resource"], server);

    // The browser-free round trip; the fake checks PKCE and the resource.
    let consent = call("GET", &authorize).send_foreign();
    assert_eq!(consent.status, 302);
    let callback = consent.header("location").unwrap().to_string();
    let done = call("GET", &callback).send();
    assert_eq!(done.status, 200, "{}", String::from_utf8_lossy(&done.body));
    let now = call("GET", &s.url(&format!("/v1/connectors/{id}")))
        .auth(&m)
        .send();
    seen.lock().unwrap().push(now.body.clone());
    assert_eq!(now.json()["status"], "connected");

    // The token expires within the refresh window: the health check
    // refreshes it first, then runs the MCP handshake with it.
    p.clear();
    let h = call("GET", &s.url(&format!("/v1/connectors/{id}/health")))
        .auth(&m)
        .send();
    assert_eq!(
        (h.status, h.json()["healthy"].as_bool()),
        (200, Some(true)),
        "{}",
        String::from_utf8_lossy(&h.body)
    );
    let paths: Vec<String> = p.seen().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/token", "/mcp"], "refresh, then the handshake");

    // A refused refresh: the instance moves to error, with an event.
    p.set(Mode::Error500);
    let h = call("GET", &s.url(&format!("/v1/connectors/{id}/health")))
        .auth(&m)
        .send();
    p.set(Mode::Normal);
    assert_eq!(
        h.json()["healthy"],
        false,
        "{}",
        String::from_utf8_lossy(&h.body)
    );
    let now = call("GET", &s.url(&format!("/v1/connectors/{id}")))
        .auth(&m)
        .send()
        .json();
    assert_eq!(now["status"], "error", "{now}");
    assert!(
        now["health"]["message"]
            .as_str()
            .unwrap()
            .contains("refresh"),
        "{now}"
    );
    let ev = call("GET", &s.url(&format!("/v1/events?connector_id={id}")))
        .auth(&m)
        .send()
        .json();
    assert!(
        ev["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "connector.health_changed" && e["data"]["status"] == "error"),
        "{ev}"
    );
}
