//! The marketplace on SQLite: submissions, review, versions,
//! upgrades, de-listing and private listings.

use super::*;
use crate::routes::http::Method;
use serde_json::json;

fn manifest(version: &str) -> Value {
    github_as("acme-gh", "Acme GitHub", version)
}

fn submit(w: &World, key: &str, m: Value, visibility: &str) -> (u16, Value) {
    w.submit(key, m, visibility)
}

fn review(w: &World, key: &str, id: &str, verb: &str, body: Option<Value>) -> (u16, Value) {
    w.review(key, id, verb, body)
}

#[test]
fn submit_review_install_upgrade_delist() {
    let w = World::new();
    w.load_catalog();
    let (_, admin_a) = w.tenant("acme");
    let (_, ma) = w.key(&admin_a, "manager");
    let ma = format!("Bearer {ma}");
    let (_, admin_b) = w.tenant("beta");
    let (_, mb) = w.key(&admin_b, "manager");
    let mb = format!("Bearer {mb}");

    // Submitted, pending, visible to its tenant and the operator only.
    let (s, sub) = submit(&w, &ma, manifest("1.0.0"), "public");
    assert_eq!((s, sub["status"].as_str()), (201, Some("pending")), "{sub}");
    let sid = sub["id"].as_str().unwrap().to_string();
    assert!(sid.starts_with("sub_"));
    let (_, mine) = w.call(Method::Get, "/v1/submissions", Some(&ma), None);
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
    let (_, theirs) = w.call(Method::Get, "/v1/submissions", Some(&mb), None);
    assert_eq!(theirs["data"].as_array().unwrap().len(), 0);
    let (s, _) = w.call(
        Method::Get,
        &format!("/v1/submissions/{sid}"),
        Some(&mb),
        None,
    );
    assert_eq!(s, 404);
    let (_, all) = w.call(
        Method::Get,
        "/v1/submissions?status=pending",
        Some(OP),
        None,
    );
    assert_eq!(all["data"][0]["id"], sid.as_str());
    // Not in the catalog until approved; only the operator approves.
    let (s, _) = w.call(Method::Get, "/v1/catalog/acme-gh", Some(&mb), None);
    assert_eq!(s, 404);
    let (s, e) = review(&w, &admin_a, &sid, "approve", None);
    assert_eq!((s, err_code(&e)), (403, "forbidden"));
    let (s, done) = review(&w, OP, &sid, "approve", None);
    assert_eq!(
        (s, done["status"].as_str()),
        (200, Some("approved")),
        "{done}"
    );
    let (s, again) = review(&w, OP, &sid, "approve", None);
    assert_eq!((s, err_code(&again)), (409, "state_conflict"));
    let (_, ev) = w.call(
        Method::Get,
        "/v1/events?type=submission.approved",
        Some(&ma),
        None,
    );
    assert_eq!(ev["data"].as_array().unwrap().len(), 1);

    // Another tenant finds it, installs it and runs its health check.
    let (_, found) = w.call(Method::Get, "/v1/catalog?q=acme", Some(&mb), None);
    assert_eq!(found["data"][0]["id"], "acme-gh");
    let (s, c) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&mb),
        Some(json!({"listing": "acme-gh", "auth": {"type": "pat", "token": GOOD_TOKEN}})),
    );
    assert_eq!(
        (s, c["listing_version"].as_str()),
        (201, Some("1.0.0")),
        "{c}"
    );
    let cid = c["id"].as_str().unwrap().to_string();

    // An equal version is refused at submission; a higher one is approved
    // and the instance stays on 1.0.0 until it upgrades.
    let (s, e) = submit(&w, &ma, manifest("1.0.0"), "public");
    assert_eq!((s, err_code(&e)), (409, "state_conflict"), "{e}");
    let mut v2 = manifest("1.1.0");
    v2["config_schema"]["properties"]["org"] = json!({"type": "string", "default": "octo"});
    let (_, sub2) = submit(&w, &ma, v2, "public");
    let sid2 = sub2["id"].as_str().unwrap().to_string();
    let (s, _) = review(&w, OP, &sid2, "approve", None);
    assert_eq!(s, 200);
    let (_, versions) = w.call(Method::Get, "/v1/catalog/acme-gh/versions", Some(&mb), None);
    let list: Vec<(&str, bool)> = versions["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_str().unwrap(),
                v["latest"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(list, [("1.1.0", true), ("1.0.0", false)]);
    let (s, old) = w.call(
        Method::Get,
        "/v1/catalog/acme-gh?version=1.0.0",
        Some(&mb),
        None,
    );
    assert_eq!((s, old["version"].as_str()), (200, Some("1.0.0")));
    let (s, _) = w.call(
        Method::Get,
        "/v1/catalog/acme-gh?version=9.9.9",
        Some(&mb),
        None,
    );
    assert_eq!(s, 404);
    let (_, now) = w.call(
        Method::Get,
        &format!("/v1/connectors/{cid}"),
        Some(&mb),
        None,
    );
    assert_eq!(now["listing_version"], "1.0.0");
    let (s, up) = w.call(
        Method::Post,
        &format!("/v1/connectors/{cid}/upgrade"),
        Some(&mb),
        None,
    );
    assert_eq!(
        (s, up["listing_version"].as_str()),
        (200, Some("1.1.0")),
        "{up}"
    );
    assert_eq!(
        up["config"]["org"], "octo",
        "the new version's defaults apply"
    );
    let (_, ev) = w.call(
        Method::Get,
        "/v1/events?type=connector.upgraded",
        Some(&mb),
        None,
    );
    assert_eq!(ev["data"][0]["data"]["from"], "1.0.0");

    // A version whose schema the instance's config does not satisfy: the
    // upgrade is refused naming the field, and nothing changes.
    let mut v3 = manifest("1.2.0");
    v3["config_schema"]["properties"]["org"] = json!({"type": "string", "default": "octo"});
    v3["config_schema"]["properties"]["team"] = json!({"type": "string", "minLength": 1});
    v3["config_schema"]["required"] = json!(["team"]);
    let (_, sub) = submit(&w, &ma, v3, "public");
    let (s, _) = review(&w, OP, sub["id"].as_str().unwrap(), "approve", None);
    assert_eq!(s, 200);
    let (s, e) = w.call(
        Method::Post,
        &format!("/v1/connectors/{cid}/upgrade"),
        Some(&mb),
        None,
    );
    assert_eq!(
        (s, err_code(&e), e["error"]["param"].as_str()),
        (400, "missing_parameter", Some("config.team")),
        "{e}"
    );
    let (_, now) = w.call(
        Method::Get,
        &format!("/v1/connectors/{cid}"),
        Some(&mb),
        None,
    );
    assert_eq!(now["listing_version"], "1.1.0");

    // A rejected submission carries its reason.
    let (_, sub3) = submit(&w, &ma, manifest("2.0.0"), "public");
    let sid3 = sub3["id"].as_str().unwrap().to_string();
    let (s, e) = review(&w, OP, &sid3, "reject", None);
    assert_eq!((s, err_code(&e)), (400, "missing_parameter"));
    let (s, r) = review(
        &w,
        OP,
        &sid3,
        "reject",
        Some(json!({"reason": "Icon missing"})),
    );
    assert_eq!(
        (s, r["status"].as_str(), r["reason"].as_str()),
        (200, Some("rejected"), Some("Icon missing"))
    );

    // De-listing: gone from browse, reads and installs; the instance keeps
    // working and says so.
    let (s, d) = w.call(Method::Delete, "/v1/catalog/acme-gh", Some(OP), None);
    assert_eq!((s, d["changed"].as_bool()), (200, Some(true)));
    let (_, found) = w.call(Method::Get, "/v1/catalog?q=acme", Some(&mb), None);
    assert_eq!(found["data"].as_array().unwrap().len(), 0);
    let (s, _) = w.call(Method::Get, "/v1/catalog/acme-gh", Some(&mb), None);
    assert_eq!(s, 404);
    let (s, e) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&mb),
        Some(json!({"listing": "acme-gh", "name": "again", "auth": {"type": "pat", "token": GOOD_TOKEN}})),
    );
    assert_eq!((s, err_code(&e)), (404, "not_found"));
    let (_, now) = w.call(
        Method::Get,
        &format!("/v1/connectors/{cid}"),
        Some(&mb),
        None,
    );
    assert_eq!(now["listing_status"], "delisted");
    let (s, h) = w.call(
        Method::Get,
        &format!("/v1/connectors/{cid}/health"),
        Some(&mb),
        None,
    );
    assert_eq!((s, h["healthy"].as_bool()), (200, Some(true)), "{h}");
    let (s, e) = w.call(
        Method::Post,
        &format!("/v1/connectors/{cid}/upgrade"),
        Some(&mb),
        None,
    );
    assert_eq!((s, err_code(&e)), (409, "state_conflict"));
}

#[test]
fn private_listings_stay_in_their_tenant() {
    let w = World::new();
    w.load_catalog();
    let (_, admin_a) = w.tenant("acme");
    let (_, ma) = w.key(&admin_a, "manager");
    let ma = format!("Bearer {ma}");
    let (_, admin_b) = w.tenant("beta");

    let (_, sub) = submit(&w, &ma, manifest("1.0.0"), "private");
    let sid = sub["id"].as_str().unwrap().to_string();
    // The operator sees it but does not review it; the tenant's admin does.
    let (_, all) = w.call(Method::Get, "/v1/submissions", Some(OP), None);
    assert_eq!(all["data"][0]["visibility"], "private");
    let (s, e) = review(&w, OP, &sid, "approve", None);
    assert_eq!((s, err_code(&e)), (403, "forbidden"));
    let (s, e) = review(&w, &ma, &sid, "approve", None);
    assert_eq!(
        (s, err_code(&e)),
        (403, "forbidden"),
        "a manager is not enough"
    );
    let (s, _) = review(&w, &admin_a, &sid, "approve", None);
    assert_eq!(s, 200);
    let (s, _) = w.call(Method::Get, "/v1/catalog/acme-gh", Some(&ma), None);
    assert_eq!(s, 200);
    let (_, mine) = w.call(Method::Get, "/v1/catalog?q=acme", Some(&ma), None);
    assert_eq!(mine["data"][0]["visibility"], "private");
    for path in ["/v1/catalog/acme-gh", "/v1/catalog/acme-gh/versions"] {
        let (s, _) = w.call(Method::Get, path, Some(&admin_b), None);
        assert_eq!(s, 404, "{path}");
    }
    let (_, theirs) = w.call(Method::Get, "/v1/catalog?q=acme", Some(&admin_b), None);
    assert_eq!(theirs["data"].as_array().unwrap().len(), 0);
    let (s, _) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&admin_b),
        Some(json!({"listing": "acme-gh", "auth": {"type": "pat", "token": GOOD_TOKEN}})),
    );
    assert_eq!(s, 404);
    // The private listing blocks nobody: another tenant may submit a public
    // listing with the same id, and the operator may publish one.
    let (s, e) = submit(&w, &admin_b, manifest("5.0.0"), "public");
    assert_eq!(s, 201, "{e}");
    let (s, e) = w.call(
        Method::Put,
        "/v1/catalog/acme-gh",
        Some(OP),
        Some(manifest("6.0.0")),
    );
    assert_eq!(s, 200, "{e}");
    // From then on the id means the public listing, for its tenant too (a
    // private listing never shadows a public one); the private one is not
    // browsed twice under one id.
    let (_, now) = w.call(Method::Get, "/v1/catalog/acme-gh", Some(&ma), None);
    assert_eq!(now["version"], "6.0.0");
    let (_, mine) = w.call(Method::Get, "/v1/catalog?q=acme", Some(&ma), None);
    let mine = mine["data"].as_array().unwrap().clone();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(
        (mine[0]["visibility"].as_str(), mine[0]["owner"].as_str()),
        (Some("public"), Some("platform"))
    );
}

#[test]
fn malformed_submissions_name_the_path() {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Mutation)> = vec![
        ("/version", Box::new(|m| m["version"] = json!("one"))),
        (
            "/tools/1/name",
            Box::new(|m| m["tools"][1]["name"] = m["tools"][0]["name"].clone()),
        ),
    ];
    for (path, mutate) in cases {
        let mut m = manifest("1.0.0");
        mutate(&mut m);
        let (s, e) = submit(&w, &admin, m, "public");
        assert_eq!(
            (s, err_code(&e), e["error"]["param"].as_str()),
            (400, "invalid_manifest", Some(path)),
            "{e}"
        );
    }
    let (s, e) = w.call(
        Method::Post,
        "/v1/submissions",
        Some(&admin),
        Some(json!({})),
    );
    assert_eq!((s, err_code(&e)), (400, "missing_parameter"));
    let (s, e) = submit(&w, &admin, manifest("1.0.0"), "secret");
    assert_eq!((s, e["error"]["param"].as_str()), (400, Some("visibility")));
}

#[test]
fn an_approval_raced_by_another_publishes_nothing() {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    let (_, first) = submit(&w, &admin, manifest("1.0.0"), "public");
    let (s, _) = review(&w, OP, first["id"].as_str().unwrap(), "approve", None);
    assert_eq!(s, 200);
    let (_, v2) = submit(&w, &admin, manifest("2.0.0"), "public");
    let v2 = v2["id"].as_str().unwrap().to_string();

    // Another approval lands between this one's read and its write.
    *w.db().before_batch.borrow_mut() = Some(Box::new(|c: &rusqlite::Connection| {
        let n = c
            .execute(
                r#"UPDATE listings SET etag = '"meanwhile"' WHERE id = 'acme-gh'"#,
                [],
            )
            .unwrap();
        assert_eq!(n, 1);
    }));
    let (s, e) = review(&w, OP, &v2, "approve", None);
    assert_eq!((s, err_code(&e)), (409, "state_conflict"), "{e}");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("another approval"));
    let (_, sub) = w.call(
        Method::Get,
        &format!("/v1/submissions/{v2}"),
        Some(&admin),
        None,
    );
    assert_eq!(sub["status"], "pending", "the submission stays reviewable");
    assert!(w
        .rows("SELECT version FROM listing_versions WHERE listing_id = 'acme-gh' AND version = '2.0.0'")
        .is_empty());

    // Reviewed again, against the listing as it is now, it publishes.
    let (s, _) = review(&w, OP, &v2, "approve", None);
    assert_eq!(s, 200);
    let (_, now) = w.call(Method::Get, "/v1/catalog/acme-gh", Some(&admin), None);
    assert_eq!(now["version"], "2.0.0");
}
