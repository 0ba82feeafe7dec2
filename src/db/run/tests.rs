use super::*;
use crate::db::Databases;
use crate::testing::db::{FakeDb, DB_PASSWORD};
use std::rc::Rc;

fn target() -> crate::db::Target {
    crate::db::target::parse(
        Dialect::Postgres,
        &format!("postgresql://app:{DB_PASSWORD}@db.example.com/shop"),
    )
    .unwrap()
}

fn call(
    db: &Rc<FakeDb>,
    dialect: Dialect,
    kind: &str,
    args: Value,
    config: Value,
    dry_run: bool,
) -> Result<Value, Failure> {
    pollster::block_on(async {
        let mut s = db.connect(&target()).await?;
        let c = Call {
            dialect,
            kind,
            arguments: args.as_object().unwrap(),
            config: config.as_object().unwrap(),
            dry_run,
        };
        let r = tool(&mut *s, &c).await;
        s.close().await;
        r
    })
}

#[test]
fn a_query_runs_read_only_with_its_timeout_and_bound_parameters() {
    let db = Rc::new(FakeDb::default());
    db.script(
        "SELECT name",
        &["name"],
        vec![vec![json!("a")], vec![json!("b")]],
    );
    let r = call(
        &db,
        Dialect::Postgres,
        "query",
        json!({"sql": "SELECT name FROM products WHERE id = $1", "params": ["1; DROP TABLE products"]}),
        json!({"statement_timeout_ms": 2500}),
        false,
    )
    .unwrap();
    assert_eq!(
        r,
        json!({"columns": [{"name": "name", "type": "text"}], "rows": [["a"], ["b"]], "row_count": 2, "truncated": false})
    );
    assert_eq!(
        db.statements(),
        [
            "BEGIN READ ONLY",
            "SET LOCAL statement_timeout = 2500",
            "SELECT name FROM products WHERE id = $1",
            "ROLLBACK"
        ]
    );
    // The value travels as a parameter, never in the statement text.
    assert_eq!(db.log.borrow()[2].1, vec![json!("1; DROP TABLE products")]);
    assert_eq!(db.closed.get(), 1);
}

#[test]
fn rows_past_the_cap_are_cut_and_said_so() {
    let db = Rc::new(FakeDb::default());
    let many: Vec<Vec<Value>> = (0..MAX_ROWS + 5).map(|i| vec![json!(i)]).collect();
    db.script("SELECT n", &["n"], many);
    let r = call(
        &db,
        Dialect::Postgres,
        "query",
        json!({"sql": "SELECT n FROM t"}),
        json!({}),
        false,
    )
    .unwrap();
    assert_eq!(r["rows"].as_array().unwrap().len(), MAX_ROWS);
    assert_eq!(r["truncated"], true);
}

#[test]
fn a_query_refuses_what_is_not_a_read_and_the_server_is_the_fence() {
    let db = Rc::new(FakeDb::default());
    for sql in [
        "DELETE FROM products",
        "  /* hi */ -- x\n DROP TABLE t",
        "",
        "COPY t TO '/tmp/x'",
    ] {
        let e = call(
            &db,
            Dialect::Postgres,
            "query",
            json!({"sql": sql}),
            json!({}),
            false,
        )
        .unwrap_err();
        assert!(
            matches!(&e, Failure::Refused(Refusal::Argument { param, .. }) if param == "arguments.sql"),
            "{sql}: {e:?}"
        );
    }
    assert!(
        db.statements().is_empty(),
        "nothing is sent for a refused query"
    );
    // A write hidden in a CTE gets past the keyword check; the read-only
    // transaction refuses it.
    let e = call(
        &db,
        Dialect::Postgres,
        "query",
        json!({"sql": "(WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d)"}),
        json!({}),
        false,
    );
    assert!(e.is_ok() || matches!(e, Err(Failure::Db(DbError::Statement(_)))));
    let e = call(
        &db,
        Dialect::Mysql,
        "query",
        json!({"sql": "SELECT * FROM t INTO OUTFILE '/tmp/x'"}),
        json!({}),
        false,
    )
    .unwrap_err();
    assert!(matches!(e, Failure::Refused(Refusal::Argument { .. })));
}

#[test]
fn execute_is_refused_while_read_only_and_dry_runs_roll_back() {
    let db = Rc::new(FakeDb::default());
    let sql = json!({"sql": "INSERT INTO t VALUES ($1)", "params": [1]});
    for config in [json!({}), json!({"read_only": true})] {
        let e = call(
            &db,
            Dialect::Postgres,
            "execute",
            sql.clone(),
            config,
            false,
        )
        .unwrap_err();
        assert!(matches!(e, Failure::Refused(Refusal::Config(_))), "{e:?}");
    }
    assert!(db.statements().is_empty());
    // A dry run prepares inside a transaction that is rolled back, even read only.
    let r = call(
        &db,
        Dialect::Postgres,
        "execute",
        sql.clone(),
        json!({}),
        true,
    )
    .unwrap();
    assert_eq!(r["prepared"], true);
    assert_eq!(
        db.statements(),
        ["BEGIN", "PREPARE INSERT INTO t VALUES ($1)", "ROLLBACK"]
    );
    let e = call(
        &db,
        Dialect::Postgres,
        "execute",
        json!({"sql": "DELETE FROM nosuchtable"}),
        json!({}),
        true,
    )
    .unwrap_err();
    assert!(matches!(e, Failure::Db(DbError::Statement(m)) if m.contains("nosuchtable")));
    assert_eq!(db.statements().last().unwrap(), "ROLLBACK");
    db.log.borrow_mut().clear();
    let r = call(
        &db,
        Dialect::Mysql,
        "execute",
        sql,
        json!({"read_only": false, "max_execution_time_ms": 900}),
        false,
    )
    .unwrap();
    assert_eq!(r["row_count"], 1);
    assert_eq!(
        db.statements(),
        [
            "START TRANSACTION",
            "SET SESSION max_execution_time = 900",
            "INSERT INTO t VALUES ($1)",
            "COMMIT"
        ]
    );
}

#[test]
fn mariadb_gets_its_own_timeout_variable() {
    let db = Rc::new(FakeDb::default());
    db.mariadb.set(true);
    db.script("SELECT 2", &["x"], vec![vec![json!(2)]]);
    call(
        &db,
        Dialect::Mysql,
        "query",
        json!({"sql": "SELECT 2"}),
        json!({"max_execution_time_ms": 1500}),
        false,
    )
    .unwrap();
    assert_eq!(db.statements()[1], "SET SESSION max_statement_time = 1.5");
    assert_eq!(db.statements()[0], "START TRANSACTION READ ONLY");
}

#[test]
fn schema_tools_read_information_schema_with_the_schema_bound() {
    let db = Rc::new(FakeDb::default());
    db.script(
        "SELECT table_name",
        &["name", "type"],
        vec![vec![json!("products"), json!("BASE TABLE")]],
    );
    let r = call(
        &db,
        Dialect::Postgres,
        "list_tables",
        json!({}),
        json!({"default_schema": "shop"}),
        false,
    )
    .unwrap();
    assert_eq!(r["rows"], json!([["products", "BASE TABLE"]]));
    assert_eq!(db.log.borrow()[1].1, vec![json!("shop")]);
    let r = call(
        &db,
        Dialect::Mysql,
        "list_tables",
        json!({}),
        json!({}),
        false,
    )
    .unwrap();
    assert_eq!(r["row_count"], 1);
    assert_eq!(db.log.borrow().last().unwrap().1, Vec::<Value>::new());
    let last = db.log.borrow().iter().rev().nth(1).unwrap().1.clone();
    assert_eq!(last, vec![Value::Null], "MySQL: the connection's database");
    // No such table: said so, not an empty answer.
    db.script("SELECT column_name", &["name"], vec![]);
    let e = call(
        &db,
        Dialect::Postgres,
        "describe_table",
        json!({"table": "nope"}),
        json!({}),
        false,
    )
    .unwrap_err();
    assert!(
        matches!(e, Failure::Db(DbError::Statement(m)) if m.contains("'nope'") && m.contains("'public'"))
    );
    db.scripted.borrow_mut().clear();
    db.script(
        "SELECT column_name",
        &["name", "type", "nullable", "default"],
        vec![vec![
            json!("id"),
            json!("integer"),
            json!(false),
            Value::Null,
        ]],
    );
    let r = call(
        &db,
        Dialect::Postgres,
        "describe_table",
        json!({"table": "products"}),
        json!({}),
        false,
    )
    .unwrap();
    assert_eq!(r["rows"][0][0], "id");
}

#[test]
fn a_wrong_password_is_the_servers_refusal() {
    let db = Rc::new(FakeDb::default());
    let mut t = target();
    t.password = "wrong".into();
    let e = pollster::block_on(db.connect(&t)).err().unwrap();
    assert!(matches!(e, DbError::Auth(m) if m.contains("password authentication failed")));
}
