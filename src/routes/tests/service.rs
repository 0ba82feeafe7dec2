//! Envelopes for unknown routes, methods and bodies; service routes; the OpenAPI document.

use super::*;
use crate::routes::http::{HttpRequest, Method};
use serde_json::Value;

use crate::routes::{error, resolve, service as svc, MAX_BODY_BYTES, ROUTES};

#[test]
fn envelopes_for_unknown_routes_methods_bodies() {
    let w = World::new();
    let (_, admin) = w.tenant("acme");
    let (s, v) = w.call(Method::Get, "/v1/nothing", Some(&admin), None);
    assert_eq!((s, err_code(&v)), (404, "route_not_found"));
    let (s, v) = w.call(Method::Get, "/", None, None);
    assert_eq!((s, err_code(&v)), (404, "route_not_found"));
    let r = w
        .send(HttpRequest::new(Method::Delete, "/v1/catalog").with_header("authorization", &admin));
    assert_eq!((r.status, r.get_header("allow")), (405, Some("GET")));
    let r = w.send(
        HttpRequest::new(Method::Post, "/v1/api-keys")
            .with_header("authorization", &admin)
            .with_body("{\"role\": \"viewer\",\n \"name\": }"),
    );
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!((r.status, err_code(&v)), (400, "malformed_json"));
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 2, column"),
        "{v}"
    );
    let r = w.send(
        HttpRequest::new(Method::Post, "/v1/api-keys")
            .with_header("authorization", &admin)
            .with_body(vec![b' '; MAX_BODY_BYTES + 1]),
    );
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!((r.status, err_code(&v)), (413, "payload_too_large"));
    let (s, v) = w.call(Method::Get, "/v1/catalog", Some("Basic Zm9vOmJhcg=="), None);
    assert_eq!((s, err_code(&v)), (401, "unauthenticated"));
}

/// Found by the contract fuzz: `QUERY /healthz` answered 200 because the edge
/// took `worker::Method`, which reads unknown methods as GET. The edge now
/// passes the raw method; any method the router does not know is a 405.
#[test]
fn unknown_methods_are_not_served_as_get() {
    let w = World::new();
    let (_, admin) = w.tenant("acme");
    for m in ["QUERY", "PROPFIND", "TRACE", "CONNECT", "get-ish"] {
        assert_eq!(Method::parse(m), Method::Other, "{m}");
        for path in ["/healthz", "/v1/catalog"] {
            let r = w.send(
                HttpRequest::new(Method::parse(m), path).with_header("authorization", &admin),
            );
            let v: Value = serde_json::from_slice(&r.body).unwrap();
            assert_eq!(
                (r.status, err_code(&v)),
                (405, "method_not_allowed"),
                "{m} {path}"
            );
            assert_eq!(r.get_header("allow"), Some("GET"), "{m} {path}");
        }
    }
    assert_eq!(Method::parse("get"), Method::Get);
}

#[test]
fn service_routes() {
    let w = World::new();
    let (s, v) = w.call(Method::Get, "/healthz", None, None);
    assert_eq!((s, v["status"].as_str()), (200, Some("ok")));
    assert_eq!(v["checks"]["durable_objects"]["ok"], true);
    let (s, v) = w.call(Method::Get, "/v1/ping", None, None);
    assert_eq!((s, v["ok"].as_bool()), (200, Some(true)));
}

#[test]
fn openapi_documents_every_route_and_code() {
    let doc: Value = serde_json::from_str(svc::OPENAPI).expect("openapi.json is JSON");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in ROUTES {
        let item = paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is not documented"));
        for m in *methods {
            let key = m.as_str().to_lowercase();
            assert!(
                item.get(&key).is_some(),
                "{} {path} is not documented",
                m.as_str()
            );
        }
        // The template resolves to a route with exactly these methods.
        let concrete = path.replace("{id}", "key_x").replace("{listing}", "github");
        assert_eq!(resolve(&concrete).map(|(_, m)| m), Some(*methods), "{path}");
    }
    assert_eq!(
        paths.len(),
        ROUTES.len(),
        "documented paths that are not routed"
    );
    let text = svc::OPENAPI;
    for code in error::CODES {
        assert!(
            text.contains(&format!("\"{code}\"")),
            "code {code} is not documented"
        );
    }
}
