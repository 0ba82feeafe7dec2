//! What a check that could not run, or a refusal of a listing without
//! credentials, is reported as: never a pass, never "credentials".

use super::*;
use crate::routes::http::Method;
use serde_json::{json, Value};

#[test]
fn a_test_that_could_not_run_is_not_a_pass() {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    // Database probes cannot run here yet: the install is stored unverified.
    let (s, c) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&admin),
        Some(json!({"listing": "postgresql", "auth": {"type": "conn_string", "value": "postgresql://u:p@db.example.com:5432/app"}})),
    );
    assert_eq!(
        (s, c["health"]["healthy"].clone()),
        (201, Value::Null),
        "{c}"
    );
    let id = c["id"].as_str().unwrap();
    let (s, t) = w.call(
        Method::Post,
        &format!("/v1/connectors/{id}/test"),
        Some(&admin),
        None,
    );
    assert_eq!((s, t["status"].as_str()), (200, Some("unverified")), "{t}");
    for r in t["results"].as_array().unwrap() {
        assert_eq!(r["ok"], Value::Null, "{r}");
        assert!(r["error"].as_str().is_some_and(|e| !e.is_empty()), "{r}");
    }
    // The recorded event says so too.
    let (_, ev) = w.call(
        Method::Get,
        "/v1/events?type=connector.tested",
        Some(&admin),
        None,
    );
    assert_eq!(ev["data"][0]["data"]["status"], "unverified", "{ev}");
}

#[test]
fn a_refusal_of_a_listing_without_credentials_speaks_of_the_request() {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    // open-meteo sends no credentials; the fake provider answers 401.
    let (s, e) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&admin),
        Some(json!({"listing": "open-meteo", "auth": {"type": "none"}})),
    );
    assert_eq!((s, err_code(&e)), (422, "auth_failed"), "{e}");
    let message = e["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("The provider refused the request (HTTP 401)"),
        "{message}"
    );
    assert!(!message.contains("rejected the credentials"), "{message}");
}
