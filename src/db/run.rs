//! What a database listing's probe and each `sql` tool do over a
//! [`Session`] (API §3): one connection per call, closed however it ends.
//!
//! * verify / health: connect (TLS, authentication) and `SELECT 1`;
//! * `query`: a read statement in a read-only transaction with the
//!   statement timeout from config, its parameters bound, at most
//!   [`MAX_ROWS`] rows (`truncated` says when there were more), rolled back;
//! * `list_tables` / `describe_table`: `information_schema`, the schema from
//!   the arguments, else config's `default_schema` (PostgreSQL: `public`;
//!   MySQL: the connection's database);
//! * `execute`: refused while config's `read_only` is on (the default); its
//!   dry run prepares the statement inside a transaction that is rolled
//!   back; live, it runs and commits.
//!
//! Every answer is `{columns, rows, row_count, truncated}`.

use super::{DbError, Dialect, Rows, Session};
use serde_json::{json, Map, Value};

/// The most rows a call returns.
pub const MAX_ROWS: usize = 1000;
/// The statement timeout when config sets none (ms).
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;

/// Why a call was refused before anything was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// An argument cannot run as this tool (`arguments.<field>`).
    Argument { param: String, message: String },
    /// The connector's config forbids it (`read_only`).
    Config(String),
    /// The manifest names a statement kind this worker does not know.
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Refused(Refusal),
    Db(DbError),
}

impl Failure {
    /// The failure in words (safe to show).
    pub fn message(&self) -> String {
        match self {
            Failure::Refused(Refusal::Argument { message, .. })
            | Failure::Refused(Refusal::Config(message))
            | Failure::Refused(Refusal::Unknown(message)) => message.clone(),
            Failure::Db(e) => e.to_string(),
        }
    }
}

impl From<DbError> for Failure {
    fn from(e: DbError) -> Self {
        Failure::Db(e)
    }
}

/// One tool call's inputs.
pub struct Call<'a> {
    pub dialect: Dialect,
    /// The manifest's `sql.kind`: query, list_tables, describe_table, execute.
    pub kind: &'a str,
    pub arguments: &'a Map<String, Value>,
    pub config: &'a Map<String, Value>,
    pub dry_run: bool,
}

/// Whether config leaves the connector read only (the listings' default).
pub fn read_only(config: &Map<String, Value>) -> bool {
    config
        .get("read_only")
        .and_then(Value::as_bool)
        .unwrap_or(true)
}

fn timeout_ms(config: &Map<String, Value>) -> u64 {
    ["statement_timeout_ms", "max_execution_time_ms"]
        .iter()
        .find_map(|k| config.get(*k).and_then(Value::as_u64))
        .unwrap_or(DEFAULT_TIMEOUT_MS)
        .clamp(100, 300_000)
}

/// Checks a call before any connection is opened.
pub fn check(call: &Call) -> Result<(), Refusal> {
    match call.kind {
        "query" => {
            let sql = call.arguments.get("sql").and_then(Value::as_str).unwrap_or("");
            read_statement(call.dialect, sql).map_err(|message| Refusal::Argument {
                param: "arguments.sql".into(),
                message,
            })
        }
        "list_tables" | "describe_table" => Ok(()),
        "execute" if read_only(call.config) && !call.dry_run => Err(Refusal::Config(
            "This connector is read only (config.read_only is on): execute is refused. Set read_only to false to allow statements that change data.".into(),
        )),
        "execute" => Ok(()),
        other => Err(Refusal::Unknown(format!(
            "The statement kind '{other}' is not one this worker runs."
        ))),
    }
}

/// The first keyword of a statement, past whitespace, comments and `(`.
fn first_keyword(sql: &str) -> String {
    let mut s = sql;
    loop {
        let t = s.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
        if let Some(rest) = t.strip_prefix("--") {
            s = rest.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(rest) = t.strip_prefix("/*") {
            s = rest.split_once("*/").map_or("", |(_, r)| r);
        } else if let Some(rest) = t.strip_prefix('#') {
            s = rest.split_once('\n').map_or("", |(_, r)| r);
        } else {
            s = t;
            break;
        }
    }
    s.chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// A `query` runs reads only. The server's read-only transaction is the
/// real fence; this refuses plainly what would never be one (and, on MySQL,
/// DDL, which commits the transaction implicitly before it runs).
fn read_statement(dialect: Dialect, sql: &str) -> Result<(), String> {
    let kw = first_keyword(sql);
    let reads = [
        "SELECT", "WITH", "VALUES", "TABLE", "SHOW", "EXPLAIN", "DESCRIBE", "DESC",
    ];
    if !reads.contains(&kw.as_str()) {
        return Err(format!(
            "query runs read statements (SELECT, WITH, VALUES, TABLE, SHOW, EXPLAIN); '{}' is not one — use execute.",
            if kw.is_empty() { "(nothing)" } else { kw.as_str() }
        ));
    }
    let upper = sql.to_ascii_uppercase();
    if dialect == Dialect::Mysql && (upper.contains("OUTFILE") || upper.contains("DUMPFILE")) {
        return Err("query does not write files (INTO OUTFILE / DUMPFILE).".into());
    }
    Ok(())
}

fn params(arguments: &Map<String, Value>) -> Vec<Value> {
    arguments
        .get("params")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn begin(dialect: Dialect, read_only: bool) -> &'static str {
    match (dialect, read_only) {
        (Dialect::Postgres, true) => "BEGIN READ ONLY",
        (Dialect::Postgres, false) => "BEGIN",
        (Dialect::Mysql, true) => "START TRANSACTION READ ONLY",
        (Dialect::Mysql, false) => "START TRANSACTION",
    }
}

async fn set_timeout(s: &mut dyn Session, dialect: Dialect, ms: u64) -> Result<(), DbError> {
    let sql = match dialect {
        Dialect::Postgres => format!("SET LOCAL statement_timeout = {ms}"),
        Dialect::Mysql if s.server().mariadb => {
            format!("SET SESSION max_statement_time = {}", ms as f64 / 1000.0)
        }
        Dialect::Mysql => format!("SET SESSION max_execution_time = {ms}"),
    };
    s.batch(&sql).await
}

/// The tool's answer.
pub fn answer(rows: Rows) -> Value {
    let row_count = rows.affected.unwrap_or(rows.rows.len() as u64);
    json!({
        "columns": rows.columns.iter().map(|c| json!({"name": c.name, "type": c.type_name})).collect::<Vec<_>>(),
        "rows": rows.rows,
        "row_count": row_count,
        "truncated": rows.truncated,
    })
}

fn schema_arg(call: &Call) -> Option<String> {
    call.arguments
        .get("schema")
        .or_else(|| call.config.get("default_schema"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// One read in a read-only transaction that is rolled back, with the
/// statement timeout when given; the rows it changed are not asked for.
async fn read(
    s: &mut dyn Session,
    d: Dialect,
    timeout_ms: Option<u64>,
    sql: &str,
    params: &[Value],
) -> Result<Rows, DbError> {
    s.batch(begin(d, true)).await?;
    if let Some(ms) = timeout_ms {
        set_timeout(s, d, ms).await?;
    }
    let rows = s.query(sql, params, MAX_ROWS).await?;
    s.batch("ROLLBACK").await?;
    Ok(Rows {
        affected: None,
        ..rows
    })
}

/// Runs one tool call on an open session (the caller closes it).
pub async fn tool(s: &mut dyn Session, call: &Call<'_>) -> Result<Value, Failure> {
    check(call).map_err(Failure::Refused)?;
    let d = call.dialect;
    let timeout = timeout_ms(call.config);
    let arg = |k: &str| call.arguments.get(k).and_then(Value::as_str).unwrap_or("");
    // The schema the schema tools read: PostgreSQL's default is `public`,
    // MySQL's (None) the connection's database.
    let schema = match d {
        Dialect::Postgres => Some(schema_arg(call).unwrap_or_else(|| "public".into())),
        Dialect::Mysql => schema_arg(call),
    };
    match call.kind {
        "query" => {
            let sql = arg("sql");
            Ok(answer(
                read(s, d, Some(timeout), sql, &params(call.arguments)).await?,
            ))
        }
        "list_tables" => {
            let sql = match d {
                Dialect::Postgres => "SELECT table_name AS name, table_type AS type FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name",
                Dialect::Mysql => "SELECT table_name AS name, table_type AS type FROM information_schema.tables WHERE table_schema = COALESCE(?, DATABASE()) ORDER BY table_name",
            };
            Ok(answer(read(s, d, None, sql, &[json!(schema)]).await?))
        }
        "describe_table" => {
            let table = arg("table");
            let sql = match d {
                Dialect::Postgres => "SELECT column_name AS name, data_type AS type, is_nullable = 'YES' AS nullable, column_default AS \"default\" FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
                Dialect::Mysql => "SELECT column_name AS name, column_type AS type, is_nullable = 'YES' AS nullable, column_default AS `default` FROM information_schema.columns WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ? ORDER BY ordinal_position",
            };
            let rows = read(s, d, None, sql, &[json!(schema), json!(table)]).await?;
            if rows.rows.is_empty() {
                let place = schema.map_or_else(
                    || "the connection's database".to_string(),
                    |s| format!("schema '{s}'"),
                );
                return Err(Failure::Db(DbError::Statement(format!(
                    "No table '{table}' in {place} is visible to this connection."
                ))));
            }
            Ok(answer(rows))
        }
        "execute" if call.dry_run => {
            s.batch(begin(d, false)).await?;
            let prepared = s.prepare(arg("sql")).await;
            let _ = s.batch("ROLLBACK").await;
            prepared?;
            Ok(
                json!({"columns": [], "rows": [], "row_count": 0, "truncated": false, "prepared": true}),
            )
        }
        "execute" => {
            s.batch(begin(d, false)).await?;
            set_timeout(s, d, timeout).await?;
            let rows = s
                .query(arg("sql"), &params(call.arguments), MAX_ROWS)
                .await?;
            s.batch("COMMIT").await?;
            Ok(answer(rows))
        }
        other => Err(Failure::Refused(Refusal::Unknown(format!(
            "The statement kind '{other}' is not one this worker runs."
        )))),
    }
}

/// Verify and health: the login itself, then `SELECT 1`.
pub async fn ping(s: &mut dyn Session) -> Result<(), DbError> {
    s.query("SELECT 1", &[], 1).await.map(|_| ())
}

#[cfg(test)]
mod tests;
