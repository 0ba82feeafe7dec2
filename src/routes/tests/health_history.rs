//! The latency history: every recorded check of an instance, newest first,
//! the newest 100 kept, gone with the instance.

use super::*;
use crate::routes::http::Method;
use serde_json::json;

fn setup() -> (World, String, String) {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    let (_, manager) = w.key(&admin, "manager");
    let m = format!("Bearer {manager}");
    let (s, v) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&m),
        Some(json!({"listing": "github", "name": "gh", "auth": {"type": "pat", "token": GOOD_TOKEN}})),
    );
    assert_eq!(s, 201, "{v}");
    (w, m, v["id"].as_str().unwrap().to_string())
}

#[test]
fn each_check_is_kept_newest_first_and_pages() {
    let (w, m, cn) = setup();
    let path = format!("/v1/connectors/{cn}/health-checks");
    let (s, v) = w.call(Method::Get, &path, Some(&m), None);
    assert_eq!((s, v["data"].as_array().unwrap().len()), (200, 0), "{v}");
    for _ in 0..3 {
        let (s, _) = w.call(
            Method::Get,
            &format!("/v1/connectors/{cn}/health"),
            Some(&m),
            None,
        );
        assert_eq!(s, 200);
    }
    let (_, v) = w.call(Method::Get, &format!("{path}?limit=2"), Some(&m), None);
    let data = v["data"].as_array().unwrap();
    assert_eq!(
        (data.len(), v["has_more"].as_bool()),
        (2, Some(true)),
        "{v}"
    );
    assert_eq!(data[0]["object"], "health_check");
    assert_eq!(data[0]["healthy"], true);
    assert!(data[0]["latency_ms"].is_u64(), "{v}");
    assert!(data[0]["checked_at"].as_str() > data[1]["checked_at"].as_str());
    let cursor = v["next_cursor"].as_str().unwrap();
    let (_, rest) = w.call(
        Method::Get,
        &format!("{path}?limit=2&cursor={cursor}"),
        Some(&m),
        None,
    );
    assert_eq!(rest["data"].as_array().unwrap().len(), 1, "{rest}");
    assert_eq!(rest["has_more"], false);
    // A bad cursor, another tenant's key, an unknown instance.
    let (s, e) = w.call(Method::Get, &format!("{path}?cursor=zzz"), Some(&m), None);
    assert_eq!(
        (s, e["error"]["param"].as_str()),
        (400, Some("cursor")),
        "{e}"
    );
    let (_, other_admin) = w.tenant("other");
    let (s, _) = w.call(Method::Get, &path, Some(&other_admin), None);
    assert_eq!(s, 404);
}

#[test]
fn the_newest_hundred_are_kept_and_go_with_the_instance() {
    let (w, m, cn) = setup();
    for _ in 0..103 {
        let (s, _) = w.call(
            Method::Get,
            &format!("/v1/connectors/{cn}/health"),
            Some(&m),
            None,
        );
        assert_eq!(s, 200);
    }
    let rows = w.rows(&format!(
        "SELECT seq FROM health_checks WHERE connector_id = '{cn}' ORDER BY seq"
    ));
    assert_eq!(rows.len(), 100);
    // The oldest three went.
    let max = rows[99]["seq"].as_i64().unwrap();
    assert_eq!(rows[0]["seq"].as_i64().unwrap(), max - 99);
    let (s, _) = w.call(
        Method::Delete,
        &format!("/v1/connectors/{cn}"),
        Some(&m),
        None,
    );
    assert_eq!(s, 200);
    assert!(w.rows("SELECT seq FROM health_checks").is_empty());
}
