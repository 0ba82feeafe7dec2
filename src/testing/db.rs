//! A fake database server for native tests of the `sql` tools: it accepts
//! one user and password, records every statement it is sent (with its
//! parameters), answers `SELECT 1`, refuses writes inside a read-only
//! transaction like a real server does, and answers scripted rows for a
//! statement that starts with a given text.

use crate::db::{Column, Databases, DbError, Rows, ServerInfo, Session, Target};
use async_trait::async_trait;
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;

pub(crate) const DB_PASSWORD: &str = "db-pass-7Qx!";

#[derive(Default)]
pub(crate) struct FakeDb {
    /// (host, port, tls) of every connection asked for.
    pub(crate) connects: RefCell<Vec<(String, u16, bool)>>,
    /// Every statement with its parameters, in order, across connections.
    pub(crate) log: RefCell<Vec<(String, Vec<Value>)>>,
    /// Statement prefix → the rows it answers.
    pub(crate) scripted: RefCell<Vec<(String, Rows)>>,
    /// Connections fail as unreachable.
    pub(crate) down: std::cell::Cell<bool>,
    pub(crate) mariadb: std::cell::Cell<bool>,
    /// Connections closed politely.
    pub(crate) closed: std::cell::Cell<usize>,
}

impl FakeDb {
    pub(crate) fn script(&self, prefix: &str, columns: &[&str], rows: Vec<Vec<Value>>) {
        self.scripted.borrow_mut().push((
            prefix.to_string(),
            Rows {
                columns: columns
                    .iter()
                    .map(|c| Column {
                        name: c.to_string(),
                        type_name: "text".into(),
                    })
                    .collect(),
                rows,
                truncated: false,
                affected: None,
            },
        ));
    }

    pub(crate) fn statements(&self) -> Vec<String> {
        self.log.borrow().iter().map(|(s, _)| s.clone()).collect()
    }
}

struct FakeSession {
    db: Rc<FakeDb>,
    read_only: bool,
}

#[async_trait(?Send)]
impl Databases for Rc<FakeDb> {
    async fn connect(&self, t: &Target) -> Result<Box<dyn Session>, DbError> {
        self.connects
            .borrow_mut()
            .push((t.host.clone(), t.port, t.tls));
        if self.down.get() {
            return Err(DbError::Unreachable(format!(
                "The database at {}:{} refused the connection.",
                t.host, t.port
            )));
        }
        if t.password != DB_PASSWORD {
            return Err(DbError::Auth(format!(
                "password authentication failed for user \"{}\"",
                t.user
            )));
        }
        Ok(Box::new(FakeSession {
            db: self.clone(),
            read_only: false,
        }))
    }
}

#[async_trait(?Send)]
impl Session for FakeSession {
    fn server(&self) -> ServerInfo {
        ServerInfo {
            version: "fake".into(),
            mariadb: self.db.mariadb.get(),
        }
    }

    async fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.db.log.borrow_mut().push((sql.to_string(), vec![]));
        if sql.starts_with("BEGIN") || sql.starts_with("START TRANSACTION") {
            self.read_only = sql.ends_with("READ ONLY");
        }
        Ok(())
    }

    async fn query(
        &mut self,
        sql: &str,
        params: &[Value],
        max_rows: usize,
    ) -> Result<Rows, DbError> {
        self.db
            .log
            .borrow_mut()
            .push((sql.to_string(), params.to_vec()));
        let upper = sql.trim_start().to_ascii_uppercase();
        if self.read_only && !upper.starts_with("SELECT") && !upper.starts_with("WITH") {
            return Err(DbError::Statement(
                "cannot execute this statement in a read-only transaction".into(),
            ));
        }
        if upper.starts_with("SELECT 1") {
            return Ok(Rows {
                columns: vec![Column {
                    name: "?column?".into(),
                    type_name: "int4".into(),
                }],
                rows: vec![vec![Value::from(1)]],
                truncated: false,
                affected: None,
            });
        }
        let scripted = self
            .db
            .scripted
            .borrow()
            .iter()
            .find(|(p, _)| sql.starts_with(p.as_str()))
            .map(|(_, r)| r.clone());
        match scripted {
            Some(mut r) => {
                r.truncated = r.rows.len() > max_rows;
                r.rows.truncate(max_rows);
                Ok(r)
            }
            None if upper.starts_with("INSERT") || upper.starts_with("UPDATE") => Ok(Rows {
                affected: Some(1),
                ..Rows::default()
            }),
            None => Err(DbError::Statement(format!(
                "the fake has no answer for: {sql}"
            ))),
        }
    }

    async fn prepare(&mut self, sql: &str) -> Result<(), DbError> {
        self.db
            .log
            .borrow_mut()
            .push((format!("PREPARE {sql}"), vec![]));
        if sql.contains("nosuchtable") {
            return Err(DbError::Statement(
                "relation \"nosuchtable\" does not exist".into(),
            ));
        }
        Ok(())
    }

    async fn close(self: Box<Self>) {
        self.db.closed.set(self.db.closed.get() + 1);
    }
}
