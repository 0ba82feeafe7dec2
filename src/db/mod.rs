//! Database tools (API §3 `sql` tools, §10, §12): a `transport: database`
//! listing's verify, health and tools run over the database's own protocol
//! on a TCP socket from the edge. Pure but for `edge`:
//!
//! * `target` reads a connection string (URL or libpq keyword/value) into a
//!   [`Target`] and applies the SSRF guard to its host and port;
//! * `run` is what each tool does (read-only transactions, timeouts, row
//!   caps, dry runs) over any [`Session`];
//! * `pg_types` turns JSON arguments into PostgreSQL parameters and result
//!   cells back into JSON; `mysql` speaks the MySQL/MariaDB client protocol
//!   over any stream;
//! * `edge` (wasm32 only) opens `worker::Socket`s: tokio-postgres for
//!   PostgreSQL, `mysql` for MySQL.
//!
//! Nothing that leaves this module carries the password or the connection
//! string: errors are the server's words or ours.

use async_trait::async_trait;
use serde_json::Value;

pub mod mysql;
pub mod pg_types;
pub mod run;
pub mod target;

#[cfg(target_arch = "wasm32")]
pub mod edge;

pub use target::{Dialect, Target};

/// How long opening a connection (TCP, TLS, authentication) may take.
pub const CONNECT_TIMEOUT_MS: u64 = 10_000;

/// A result column: its name and the server's name for its type.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub type_name: String,
}

/// What one statement answered: its columns, at most the rows asked for
/// (`truncated` when the server had more), and the rows it changed (`None`
/// when the server does not say).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rows {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
    pub truncated: bool,
    pub affected: Option<u64>,
}

/// Why a database did not do what was asked. Every message is safe to show:
/// it never holds the password or the connection string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DbError {
    /// The target is not allowed (API §10) or the connection string is
    /// unusable: nothing was sent.
    #[error("{0}")]
    Refused(String),
    /// No connection: refused, reset, timed out, TLS failed, not the
    /// protocol. Retry later.
    #[error("{0}")]
    Unreachable(String),
    /// The server refused the login (wrong user or password, no such
    /// database, not allowed from here): user-correctable.
    #[error("{0}")]
    Auth(String),
    /// The server refused a statement (syntax, permission, read-only,
    /// timeout); the connection itself is fine.
    #[error("{0}")]
    Statement(String),
}

/// What the server said about itself in the handshake.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServerInfo {
    /// e.g. "10.11.14-MariaDB-0+deb12u2" (MySQL's handshake says it;
    /// empty for PostgreSQL, whose dialect needs none).
    pub version: String,
    /// A MariaDB server (its timeout variable is `max_statement_time`).
    pub mariadb: bool,
}

/// One open, authenticated connection.
#[async_trait(?Send)]
pub trait Session {
    fn server(&self) -> ServerInfo;
    /// Runs statements that take no parameters and whose rows are not
    /// wanted (`BEGIN READ ONLY`, `SET …`, `ROLLBACK`).
    async fn batch(&mut self, sql: &str) -> Result<(), DbError>;
    /// Runs one statement with its parameters bound (never spliced into the
    /// text as SQL); keeps at most `max_rows` rows.
    async fn query(
        &mut self,
        sql: &str,
        params: &[Value],
        max_rows: usize,
    ) -> Result<Rows, DbError>;
    /// Parses and plans one statement without running it (a dry run).
    async fn prepare(&mut self, sql: &str) -> Result<(), DbError>;
    /// Ends the connection politely (PostgreSQL Terminate, MySQL COM_QUIT).
    async fn close(self: Box<Self>);
}

/// The port the edge implements: opens a connection to a checked target.
#[async_trait(?Send)]
pub trait Databases {
    async fn connect(&self, target: &Target) -> Result<Box<dyn Session>, DbError>;
}

/// A deployment without database sockets (native tests that do not script
/// one): every connection is unreachable.
pub struct NoDatabases;

#[async_trait(?Send)]
impl Databases for NoDatabases {
    async fn connect(&self, target: &Target) -> Result<Box<dyn Session>, DbError> {
        Err(DbError::Unreachable(format!(
            "The database at {}:{} could not be reached (no sockets here).",
            target.host, target.port
        )))
    }
}
