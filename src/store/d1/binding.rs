//! The SQL port on the D1 binding: the only code that turns statements into
//! `worker` types. A D1 batch is one transaction (all or nothing).

use crate::store::sql::{Param, Sql, Statement, StatementResult};
use crate::store::StoreResult;
use async_trait::async_trait;
use serde_json::Value;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result};

fn js(p: &Param) -> JsValue {
    match p {
        Param::Null => JsValue::NULL,
        // D1 takes every number as a JavaScript number.
        Param::Int(n) => JsValue::from(*n as f64),
        Param::Real(n) => JsValue::from(*n),
        Param::Text(s) => JsValue::from(s.as_str()),
    }
}

fn prepare(db: &D1Database, s: &Statement) -> StoreResult<D1PreparedStatement> {
    let args: Vec<JsValue> = s.params.iter().map(js).collect();
    Ok(db.prepare(&s.sql).bind(&args)?)
}

/// Rows a statement changed (0 when D1 reports none).
fn changes(r: &D1Result) -> usize {
    r.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0)
}

#[async_trait(?Send)]
impl Sql for D1Database {
    async fn query(&self, stmt: Statement) -> StoreResult<Vec<Value>> {
        Ok(prepare(self, &stmt)?.all().await?.results::<Value>()?)
    }

    async fn first(&self, stmt: Statement) -> StoreResult<Option<Value>> {
        Ok(prepare(self, &stmt)?.first::<Value>(None).await?)
    }

    async fn run(&self, stmt: Statement) -> StoreResult<usize> {
        Ok(changes(&prepare(self, &stmt)?.run().await?))
    }

    async fn batch(&self, stmts: Vec<Statement>) -> StoreResult<Vec<StatementResult>> {
        let prepared = stmts
            .iter()
            .map(|s| prepare(self, s))
            .collect::<StoreResult<Vec<_>>>()?;
        D1Database::batch(self, prepared)
            .await?
            .iter()
            .map(|r| {
                Ok(StatementResult {
                    rows: r.results::<Value>()?,
                    changes: changes(r),
                })
            })
            .collect()
    }
}
