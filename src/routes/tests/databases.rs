//! `sql` tools through the routes: a PostgreSQL instance over the fake
//! database server (src/testing/db.rs), its calls and receipts.

use super::*;
use crate::routes::http::{HttpRequest, Method};
use crate::testing::db::DB_PASSWORD;
use serde_json::{json, Value};

fn setup(w: &World) -> (String, String) {
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    let (s, c) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&admin),
        Some(
            json!({"listing": "postgresql", "name": "shop", "auth": {"type": "conn_string",
            "value": format!("host=db.example.com dbname=shop user=app password='{DB_PASSWORD}'")},
            "config": {"statement_timeout_ms": 3000}}),
        ),
    );
    assert_eq!(s, 201, "{c}");
    (admin, c["id"].as_str().unwrap().to_string())
}

fn call(
    w: &World,
    auth: &str,
    id: &str,
    tool: &str,
    body: Value,
    key: Option<&str>,
) -> (u16, Value) {
    let mut req = HttpRequest::new(
        Method::Post,
        &format!("/v1/connectors/{id}/tools/{tool}/call"),
    )
    .with_header("authorization", auth)
    .with_body(body.to_string());
    if let Some(k) = key {
        req = req.with_header("idempotency-key", k);
    }
    let r = w.send(req);
    (r.status, serde_json::from_slice(&r.body).unwrap())
}

#[test]
fn a_query_binds_its_parameters_and_its_receipt_reads_back() {
    let w = World::new();
    let (admin, id) = setup(&w);
    w.databases
        .script("SELECT name", &["name"], vec![vec![json!("lamp")]]);
    let evil = "1 OR 1=1; DROP TABLE products";
    let (s, v) = call(
        &w,
        &admin,
        &id,
        "query",
        json!({"arguments": {"sql": "SELECT name FROM products WHERE id = $1", "params": [evil]}}),
        None,
    );
    assert_eq!((s, v["status"].as_str()), (200, Some("succeeded")), "{v}");
    assert_eq!(v["result"]["rows"], json!([["lamp"]]));
    let sent = w.databases.log.borrow().clone();
    let q = sent
        .iter()
        .find(|(s, _)| s.starts_with("SELECT name"))
        .unwrap();
    assert_eq!(q.1, vec![json!(evil)], "the value is a parameter, not SQL");
    assert!(sent
        .iter()
        .any(|(s, _)| s == "SET LOCAL statement_timeout = 3000"));
    let (_, r) = w.call(
        Method::Get,
        &format!("/v1/tool-calls/{}", v["id"].as_str().unwrap()),
        Some(&admin),
        None,
    );
    assert_eq!(r["result"], v["result"]);
    // A statement that is not a read is refused before anything is sent.
    let before = w.databases.log.borrow().len();
    let (s, e) = call(
        &w,
        &admin,
        &id,
        "query",
        json!({"arguments": {"sql": "DELETE FROM products"}}),
        None,
    );
    assert_eq!(
        (s, err_code(&e), e["error"]["param"].as_str()),
        (400, "invalid_parameter", Some("arguments.sql")),
        "{e}"
    );
    assert_eq!(w.databases.log.borrow().len(), before);
}

#[test]
fn execute_waits_for_read_only_to_be_turned_off() {
    let w = World::new();
    let (admin, id) = setup(&w);
    let body =
        json!({"arguments": {"sql": "INSERT INTO products (name) VALUES ($1)", "params": ["x"]}});
    let (s, e) = call(&w, &admin, &id, "execute", body.clone(), Some("k1"));
    assert_eq!((s, err_code(&e)), (409, "state_conflict"), "{e}");
    // Its dry run prepares and rolls back, read only or not.
    let (s, v) = call(
        &w,
        &admin,
        &id,
        "execute",
        json!({"arguments": body["arguments"], "dry_run": true}),
        None,
    );
    assert_eq!(
        (s, v["status"].as_str(), v["mode"].as_str()),
        (200, Some("succeeded"), Some("dry_run")),
        "{v}"
    );
    assert!(!w
        .databases
        .statements()
        .iter()
        .any(|s| s.starts_with("INSERT")));
    let (s, _p) = w.call(
        Method::Patch,
        &format!("/v1/connectors/{id}"),
        Some(&admin),
        Some(json!({"config": {"read_only": false}})),
    );
    assert_eq!(s, 200, "{_p}");
    let (s, v) = call(&w, &admin, &id, "execute", body.clone(), Some("k2"));
    assert_eq!(
        (s, v["result"]["row_count"].as_u64()),
        (200, Some(1)),
        "{v}"
    );
    // The retry replays the receipt: the statement ran once.
    let (s, again) = call(&w, &admin, &id, "execute", body, Some("k2"));
    assert_eq!((s, &again["id"]), (200, &v["id"]));
    let inserts = w
        .databases
        .statements()
        .iter()
        .filter(|s| s.starts_with("INSERT"))
        .count();
    assert_eq!(inserts, 1);
    assert!(w.databases.statements().contains(&"COMMIT".to_string()));
}

#[test]
fn a_server_that_refuses_or_cannot_be_reached_leaves_a_receipt() {
    let w = World::new();
    let (admin, id) = setup(&w);
    // The server refuses the statement: a completed, failed call.
    let (s, v) = call(
        &w,
        &admin,
        &id,
        "query",
        json!({"arguments": {"sql": "SELECT nothing_scripted"}}),
        None,
    );
    assert_eq!(
        (s, v["status"].as_str(), v["error"]["code"].as_str()),
        (200, Some("failed"), Some("provider_rejected")),
        "{v}"
    );
    w.databases.down.set(true);
    let (s, e) = call(
        &w,
        &admin,
        &id,
        "query",
        json!({"arguments": {"sql": "SELECT 1"}}),
        None,
    );
    assert_eq!((s, err_code(&e)), (502, "connector_upstream_error"), "{e}");
    let tc = e["error"]["tool_call"]
        .as_str()
        .or(e["error"]["tool_call_id"].as_str());
    let (_, list) = w.call(
        Method::Get,
        &format!("/v1/tool-calls?connector_id={id}"),
        Some(&admin),
        None,
    );
    assert_eq!(list["data"].as_array().unwrap().len(), 2, "{list} {tc:?}");
    assert!(!list.to_string().contains(DB_PASSWORD));
}
