//! Database sockets at the edge (wasm32 only): a `worker::Socket` to the
//! checked target, created for StartTLS so TLS can be started after the
//! protocol asks for it (workerd verifies the server's certificate);
//! PostgreSQL through tokio-postgres (`connect_raw` over the socket, its
//! connection future spawned on the isolate's event loop), MySQL through
//! [`super::mysql`]. Opening (TCP, TLS, authentication) is bounded by the
//! target's connect timeout.

use super::pg_types::{Cell, Param};
use super::{mysql, Column, Databases, DbError, Rows, ServerInfo, Session, Target};
use async_trait::async_trait;
use futures_util::{future, pin_mut, StreamExt};
use serde_json::Value;
use std::time::Duration;
use worker::{SecureTransport, Socket};

pub struct EdgeDatabases;

#[async_trait(?Send)]
impl Databases for EdgeDatabases {
    async fn connect(&self, t: &Target) -> Result<Box<dyn Session>, DbError> {
        let where_ = format!("{}:{}", t.host, t.port);
        let socket = Socket::builder()
            .secure_transport(SecureTransport::StartTls)
            .connect(t.host.clone(), t.port)
            .map_err(|e| {
                DbError::Unreachable(format!(
                    "The database at {where_} could not be reached ({e})."
                ))
            })?;
        let open = async {
            match t.dialect {
                super::Dialect::Postgres => pg_connect(socket, t).await,
                super::Dialect::Mysql => mysql::connect(socket, t)
                    .await
                    .map(|s| Box::new(s) as Box<dyn Session>),
            }
        };
        let delay = worker::Delay::from(Duration::from_millis(t.connect_timeout_ms));
        pin_mut!(open);
        match future::select(open, delay).await {
            future::Either::Left((r, _)) => r.map_err(|e| match e {
                DbError::Unreachable(m) if !m.contains(&where_) => DbError::Unreachable(format!(
                    "The database at {where_} could not be reached ({m})."
                )),
                other => other,
            }),
            future::Either::Right(_) => Err(DbError::Unreachable(format!(
                "The database at {where_} did not complete the connection within {} ms.",
                t.connect_timeout_ms
            ))),
        }
    }
}

/// tokio-postgres' error in words: the server's message with its SQLSTATE,
/// or the client's with its cause.
fn words(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} (SQLSTATE {})", db.message(), db.code().code());
    }
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

fn statement_error(e: tokio_postgres::Error) -> DbError {
    if e.as_db_error().is_none() && (e.is_closed() || io_like(&e)) {
        DbError::Unreachable(format!(
            "The connection to the database broke ({}).",
            words(&e)
        ))
    } else {
        DbError::Statement(words(&e))
    }
}

/// The client failed to talk to the server (as opposed to refusing a value).
fn io_like(e: &tokio_postgres::Error) -> bool {
    let s = e.to_string();
    s.contains("communicating with the server")
        || s.contains("closed")
        || s.contains("unexpected message")
}

async fn pg_connect(socket: Socket, t: &Target) -> Result<Box<dyn Session>, DbError> {
    let mut cfg = tokio_postgres::Config::new();
    cfg.user(&t.user)
        .password(&t.password)
        .dbname(t.database.as_deref().unwrap_or(&t.user))
        .application_name("connector-marketplace")
        .ssl_mode(if t.tls {
            tokio_postgres::config::SslMode::Require
        } else {
            tokio_postgres::config::SslMode::Disable
        });
    let (client, connection) = cfg
        .connect_raw(socket, worker::postgres_tls::PassthroughTls)
        .await
        .map_err(|e| {
            if e.as_db_error().is_some() {
                DbError::Auth(words(&e))
            } else {
                DbError::Unreachable(words(&e))
            }
        })?;
    wasm_bindgen_futures::spawn_local(async move {
        let _ = connection.await;
    });
    Ok(Box::new(PgSession { client }))
}

struct PgSession {
    client: tokio_postgres::Client,
}

#[async_trait(?Send)]
impl Session for PgSession {
    fn server(&self) -> ServerInfo {
        // Nothing reads a PostgreSQL server's version: asking for it would
        // cost a round trip on every call.
        ServerInfo::default()
    }

    async fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.client
            .batch_execute(sql)
            .await
            .map_err(statement_error)
    }

    async fn query(
        &mut self,
        sql: &str,
        params: &[Value],
        max_rows: usize,
    ) -> Result<Rows, DbError> {
        let stmt = self.client.prepare(sql).await.map_err(statement_error)?;
        if stmt.params().len() != params.len() {
            return Err(DbError::Statement(format!(
                "The statement has {} placeholder(s) but {} parameter(s) were given.",
                stmt.params().len(),
                params.len()
            )));
        }
        let columns = stmt
            .columns()
            .iter()
            .map(|c| Column {
                name: c.name().to_string(),
                type_name: type_name(c.type_()),
            })
            .collect();
        let bound: Vec<Param> = params.iter().map(Param).collect();
        let stream = self
            .client
            .query_raw(&stmt, bound.iter())
            .await
            .map_err(statement_error)?;
        pin_mut!(stream);
        let mut rows = vec![];
        let mut truncated = false;
        while let Some(row) = stream.next().await {
            let row = row.map_err(statement_error)?;
            if rows.len() == max_rows {
                truncated = true;
                continue;
            }
            let mut cells = Vec::with_capacity(row.len());
            for i in 0..row.len() {
                let cell: Cell = row.try_get(i).map_err(|e| DbError::Statement(words(&e)))?;
                cells.push(cell.0);
            }
            rows.push(cells);
        }
        Ok(Rows {
            columns,
            rows,
            truncated,
            affected: stream.rows_affected(),
        })
    }

    async fn prepare(&mut self, sql: &str) -> Result<(), DbError> {
        self.client
            .prepare(sql)
            .await
            .map(|_| ())
            .map_err(statement_error)
    }

    async fn close(self: Box<Self>) {
        // Dropping the client ends the connection future, which sends
        // Terminate and closes the socket.
        drop(self);
    }
}

/// A type's name as SQL spells it: `text[]` for the array type `_text`.
fn type_name(t: &tokio_postgres::types::Type) -> String {
    match t.kind() {
        tokio_postgres::types::Kind::Array(inner) => format!("{}[]", inner.name()),
        _ => t.name().to_string(),
    }
}
