//! The port under the SQL store: run a statement, or a batch of them in one
//! transaction. D1 implements it at the edge (`d1/binding.rs`), SQLite
//! natively for tests (`sqlite.rs`), so both run the same statements.
//! Plain values only: no `worker` or `JsValue` types cross it.

use super::{StoreError, StoreResult};
use async_trait::async_trait;
use serde::de::value::MapDeserializer;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A bound parameter (`?n`). D1 passes every number as a JavaScript number.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl From<&str> for Param {
    fn from(s: &str) -> Self {
        Param::Text(s.to_string())
    }
}

impl From<String> for Param {
    fn from(s: String) -> Self {
        Param::Text(s)
    }
}

impl From<i64> for Param {
    fn from(n: i64) -> Self {
        Param::Int(n)
    }
}

impl From<usize> for Param {
    fn from(n: usize) -> Self {
        Param::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<f64> for Param {
    fn from(n: f64) -> Self {
        Param::Real(n)
    }
}

impl<T: Into<Param>> From<Option<T>> for Param {
    fn from(v: Option<T>) -> Self {
        v.map_or(Param::Null, Into::into)
    }
}

/// One SQL statement with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Param>,
}

/// What one statement of a batch answered: its rows (objects keyed by
/// column name) and how many rows it changed (0 for a read).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatementResult {
    pub rows: Vec<Value>,
    pub changes: usize,
}

/// A SQL database: D1 at the edge, SQLite in native tests.
#[async_trait(?Send)]
pub trait Sql {
    /// Every row the statement answers.
    async fn query(&self, stmt: Statement) -> StoreResult<Vec<Value>>;
    /// The first row, if any.
    async fn first(&self, stmt: Statement) -> StoreResult<Option<Value>> {
        Ok(self.query(stmt).await?.into_iter().next())
    }
    /// Runs a write; answers the rows it changed.
    async fn run(&self, stmt: Statement) -> StoreResult<usize>;
    /// Runs the statements in order in one transaction, all or nothing (an
    /// error rolls every one back). `changes()` in a statement sees the one
    /// before it, as on one connection.
    async fn batch(&self, stmts: Vec<Statement>) -> StoreResult<Vec<StatementResult>>;
}

impl Statement {
    pub fn new(sql: &str, params: &[Param]) -> Self {
        Statement {
            sql: sql.to_string(),
            params: params.to_vec(),
        }
    }

    /// Every row, decoded.
    pub async fn all<T: DeserializeOwned>(self, db: &impl Sql) -> StoreResult<Vec<T>> {
        db.query(self).await?.into_iter().map(decode).collect()
    }

    /// The first row, decoded.
    pub async fn first<T: DeserializeOwned>(self, db: &impl Sql) -> StoreResult<Option<T>> {
        db.first(self).await?.map(decode).transpose()
    }

    /// Runs a write; answers the rows it changed.
    pub async fn run(self, db: &impl Sql) -> StoreResult<usize> {
        db.run(self).await
    }
}

/// A row (an object keyed by column) as `T`. Decoded as a map only: unlike
/// `serde_json::from_value`, no sequence decoder per row type is compiled
/// into the Wasm.
pub fn decode<T: DeserializeOwned>(row: Value) -> StoreResult<T> {
    match row {
        Value::Object(columns) => Ok(T::deserialize(
            MapDeserializer::<_, serde_json::Error>::new(columns.into_iter()),
        )?),
        other => Err(StoreError(format!("a row is an object, not {other}"))),
    }
}

/// Rows the first statement of a batch changed: batches here lead with the
/// statement whose effect decides the outcome. As D1 counts them, the rows
/// its triggers changed are included, so a write of one row by its key
/// succeeded when this is above zero (not exactly one).
pub fn first_changes(results: &[StatementResult]) -> usize {
    results.first().map_or(0, |r| r.changes)
}
