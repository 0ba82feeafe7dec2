//! The SQL port on the D1 binding: the only code that turns statements into
//! `worker` types. A D1 batch is one transaction (all or nothing). Rows
//! cross from JavaScript as one JSON text per statement, parsed by the
//! `serde_json` the worker already carries (a `serde_wasm_bindgen` decoder
//! of `Value` would add its own code to the Wasm).

use crate::store::sql::{Param, Sql, Statement, StatementResult};
use crate::store::{StoreError, StoreResult};
use async_trait::async_trait;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::js_sys::{self, Array, Reflect, JSON};
use worker::worker_sys::{D1Database as D1DatabaseSys, D1Result as D1ResultSys};
use worker::{D1Database, D1PreparedStatement};

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

/// A rejected D1 call as text: its message and its cause's (where D1 puts
/// the SQLite error, such as "UNIQUE constraint failed").
fn failure(e: JsValue) -> StoreError {
    match e.dyn_into::<js_sys::Error>() {
        Ok(err) => {
            let mut text = String::from(err.message());
            if let Some(cause) = err.cause().dyn_ref::<js_sys::Error>() {
                text.push_str(": ");
                text.push_str(&String::from(cause.message()));
            }
            StoreError(text)
        }
        Err(other) => StoreError(format!("{other:?}")),
    }
}

async fn settle(p: Result<js_sys::Promise, JsValue>) -> StoreResult<JsValue> {
    JsFuture::from(p.map_err(failure)?).await.map_err(failure)
}

/// One statement's rows and changes, read from D1's result object.
fn result(r: &JsValue) -> StoreResult<StatementResult> {
    let r: &D1ResultSys = r.unchecked_ref();
    let rows = match r.results().map_err(failure)? {
        Some(rows) if rows.length() > 0 => {
            let text = JSON::stringify(&rows).map_err(failure)?;
            match serde_json::from_str::<Value>(&String::from(text))? {
                Value::Array(rows) => rows,
                _ => return Err(StoreError("D1 rows are not an array".into())),
            }
        }
        _ => Vec::new(),
    };
    let changes = r
        .meta()
        .ok()
        .and_then(|m| Reflect::get(&m, &"changes".into()).ok())
        .and_then(|c| c.as_f64())
        .unwrap_or(0.0) as usize;
    Ok(StatementResult { rows, changes })
}

#[async_trait(?Send)]
impl Sql for D1Database {
    async fn query(&self, stmt: Statement) -> StoreResult<Vec<Value>> {
        let s = prepare(self, &stmt)?;
        Ok(result(&settle(s.inner().all()).await?)?.rows)
    }

    async fn run(&self, stmt: Statement) -> StoreResult<usize> {
        let s = prepare(self, &stmt)?;
        Ok(result(&settle(s.inner().run()).await?)?.changes)
    }

    async fn batch(&self, stmts: Vec<Statement>) -> StoreResult<Vec<StatementResult>> {
        let prepared = Array::new();
        for s in &stmts {
            prepared.push(prepare(self, s)?.inner());
        }
        let db: &D1DatabaseSys = self.unchecked_ref();
        let results = settle(db.batch(prepared)).await?;
        let results: Array = results.dyn_into().map_err(failure)?;
        results.iter().map(|r| result(&r)).collect()
    }
}
