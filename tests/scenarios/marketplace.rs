//! The marketplace end to end (issue 5): a tenant submits a manifest whose
//! probes point at the fake provider, the operator approves it, another
//! tenant installs and tests it; a v2 is approved and the instance upgrades;
//! de-listing hides the listing while the instance keeps passing its health
//! check; a private listing stays in its tenant; malformed manifests are
//! refused naming the JSON path.

use crate::connectors::{Seen, GOOD};
use crate::support::fake::Provider;
use crate::support::{call, Answer, Server, OPERATOR};
use crate::{key, tenant};
use serde_json::{json, Value};

/// The github manifest as a tenant's own listing, at `version`.
fn manifest(id: &str, version: &str) -> Value {
    let raw = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/catalog/github.json"))
        .unwrap();
    let mut m: Value = serde_json::from_str(&raw).unwrap();
    m["id"] = json!(id);
    m["name"] = json!(format!("Internal {id}"));
    m["version"] = json!(version);
    m["featured"] = json!(false);
    m
}

fn post(s: &Server, auth: &str, path: &str, body: &Value) -> Answer {
    call("POST", &s.url(path)).auth(auth).json(body)
}

fn get(s: &Server, auth: &str, path: &str) -> Answer {
    call("GET", &s.url(path)).auth(auth).send()
}

fn submit(s: &Server, auth: &str, m: Value, visibility: &str) -> Answer {
    post(
        s,
        auth,
        "/v1/submissions",
        &json!({"manifest": m, "visibility": visibility}),
    )
}

pub fn marketplace(s: &Server, p: &Provider, seen: &Seen) {
    let (_, admin_a, _) = tenant(s, "market-a");
    let (_, ma) = key(s, &admin_a, "manager");
    let (_, admin_b, _) = tenant(s, "market-b");
    let (_, mb) = key(s, &admin_b, "manager");

    // Submitted, approved by the operator, then found by another tenant.
    let a = submit(s, &ma, manifest("e2e-market", "1.0.0"), "public");
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    let sid = a.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        get(s, &mb, "/v1/catalog/e2e-market").status,
        404,
        "not before approval"
    );
    let queue = get(s, OPERATOR, "/v1/submissions?status=pending").json();
    assert!(queue["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == sid.as_str()));
    let a = post(
        s,
        OPERATOR,
        &format!("/v1/submissions/{sid}/approve"),
        &json!({}),
    );
    assert_eq!(
        (a.status, a.json()["status"].as_str()),
        (200, Some("approved"))
    );
    let found = get(s, &mb, "/v1/catalog?q=e2e-market").json();
    assert_eq!(found["data"][0]["id"], "e2e-market", "{found}");
    let events = get(s, &ma, "/v1/events?type=submission.approved").json();
    assert_eq!(events["data"].as_array().unwrap().len(), 1);

    let a = post(
        s,
        &mb,
        "/v1/connectors",
        &json!({"listing": "e2e-market", "name": "market", "auth": {"type": "pat", "token": GOOD},
                "config": {"base_url": p.base()}}),
    );
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    seen.lock().unwrap().push(a.body.clone());
    let c = a.json();
    let id = c["id"].as_str().unwrap().to_string();
    assert_eq!(c["listing_version"], "1.0.0");
    let t = post(s, &mb, &format!("/v1/connectors/{id}/test"), &json!({}));
    assert_eq!(
        (t.status, t.json()["status"].as_str()),
        (200, Some("passed")),
        "{}",
        String::from_utf8_lossy(&t.body)
    );

    // Version 2 adds a config property with a default; the instance stays on
    // 1.0.0 until it upgrades. An equal version is refused.
    let mut v2 = manifest("e2e-market", "2.0.0");
    v2["config_schema"]["properties"]["org"] = json!({"type": "string", "default": "octo"});
    let a = submit(s, &ma, v2, "public");
    let sid2 = a.json()["id"].as_str().unwrap().to_string();
    let a = post(
        s,
        OPERATOR,
        &format!("/v1/submissions/{sid2}/approve"),
        &json!({}),
    );
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let a = submit(s, &ma, manifest("e2e-market", "2.0.0"), "public");
    assert_eq!((a.status, a.code()), (409, "state_conflict".into()));
    let versions = get(s, &mb, "/v1/catalog/e2e-market/versions").json();
    let list: Vec<&str> = versions["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(list, ["2.0.0", "1.0.0"]);
    let old = get(s, &mb, "/v1/catalog/e2e-market?version=1.0.0").json();
    assert_eq!(old["version"], "1.0.0");
    assert_eq!(
        get(s, &mb, &format!("/v1/connectors/{id}")).json()["listing_version"],
        "1.0.0"
    );
    let a = post(s, &mb, &format!("/v1/connectors/{id}/upgrade"), &json!({}));
    assert_eq!(
        (a.status, a.json()["listing_version"].as_str()),
        (200, Some("2.0.0")),
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    assert_eq!(a.json()["config"]["org"], "octo");
    // As stored in D1, not only as answered; upgrading again logs nothing.
    let now = get(s, &mb, &format!("/v1/connectors/{id}")).json();
    assert_eq!(now["listing_version"], "2.0.0", "{now}");
    assert_eq!(now["config"]["org"], "octo");
    let a = post(s, &mb, &format!("/v1/connectors/{id}/upgrade"), &json!({}));
    assert_eq!(
        (a.status, a.json()["listing_version"].as_str()),
        (200, Some("2.0.0"))
    );
    let ev = get(
        s,
        &mb,
        &format!("/v1/events?type=connector.upgraded&connector_id={id}"),
    )
    .json();
    assert_eq!(ev["data"].as_array().unwrap().len(), 1, "{ev}");

    // De-listed: gone from browse, reads and installs, at once; the instance
    // keeps working and says so.
    let a = call("DELETE", &s.url("/v1/catalog/e2e-market"))
        .auth(OPERATOR)
        .send();
    assert_eq!(a.status, 200);
    let found = get(s, &mb, "/v1/catalog?q=e2e-market").json();
    assert_eq!(found["data"].as_array().unwrap().len(), 0, "{found}");
    assert_eq!(get(s, &mb, "/v1/catalog/e2e-market").status, 404);
    let a = post(
        s,
        &mb,
        "/v1/connectors",
        &json!({"listing": "e2e-market", "name": "again", "auth": {"type": "pat", "token": GOOD},
                "config": {"base_url": p.base()}}),
    );
    assert_eq!((a.status, a.code()), (404, "not_found".into()));
    let h = get(s, &mb, &format!("/v1/connectors/{id}/health"));
    assert_eq!(
        (h.status, h.json()["healthy"].as_bool()),
        (200, Some(true)),
        "{}",
        String::from_utf8_lossy(&h.body)
    );
    assert_eq!(
        get(s, &mb, &format!("/v1/connectors/{id}")).json()["listing_status"],
        "delisted"
    );

    // A private listing, approved by its tenant's admin, is invisible elsewhere.
    let a = submit(s, &ma, manifest("e2e-private", "1.0.0"), "private");
    let sid3 = a.json()["id"].as_str().unwrap().to_string();
    let a = post(
        s,
        OPERATOR,
        &format!("/v1/submissions/{sid3}/approve"),
        &json!({}),
    );
    assert_eq!(
        (a.status, a.code()),
        (403, "forbidden".into()),
        "reviewed inside its tenant"
    );
    let a = post(
        s,
        &admin_a,
        &format!("/v1/submissions/{sid3}/approve"),
        &json!({}),
    );
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(get(s, &ma, "/v1/catalog/e2e-private").status, 200);
    for path in [
        "/v1/catalog/e2e-private",
        "/v1/catalog/e2e-private/versions",
        &format!("/v1/submissions/{sid3}"),
    ] {
        assert_eq!(get(s, &mb, path).status, 404, "{path}");
    }
    assert_eq!(
        get(s, &mb, "/v1/catalog?q=e2e-private").json()["data"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let a = post(
        s,
        &mb,
        "/v1/connectors",
        &json!({"listing": "e2e-private", "auth": {"type": "pat", "token": GOOD}, "config": {"base_url": p.base()}}),
    );
    assert_eq!(a.status, 404);
    // A private listing lives in its tenant's namespace: it takes no public
    // id and blocks none. The operator may publish a public listing with its
    // id; from then on the id means the public listing, for its tenant too.
    let a = post(
        s,
        &admin_a,
        "/v1/submissions",
        &json!({"manifest": manifest("github", "99.0.0"), "visibility": "private"}),
    );
    assert_eq!(
        (a.status, a.code()),
        (409, "state_conflict".into()),
        "a private submission cannot take a public id"
    );
    assert_eq!(get(s, &mb, "/v1/catalog/github").json()["version"], "1.1.0");
    let a = call("PUT", &s.url("/v1/catalog/e2e-private"))
        .auth(OPERATOR)
        .json(&manifest("e2e-private", "9.0.0"));
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    for key in [&ma, &mb] {
        assert_eq!(
            get(s, key, "/v1/catalog/e2e-private").json()["version"],
            "9.0.0"
        );
    }
}

type Mutation = Box<dyn Fn(&mut Value)>;

/// 25 broken manifests, each refused with `invalid_manifest` naming its path.
pub fn malformed_submissions(s: &Server) {
    let (_, admin, _) = tenant(s, "market-bad");
    let cases: Vec<(&str, Mutation)> = vec![
        ("/id", Box::new(|m| m["id"] = json!("Not A Slug"))),
        ("/name", Box::new(|m| m["name"] = json!(""))),
        ("/version", Box::new(|m| m["version"] = json!("one"))),
        ("/kind", Box::new(|m| m["kind"] = json!("toaster"))),
        ("/transport", Box::new(|m| m["transport"] = json!("pigeon"))),
        (
            "/availability",
            Box::new(|m| m["availability"] = json!("someday")),
        ),
        (
            "/brand_color",
            Box::new(|m| m["brand_color"] = json!("red")),
        ),
        ("/category", Box::new(|m| m["category"] = json!(7))),
        ("/tags", Box::new(|m| m["tags"] = json!("x"))),
        (
            "/pricing",
            Box::new(|m| m["pricing"]["model"] = json!("barter")),
        ),
        (
            "/auth/mode",
            Box::new(|m| m["auth"]["mode"] = json!("magic")),
        ),
        (
            "/capabilities/0",
            Box::new(|m| m["capabilities"][0] = json!("repoRead")),
        ),
        (
            "/tools/0/capability",
            Box::new(|m| m["tools"][0]["capability"] = json!("nothing.here")),
        ),
        (
            "/tools/1/name",
            Box::new(|m| m["tools"][1]["name"] = m["tools"][0]["name"].clone()),
        ),
        (
            "/tools/0/side_effect",
            Box::new(|m| m["tools"][0]["side_effect"] = json!("yes")),
        ),
        (
            "/tools/0/name",
            Box::new(|m| m["tools"][0]["name"] = json!("Bad Name")),
        ),
        (
            "/verify/url",
            Box::new(|m| m["verify"]["url"] = json!("{{config.nope}}/user")),
        ),
        (
            "/verify/method",
            Box::new(|m| m["verify"]["method"] = json!("FETCH")),
        ),
        (
            "/verify/headers/Authorization",
            Box::new(|m| m["verify"]["headers"]["Authorization"] = json!("Bearer {{auth.nope}}")),
        ),
        (
            "/config_schema/properties/base_url/pattern",
            Box::new(|m| {
                m["config_schema"]["properties"]["base_url"]["pattern"] = json!("^(https://")
            }),
        ),
        (
            "/config_schema",
            Box::new(|m| m["config_schema"] = json!("x")),
        ),
        ("/featured", Box::new(|m| m["featured"] = json!("yes"))),
        ("/icon", Box::new(|m| m["icon"] = json!(5))),
        ("/tools", Box::new(|m| m["tools"] = json!("none"))),
        ("/", Box::new(|m| m["surprise"] = json!(1))),
    ];
    assert_eq!(cases.len(), 25);
    for (path, mutate) in cases {
        let mut m = manifest("e2e-broken", "1.0.0");
        mutate(&mut m);
        let a = submit(s, &admin, m, "public");
        let v = a.json();
        assert_eq!(
            (a.status, a.code(), v["error"]["param"].as_str()),
            (400, "invalid_manifest".into(), Some(path)),
            "{v}"
        );
    }
    // Nothing was stored.
    let mine = get(s, &admin, "/v1/submissions").json();
    assert_eq!(mine["data"].as_array().unwrap().len(), 0);
}

/// Two approvals of one listing at once, ten times over: whatever the
/// interleaving, the listing ends on the highest version approved (never a
/// lower one written over a higher), and an approval that lost answers 409,
/// publishes nothing and leaves its submission pending.
pub fn racing_approvals(s: &Server) {
    let (_, admin, _) = tenant(s, "market-race");
    let first = submit(s, &admin, manifest("e2e-race", "1.0.0"), "public");
    let sid = first.json()["id"].as_str().unwrap().to_string();
    let a = post(
        s,
        OPERATOR,
        &format!("/v1/submissions/{sid}/approve"),
        &json!({}),
    );
    assert_eq!(a.status, 200);
    for round in 0..10u32 {
        let versions = [
            format!("{}.0.0", 2 * round + 2),
            format!("{}.0.0", 2 * round + 3),
        ];
        let ids: Vec<String> = versions
            .iter()
            .map(|v| {
                let a = submit(s, &admin, manifest("e2e-race", v), "public");
                assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
                a.json()["id"].as_str().unwrap().to_string()
            })
            .collect();
        let answers: Vec<Answer> = std::thread::scope(|sc| {
            let hs: Vec<_> = ids
                .iter()
                .rev()
                .map(|id| {
                    sc.spawn(move || {
                        post(
                            s,
                            OPERATOR,
                            &format!("/v1/submissions/{id}/approve"),
                            &json!({}),
                        )
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        // `answers` is in reverse order of `versions`.
        let approved: Vec<&String> = answers
            .iter()
            .rev()
            .zip(&versions)
            .filter(|(a, _)| {
                assert!(
                    a.status == 200 || a.status == 409,
                    "{}: {}",
                    a.status,
                    String::from_utf8_lossy(&a.body)
                );
                a.status == 200
            })
            .map(|(_, v)| v)
            .collect();
        assert!(
            !approved.is_empty(),
            "round {round}: one approval publishes"
        );
        // Versions go up: the last approved is the highest.
        let now = get(s, &admin, "/v1/catalog/e2e-race").json();
        assert_eq!(
            now["version"].as_str(),
            approved.last().map(|v| v.as_str()),
            "round {round}: approved {approved:?}"
        );
        for (a, id) in answers.iter().rev().zip(&ids) {
            if a.status == 409 {
                let sub = get(s, &admin, &format!("/v1/submissions/{id}")).json();
                assert_eq!(
                    sub["status"], "pending",
                    "round {round}: the loser stays reviewable"
                );
            }
        }
        let listed = get(s, &admin, "/v1/catalog/e2e-race/versions").json();
        let kept: Vec<&str> = listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_str().unwrap())
            .collect();
        for (a, v) in answers.iter().rev().zip(&versions) {
            assert_eq!(
                kept.contains(&v.as_str()),
                a.status == 200,
                "round {round}: {v}"
            );
        }
    }
}

/// Before a restart: a version published since the files on disk, and a
/// de-listing, both of which the restart's catalog load must keep.
pub fn before_restart(s: &Server) {
    let mut meteo: Value = serde_json::from_slice(
        &std::fs::read(crate::catalog_dir().join("open-meteo.json")).unwrap(),
    )
    .unwrap();
    meteo["version"] = json!("9.0.0");
    let a = call("PUT", &s.url("/v1/catalog/open-meteo"))
        .auth(OPERATOR)
        .json(&meteo);
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let a = call("DELETE", &s.url("/v1/catalog/hacker-news"))
        .auth(OPERATOR)
        .send();
    assert_eq!(a.status, 200);
}

/// After the restart: the reload neither lowered nor re-listed; relist does.
pub fn after_restart(s: &Server, admin: &str) {
    let meteo = get(s, admin, "/v1/catalog/open-meteo");
    assert_eq!(meteo.json()["version"], "9.0.0", "the reload kept 9.0.0");
    let news = get(s, admin, "/v1/catalog/hacker-news");
    assert_eq!(news.status, 404, "the reload did not re-list it");
    let a = post(s, OPERATOR, "/v1/catalog/hacker-news/relist", &json!({}));
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(
        get(s, admin, "/v1/catalog/hacker-news").status,
        200,
        "re-listed"
    );
}
