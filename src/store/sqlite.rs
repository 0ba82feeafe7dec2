//! The SQL port on a native SQLite (rusqlite's bundled build), for tests: a
//! fresh in-memory database with `migrations/*.sql` applied in order, so the
//! route tests run the production statements of `store::d1`. Like D1, a
//! batch is one transaction that rolls back on any error, and foreign keys
//! are enforced.

use super::sql::{Param, Sql, Statement, StatementResult};
use super::{StoreError, StoreResult};
use async_trait::async_trait;
use rusqlite::types::{Value as Sqlite, ValueRef};
use rusqlite::Connection;
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};

/// Runs on the connection just before the next batch: what a concurrent
/// writer did between a route's read and its write.
pub type Meanwhile = Box<dyn FnOnce(&Connection)>;

pub struct SqliteDb {
    conn: Connection,
    /// Statements run so far (to prove a cache spares the database).
    pub statements: Cell<usize>,
    pub before_batch: RefCell<Option<Meanwhile>>,
    /// Every statement run while `Some` (tests read the production SQL back
    /// to check its query plan).
    pub log: RefCell<Option<Vec<Statement>>>,
}

fn err(e: rusqlite::Error) -> StoreError {
    StoreError(e.to_string())
}

fn bind(p: &Param) -> Sqlite {
    match p {
        Param::Null => Sqlite::Null,
        Param::Int(n) => Sqlite::Integer(*n),
        Param::Real(n) => Sqlite::Real(*n),
        Param::Text(s) => Sqlite::Text(s.clone()),
    }
}

fn json(v: ValueRef<'_>) -> StoreResult<Value> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::from(n),
        ValueRef::Real(n) => Value::from(n),
        ValueRef::Text(t) => Value::String(String::from_utf8(t.to_vec())?),
        ValueRef::Blob(_) => return Err(StoreError("a BLOB column: none is used".into())),
    })
}

impl SqliteDb {
    /// A fresh in-memory database at the latest migration.
    pub fn migrated() -> Self {
        let conn = Connection::open_in_memory().expect("an in-memory SQLite");
        conn.execute_batch("PRAGMA foreign_keys = ON;")
            .expect("foreign keys, as D1 enforces them");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("migrations/")
            .map(|e| e.expect("a migration").path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect();
        files.sort();
        for f in files {
            let sql = std::fs::read_to_string(&f).expect("a readable migration");
            conn.execute_batch(&sql)
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        }
        SqliteDb {
            conn,
            statements: Cell::new(0),
            before_batch: RefCell::new(None),
            log: RefCell::new(None),
        }
    }

    fn exec(&self, s: &Statement) -> StoreResult<StatementResult> {
        self.statements.set(self.statements.get() + 1);
        if let Some(log) = self.log.borrow_mut().as_mut() {
            log.push(s.clone());
        }
        self.uncounted(s)
    }

    fn uncounted(&self, s: &Statement) -> StoreResult<StatementResult> {
        let mut stmt = self.conn.prepare(&s.sql).map_err(err)?;
        let names: Vec<String> = stmt.column_names().iter().map(|n| n.to_string()).collect();
        let readonly = stmt.readonly();
        let before = self.conn.total_changes();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(s.params.iter().map(bind)))
            .map_err(err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(err)? {
            let mut obj = Map::new();
            for (i, name) in names.iter().enumerate() {
                obj.insert(name.clone(), json(row.get_ref(i).map_err(err)?)?);
            }
            out.push(Value::Object(obj));
        }
        // A write's count as D1 reports it (`meta.changes`): every row the
        // statement changed, its triggers' rows included (SQLite's own
        // `changes()` leaves those out); a read changes nothing.
        let changes = if readonly {
            0
        } else {
            (self.conn.total_changes() - before) as usize
        };
        Ok(StatementResult { rows: out, changes })
    }

    /// SQLite's plan for `s`, one line per step (`SEARCH …`, `SCAN …`,
    /// `USE TEMP B-TREE …`).
    pub fn plan(&self, s: &Statement) -> Vec<String> {
        let explain = Statement {
            sql: format!("EXPLAIN QUERY PLAN {}", s.sql),
            params: s.params.clone(),
        };
        self.uncounted(&explain)
            .unwrap_or_else(|e| panic!("{}: {}", s.sql, e.0))
            .rows
            .iter()
            .map(|r| r["detail"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Test inspection (not counted in `statements`): every row a query
    /// answers; panics on bad SQL.
    pub fn rows(&self, sql: &str) -> Vec<Value> {
        self.uncounted(&Statement::new(sql, &[]))
            .unwrap_or_else(|e| panic!("{sql}: {}", e.0))
            .rows
    }
}

#[async_trait(?Send)]
impl Sql for SqliteDb {
    async fn query(&self, stmt: Statement) -> StoreResult<Vec<Value>> {
        Ok(self.exec(&stmt)?.rows)
    }

    async fn run(&self, stmt: Statement) -> StoreResult<usize> {
        Ok(self.exec(&stmt)?.changes)
    }

    async fn batch(&self, stmts: Vec<Statement>) -> StoreResult<Vec<StatementResult>> {
        let meanwhile = self.before_batch.borrow_mut().take();
        if let Some(f) = meanwhile {
            f(&self.conn);
        }
        // Dropped without commit (an error below): rolled back.
        let tx = self.conn.unchecked_transaction().map_err(err)?;
        let results = stmts
            .iter()
            .map(|s| self.exec(s))
            .collect::<StoreResult<Vec<_>>>()?;
        tx.commit().map_err(err)?;
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(sql: &str, params: &[Param]) -> Statement {
        Statement::new(sql, params)
    }

    #[test]
    fn a_consumers_pinned_instances_are_found_by_key_not_by_scanning_the_tenant() {
        // The gateway reads them on every call: by `tenant_id` SQLite would
        // walk every instance of the tenant (it did: 0.4× in the benchmark).
        let db = SqliteDb::migrated();
        let text = db
            .plan(&stmt(
                &format!(
                    "SELECT id FROM connectors {}",
                    crate::store::d1::PINNED_BY_CONSUMER
                ),
                &["ten_a".into(), "bot".into()],
            ))
            .join("\n");
        assert!(
            text.contains("sqlite_autoindex_connectors_1 (id=?)"),
            "{text}"
        );
        assert!(!text.contains("connectors_by_tenant"), "{text}");
    }

    #[test]
    fn a_failing_batch_rolls_back_and_changes_chain() {
        let db = SqliteDb::migrated();
        let tenant = |id: &str| {
            stmt(
                "INSERT INTO tenants (id, name, created_at) VALUES (?1, 'n', 't')",
                &[id.into()],
            )
        };
        let dup = pollster::block_on(db.batch(vec![tenant("ten_a"), tenant("ten_a")]));
        assert!(dup.unwrap_err().0.contains("UNIQUE constraint failed"));
        assert!(db.rows("SELECT id FROM tenants").is_empty(), "rolled back");

        let noop = stmt("UPDATE tenants SET name = 'x' WHERE id = 'none'", &[]);
        let event = stmt(
            "INSERT INTO events (id, tenant_id, type, data, created_at) SELECT 'e', 't', 'k', '{}', 't' WHERE changes() = 1",
            &[],
        );
        let r = pollster::block_on(db.batch(vec![tenant("ten_b"), noop, event])).unwrap();
        assert_eq!(
            r.iter().map(|r| r.changes).collect::<Vec<_>>(),
            [1, 0, 0],
            "the event saw the no-op before it"
        );
        let read = pollster::block_on(db.query(stmt(
            "SELECT id, 2 AS n, NULL AS z FROM tenants WHERE id = ?1 LIMIT ?2",
            &["ten_b".into(), 5usize.into()],
        )))
        .unwrap();
        assert_eq!(
            read,
            [serde_json::json!({"id": "ten_b", "n": 2, "z": null})]
        );
    }
}
