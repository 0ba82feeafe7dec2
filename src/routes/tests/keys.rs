//! Tenants and API keys: operator-only creation, roles, Basic and Bearer, revocation.

use super::*;
use crate::routes::http::{HttpRequest, Method};
use serde_json::json;

#[test]
fn tenant_creation_needs_the_operator() {
    let w = World::new();
    let r = w.send(
        HttpRequest::new(Method::Post, "/v1/tenants").with_body(br#"{"name":"acme"}"#.to_vec()),
    );
    assert_eq!(
        (r.status, r.get_header("www-authenticate")),
        (
            401,
            Some(r#"Bearer realm="connector-marketplace", Basic realm="connector-marketplace""#)
        )
    );
    let (s, v) = w.call(
        Method::Post,
        "/v1/tenants",
        None,
        Some(json!({"name": "acme"})),
    );
    assert_eq!((s, err_code(&v)), (401, "unauthenticated"));
    assert_eq!(v["error"]["type"], "authentication_error");
    assert!(v["error"]["request_id"]
        .as_str()
        .unwrap()
        .starts_with("req_"));
    let (s, v) = w.call(
        Method::Post,
        "/v1/tenants",
        Some("Bearer wrong"),
        Some(json!({"name": "acme"})),
    );
    assert_eq!((s, err_code(&v)), (401, "unauthenticated"));
    let (s, v) = w.call(Method::Post, "/v1/tenants", Some(OP), Some(json!({})));
    assert_eq!(
        (s, err_code(&v), v["error"]["param"].as_str()),
        (400, "missing_parameter", Some("name"))
    );
    let (s, v) = w.call(
        Method::Post,
        "/v1/tenants",
        Some(OP),
        Some(json!({"name": "a", "plan": "x"})),
    );
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("plan")));
    let (_, admin) = w.tenant("acme");
    // A tenant key cannot create tenants.
    let (s, v) = w.call(
        Method::Post,
        "/v1/tenants",
        Some(&admin),
        Some(json!({"name": "x"})),
    );
    assert_eq!((s, err_code(&v)), (403, "forbidden"));
}

#[test]
fn keys_roles_and_revocation() {
    let w = World::new();
    let (tenant, admin) = w.tenant("acme");
    let (viewer_id, viewer) = w.key(&admin, "viewer");
    let (_, manager) = w.key(&admin, "manager");
    let viewer_bearer = format!("Bearer {viewer}");
    // Basic works with the key id as user name.
    use base64::Engine;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{viewer_id}:{viewer}"))
    );
    assert_eq!(
        w.call(Method::Get, "/v1/catalog", Some(&basic), None).0,
        200
    );
    // Viewers and managers cannot manage keys.
    for weak in [&viewer_bearer, &format!("Bearer {manager}")] {
        let (s, v) = w.call(
            Method::Post,
            "/v1/api-keys",
            Some(weak),
            Some(json!({"role": "admin"})),
        );
        assert_eq!((s, err_code(&v)), (403, "forbidden"));
    }
    let (s, v) = w.call(
        Method::Post,
        "/v1/api-keys",
        Some(&admin),
        Some(json!({"role": "root"})),
    );
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("role")));
    // Listing shows no secret; newest first; pages.
    let (s, v) = w.call(Method::Get, "/v1/api-keys?limit=2", Some(&admin), None);
    assert_eq!(s, 200);
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert!(v["has_more"].as_bool().unwrap());
    assert!(!v.to_string().contains(&viewer) && !v.to_string().contains("\"secret\""));
    let cursor = v["next_cursor"].as_str().unwrap();
    let (_, v2) = w.call(
        Method::Get,
        &format!("/v1/api-keys?limit=2&cursor={cursor}"),
        Some(&admin),
        None,
    );
    assert_eq!(v2["data"].as_array().unwrap().len(), 1);
    assert_eq!(v2["data"][0]["role"], "admin");
    let (s, v) = w.call(Method::Get, "/v1/api-keys?cursor=nope", Some(&admin), None);
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("cursor")));
    // Revoke the viewer: it stops working at once.
    let (s, v) = w.call(
        Method::Delete,
        &format!("/v1/api-keys/{viewer_id}"),
        Some(&admin),
        None,
    );
    assert_eq!((s, v["deleted"].as_bool()), (200, Some(true)));
    assert_eq!(
        w.call(Method::Get, "/v1/catalog", Some(&viewer_bearer), None)
            .0,
        401
    );
    assert_eq!(
        w.call(
            Method::Delete,
            &format!("/v1/api-keys/{viewer_id}"),
            Some(&admin),
            None
        )
        .0,
        404
    );
    // Another tenant's admin sees 404, never 403.
    let (_, other_admin) = w.tenant("globex");
    let (mid, _) = w.key(&admin, "manager");
    let (s, v) = w.call(
        Method::Delete,
        &format!("/v1/api-keys/{mid}"),
        Some(&other_admin),
        None,
    );
    assert_eq!((s, err_code(&v)), (404, "not_found"));
    // A key cannot revoke itself.
    let own = w.rows(&format!(
        "SELECT id FROM api_keys WHERE tenant_id = '{tenant}' AND role = 'admin'"
    ))[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, v) = w.call(
        Method::Delete,
        &format!("/v1/api-keys/{own}"),
        Some(&admin),
        None,
    );
    assert_eq!((s, err_code(&v)), (409, "state_conflict"));
    // Events were written, without secrets.
    let events = w.rows("SELECT type, data FROM events");
    assert!(events.iter().any(|e| e["type"] == "api_key.revoked"));
    assert!(events
        .iter()
        .all(|e| !e["data"].as_str().unwrap().contains("mk_")));
    // No secret is stored in clear.
    let keys = w.rows("SELECT secret_hash FROM api_keys");
    assert!(keys.len() >= 3, "{keys:?}");
    for k in keys {
        let hash = k["secret_hash"].as_str().unwrap();
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, viewer);
    }
}
