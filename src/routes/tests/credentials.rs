//! Where a credential may go (API §3, §10): only to its listing version's
//! `allowed_hosts`, on every hop of every route that sends it, never
//! re-sent to another origin by a redirect, and not to a new host after a
//! config change without the credential (or consent) again.

use super::*;
use crate::routes::http::{HttpRequest, Method};
use serde_json::json;
use std::collections::HashMap;

fn setup() -> (World, String) {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    let (_, manager) = w.key(&admin, "manager");
    (w, format!("Bearer {manager}"))
}

fn redirect(w: &World, from: &str, status: u16, to: &str) {
    w.provider
        .redirects
        .borrow_mut()
        .push((from.into(), status, to.into()));
}

/// Whether any request to `host` carried `secret` (header or body).
fn leaked_to(w: &World, host: &str, secret: &str) -> bool {
    w.provider.sent.borrow().iter().any(|r| {
        url::Url::parse(&r.url).unwrap().host_str() == Some(host)
            && (r.headers.iter().any(|(_, v)| v.contains(secret))
                || r.body.as_deref().is_some_and(|b| b.contains(secret)))
    })
}

fn gitlab(base: &str) -> Value {
    json!({"listing": "gitlab", "name": "gl", "config": {"base_url": base},
           "auth": {"type": "pat", "token": GOOD_TOKEN}})
}

fn publish(w: &World, m: &Value) -> (u16, Value) {
    let id = m["id"].as_str().unwrap();
    let r = w.send(
        HttpRequest::new(Method::Put, &format!("/v1/catalog/{id}"))
            .with_header("authorization", OP)
            .with_body(m.to_string()),
    );
    (r.status, serde_json::from_slice(&r.body).unwrap())
}

fn catalog_manifest(id: &str) -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("catalog/{id}.json"));
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// Finding 1: a 307/308 to another origin does not carry gitlab's
/// `PRIVATE-TOKEN`, nor a body holding `{{auth.*}}`.
#[test]
fn redirects_to_another_origin_carry_no_credential() {
    let (w, m) = setup();
    // Both hosts are the listing's (self-hosted + gitlab.com): only the
    // origin changes, so the hop is followed without the token.
    redirect(
        &w,
        "https://git.acme.example/api/v4/user",
        307,
        "https://gitlab.com/api/v4/user",
    );
    let (s, e) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&m),
        Some(gitlab("https://git.acme.example")),
    );
    assert!(
        !leaked_to(&w, "gitlab.com", GOOD_TOKEN),
        "PRIVATE-TOKEN re-sent"
    );
    assert_eq!((s, err_code(&e)), (422, "auth_failed"), "{e}");

    // A probe whose body carries the credential: that redirect is refused.
    let mut l = catalog_manifest("gitlab");
    l["id"] = json!("gitlab-body");
    l["verify"]["method"] = json!("POST");
    l["verify"]["body"] = json!("{\"token\":\"{{auth.token}}\"}");
    l["verify"]["headers"] = json!({"Accept": "application/json"});
    let (s, v) = publish(&w, &l);
    assert_eq!(s, 200, "{v}");
    redirect(
        &w,
        "https://git2.acme.example/api/v4/user",
        308,
        "https://gitlab.com/api/v4/user",
    );
    let mut body = gitlab("https://git2.acme.example");
    body["listing"] = json!("gitlab-body");
    let (s, e) = w.call(Method::Post, "/v1/connectors", Some(&m), Some(body));
    assert!(!leaked_to(&w, "gitlab.com", GOOD_TOKEN), "body re-sent");
    assert_eq!((s, err_code(&e)), (400, "target_not_allowed"), "{e}");
}

/// Finding 1: a token endpoint's redirect is a failure, never followed.
#[test]
fn token_endpoint_redirects_are_not_followed() {
    let (w, m) = setup();
    let body = json!({"listing": "google-drive", "name": "drive",
        "auth": {"type": "oauth2", "client_id": "1234567890-abc123def.apps.googleusercontent.com", "client_secret": "GOCSPX-client-secret"}});
    let (s, c) = w.call(Method::Post, "/v1/connectors", Some(&m), Some(body));
    assert_eq!(s, 201, "{c}");
    let q: HashMap<String, String> = url::Url::parse(c["authorize_url"].as_str().unwrap())
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    redirect(
        &w,
        "https://oauth2.googleapis.com/token",
        307,
        "https://oauth2.googleapis.com/token/v2",
    );
    let r = w.send(HttpRequest::new(
        Method::Get,
        &format!("/v1/oauth/callback?state={}&code=good-code", q["state"]),
    ));
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        (r.status, err_code(&v)),
        (502, "connector_upstream_error"),
        "{v}"
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("never follow redirects"),
        "{v}"
    );
    assert!(!w
        .provider
        .sent
        .borrow()
        .iter()
        .any(|r| r.url.ends_with("/token/v2")));
}

/// Finding 2: a manifest that sends a credential to a host it does not
/// name is refused at publish; at send time every hop is checked.
#[test]
fn credentials_stay_on_the_listing_hosts() {
    let (w, m) = setup();
    let mut l = catalog_manifest("stripe");
    l["id"] = json!("stripe-copy");
    l.as_object_mut().unwrap().remove("allowed_hosts");
    let (s, e) = publish(&w, &l);
    assert_eq!(
        (s, e["error"]["param"].as_str()),
        (400, Some("/allowed_hosts")),
        "{e}"
    );
    l["allowed_hosts"] = json!(["api.stripe.com"]);
    l["tools"][0]["request"]["url"] = json!("https://files.stripe.example/v1/balance");
    l["tools"][0]["request"]["headers"] = json!({"Authorization": "Bearer {{auth.key}}"});
    let (s, e) = publish(&w, &l);
    assert_eq!(
        (s, e["error"]["param"].as_str()),
        (400, Some("/tools/0/request/url")),
        "{e}"
    );
    let mut l = catalog_manifest("magento");
    l["id"] = json!("magento-copy");
    l["allowed_hosts"] = json!(["magento.example.com"]);
    assert_eq!(
        publish(&w, &l).0,
        200,
        "literal hosts bind a config-hosted URL"
    );
    l["allowed_hosts"] = json!(["{{config.nope}}"]);
    assert_eq!(
        publish(&w, &l).0,
        400,
        "a config entry names a declared property"
    );

    // GitHub's API redirects elsewhere: refused before anything is sent there.
    redirect(
        &w,
        "https://api.github.com/user",
        302,
        "https://evil.example.org/user",
    );
    let (s, e) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&m),
        Some(json!({"listing": "github", "auth": {"type": "pat", "token": GOOD_TOKEN}})),
    );
    assert_eq!((s, err_code(&e)), (400, "target_not_allowed"), "{e}");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("evil.example.org"));
    assert!(!w
        .provider
        .sent
        .borrow()
        .iter()
        .any(|r| r.url.contains("evil.example.org")));
}

/// Finding 3: health and tool tests send through the same path: a
/// redirect off the listing's hosts is refused there too.
#[test]
fn health_and_tool_tests_bind_every_hop() {
    let (w, m) = setup();
    let (s, c) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&m),
        Some(gitlab("https://git.acme.example")),
    );
    assert_eq!(s, 201, "{c}");
    let id = c["id"].as_str().unwrap();
    for path in [
        "/api/v4/user",
        "/api/v4/projects?membership=true&simple=true&per_page=1",
    ] {
        redirect(
            &w,
            &format!("https://git.acme.example{path}"),
            307,
            &format!("https://evil.example.org{path}"),
        );
    }
    let (s, h) = w.call(
        Method::Get,
        &format!("/v1/connectors/{id}/health"),
        Some(&m),
        None,
    );
    assert_eq!((s, h["healthy"].as_bool()), (200, Some(false)), "{h}");
    w.call(
        Method::Post,
        &format!("/v1/connectors/{id}/test"),
        Some(&m),
        Some(json!({"tools": ["list_projects"]})),
    );
    assert!(!w
        .provider
        .sent
        .borrow()
        .iter()
        .any(|r| r.url.contains("evil.example.org")));
}

/// Finding 4: moving an `mcp_oauth` server to another host drops its
/// tokens and asks for consent again; the old token never goes there.
#[test]
fn a_config_change_that_moves_an_oauth_token_asks_for_consent() {
    let (w, m) = setup();
    let (s, c) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&m),
        Some(
            json!({"listing": "remote-mcp", "name": "mcp", "auth": {"type": "mcp_oauth"},
                    "config": {"server_url": "https://mcp.example.com/mcp"}}),
        ),
    );
    assert_eq!(s, 201, "{c}");
    let id = c["id"].as_str().unwrap().to_string();
    let q: HashMap<String, String> = url::Url::parse(c["authorize_url"].as_str().unwrap())
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let r = w.send(HttpRequest::new(
        Method::Get,
        &format!("/v1/oauth/callback?state={}&code=good-code", q["state"]),
    ));
    assert_eq!(r.status, 200);
    let (s, p) = w.call(
        Method::Patch,
        &format!("/v1/connectors/{id}"),
        Some(&m),
        Some(json!({"config": {"server_url": "https://mcp2.example.com/mcp"}})),
    );
    assert_eq!(s, 200, "{p}");
    assert_eq!(
        (p["status"].as_str(), p["next_step"].as_str()),
        (Some("pending_auth"), Some("oauth")),
        "{p}"
    );
    assert!(p["authorize_url"]
        .as_str()
        .unwrap()
        .contains("resource=https%3A%2F%2Fmcp2.example.com%2Fmcp"));
    let (s, h) = w.call(
        Method::Get,
        &format!("/v1/connectors/{id}/health"),
        Some(&m),
        None,
    );
    assert_eq!((s, err_code(&h)), (409, "state_conflict"), "{h}");
    assert!(!leaked_to(&w, "mcp2.example.com", "mcp-access-1"));
    // The same host (another path) keeps the token.
    let (s, p) = w.call(
        Method::Patch,
        &format!("/v1/connectors/{id}"),
        Some(&m),
        Some(json!({"config": {"server_url": "https://mcp2.example.com/mcp/"}})),
    );
    assert_eq!(
        (s, p["status"].as_str()),
        (200, Some("pending_auth")),
        "{p}"
    );
    assert!(p.get("next_step").is_none(), "{p}");
}

/// Finding 6: a 200 that is not JSON (a login page, a proxy) is not the
/// provider accepting the credential.
#[test]
fn an_accepted_status_without_json_is_not_accepted() {
    let (w, m) = setup();
    *w.provider.mode.borrow_mut() = "html";
    let (s, v) = w.call(
        Method::Post,
        "/v1/catalog/gitlab/verify",
        Some(&m),
        Some(json!({"auth": {"type": "pat", "token": GOOD_TOKEN}})),
    );
    assert_eq!((s, v["ok"].as_bool()), (200, Some(false)), "{v}");
    assert!(v["message"].as_str().unwrap().contains("gitlab.com"), "{v}");
    let (s, e) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&m),
        Some(gitlab("https://gitlab.com")),
    );
    assert_eq!((s, err_code(&e)), (502, "connector_upstream_error"), "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not with JSON"),
        "{e}"
    );
    let (_, list) = w.call(Method::Get, "/v1/connectors", Some(&m), None);
    assert_eq!(list["data"].as_array().unwrap().len(), 0);
}

/// Finding 8: the idempotency fingerprint of a body holding a credential
/// is keyed by the server secret, not a plain SHA-256 of the body.
#[test]
fn idempotency_fingerprints_are_keyed() {
    use sha2::{Digest, Sha256};
    let (w, m) = setup();
    // Keys sorted: this is the canonical JSON the fingerprint covers.
    let body =
        json!({"auth": {"token": GOOD_TOKEN, "type": "pat"}, "listing": "github", "name": "idem"});
    let r = w.send(
        HttpRequest::new(Method::Post, "/v1/connectors")
            .with_header("authorization", &m)
            .with_header("idempotency-key", "k-1")
            .with_body(body.to_string()),
    );
    assert_eq!(r.status, 201);
    let plain = hex::encode(Sha256::digest(
        format!("POST /v1/connectors\n{body}").as_bytes(),
    ));
    let stored: Vec<String> = w
        .objects
        .books
        .borrow()
        .values()
        .flat_map(|b| b.records.values().map(|r| r.fingerprint.clone()))
        .collect();
    assert_eq!(stored.len(), 1);
    assert_ne!(
        stored[0], plain,
        "an unsalted hash of a body with a credential"
    );
    assert_eq!(stored[0].len(), 64);
}

/// Finding 9: discovered OAuth endpoints must be https; `return_url` must
/// be https on an allowed origin (loopback only in development); a short
/// operator token outside development refuses to serve.
#[test]
fn deployment_rules_for_endpoints_return_urls_and_the_operator_token() {
    let (w, m) = setup();
    *w.provider.mode.borrow_mut() = "http-token";
    let (s, e) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&m),
        Some(
            json!({"listing": "remote-mcp", "name": "mcp", "auth": {"type": "mcp_oauth"},
                    "config": {"server_url": "https://mcp.example.com/mcp"}}),
        ),
    );
    assert_eq!((s, err_code(&e)), (502, "connector_upstream_error"), "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("token_endpoint"),
        "{e}"
    );
    *w.provider.mode.borrow_mut() = "";

    let drive = |ret: &str| {
        json!({"listing": "google-drive", "name": "drive", "return_url": ret,
               "auth": {"type": "oauth2", "client_id": "1234567890-abc123def.apps.googleusercontent.com", "client_secret": "GOCSPX-client-secret"}})
    };
    for bad in [
        "https://evil.example.org/done",
        "http://app.example.com/done",
    ] {
        let (s, e) = w.call(Method::Post, "/v1/connectors", Some(&m), Some(drive(bad)));
        assert_eq!(
            (s, e["error"]["param"].as_str()),
            (400, Some("return_url")),
            "{bad}: {e}"
        );
    }
    let (s, e) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&m),
        Some(drive("http://127.0.0.1:9000/done")),
    );
    assert_eq!(s, 201, "loopback in development: {e}");

    w.development.set(false);
    let (s, e) = w.call(Method::Get, "/v1/ping", None, None);
    assert_eq!((s, err_code(&e)), (503, "service_misconfigured"), "{e}");
    assert!(w
        .logs
        .borrow()
        .iter()
        .any(|l| l.contains("OPERATOR_TOKEN has 13 characters")));
    let (s, e) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&m),
        Some(drive("http://127.0.0.1:9000/done")),
    );
    assert_eq!(s, 503, "{e}");
}

/// API §10: an upgrade whose version sends the credential to new hosts
/// asks for it again.
#[test]
fn an_upgrade_that_moves_the_credential_asks_for_it_again() {
    let (w, m) = setup();
    let mut l = catalog_manifest("github");
    l["id"] = json!("gh-up");
    l["version"] = json!("1.0.0");
    assert_eq!(publish(&w, &l).0, 200);
    let (s, c) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&m),
        Some(json!({"listing": "gh-up", "auth": {"type": "pat", "token": GOOD_TOKEN}})),
    );
    assert_eq!(s, 201, "{c}");
    let id = c["id"].as_str().unwrap();
    l["version"] = json!("1.1.0");
    l["allowed_hosts"] = json!([
        "api.github.com",
        "uploads.github.com",
        "{{config.base_url}}"
    ]);
    l["tools"][0]["request"]["url"] = json!("https://uploads.github.com/user");
    assert_eq!(publish(&w, &l).0, 200);
    let path = format!("/v1/connectors/{id}/upgrade");
    let (s, e) = w.call(Method::Post, &path, Some(&m), Some(json!({})));
    assert_eq!(
        (s, e["error"]["param"].as_str()),
        (400, Some("auth")),
        "{e}"
    );
    let (s, u) = w.call(
        Method::Post,
        &path,
        Some(&m),
        Some(json!({"auth": {"type": "pat", "token": GOOD_TOKEN}})),
    );
    assert_eq!(
        (s, u["listing_version"].as_str()),
        (200, Some("1.1.0")),
        "{u}"
    );
}
