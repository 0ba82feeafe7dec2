//! Who may publish what (API §3 `owner`, §8): private listings live in their
//! tenant's namespace and never take, shadow or block a public id; a public
//! listing takes new versions only from its owner; the operator repairs any
//! listing but never moves one back a version or re-lists it by a `PUT`.

use super::{err_code, github_as, World, GOOD_TOKEN, OP};
use crate::routes::http::Method;
use serde_json::{json, Value};

fn github(version: &str) -> Value {
    github_as("github", "GitHub", version)
}

fn named(id: &str, version: &str) -> Value {
    github_as(id, &format!("Listing {id}"), version)
}

fn submit(w: &World, key: &str, m: Value, visibility: &str) -> (u16, Value) {
    w.submit(key, m, visibility)
}

fn approve(w: &World, key: &str, sub: &Value) -> (u16, Value) {
    w.review(
        key,
        sub["id"].as_str().expect("a submission id"),
        "approve",
        None,
    )
}

fn version_of(w: &World, key: &str, id: &str) -> (u16, Value) {
    let (s, v) = w.call(Method::Get, &format!("/v1/catalog/{id}"), Some(key), None);
    (s, v["version"].clone())
}

fn browse_one(w: &World, key: &str, id: &str) -> Value {
    let (_, all) = w.call(Method::Get, "/v1/catalog?limit=100", Some(key), None);
    all["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == id)
        .cloned()
        .unwrap_or(Value::Null)
}

#[test]
fn a_private_submission_cannot_take_a_public_id() {
    let w = World::new();
    w.load_catalog();
    let (_, admin_a) = w.tenant("mallory");
    let (_, admin_b) = w.tenant("victim");
    // The takeover: a private `github` with a higher version, approved by
    // its own tenant's admin, used to become the row every tenant reads.
    let (s, e) = submit(&w, &admin_a, github("99.0.0"), "private");
    assert_eq!((s, err_code(&e)), (409, "state_conflict"), "{e}");
    assert_eq!(version_of(&w, &admin_b, "github"), (200, json!("1.1.0")));
    assert_eq!(version_of(&w, &admin_a, "github"), (200, json!("1.1.0")));
    // The operator's PUT still repairs it.
    let (s, e) = w.call(
        Method::Put,
        "/v1/catalog/github",
        Some(OP),
        Some(github("1.1.1")),
    );
    assert_eq!(s, 200, "{e}");
    assert_eq!(version_of(&w, &admin_b, "github"), (200, json!("1.1.1")));
}

#[test]
fn a_private_listing_blocks_no_public_id() {
    let w = World::new();
    w.load_catalog();
    let (tenant_a, admin_a) = w.tenant("acme");
    let (_, admin_b) = w.tenant("beta");
    let (_, sub) = submit(&w, &admin_a, named("acme-crm", "1.0.0"), "private");
    assert_eq!(approve(&w, &admin_a, &sub).0, 200);
    // Its tenant installs it by its slug; the instance shows the slug.
    let (s, c) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&admin_a),
        Some(json!({"listing": "acme-crm", "auth": {"type": "pat", "token": GOOD_TOKEN}})),
    );
    assert_eq!((s, c["listing"].as_str()), (201, Some("acme-crm")), "{c}");
    let cid = c["id"].as_str().unwrap().to_string();
    // Another tenant's public listing of the same id is not blocked.
    let (s, sub) = submit(&w, &admin_b, named("acme-crm", "1.0.0"), "public");
    assert_eq!(s, 201, "{sub}");
    assert_eq!(approve(&w, OP, &sub).0, 200);
    assert_eq!(version_of(&w, &admin_b, "acme-crm"), (200, json!("1.0.0")));
    // The id now means the public listing for everyone: browse shows it
    // once, owned by the tenant that created it.
    let seen = browse_one(&w, &admin_a, "acme-crm");
    assert_eq!(seen["visibility"], "public", "{seen}");
    // The private listing's instance keeps running on its own listing, and
    // `?listing=` still finds it under its slug.
    let (s, h) = w.call(
        Method::Get,
        &format!("/v1/connectors/{cid}/health"),
        Some(&admin_a),
        None,
    );
    assert_eq!((s, h["healthy"].as_bool()), (200, Some(true)), "{h}");
    let (_, mine) = w.call(
        Method::Get,
        "/v1/connectors?listing=acme-crm",
        Some(&admin_a),
        None,
    );
    assert_eq!(mine["data"][0]["id"], cid.as_str(), "{mine}");
    assert_eq!(mine["data"][0]["listing_status"], "live", "{mine}");
    let _ = tenant_a;
}

#[test]
fn only_the_owner_publishes_new_versions() {
    let w = World::new();
    w.load_catalog();
    let (tenant_a, admin_a) = w.tenant("acme");
    let (_, admin_b) = w.tenant("beta");
    // A platform listing takes no tenant's versions.
    let (s, e) = submit(&w, &admin_a, github("2.0.0"), "public");
    assert_eq!((s, err_code(&e)), (403, "forbidden"), "{e}");
    assert_eq!(browse_one(&w, &admin_a, "github")["owner"], "platform");
    // A listing a tenant created is that tenant's.
    let (_, sub) = submit(&w, &admin_a, named("acme-pub", "1.0.0"), "public");
    assert_eq!(approve(&w, OP, &sub).0, 200);
    assert_eq!(
        browse_one(&w, &admin_b, "acme-pub")["owner"],
        tenant_a.as_str()
    );
    let (s, e) = submit(&w, &admin_b, named("acme-pub", "2.0.0"), "public");
    assert_eq!((s, err_code(&e)), (403, "forbidden"), "{e}");
    let (s, sub) = submit(&w, &admin_a, named("acme-pub", "2.0.0"), "public");
    assert_eq!(s, 201, "{sub}");
    assert_eq!(approve(&w, OP, &sub).0, 200);
    assert_eq!(version_of(&w, &admin_b, "acme-pub"), (200, json!("2.0.0")));
    // The operator repairs it; the owner stays.
    let (s, e) = w.call(
        Method::Put,
        "/v1/catalog/acme-pub",
        Some(OP),
        Some(named("acme-pub", "2.0.1")),
    );
    assert_eq!(s, 200, "{e}");
    assert_eq!(version_of(&w, &admin_b, "acme-pub"), (200, json!("2.0.1")));
    assert_eq!(
        browse_one(&w, &admin_b, "acme-pub")["owner"],
        tenant_a.as_str()
    );
}

#[test]
fn reloading_the_catalog_never_lowers_a_version() {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    let put = |m: Value| w.call(Method::Put, "/v1/catalog/github", Some(OP), Some(m));
    assert_eq!(put(github("1.1.0")).0, 200);
    // What `make dev` does at every start: the file on disk is 1.0.0.
    let (s, e) = put(github("1.0.0"));
    assert_eq!((s, err_code(&e)), (409, "state_conflict"), "{e}");
    assert_eq!(version_of(&w, &admin, "github"), (200, json!("1.1.0")));
    // The same version may be replaced (a repair).
    let mut fixed = github("1.1.0");
    fixed["description"] = json!("Repaired.");
    assert_eq!(put(fixed).0, 200);
    let (_, now) = w.call(Method::Get, "/v1/catalog/github", Some(&admin), None);
    assert_eq!(
        (now["version"].as_str(), now["description"].as_str()),
        (Some("1.1.0"), Some("Repaired."))
    );
}

#[test]
fn a_delisted_listing_is_relisted_explicitly() {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    let (s, _) = w.call(Method::Delete, "/v1/catalog/github", Some(OP), None);
    assert_eq!(s, 200);
    // A PUT does not bring it back (a catalog reload must not undo a
    // de-listing), and says how to.
    let (s, e) = w.call(
        Method::Put,
        "/v1/catalog/github",
        Some(OP),
        Some(github("1.0.0")),
    );
    assert_eq!((s, err_code(&e)), (409, "state_conflict"), "{e}");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("relist"),
        "{e}"
    );
    assert_eq!(version_of(&w, &admin, "github").0, 404);
    let (s, e) = w.call(
        Method::Post,
        "/v1/catalog/github/relist",
        Some(&admin),
        None,
    );
    assert_eq!((s, err_code(&e)), (403, "forbidden"), "{e}");
    let (s, r) = w.call(Method::Post, "/v1/catalog/github/relist", Some(OP), None);
    assert_eq!((s, r["changed"].as_bool()), (200, Some(true)), "{r}");
    assert_eq!(version_of(&w, &admin, "github"), (200, json!("1.1.0")));
    let (s, r) = w.call(Method::Post, "/v1/catalog/github/relist", Some(OP), None);
    assert_eq!((s, r["changed"].as_bool()), (200, Some(false)), "{r}");
}
