//! The command phase: COM_QUERY with text result sets, COM_STMT_PREPARE
//! (+ COM_STMT_CLOSE) for dry runs, COM_QUIT.
//!
//! Every answer is read to its end, rows past the cap included, so the
//! connection is ready for the next command. A failure of the stream or
//! of the protocol leaves it in an unknown place: the session is then
//! broken and refuses further commands.

use async_trait::async_trait;
use serde_json::Value;

use super::auth::Login;
use super::bind::bind;
use super::cells::{parse_column, ColumnDef};
use super::wire::{
    caps, is_terminator, lost, parse_eof, parse_err, parse_ok, status, Reader, ServerError, Wire,
};
use super::Stream;
use crate::db::{DbError, Rows, ServerInfo, Session};

const COM_QUIT: u8 = 0x01;
const COM_QUERY: u8 = 0x03;
const COM_STMT_PREPARE: u8 = 0x16;
const COM_STMT_CLOSE: u8 = 0x19;

/// One authenticated MySQL/MariaDB connection over `S`.
pub struct MysqlSession<S> {
    wire: Wire<S>,
    info: ServerInfo,
    caps: u32,
    /// The server status of the last OK/EOF (NO_BACKSLASH_ESCAPES, …).
    status: u16,
    broken: bool,
}

impl<S: Stream> MysqlSession<S> {
    pub(super) fn new(wire: Wire<S>, login: Login) -> Self {
        MysqlSession {
            wire,
            info: login.greeting.server_info(),
            caps: login.caps,
            status: login.status,
            broken: false,
        }
    }

    fn deprecate_eof(&self) -> bool {
        self.caps & caps::DEPRECATE_EOF != 0
    }

    /// A server error after login, as the statement's failure (or the
    /// connection's, for the errors that end it).
    fn statement_error(&self, e: ServerError) -> DbError {
        let who = if self.info.mariadb {
            "MariaDB"
        } else {
            "MySQL"
        };
        let state = e
            .state
            .map(|s| format!(", SQLSTATE {s}"))
            .unwrap_or_default();
        let m = format!("{} ({who} error {}{state})", e.message, e.code);
        match e.code {
            // Shutdown, killed, idle timeout (MySQL 8): the server hangs up.
            1053 | 1927 | 4031 => DbError::Unreachable(m),
            _ => DbError::Statement(m),
        }
    }

    /// Marks the session broken when `r` failed the connection.
    fn check<T>(&mut self, r: Result<T, DbError>) -> Result<T, DbError> {
        if matches!(r, Err(DbError::Unreachable(_))) {
            self.broken = true;
        }
        r
    }

    async fn read(&mut self) -> Result<Vec<u8>, DbError> {
        self.wire.read_packet().await
    }

    async fn send(&mut self, command: u8, body: &[u8]) -> Result<(), DbError> {
        if self.broken {
            return Err(lost("an earlier error left the connection unusable"));
        }
        let mut p = Vec::with_capacity(1 + body.len());
        p.push(command);
        p.extend_from_slice(body);
        self.wire.command(&p).await
    }

    /// Reads one whole answer to COM_QUERY (and any further results a
    /// CALL sends), keeping the first result's rows up to `max_rows`.
    async fn answer(&mut self, max_rows: usize) -> Result<Rows, DbError> {
        // After an ERR nothing follows; after a result, a CALL may send
        // more (and a last OK): drained.
        let out = self.result(max_rows).await?;
        while self.status & status::MORE_RESULTS_EXISTS != 0 {
            self.result(0).await?;
        }
        Ok(out)
    }

    /// One result: an OK, an ERR, or a result set.
    async fn result(&mut self, max_rows: usize) -> Result<Rows, DbError> {
        let p = self.read().await?;
        match p.first() {
            Some(0x00) => {
                let ok = parse_ok(&p)?;
                self.status = ok.status;
                Ok(Rows {
                    affected: Some(ok.affected),
                    ..Rows::default()
                })
            }
            Some(0xFF) => {
                let e = parse_err(&p)?;
                Err(self.statement_error(e))
            }
            Some(0xFB) => {
                // LOCAL INFILE request (never asked for): refuse it with an
                // empty packet; the server then answers OK or ERR.
                self.wire.write_packet(&[]).await?;
                let p = self.read().await?;
                if p.first() == Some(&0x00) {
                    self.status = parse_ok(&p)?.status;
                }
                Err(DbError::Statement(
                    "LOAD DATA LOCAL INFILE is not supported here.".into(),
                ))
            }
            _ => {
                let n = Reader::new(&p).lenenc_int()?;
                self.result_set(n, max_rows).await
            }
        }
    }

    async fn skip_eof(&mut self) -> Result<(), DbError> {
        if !self.deprecate_eof() {
            let p = self.read().await?;
            if !is_terminator(&p, false) {
                return Err(lost("the server sent no EOF after the column definitions"));
            }
        }
        Ok(())
    }

    async fn result_set(&mut self, n: u64, max_rows: usize) -> Result<Rows, DbError> {
        let mut defs: Vec<ColumnDef> = Vec::with_capacity(n.min(4096) as usize);
        for _ in 0..n {
            let p = self.read().await?;
            defs.push(parse_column(&p)?);
        }
        self.skip_eof().await?;
        let mut out = Rows {
            columns: defs.iter().map(ColumnDef::column).collect(),
            ..Rows::default()
        };
        loop {
            let p = self.read().await?;
            if is_terminator(&p, self.deprecate_eof()) {
                self.status = if self.deprecate_eof() {
                    parse_ok(&p)?.status
                } else {
                    parse_eof(&p)?
                };
                return Ok(out);
            }
            if p.first() == Some(&0xFF) {
                // A statement can fail mid-stream (a timeout, a bad cast).
                let e = parse_err(&p)?;
                return Err(self.statement_error(e));
            }
            if out.rows.len() >= max_rows {
                out.truncated = true;
                continue;
            }
            let mut r = Reader::new(&p);
            let mut row = Vec::with_capacity(defs.len());
            for d in &defs {
                row.push(d.cell(r.lenenc_bytes()?));
            }
            out.rows.push(row);
        }
    }
}

#[async_trait(?Send)]
impl<S: Stream + 'static> Session for MysqlSession<S> {
    fn server(&self) -> ServerInfo {
        self.info.clone()
    }

    async fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        let r = self.run_query(sql, 0).await;
        self.check(r).map(|_| ())
    }

    async fn query(
        &mut self,
        sql: &str,
        params: &[Value],
        max_rows: usize,
    ) -> Result<Rows, DbError> {
        let backslash = self.status & status::NO_BACKSLASH_ESCAPES == 0;
        let sql = bind(sql, params, backslash)?;
        let r = self.run_query(&sql, max_rows).await;
        self.check(r)
    }

    async fn prepare(&mut self, sql: &str) -> Result<(), DbError> {
        let r = self.run_prepare(sql).await;
        self.check(r)
    }

    async fn close(mut self: Box<Self>) {
        if !self.broken {
            let _ = self.wire.command(&[COM_QUIT]).await;
        }
        self.wire.shutdown().await;
    }
}

impl<S: Stream> MysqlSession<S> {
    async fn run_query(&mut self, sql: &str, max_rows: usize) -> Result<Rows, DbError> {
        self.send(COM_QUERY, sql.as_bytes()).await?;
        self.answer(max_rows).await
    }

    async fn run_prepare(&mut self, sql: &str) -> Result<(), DbError> {
        self.send(COM_STMT_PREPARE, sql.as_bytes()).await?;
        let p = self.read().await?;
        match p.first() {
            Some(0x00) => {}
            Some(0xFF) => {
                let e = parse_err(&p)?;
                return Err(self.statement_error(e));
            }
            _ => return Err(lost("the server answered COM_STMT_PREPARE unexpectedly")),
        }
        let mut r = Reader::new(&p[1..]);
        let id = r.u32()?;
        let columns = r.u16()?;
        let params = r.u16()?;
        // The parameter, then the column definitions, each list followed by
        // an EOF in the old style: read and dropped.
        for n in [params, columns] {
            if n > 0 {
                for _ in 0..n {
                    self.read().await?;
                }
                self.skip_eof().await?;
            }
        }
        // COM_STMT_CLOSE has no answer.
        self.send(COM_STMT_CLOSE, &id.to_le_bytes()).await
    }
}
