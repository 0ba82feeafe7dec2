//! A tenant's lists at scale (issue 16) on SQLite: capabilities paged by name
//! from the summary the database keeps, the bindings' filters, the instance
//! serving an unpinned binding found by one seek as instances come, go and
//! change status, and — read back from the statements the routes really
//! ran — that every list is an index range which a cursor seeks into, and
//! that a consumer's tools never read the tenant's other instances.

use super::*;
use crate::routes::http::Method;
use crate::store::sql::Statement;
use serde_json::{json, Value};

struct T {
    w: World,
    admin: String,
    m: String,
}

fn setup() -> T {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    let (_, m) = w.key(&admin, "manager");
    T {
        w,
        admin,
        m: format!("Bearer {m}"),
    }
}

impl T {
    fn install(&self, name: &str) -> String {
        let (s, v) = self.w.call(
            Method::Post,
            "/v1/connectors",
            Some(&self.m),
            Some(json!({"listing": "github", "name": name, "auth": {"type": "pat", "token": GOOD_TOKEN}})),
        );
        assert_eq!(s, 201, "{v}");
        v["id"].as_str().unwrap().to_string()
    }

    fn bind(&self, body: Value) -> String {
        let (s, v) = self
            .w
            .call(Method::Post, "/v1/bindings", Some(&self.m), Some(body));
        assert_eq!(s, 201, "{v}");
        v["id"].as_str().unwrap().to_string()
    }

    /// An agent key of `consumer`, as a bearer header.
    fn agent(&self, consumer: &str) -> String {
        let (s, k) = self.w.call(
            Method::Post,
            "/v1/api-keys",
            Some(&self.admin),
            Some(json!({"role": "agent", "consumer": consumer})),
        );
        assert_eq!(s, 201, "{k}");
        format!("Bearer {}", k["secret"].as_str().unwrap())
    }

    fn get(&self, path: &str) -> Value {
        let (s, v) = self.w.call(Method::Get, path, Some(&self.m), None);
        assert_eq!(s, 200, "{path}: {v}");
        v
    }

    /// Every item of a list, walked `limit` at a time.
    fn walk(&self, path: &str, limit: usize) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let (mut out, mut cursor) = (vec![], None::<String>);
        loop {
            let page = self.get(&match &cursor {
                Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
                None => format!("{path}{sep}limit={limit}"),
            });
            let data = page["data"].as_array().unwrap();
            assert!(data.len() <= limit);
            out.extend(data.iter().cloned());
            if page["has_more"] != json!(true) {
                assert!(page["next_cursor"].is_null());
                return out;
            }
            cursor = Some(page["next_cursor"].as_str().unwrap().to_string());
        }
    }

    fn capability(&self, id: &str) -> Option<Value> {
        self.walk("/v1/capabilities", 100)
            .into_iter()
            .find(|c| c["id"] == id)
    }

    /// The instance serving the consumer's tools, as its REST view says.
    fn served_by(&self, consumer: &str) -> Vec<String> {
        let v = self.get(&format!("/v1/consumers/{consumer}/tools?limit=100"));
        let mut ids: Vec<String> = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["connector_id"].as_str().unwrap().to_string())
            .collect();
        ids.dedup();
        ids
    }
}

fn ids(v: &[Value]) -> Vec<String> {
    v.iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect()
}

const GITHUB: [&str; 6] = [
    "issue.read",
    "issue.write",
    "pull_request.read",
    "pull_request.write",
    "repo.read",
    "user.read",
];

#[test]
fn capabilities_page_by_name_with_counts_and_the_newest_ids() {
    let t = setup();
    let made: Vec<String> = (0..12).map(|i| t.install(&format!("gh-{i}"))).collect();
    let refund = t.bind(json!({"consumer": "payer", "capability": "payment.refund"}));
    let pinned =
        t.bind(json!({"consumer": "triage", "capability": "issue.read", "connector_id": made[0]}));
    let mut want: Vec<&str> = GITHUB.to_vec();
    want.push("payment.refund");
    want.sort();
    // Two at a time, by name, each once; the same as one page of 100.
    let paged = t.walk("/v1/capabilities", 2);
    assert_eq!(ids(&paged), want);
    assert_eq!(paged, t.walk("/v1/capabilities", 100));
    let default = t.get("/v1/capabilities");
    assert_eq!(default["data"].as_array().unwrap().len(), want.len());
    let newest: Vec<String> = made.iter().rev().take(10).cloned().collect();
    let issue = t.capability("issue.read").unwrap();
    assert_eq!(
        issue,
        json!({"id": "issue.read", "object": "capability", "fulfilled": true,
               "connector_count": 12, "binding_count": 1, "connectors": newest, "bindings": [pinned]})
    );
    // The rest of a capability's instances: the connectors list, filtered.
    let all = t.walk("/v1/connectors?capability=issue.read", 5);
    assert_eq!(ids(&all), made.iter().rev().cloned().collect::<Vec<_>>());
    assert_eq!(
        t.capability("payment.refund").unwrap(),
        json!({"id": "payment.refund", "object": "capability", "fulfilled": false,
               "connector_count": 0, "binding_count": 1, "connectors": [], "bindings": [refund]})
    );
    // Read back after an uninstall and a binding's removal.
    let (s, _) = t.w.call(
        Method::Delete,
        &format!("/v1/connectors/{}", made[5]),
        Some(&t.m),
        None,
    );
    assert_eq!(s, 200);
    let issue = t.capability("issue.read").unwrap();
    assert_eq!(issue["connector_count"], 11);
    assert!(!issue["connectors"]
        .as_array()
        .unwrap()
        .contains(&json!(made[5])));
    let (s, _) = t.w.call(
        Method::Delete,
        &format!("/v1/bindings/{refund}"),
        Some(&t.m),
        None,
    );
    assert_eq!(s, 200);
    assert_eq!(t.capability("payment.refund"), None);
    // Another tenant's capabilities are its own.
    let (_, admin2) = t.w.tenant("globex");
    let (s, v) =
        t.w.call(Method::Get, "/v1/capabilities", Some(&admin2), None);
    assert_eq!((s, v["data"].clone()), (200, json!([])));
}

#[test]
fn a_capabilities_cursor_is_checked() {
    let t = setup();
    t.install("gh");
    let other = t.get("/v1/connectors?limit=1");
    assert!(other["next_cursor"].is_null());
    t.install("gh-2");
    let other = t.get("/v1/connectors?limit=1");
    let foreign = other["next_cursor"].as_str().unwrap();
    for (path, param) in [
        (format!("/v1/capabilities?cursor={foreign}"), "cursor"),
        ("/v1/capabilities?cursor=nonsense".to_string(), "cursor"),
        ("/v1/capabilities?limit=0".to_string(), "limit"),
        ("/v1/capabilities?limit=101".to_string(), "limit"),
        ("/v1/capabilities?sort=name".to_string(), "sort"),
    ] {
        let (s, v) = t.w.call(Method::Get, &path, Some(&t.m), None);
        assert_eq!(
            (s, err_code(&v), v["error"]["param"].as_str()),
            (400, "invalid_parameter", Some(param)),
            "{path}: {v}"
        );
    }
}

#[test]
fn bindings_filter_by_consumer_capability_and_instance() {
    let t = setup();
    let a = t.install("gh-a");
    let b1 = t.bind(json!({"consumer": "bot-1", "capability": "issue.read", "connector_id": a}));
    let b2 = t.bind(json!({"consumer": "bot-1", "capability": "repo.read"}));
    let b3 = t.bind(json!({"consumer": "bot-2", "capability": "issue.read"}));
    let got = |q: &str| ids(&t.walk(&format!("/v1/bindings?{q}"), 1));
    assert_eq!(got("consumer=bot-1"), [b2.clone(), b1.clone()]);
    assert_eq!(got("capability=issue.read"), [b3.clone(), b1.clone()]);
    assert_eq!(got(&format!("connector_id={a}")), std::slice::from_ref(&b1));
    assert_eq!(
        got("consumer=bot-2&capability=issue.read"),
        std::slice::from_ref(&b3)
    );
    assert_eq!(got("consumer=nobody"), Vec::<String>::new());
    assert_eq!(got(""), [b3, b2, b1]);
    let (s, v) =
        t.w.call(Method::Get, "/v1/bindings?alias=x", Some(&t.m), None);
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("alias")));
}

#[test]
fn an_unpinned_binding_follows_the_oldest_connected_instance() {
    let t = setup();
    let made: Vec<String> = (0..4).map(|i| t.install(&format!("gh-{i}"))).collect();
    t.bind(json!({"consumer": "bot", "capability": "issue.read"}));
    assert_eq!(t.served_by("bot"), [made[0].clone()]);
    // The oldest goes: the next oldest serves.
    let (s, _) = t.w.call(
        Method::Delete,
        &format!("/v1/connectors/{}", made[0]),
        Some(&t.m),
        None,
    );
    assert_eq!(s, 200);
    assert_eq!(t.served_by("bot"), [made[1].clone()]);
    // One that is not connected (as while it waits for consent) does not.
    t.w.db().rows(&format!(
        "UPDATE connectors SET status = 'pending_auth' WHERE id = '{}'",
        made[1]
    ));
    assert_eq!(t.served_by("bot"), [made[2].clone()]);
    t.w.db().rows(&format!(
        "UPDATE connectors SET status = 'connected' WHERE id = '{}'",
        made[1]
    ));
    assert_eq!(t.served_by("bot"), [made[1].clone()]);
    // A direct tool call on the serving instance is the binding's; on another
    // instance it is not (the agent's key grants only what it is bound to).
    let agent = t.agent("bot");
    let call = |id: &str| {
        t.w.call(
            Method::Post,
            &format!("/v1/connectors/{id}/tools/issues_list/call"),
            Some(&agent),
            Some(json!({"arguments": {}})),
        )
    };
    let (s, v) = call(&made[1]);
    assert_eq!(s, 200, "{v}");
    let (s, v) = call(&made[3]);
    assert_eq!(s, 403, "{v}");
}

/// Statements of the tenant tables whose plan walks a whole table or sorts
/// what it found (so their cost grows with the tenant, not the page).
fn unbounded(w: &World, log: &[Statement]) -> Vec<String> {
    const TENANT_TABLES: [&str; 5] = [
        "connectors",
        "bindings",
        "events",
        "connector_capabilities",
        "capability_counts",
    ];
    let mut bad = vec![];
    for s in log {
        let sql = s.sql.trim_start();
        if !sql.starts_with("SELECT") || !TENANT_TABLES.iter().any(|t| sql.contains(t)) {
            continue;
        }
        let plan = w.db().plan(s);
        let scans = plan.iter().any(|l| {
            (l.starts_with("SCAN ") && !l.starts_with("SCAN (subquery") && !l.contains("json_each"))
                || l.contains("TEMP B-TREE")
        });
        if scans {
            bad.push(format!("{sql}\n  {}", plan.join("\n  ")));
        }
    }
    bad
}

#[test]
fn every_tenant_list_is_an_index_range_that_a_cursor_seeks_into() {
    let t = setup();
    let made: Vec<String> = (0..3).map(|i| t.install(&format!("gh-{i}"))).collect();
    t.bind(json!({"consumer": "bot", "capability": "issue.read", "connector_id": made[0]}));
    t.bind(json!({"consumer": "bot", "capability": "repo.read"}));
    t.bind(json!({"consumer": "bot-2", "capability": "issue.read", "alias": "gh2"}));
    let cursor = |path: &str| {
        let sep = if path.contains('?') { '&' } else { '?' };
        let v = t.get(&format!("{path}{sep}limit=1"));
        format!(
            "{path}{sep}limit=1&cursor={}",
            v["next_cursor"]
                .as_str()
                .unwrap_or_else(|| panic!("{path}: one page only: {v}"))
        )
    };
    let mut paths = vec![];
    for p in [
        "/v1/connectors",
        "/v1/connectors?capability=issue.read",
        "/v1/connectors?status=connected&kind=saas",
        "/v1/connectors?listing=github&crew_id=c",
        "/v1/events",
        "/v1/events?type=connector.installed",
        &format!("/v1/events?connector_id={}", made[0]),
        "/v1/bindings",
        "/v1/bindings?consumer=bot",
        "/v1/bindings?capability=issue.read",
        "/v1/capabilities",
    ] {
        paths.push(p.to_string());
        if p.contains("crew_id") {
            continue;
        }
        paths.push(cursor(p));
    }
    paths.push("/v1/consumers/bot/tools".into());
    *t.w.db().log.borrow_mut() = Some(vec![]);
    for p in &paths {
        t.get(p);
    }
    let log = t.w.db().log.borrow_mut().take().unwrap();
    let bad = unbounded(&t.w, &log);
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
    // With a cursor, each list seeks to it: a range on its index.
    let seeks = log
        .iter()
        .filter(|s| s.sql.contains("< (?"))
        .map(|s| t.w.db().plan(s).join(" "))
        .collect::<Vec<_>>();
    assert!(seeks.len() >= 8, "{seeks:?}");
    for plan in &seeks {
        assert!(plan.contains("<(?,?)"), "{plan}");
    }
}

#[test]
fn a_consumers_tools_read_only_its_bindings_and_the_instances_serving_them() {
    let t = setup();
    let made: Vec<String> = (0..6).map(|i| t.install(&format!("gh-{i}"))).collect();
    t.bind(json!({"consumer": "bot", "capability": "user.read", "connector_id": made[4]}));
    t.bind(json!({"consumer": "bot", "capability": "issue.read", "alias": "issues"}));
    for i in 0..5 {
        t.bind(json!({"consumer": format!("other-{i}"), "capability": "repo.read"}));
    }
    let agent = t.agent("bot");
    *t.w.db().log.borrow_mut() = Some(vec![]);
    let rest = t.get("/v1/consumers/bot/tools?limit=100");
    let (s, list) = t.w.call(
        Method::Post,
        "/v1/mcp",
        Some(&agent),
        Some(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})),
    );
    assert_eq!(s, 200, "{list}");
    let log = t.w.db().log.borrow_mut().take().unwrap();
    assert_eq!(
        rest["data"].as_array().unwrap().len(),
        list["result"]["tools"].as_array().unwrap().len()
    );
    let served: std::collections::BTreeSet<&str> = rest["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["connector_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        served,
        [made[0].as_str(), made[4].as_str()].into_iter().collect()
    );
    // Instances are read by key only (never by the tenant's index), and
    // nothing walks a table.
    let reads: Vec<&Statement> = log
        .iter()
        .filter(|s| s.sql.contains("FROM connectors"))
        .collect();
    assert!(!reads.is_empty());
    for s in &reads {
        let plan = t.w.db().plan(s).join(" ");
        assert!(!plan.contains("connectors_by_tenant"), "{}\n{plan}", s.sql);
    }
    let bad = unbounded(&t.w, &log);
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
}

#[test]
fn a_list_shows_each_instance_as_its_own_read_does() {
    // The list reads each instance's tools cut down in SQLite; the view is
    // the same as a read of the one instance.
    let t = setup();
    for i in 0..3 {
        t.install(&format!("gh-{i}"));
    }
    for path in ["/v1/connectors", "/v1/connectors?capability=repo.read"] {
        let listed = t.walk(path, 2);
        assert_eq!(listed.len(), 3);
        for item in listed {
            let one = t.get(&format!("/v1/connectors/{}", item["id"].as_str().unwrap()));
            assert_eq!(item, one);
            assert_eq!(item["tools"].as_array().unwrap().len(), 9, "{item}");
        }
    }
}
