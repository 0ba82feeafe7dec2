//! The catalog: browse, filters, paging, verbatim listings with ETag, publishing.

use super::*;
use crate::routes::http::{HttpRequest, Method};
use serde_json::json;

#[test]
fn catalog_browse_filter_page() {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    let (_, viewer) = w.key(&admin, "viewer");
    let viewer = format!("Bearer {viewer}");
    let (s, v) = w.call(Method::Get, "/v1/catalog?limit=100", Some(&viewer), None);
    assert_eq!(s, 200);
    let total = v["total"].as_u64().unwrap() as usize;
    assert!(total >= 16);
    assert_eq!(v["data"].as_array().unwrap().len(), total);
    // Featured listings come first.
    let featured: Vec<bool> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["featured"].as_bool().unwrap())
        .collect();
    assert!(featured.windows(2).all(|w| w[0] >= w[1]));
    // Paging by 5 visits every listing once.
    let mut seen = vec![];
    let mut url = "/v1/catalog?limit=5".to_string();
    loop {
        let (s, v) = w.call(Method::Get, &url, Some(&viewer), None);
        assert_eq!(s, 200);
        assert_eq!(v["total"].as_u64().unwrap() as usize, total);
        seen.extend(
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["id"].as_str().unwrap().to_string()),
        );
        match v["next_cursor"].as_str() {
            Some(c) => url = format!("/v1/catalog?limit=5&cursor={c}"),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (total, total));
    // Filters.
    for (query, must) in [
        ("auth_mode=oauth2", "slack"),
        ("kind=database", "postgresql"),
        ("category=developer-tools", "github"),
        ("q=postgres", "postgresql"),
        ("featured=true", "github"),
        ("tag=git", "gitlab"),
    ] {
        let (s, v) = w.call(
            Method::Get,
            &format!("/v1/catalog?{query}"),
            Some(&viewer),
            None,
        );
        assert_eq!(s, 200, "{query}: {v}");
        let ids: Vec<&str> = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&must), "{query}: {ids:?}");
        assert!(ids.len() < total, "{query} filtered nothing");
    }
    let cap = "issue.read";
    let (_, v) = w.call(
        Method::Get,
        &format!("/v1/catalog?capability={cap}"),
        Some(&viewer),
        None,
    );
    assert!(v["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["capabilities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == cap)));
    let (s, v) = w.call(
        Method::Get,
        "/v1/catalog?featured=maybe",
        Some(&viewer),
        None,
    );
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("featured")));
    let (s, v) = w.call(Method::Get, "/v1/catalog?limit=500", Some(&viewer), None);
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("limit")));
    // Categories sum to the total.
    let (s, v) = w.call(Method::Get, "/v1/catalog/categories", Some(&viewer), None);
    assert_eq!(s, 200);
    let sum: u64 = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_u64().unwrap())
        .sum();
    assert_eq!(sum as usize, total);
}

#[test]
fn listing_is_verbatim_with_etag() {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    let raw = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/catalog/github.json")).unwrap();
    let r = w.send(
        HttpRequest::new(Method::Get, "/v1/catalog/github").with_header("authorization", &admin),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body, raw, "served verbatim");
    let etag = r.get_header("etag").unwrap().to_string();
    let r = w.send(
        HttpRequest::new(Method::Get, "/v1/catalog/github")
            .with_header("authorization", &admin)
            .with_header("if-none-match", &format!("\"x\", {etag}")),
    );
    assert_eq!((r.status, r.body.len()), (304, 0));
    let (s, v) = w.call(Method::Get, "/v1/catalog/nope-nope", Some(&admin), None);
    assert_eq!((s, err_code(&v)), (404, "not_found"));
    let (s, _) = w.call(Method::Get, "/v1/catalog/..%2F", Some(&admin), None);
    assert_eq!(s, 404);
    // Reads are cached: after one warm-up read each, repeated reads do not
    // reach the store.
    w.call(Method::Get, "/v1/catalog?q=git", Some(&admin), None);
    let before = w.db().statements.get();
    for _ in 0..5 {
        w.call(Method::Get, "/v1/catalog/github", Some(&admin), None);
        w.call(Method::Get, "/v1/catalog?q=git", Some(&admin), None);
    }
    assert_eq!(w.db().statements.get(), before);
}

#[test]
fn publishing_validates_and_invalidates() {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    let (_, v) = w.call(Method::Get, "/v1/catalog/github", Some(&admin), None);
    let mut m = v.clone();
    // A broken manifest is refused with its JSON path; nothing changes.
    m["capabilities"][0] = json!("NotACapability");
    let (s, e) = w.call(Method::Put, "/v1/catalog/github", Some(OP), Some(m));
    assert_eq!(
        (s, err_code(&e), e["error"]["param"].as_str()),
        (400, "invalid_manifest", Some("/capabilities/0"))
    );
    // Only the operator publishes.
    let (s, _) = w.call(
        Method::Put,
        "/v1/catalog/github",
        Some(&admin),
        Some(v.clone()),
    );
    assert_eq!(s, 403);
    // The id in the path must match.
    let (s, e) = w.call(Method::Put, "/v1/catalog/gitlab", Some(OP), Some(v.clone()));
    assert_eq!((s, e["error"]["param"].as_str()), (400, Some("/id")));
    // A change is visible at once, through both caches.
    let mut m = v.clone();
    m["name"] = json!("GitHub Enterprise");
    let (s, r) = w.call(Method::Put, "/v1/catalog/github", Some(OP), Some(m));
    assert_eq!((s, r["changed"].as_bool()), (200, Some(true)));
    let (_, got) = w.call(Method::Get, "/v1/catalog/github", Some(&admin), None);
    assert_eq!(got["name"], "GitHub Enterprise");
    let (_, list) = w.call(Method::Get, "/v1/catalog?q=enterprise", Some(&admin), None);
    assert_eq!(list["data"][0]["id"], "github");
}
