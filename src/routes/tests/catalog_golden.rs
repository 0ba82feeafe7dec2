//! Browse and filters keep the answers they had before the catalog index
//! (issue 16): `catalog_golden.json` holds what the implementation before it
//! (every summary filtered and sorted per request) answered for the shipped
//! catalog plus private, shadowed and de-listed listings, for three callers.
//! Ids in order, `total`, `has_more` and the cursors must be the same; search
//! (`q`) is compared as sets, ranking being new, and words now match from
//! their start only (`MID_WORD`).

use super::*;
use crate::routes::http::Method;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// The shipped catalog, then: acme's private `acme-crm` and `acme-data`,
/// beta's private `beta-tool`, acme's private `acme-shadow` later taken by a
/// public listing of that id, and `mysql` de-listed. Answers the callers.
fn world() -> (World, Vec<(&'static str, String)>, [String; 2]) {
    let w = World::new();
    w.load_catalog();
    let (acme_id, acme) = w.tenant("acme");
    let (beta_id, beta) = w.tenant("beta");
    for (key, id, name) in [
        (&acme, "acme-crm", "Acme CRM"),
        (&acme, "acme-data", "acme Data Sync"),
        (&beta, "beta-tool", "Beta Tool"),
        (&acme, "acme-shadow", "Acme Shadow"),
    ] {
        let (s, sub) = w.submit(key, github_as(id, name, "1.0.0"), "private");
        assert_eq!(s, 201, "{sub}");
        let (s, r) = w.review(key, sub["id"].as_str().unwrap(), "approve", None);
        assert_eq!(s, 200, "{r}");
    }
    let (s, e) = w.call(
        Method::Put,
        "/v1/catalog/acme-shadow",
        Some(OP),
        Some(github_as("acme-shadow", "Public Shadow", "2.0.0")),
    );
    assert_eq!(s, 200, "{e}");
    let (s, e) = w.call(Method::Delete, "/v1/catalog/mysql", Some(OP), None);
    assert_eq!(s, 200, "{e}");
    (
        w,
        vec![("acme", acme), ("beta", beta), ("operator", OP.to_string())],
        [acme_id, beta_id],
    )
}

/// Every query the golden holds: browse at several page sizes, each value of
/// each filter seen in the catalog, some combinations, and searches.
fn queries(w: &World, any: &str) -> Vec<String> {
    let (_, all) = w.call(Method::Get, "/v1/catalog?limit=100", Some(any), None);
    let mut values: Vec<(&str, BTreeSet<String>)> =
        ["category", "kind", "auth_mode", "tags", "capabilities"]
            .iter()
            .map(|f| (*f, BTreeSet::new()))
            .collect();
    for l in all["data"].as_array().unwrap() {
        for (field, set) in values.iter_mut() {
            match &l[*field] {
                Value::Array(a) => set.extend(a.iter().map(|v| v.as_str().unwrap().to_string())),
                v => {
                    set.insert(v.as_str().unwrap().to_string());
                }
            }
        }
    }
    let mut q: Vec<String> = [
        "",
        "limit=100",
        "limit=1",
        "limit=4",
        "limit=7",
        "featured=true",
        "featured=false",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (field, set) in &values {
        let param = match *field {
            "tags" => "tag",
            "capabilities" => "capability",
            f => f,
        };
        for v in set {
            q.push(format!("{param}={v}"));
        }
        q.push(format!("{param}=no-such-value"));
    }
    q.extend(
        [
            "category=developer-tools&featured=true",
            "kind=saas&auth_mode=oauth2",
            "tag=git&kind=saas",
            "auth_mode=api_key&limit=2",
            "featured=false&limit=3",
            "capability=issue.read&limit=2",
            "category=crm&featured=false&auth_mode=oauth2",
        ]
        .map(String::from),
    );
    q
}

/// What the substring search before found inside a word and word-prefix
/// search no longer does: "data" in remote-mcp's "metadata", "sql" in
/// mongodb-atlas's tag "nosql".
const MID_WORD: &[(&str, &str)] = &[("q=data", "remote-mcp"), ("q=SQL", "mongodb-atlas")];

const SEARCHES: &[&str] = &[
    "git",
    "postgres",
    "sales",
    "data",
    "mcp",
    "github mcp",
    "acme",
    "payments",
    "oauth",
    "cloud",
    "shadow",
    "SQL",
    "zzz-nothing",
];

/// One query's answer, every page of it walked by its cursors.
fn pages(w: &World, key: &str, query: &str) -> Value {
    let mut out = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("/v1/catalog?{query}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let (s, v) = w.call(Method::Get, &url, Some(key), None);
        assert_eq!(s, 200, "{url}: {v}");
        let ids: Vec<&str> = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_str().unwrap())
            .collect();
        out.push(json!({"ids": ids, "total": v["total"], "has_more": v["has_more"], "next_cursor": v["next_cursor"]}));
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    Value::Array(out)
}

fn answers(w: &World, callers: &[(&str, String)]) -> Value {
    let mut golden = Map::new();
    for (who, key) in callers {
        let mut mine = Map::new();
        for q in queries(w, &callers[0].1) {
            mine.insert(q.clone(), pages(w, key, &q));
        }
        for s in SEARCHES {
            let (_, v) = w.call(
                Method::Get,
                &format!("/v1/catalog?limit=100&q={}", s.replace(' ', "+")),
                Some(key),
                None,
            );
            let mut ids: Vec<&str> = v["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["id"].as_str().unwrap())
                .collect();
            ids.sort_unstable();
            mine.insert(format!("q={s}"), json!({"ids": ids, "total": v["total"]}));
        }
        let (_, cats) = w.call(Method::Get, "/v1/catalog/categories", Some(key), None);
        mine.insert("categories".into(), cats);
        if *who == "acme" {
            // One whole answer, every field of every summary.
            let (_, full) = w.call(Method::Get, "/v1/catalog?limit=100", Some(key), None);
            mine.insert("full".into(), full);
        }
        golden.insert(who.to_string(), Value::Object(mine));
    }
    Value::Object(golden)
}

#[test]
fn browse_and_filters_answer_as_before() {
    let (w, callers, [acme, beta]) = world();
    // Tenant ids are random: the owners of private listings are redacted.
    let got = answers(&w, &callers).to_string();
    let got: Value =
        serde_json::from_str(&got.replace(&acme, "<acme>").replace(&beta, "<beta>")).unwrap();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/routes/tests/catalog_golden.json"
    );
    let mut want: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for answers in want.as_object_mut().unwrap().values_mut() {
        for (query, id) in MID_WORD {
            let a = &mut answers[*query];
            let ids = a["ids"].as_array_mut().unwrap();
            let before = ids.len();
            ids.retain(|i| i != id);
            assert_eq!(ids.len() + 1, before, "{query} {id}");
            a["total"] = json!(ids.len());
        }
    }
    let mut differ = vec![];
    for (who, answers) in want.as_object().unwrap() {
        for (query, answer) in answers.as_object().unwrap() {
            if &got[who][query] != answer {
                differ.push(format!(
                    "{who} {query}:\n  was {answer}\n  now {}",
                    got[who][query]
                ));
            }
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    assert_eq!(got, want);
}
