//! The `postgresql` and `mysql` listings against the suite's real servers
//! (tests/support/db.rs: PostgreSQL 15 and MariaDB, TLS from a test CA the
//! worker trusts): verify with the right and a wrong password, install,
//! health, test, `query` with bound parameters (an injection attempt stays
//! a value), the row cap, `execute` refused while read only, its dry run
//! writing nothing, a live `execute` run once for a retried key — each
//! write read back with the server's own client — and the password in no
//! answer, log line or stored file.

use crate::connectors::{keep, Seen};
use crate::support::db::{DbServer, Engine, Login, PRODUCTS};
use crate::support::{call, Answer, Server, OPERATOR};
use serde_json::{json, Value};

struct Ctx<'a> {
    s: &'a Server,
    key: String,
    seen: &'a Seen,
    answers: Vec<Vec<u8>>,
}

impl Ctx<'_> {
    fn post(&mut self, path: &str, body: Value, idem: Option<&str>) -> Answer {
        let mut c = call("POST", &self.s.url(path)).auth(&self.key);
        if let Some(k) = idem {
            c = c.header("Idempotency-Key", k);
        }
        let a = keep(self.seen, c.json(&body));
        self.answers.push(a.body.clone());
        a
    }

    fn get(&mut self, path: &str) -> Answer {
        let a = keep(
            self.seen,
            call("GET", &self.s.url(path)).auth(&self.key).send(),
        );
        self.answers.push(a.body.clone());
        a
    }
}

/// One scenario per engine: `listing` is `postgresql` or `mysql`.
pub fn sql_tools(s: &Server, db: &DbServer, seen: &Seen) {
    let (listing, p1, p2) = match db.engine {
        Engine::Postgres => ("postgresql", "$1", "$2"),
        Engine::MariaDb => ("mysql", "?", "?"),
    };
    let t = call("POST", &s.url("/v1/tenants"))
        .auth(OPERATOR)
        .json(&json!({"name": format!("sql-{listing}")}));
    assert_eq!(t.status, 201);
    let mut c = Ctx {
        s,
        key: t.json()["api_key"]["secret"].as_str().unwrap().to_string(),
        seen,
        answers: vec![],
    };
    let conn =
        |login: &Login, tls: bool| json!({"type": "conn_string", "value": db.url_for(login, tls)});

    // Verify: the login itself, over TLS, with the server's own words on a refusal.
    let v = c.post(
        &format!("/v1/catalog/{listing}/verify"),
        json!({"auth": conn(&db.app(), true)}),
        None,
    );
    assert_eq!(
        (v.status, v.json()["ok"].clone()),
        (200, json!(true)),
        "{}",
        v.text()
    );
    let wrong = Login::new(&db.user, "not-the-password-91f2");
    let v = c.post(
        &format!("/v1/catalog/{listing}/verify"),
        json!({"auth": conn(&wrong, true)}),
        None,
    );
    let said = v.json()["message"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        (v.status, v.json()["ok"].clone()),
        (200, json!(false)),
        "{}",
        v.text()
    );
    let words = match db.engine {
        Engine::Postgres => "password authentication failed",
        Engine::MariaDb => "Access denied",
    };
    assert!(said.contains(words), "{said}");
    assert!(!said.contains("not-the-password-91f2"), "{said}");
    // Plain TCP only because this host:port is a development pair.
    let v = c.post(
        &format!("/v1/catalog/{listing}/verify"),
        json!({"auth": conn(&db.app(), false)}),
        None,
    );
    assert_eq!(v.json()["ok"], json!(true), "{}", v.text());
    let elsewhere = db.url(true).replace(&format!(":{}/", db.port), ":1/");
    let v = c.post(
        &format!("/v1/catalog/{listing}/verify"),
        json!({"auth": {"type": "conn_string", "value": elsewhere}}),
        None,
    );
    assert_eq!(
        (v.status, v.json()["error"]["code"].as_str()),
        (400, Some("target_not_allowed")),
        "{}",
        v.text()
    );
    // Nothing listens on the down port (allow-listed): unreachable, said so.
    let down = crate::DOWN_PORT.get().unwrap();
    let gone = db
        .url(true)
        .replace(&format!(":{}/", db.port), &format!(":{down}/"));
    let v = c.post(
        &format!("/v1/catalog/{listing}/verify"),
        json!({"auth": {"type": "conn_string", "value": gone}}),
        None,
    );
    assert_eq!(
        (v.status, v.json()["error"]["code"].as_str()),
        (502, Some("connector_upstream_error")),
        "{}",
        v.text()
    );
    assert!(
        v.text().contains(&format!("127.0.0.1:{down}")),
        "{}",
        v.text()
    );
    if let Some(md5) = &db.md5 {
        let v = c.post(
            &format!("/v1/catalog/{listing}/verify"),
            json!({"auth": conn(md5, true)}),
            None,
        );
        assert_eq!(v.json()["ok"], json!(true), "md5: {}", v.text());
    }

    // Install, health, test.
    let a = c.post(
        "/v1/connectors",
        json!({"listing": listing, "name": "shop", "auth": conn(&db.app(), true), "config": {}}),
        None,
    );
    assert_eq!(a.status, 201, "{}", a.text());
    assert_eq!(a.json()["health"]["healthy"], true, "{}", a.text());
    let id = a.json()["id"].as_str().unwrap().to_string();
    let h = c.get(&format!("/v1/connectors/{id}/health"));
    assert_eq!(h.json()["healthy"], true, "{}", h.text());
    let tst = c.post(&format!("/v1/connectors/{id}/test"), json!({}), None);
    assert_eq!(tst.json()["status"], "passed", "{}", tst.text());
    let live: Vec<String> = tst.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["mode"] == "live")
        .map(|r| r["tool"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(live, ["query", "list_tables"], "{}", tst.text());

    let tool = |c: &mut Ctx, name: &str, args: Value| {
        c.post(
            &format!("/v1/connectors/{id}/tools/{name}/call"),
            json!({"arguments": args}),
            None,
        )
    };
    // query: parameters bound, rows as the server has them.
    let q = tool(
        &mut c,
        "query",
        json!({"sql": format!("SELECT id, name FROM products WHERE id <= {p1} ORDER BY id"), "params": [3]}),
    );
    assert_eq!(q.json()["status"], "succeeded", "{}", q.text());
    let want: Vec<Value> = PRODUCTS
        .iter()
        .filter(|p| p.id <= 3)
        .map(|p| json!([p.id, p.name]))
        .collect();
    assert_eq!(q.json()["result"]["rows"], json!(want), "{}", q.text());
    assert_eq!(q.json()["result"]["columns"][0]["name"], "id");
    // An injection attempt is a value: it matches no name and drops nothing.
    for evil in [
        "x' OR '1'='1",
        "'; DROP TABLE products; --",
        "\\'; DELETE FROM products; #",
    ] {
        let q = tool(
            &mut c,
            "query",
            json!({"sql": format!("SELECT count(*) AS n FROM products WHERE name = {p1}"), "params": [evil]}),
        );
        assert_eq!(
            q.json()["result"]["rows"],
            json!([[0]]),
            "{evil}: {}",
            q.text()
        );
    }
    let quoted = PRODUCTS
        .iter()
        .find(|p| p.name.contains('\''))
        .expect("a seeded name with a quote");
    let q = tool(
        &mut c,
        "query",
        json!({"sql": format!("SELECT id FROM products WHERE name = {p1}"), "params": [quoted.name]}),
    );
    assert_eq!(
        q.json()["result"]["rows"],
        json!([[quoted.id]]),
        "{}",
        q.text()
    );
    assert_eq!(
        db.admin_sql("SELECT count(*) FROM products").trim(),
        PRODUCTS.len().to_string()
    );
    // The row cap.
    let many = match db.engine {
        Engine::Postgres => "SELECT g FROM generate_series(1, 1500) g",
        Engine::MariaDb => "SELECT seq FROM seq_1_to_1500",
    };
    let q = tool(&mut c, "query", json!({"sql": many}));
    assert_eq!(q.json()["result"]["truncated"], true, "{}", q.text());
    assert_eq!(
        q.json()["result"]["rows"].as_array().map(Vec::len),
        Some(1000)
    );
    // Schema tools.
    let l = tool(&mut c, "list_tables", json!({}));
    assert!(l.text().contains("\"products\""), "{}", l.text());
    let d = tool(&mut c, "describe_table", json!({"table": "products"}));
    let cols = d.json()["result"]["rows"].as_array().map_or(0, Vec::len);
    assert!(cols >= 3, "{}", d.text());
    assert_eq!(d.json()["result"]["rows"][0][0], "id", "{}", d.text());

    // A write is not a query, and read only refuses execute; the dry run writes nothing.
    let w = tool(&mut c, "query", json!({"sql": "DELETE FROM products"}));
    assert_eq!(w.status, 400, "{}", w.text());
    let before = db.admin_sql("SELECT price FROM products WHERE id = 1");
    let bump = json!({"sql": format!("UPDATE products SET price = price + 1 WHERE id = {p1}"), "params": [1]});
    let e = c.post(
        &format!("/v1/connectors/{id}/tools/execute/call"),
        json!({"arguments": bump}),
        Some("bump-1"),
    );
    assert_eq!(e.status, 409, "{}", e.text());
    let dry = c.post(
        &format!("/v1/connectors/{id}/tools/execute/call"),
        json!({"arguments": bump, "dry_run": true}),
        None,
    );
    assert_eq!(
        (dry.json()["status"].clone(), dry.json()["mode"].clone()),
        (json!("succeeded"), json!("dry_run")),
        "{}",
        dry.text()
    );
    let bad = c.post(
        &format!("/v1/connectors/{id}/tools/execute/call"),
        json!({"arguments": {"sql": "UPDATE no_such_table SET x = 1"}, "dry_run": true}),
        None,
    );
    assert_eq!(bad.json()["status"], "failed", "{}", bad.text());
    assert_eq!(
        db.admin_sql("SELECT price FROM products WHERE id = 1"),
        before
    );
    // Read only off: the statement runs once for a retried key.
    let p = keep(
        seen,
        call("PATCH", &s.url(&format!("/v1/connectors/{id}")))
            .auth(&c.key)
            .json(&json!({"config": {"read_only": false}})),
    );
    assert_eq!(p.status, 200, "{}", p.text());
    let r1 = c.post(
        &format!("/v1/connectors/{id}/tools/execute/call"),
        json!({"arguments": bump}),
        Some("bump-2"),
    );
    assert_eq!(
        (
            r1.json()["status"].clone(),
            r1.json()["result"]["row_count"].clone()
        ),
        (json!("succeeded"), json!(1)),
        "{}",
        r1.text()
    );
    let r2 = c.post(
        &format!("/v1/connectors/{id}/tools/execute/call"),
        json!({"arguments": bump}),
        Some("bump-2"),
    );
    assert_eq!(r2.json()["id"], r1.json()["id"]);
    let after: f64 = db
        .admin_sql("SELECT price FROM products WHERE id = 1")
        .trim()
        .parse()
        .unwrap();
    let was: f64 = before.trim().parse().unwrap();
    assert!(
        (after - was - 1.0).abs() < 1e-9,
        "{was} → {after}: the statement ran once"
    );
    let two = c.post(
        &format!("/v1/connectors/{id}/tools/execute/call"),
        json!({"arguments": {"sql": format!("UPDATE products SET price = {p1} WHERE id = {p2}"), "params": [was, 1]}}),
        Some("restore"),
    );
    assert_eq!(two.json()["status"], "succeeded", "{}", two.text());
    assert_eq!(
        db.admin_sql("SELECT price FROM products WHERE id = 1"),
        before
    );

    // The password is nowhere: not in an answer, the log, or stored state.
    let url = db.url(true);
    let secrets = [db.password.as_str(), url.as_str()];
    for body in &c.answers {
        for x in secrets {
            assert!(
                !String::from_utf8_lossy(body).contains(x),
                "an answer carried the database password"
            );
        }
    }
    let log = s.log_text();
    for x in secrets {
        assert!(!log.contains(x), "the log carried the database password");
    }
    for f in crate::support::files_under(&s.state.join("persist")) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        for x in secrets {
            assert!(
                !text.contains(x),
                "{} carried the database password",
                f.display()
            );
        }
    }
}
