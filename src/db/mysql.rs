//! The MySQL/MariaDB client protocol, over any stream: no MySQL crate
//! builds for Wasm over a `worker::Socket`, so the parts the database tools
//! need are written here from the protocol documentation (the MySQL
//! internals manual, MariaDB's client/server protocol pages).
//!
//! * `wire`: packet framing, OK/ERR/EOF;
//! * `auth`: the handshake, TLS, `mysql_native_password` and
//!   `caching_sha2_password`;
//! * `bind`: `?` parameters bound client-side as literals (the text
//!   protocol has no binding), strings as hex so no value is parsed as SQL;
//! * `cells`: column definitions and text cells as JSON;
//! * `session`: COM_QUERY, COM_STMT_PREPARE (dry runs), COM_QUIT.
//!
//! No CLIENT_MULTI_STATEMENTS: one call runs one statement.

use crate::db::{DbError, Target};

mod auth;
mod bind;
mod cells;
mod session;
mod wire;

pub use session::MysqlSession;

/// A stream the protocol runs over; `worker::Socket` at the edge (tokio
/// `AsyncRead`/`AsyncWrite`), `tokio::io::DuplexStream` in tests.
pub trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Sized {
    /// The same connection, upgraded to TLS (the certificate verified).
    fn start_tls(self) -> Self;
}

#[cfg(target_arch = "wasm32")]
impl Stream for worker::Socket {
    fn start_tls(self) -> Self {
        worker::Socket::start_tls(self)
    }
}

/// Logs in over a freshly opened `stream` (TLS first when `target.tls`:
/// the stream must then have been opened with StartTLS allowed). The
/// caller bounds the time this takes.
pub async fn connect<S: Stream + 'static>(
    stream: S,
    target: &Target,
) -> Result<MysqlSession<S>, DbError> {
    let (wire, login) = auth::login(wire::Wire::new(stream), target).await?;
    Ok(MysqlSession::new(wire, login))
}

#[cfg(test)]
mod tests;
