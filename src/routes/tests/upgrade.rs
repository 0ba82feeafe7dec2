//! An upgrade as stored, read back: the instance's version, capabilities
//! and tools move to the new version, and one event records it.

use super::*;
use crate::routes::http::Method;
use serde_json::json;

fn manifest(version: &str) -> Value {
    github_as("acme-gh", "Acme GitHub", version)
}

fn publish(w: &World, admin: &str, m: Value) {
    let (s, sub) = w.submit(admin, m, "public");
    assert_eq!(s, 201, "{sub}");
    let (s, v) = w.review(OP, sub["id"].as_str().unwrap(), "approve", None);
    assert_eq!(s, 200, "{v}");
}

#[test]
fn an_upgrade_is_stored_and_logged_once() {
    let w = World::new();
    let (_, admin) = w.tenant("acme");
    let (_, m) = w.key(&admin, "manager");
    let m = format!("Bearer {m}");
    publish(&w, &admin, manifest("1.0.0"));
    let (s, c) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&m),
        Some(json!({"listing": "acme-gh", "auth": {"type": "pat", "token": GOOD_TOKEN}})),
    );
    assert_eq!(s, 201, "{c}");
    let id = c["id"].as_str().unwrap().to_string();

    // 2.0.0 drops pull requests: their tools and their capability.
    let mut v2 = manifest("2.0.0");
    v2["capabilities"] = json!(["user.read", "repo.read", "issue.read", "issue.write"]);
    let tools: Vec<Value> = v2["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| !t["name"].as_str().unwrap().starts_with("pulls_"))
        .cloned()
        .collect();
    v2["tools"] = json!(tools);
    publish(&w, &admin, v2);

    let upgrade = format!("/v1/connectors/{id}/upgrade");
    let (s, up) = w.call(Method::Post, &upgrade, Some(&m), None);
    assert_eq!((s, up["listing_version"].as_str()), (200, Some("2.0.0")));

    // Read back: the state, not the write's answer.
    let (s, now) = w.call(Method::Get, &format!("/v1/connectors/{id}"), Some(&m), None);
    assert_eq!(s, 200);
    assert_eq!(now["listing_version"], "2.0.0", "{now}");
    assert_eq!(now["capabilities"], up["capabilities"]);
    assert!(!now["capabilities"]
        .as_array()
        .unwrap()
        .contains(&json!("pull_request.write")));
    assert_eq!(now["tools"], up["tools"]);
    assert_eq!(now["tools"].as_array().unwrap().len(), 6);
    let (_, found) = w.call(
        Method::Get,
        "/v1/connectors?capability=pull_request.read",
        Some(&m),
        None,
    );
    assert_eq!(found["data"].as_array().unwrap().len(), 0, "{found}");

    // Upgrading again to the same version changes and logs nothing.
    let (s, again) = w.call(Method::Post, &upgrade, Some(&m), None);
    assert_eq!((s, again["listing_version"].as_str()), (200, Some("2.0.0")));
    let (_, ev) = w.call(
        Method::Get,
        "/v1/events?type=connector.upgraded",
        Some(&m),
        None,
    );
    let ev = ev["data"].as_array().unwrap();
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(
        (ev[0]["data"]["from"].as_str(), ev[0]["data"]["to"].as_str()),
        (Some("1.0.0"), Some("2.0.0"))
    );
}
