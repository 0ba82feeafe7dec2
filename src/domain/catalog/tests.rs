//! The index against small catalogs: browse order, filters, paging,
//! visibility, the ranking rules, and updates in place answering what a
//! fresh build answers.

use super::*;
use crate::domain::manifest::ListingSummary;
use serde_json::{json, Value};

fn listing(id: &str, name: &str, featured: bool, category: &str, tags: &[&str]) -> ListingSummary {
    ListingSummary {
        id: id.into(),
        object: "listing".into(),
        name: name.into(),
        description: format!("Connect {name}"),
        category: category.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        icon: String::new(),
        brand_color: "#000000".into(),
        version: "1.0.0".into(),
        kind: "saas".into(),
        transport: "http".into(),
        availability: "live".into(),
        featured,
        pricing: json!({"model": "free"}),
        auth_mode: "pat".into(),
        capabilities: vec![format!("{}.read", id.rsplit('/').next().unwrap())],
        visibility: "public".into(),
        owner: "platform".into(),
    }
}

fn public(seq: i64, s: ListingSummary) -> Change {
    Change {
        seq,
        summary: s,
        status: "live".into(),
        visibility: "public".into(),
        owner: None,
    }
}

fn private(seq: i64, tenant: &str, mut s: ListingSummary) -> Change {
    s.id = format!("{tenant}/{}", s.id);
    Change {
        seq,
        summary: s,
        status: "live".into(),
        visibility: "private".into(),
        owner: Some(tenant.into()),
    }
}

fn build(changes: Vec<Change>) -> CatalogIndex {
    let mut idx = CatalogIndex::new();
    idx.apply(changes);
    idx.settle();
    idx
}

fn all() -> Vec<Change> {
    vec![
        public(1, listing("zeta", "Zeta", false, "crm", &["sales"])),
        public(
            2,
            listing("alpha", "Alpha", false, "crm", &["sales", "git"]),
        ),
        public(
            3,
            listing("github", "GitHub", true, "developer-tools", &["git"]),
        ),
        public(4, listing("beta", "beta", false, "payments", &[])),
    ]
}

fn q(s: &[(&str, &str)]) -> Result<CatalogQuery, Error> {
    CatalogQuery::parse(
        &s.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>(),
    )
}

fn page(idx: &CatalogIndex, params: &[(&str, &str)], tenant: Option<&str>) -> Value {
    let body = idx.page(&q(params).unwrap(), tenant).unwrap();
    serde_json::from_slice(&body).expect("a page is JSON")
}

fn ids(p: &Value) -> Vec<String> {
    p["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect()
}

/// Every page of a query, walked by its cursors: the ids, and each total.
fn walk(
    idx: &CatalogIndex,
    params: &[(&str, &str)],
    tenant: Option<&str>,
) -> (Vec<String>, Vec<u64>) {
    let (mut seen, mut totals, mut cursor) = (vec![], vec![], None::<String>);
    for _ in 0..1_000 {
        let mut p = params.to_vec();
        if let Some(c) = &cursor {
            p.push(("cursor", c.as_str()));
        }
        let v = page(idx, &p, tenant);
        seen.extend(ids(&v));
        totals.push(v["total"].as_u64().unwrap());
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return (seen, totals),
        }
    }
    panic!("{params:?}: the cursors never end");
}

#[test]
fn order_is_featured_then_name() {
    let p = page(&build(all()), &[], None);
    assert_eq!(ids(&p), ["github", "alpha", "beta", "zeta"]);
    assert_eq!(
        (p["total"].as_u64(), p["has_more"].as_bool()),
        (Some(4), Some(false))
    );
    assert_eq!(p["object"], "list");
    assert!(p["next_cursor"].is_null());
}

#[test]
fn filters_combine() {
    let idx = build(all());
    let p = page(&idx, &[("tag", "git"), ("category", "crm")], None);
    assert_eq!(
        (ids(&p), p["total"].as_u64()),
        (vec!["alpha".to_string()], Some(1))
    );
    let p = page(
        &idx,
        &[("featured", "false"), ("capability", "zeta.read")],
        None,
    );
    assert_eq!(ids(&p), ["zeta"]);
    let p = page(&idx, &[("featured", "false")], None);
    assert_eq!((ids(&p).len(), p["total"].as_u64()), (3, Some(3)));
    let p = page(&idx, &[("kind", "database")], None);
    assert!(ids(&p).is_empty() && p["total"] == 0 && p["has_more"] == false);
    let p = page(&idx, &[("q", "CONNECT git")], None);
    assert_eq!(ids(&p), ["github", "alpha"]);
}

#[test]
fn pages_walk_every_item_once() {
    let idx = build(all());
    for params in [
        vec![("limit", "1")],
        vec![("limit", "3")],
        vec![("limit", "1"), ("category", "crm")],
        vec![("limit", "1"), ("q", "connect")],
        vec![("limit", "2"), ("q", "s")],
    ] {
        let (seen, totals) = walk(&idx, &params, None);
        let (once, _) = walk(&idx, &[&params[1..], &[("limit", "100")]].concat(), None);
        assert_eq!(seen, once, "{params:?}");
        assert!(
            totals.iter().all(|t| *t as usize == once.len()),
            "{params:?}"
        );
    }
}

#[test]
fn bad_parameters_are_named() {
    for (params, param) in [
        (vec![("featured", "yes")], "featured"),
        (vec![("limit", "0")], "limit"),
        (vec![("cursor", "garbage")], "cursor"),
        (vec![("catgory", "crm")], "catgory"),
    ] {
        match q(&params) {
            Err(Error::InvalidParameter { param: p, .. }) => assert_eq!(p, param),
            other => panic!("{params:?}: {other:?}"),
        }
    }
    let idx = build(all());
    // A well-formed cursor whose payload is not a sort key, and each kind of
    // cursor where the other is expected (a search's carries its score).
    let browse = page(&idx, &[("limit", "1")], None)["next_cursor"].clone();
    let search = page(&idx, &[("limit", "1"), ("q", "connect")], None)["next_cursor"].clone();
    let nope = crate::domain::page::encode_cursor("nope");
    for (params, cursor) in [
        (vec![], nope.as_str()),
        (vec![("q", "connect")], nope.as_str()),
        (vec![], search.as_str().unwrap()),
        (vec![("q", "connect")], browse.as_str().unwrap()),
    ] {
        let params = [params, vec![("cursor", cursor)]].concat();
        match idx.page(&q(&params).unwrap(), None) {
            Err(Error::InvalidParameter { param, .. }) => assert_eq!(param, "cursor"),
            other => panic!("{params:?}: {other:?}"),
        }
    }
}

#[test]
fn category_counts() {
    let mut changes = all();
    changes.push(private(
        5,
        "ten_a",
        listing("mine", "Mine", false, "crm", &[]),
    ));
    let idx = build(changes);
    let counts = |t| {
        idx.categories(t)
            .iter()
            .map(|c| (c.id.clone(), c.count))
            .collect::<Vec<_>>()
    };
    let s = |v: &[(&str, usize)]| {
        v.iter()
            .map(|(a, b)| (a.to_string(), *b))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        counts(None),
        s(&[("crm", 2), ("developer-tools", 1), ("payments", 1)])
    );
    assert_eq!(
        counts(Some("ten_a")),
        s(&[("crm", 3), ("developer-tools", 1), ("payments", 1)])
    );
}

#[test]
fn private_listings_are_their_tenants_and_public_ids_win() {
    let mut changes = all();
    changes.push(private(
        5,
        "ten_a",
        listing("mine", "Mine", false, "crm", &[]),
    ));
    changes.push(private(
        6,
        "ten_b",
        listing("mine", "Mine", false, "crm", &[]),
    ));
    // ten_a's private `github` is shadowed by the public one of that id.
    changes.push(private(
        7,
        "ten_a",
        listing("github", "Aaa mine", true, "crm", &[]),
    ));
    let mut delisted = public(8, listing("gone", "Gone", false, "crm", &[]));
    delisted.status = "delisted".into();
    changes.push(delisted);
    let idx = build(changes);
    let a = page(&idx, &[], Some("ten_a"));
    assert_eq!(ids(&a), ["github", "alpha", "beta", "mine", "zeta"]);
    assert_eq!(a["total"], 5);
    let mine = &a["data"][3];
    assert_eq!(
        (mine["visibility"].as_str(), mine["owner"].as_str()),
        (Some("private"), Some("ten_a"))
    );
    assert_eq!(a["data"][0]["owner"], "platform");
    assert_eq!(
        page(&idx, &[("category", "crm")], Some("ten_b"))["total"],
        3
    );
    assert_eq!(page(&idx, &[("category", "crm")], None)["total"], 2);
    assert_eq!(page(&idx, &[("q", "mine")], Some("ten_a"))["total"], 1);
    assert_eq!(page(&idx, &[("q", "mine")], None)["total"], 0);
    assert_eq!(page(&idx, &[("q", "gone")], Some("ten_a"))["total"], 0);
    assert_eq!(page(&idx, &[("q", "aaa")], Some("ten_a"))["total"], 0);
    assert_eq!(idx.status("gone"), Some("delisted"));
    // Paging merges the tenant's own listings into the public order.
    let (seen, _) = walk(&idx, &[("limit", "1")], Some("ten_a"));
    assert_eq!(seen, ids(&a));
}

#[test]
fn search_ranks_name_then_tag_then_description() {
    let mut sf = listing("salesforce", "Salesforce", false, "crm", &["crm"]);
    sf.description = "Accounts and opportunities.".into();
    let mut pipes = listing("pipes", "Pipes", true, "crm", &["sales"]);
    pipes.description = "Pipelines for teams.".into();
    let mut deals = listing("deals", "Deals", false, "crm", &["deals"]);
    deals.description = "For the sales team.".into();
    let mut acme = listing("acme-sales", "Acme Sales", false, "crm", &["x"]);
    acme.description = "CRM.".into();
    let mut other = listing("zzz-sales-tools", "Other", false, "crm", &["x"]);
    other.description = "Nothing to see.".into();
    let idx = build(vec![
        public(1, sf),
        public(2, pipes),
        public(3, deals),
        public(4, acme),
        public(5, other),
    ]);
    // A prefix of a name word ("sales" finds Salesforce); the exact name
    // word first; names (and ids) before tags before descriptions.
    let p = page(&idx, &[("q", "sales")], None);
    assert_eq!(
        ids(&p),
        [
            "acme-sales",
            "zzz-sales-tools",
            "salesforce",
            "pipes",
            "deals"
        ]
    );
    // Every word must match somewhere; a name match of one word ranks over
    // a tag match of it.
    let p = page(&idx, &[("q", "sales team")], None);
    assert_eq!(ids(&p), ["pipes", "deals"], "teams, a prefix of a word too");
    // Counted per word: a name and a tag match over a name and a
    // description match.
    let p = page(&idx, &[("q", "crm sales")], None);
    assert_eq!(ids(&p), ["salesforce", "acme-sales"]);
    // Punctuation splits words, as in listings; case does not matter.
    let p = page(&idx, &[("q", "ACME-sal")], None);
    assert_eq!(ids(&p), ["acme-sales"]);
    assert_eq!(
        page(&idx, &[("q", "ales")], None)["total"],
        0,
        "no mid-word matches"
    );
}

#[test]
fn equal_scores_keep_browse_order() {
    let idx = build(all());
    // Every listing's description is "Connect …": one score, browse order.
    let p = page(&idx, &[("q", "connect")], None);
    assert_eq!(ids(&p), ["github", "alpha", "beta", "zeta"]);
    // "git": GitHub's name (prefix) before Alpha's tag (exact).
    let p = page(&idx, &[("q", "git")], None);
    assert_eq!(ids(&p), ["github", "alpha"]);
}

/// A small deterministic generator for the update test.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[test]
fn updates_in_place_answer_what_a_fresh_build_answers() {
    let mut r = Lcg(7);
    let names = [
        "Data Hub",
        "Sales Desk",
        "data",
        "Git Tools",
        "Pay",
        "Zen Desk",
        "Acme",
    ];
    let cats = ["crm", "payments", "developer-tools"];
    let tenants = ["ten_a", "ten_b"];
    let mut changes = vec![];
    for seq in 1..400 {
        let id = format!("l{}", r.next(60));
        let mut s = listing(
            &id,
            names[r.next(7) as usize],
            r.next(9) == 0,
            cats[r.next(3) as usize],
            &["sales", "git", "db"][..r.next(4) as usize],
        );
        s.description = format!(
            "{} and {}",
            names[r.next(7) as usize],
            names[r.next(7) as usize]
        );
        let mut c = match r.next(6) {
            0 => private(seq, tenants[r.next(2) as usize], s),
            _ => public(seq, s),
        };
        if r.next(8) == 0 {
            c.status = "delisted".into();
        }
        changes.push(c);
    }
    // One at a time, in small reads (with repeats and stale ones), against
    // the last state of each listing built at once.
    let mut live = CatalogIndex::new();
    for chunk in changes.chunks(3) {
        live.apply(chunk.to_vec());
        live.apply(vec![chunk[0].clone()]);
        live.settle();
    }
    let mut last = std::collections::BTreeMap::new();
    for c in &changes {
        last.insert(c.summary.id.clone(), c.clone());
    }
    let fresh = build(last.into_values().collect());
    assert_eq!(live.len(), fresh.len());
    // Half one by one, then the rest in one read (rebuilt in one pass).
    let mut half = CatalogIndex::new();
    let (a, b) = changes.split_at(200);
    for c in a {
        half.apply(vec![c.clone()]);
        half.settle();
    }
    half.apply(b.to_vec());
    half.settle();
    for tenant in [None, Some("ten_a"), Some("ten_b")] {
        for params in [
            vec![("limit", "7")],
            vec![("limit", "5"), ("category", "crm")],
            vec![("limit", "5"), ("tag", "git"), ("featured", "false")],
            vec![("limit", "4"), ("q", "data")],
            vec![("limit", "4"), ("q", "desk sa")],
            vec![("limit", "100"), ("q", "d")],
        ] {
            let want = walk(&fresh, &params, tenant);
            assert_eq!(walk(&live, &params, tenant), want, "{tenant:?} {params:?}");
            assert_eq!(walk(&half, &params, tenant), want, "{tenant:?} {params:?}");
        }
        assert_eq!(live.categories(tenant), fresh.categories(tenant));
        assert_eq!(half.categories(tenant), fresh.categories(tenant));
    }
}

#[test]
fn a_change_older_than_the_index_is_ignored() {
    let mut idx = build(all());
    let mut renamed = listing("zeta", "Aardvark", false, "crm", &[]);
    idx.apply(vec![public(9, renamed.clone())]);
    renamed.name = "Older".into();
    idx.apply(vec![public(5, renamed)]);
    idx.settle();
    assert_eq!(
        ids(&page(&idx, &[], None)),
        ["github", "zeta", "alpha", "beta"]
    );
    assert_eq!(idx.after(), (9, "zeta"));
}
