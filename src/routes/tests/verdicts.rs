//! What a check that could not run, or a refusal of a listing without
//! credentials, is reported as: never a pass, never "credentials".

use super::*;
use crate::routes::http::Method;
use serde_json::json;

#[test]
fn a_database_listing_is_verified_over_its_own_protocol() {
    use crate::testing::db::DB_PASSWORD;
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    let install = |password: &str| {
        w.call(
            Method::Post,
            "/v1/connectors",
            Some(&admin),
            Some(json!({"listing": "postgresql", "name": format!("pg-{}", password.len()), "auth": {"type": "conn_string",
                "value": format!("postgresql://app:{password}@db.example.com:5432/shop?sslmode=require")}})),
        )
    };
    // The server's refusal is the answer: nothing is stored.
    let (s, e) = install("wrong-password");
    assert_eq!((s, err_code(&e)), (422, "auth_failed"), "{e}");
    let message = e["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("password authentication failed"),
        "{message}"
    );
    assert!(!message.contains("wrong-password"), "{message}");
    let (_, list) = w.call(Method::Get, "/v1/connectors", Some(&admin), None);
    assert_eq!(list["data"], json!([]), "{list}");
    // The right password: connected over TLS to the host of the string, checked.
    let (s, c) = install(DB_PASSWORD);
    assert_eq!(
        (s, c["health"]["healthy"].clone()),
        (201, json!(true)),
        "{c}"
    );
    assert_eq!(
        w.databases.connects.borrow().last().unwrap(),
        &("db.example.com".to_string(), 5432, true)
    );
    let id = c["id"].as_str().unwrap();
    // Its test runs the read tools live (query with its test arguments).
    w.databases
        .script("SELECT table_name", &["name", "type"], vec![]);
    let (s, t) = w.call(
        Method::Post,
        &format!("/v1/connectors/{id}/test"),
        Some(&admin),
        None,
    );
    assert_eq!((s, t["status"].as_str()), (200, Some("passed")), "{t}");
    let modes: Vec<(String, String)> = t["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["tool"].as_str().unwrap().into(),
                r["mode"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(modes.contains(&("query".into(), "live".into())), "{t}");
    assert!(w.databases.statements().contains(&"SELECT 1".to_string()));
    // A host the guard refuses is never dialled.
    let before = w.databases.connects.borrow().len();
    let (s, e) = w.call(
        Method::Post,
        "/v1/catalog/postgresql/verify",
        Some(&admin),
        Some(json!({"auth": {"type": "conn_string", "value": format!("postgresql://app:{DB_PASSWORD}@10.0.0.7/shop")}})),
    );
    assert_eq!(s, 400, "{e}");
    assert_eq!(w.databases.connects.borrow().len(), before);
    assert!(!e.to_string().contains(DB_PASSWORD), "{e}");
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
