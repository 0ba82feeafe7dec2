//! The client against scripted servers over `tokio::io::duplex`: a
//! replayed MariaDB 10.11 conversation, MySQL 8-style logins (TLS, fast and
//! full caching_sha2 authentication, auth switches), old-style EOF result
//! sets, packets split at 16 MiB, and failures.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream, ReadBuf};

use super::wire::{frame, MAX_CHUNK};
use super::{connect, MysqlSession, Stream};
use crate::db::{Dialect, Target};

mod commands;
mod login;
mod replay;

/// The client's end: a duplex stream whose `start_tls` only records that
/// it was called, and after how many written bytes (the bytes go on in
/// clear, so the peer reads them; it knows which it got over "TLS").
pub struct Fake {
    inner: DuplexStream,
    written: Rc<Cell<usize>>,
    tls_at: Rc<Cell<Option<usize>>>,
}

impl AsyncRead for Fake {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Fake {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        b: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, b);
        if let Poll::Ready(Ok(n)) = r {
            self.written.set(self.written.get() + n);
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl Stream for Fake {
    fn start_tls(self) -> Self {
        assert!(self.tls_at.get().is_none(), "start_tls called twice");
        self.tls_at.set(Some(self.written.get()));
        self
    }
}

/// One packet the client sent, and whether it was written after TLS began.
#[derive(Debug, Clone)]
pub struct Sent {
    pub seq: u8,
    pub payload: Vec<u8>,
    pub tls: bool,
}

/// The server's end, driven by a test's script.
pub struct Peer {
    s: DuplexStream,
    /// Bytes read so far.
    offset: usize,
    tls_at: Rc<Cell<Option<usize>>>,
    sent: Rc<RefCell<Vec<Sent>>>,
}

impl Peer {
    pub async fn send(&mut self, seq: u8, payload: &[u8]) {
        let mut seq = seq;
        self.s.write_all(&frame(payload, &mut seq)).await.unwrap();
    }

    pub async fn send_hex(&mut self, seq: u8, payload: &str) {
        self.send(seq, &unhex(payload)).await
    }

    /// Reads one packet (chunks joined), checking their sequence ids.
    pub async fn recv(&mut self) -> Sent {
        let start = self.offset;
        let mut payload = vec![];
        let mut first = None;
        for chunk in 0u8.. {
            let mut head = [0u8; 4];
            self.s
                .read_exact(&mut head)
                .await
                .expect("the client sent a packet");
            let len = u32::from_le_bytes([head[0], head[1], head[2], 0]) as usize;
            let seq = *first.get_or_insert(head[3]);
            assert_eq!(head[3], seq.wrapping_add(chunk), "chunk sequence");
            let mut body = vec![0; len];
            self.s.read_exact(&mut body).await.unwrap();
            self.offset += 4 + len;
            payload.extend_from_slice(&body);
            if len < MAX_CHUNK {
                break;
            }
        }
        let sent = Sent {
            seq: first.unwrap(),
            payload,
            tls: self.tls_at.get().is_some_and(|at| start >= at),
        };
        self.sent.borrow_mut().push(sent.clone());
        sent
    }

    /// Reads one packet and checks its sequence id; returns the payload.
    pub async fn expect_seq(&mut self, seq: u8) -> Vec<u8> {
        let got = self.recv().await;
        assert_eq!(got.seq, seq, "sequence id of {:02x?}", got.payload);
        got.payload
    }

    pub async fn expect(&mut self, seq: u8, payload: &[u8]) {
        let got = self.expect_seq(seq).await;
        assert_eq!(hex::encode(&got), hex::encode(payload));
    }

    /// The server hangs up: the client reads the end of the stream.
    pub async fn hang_up(&mut self) {
        self.s.shutdown().await.unwrap();
    }

    /// The client has closed its end (or dropped it).
    pub async fn expect_closed(&mut self) {
        let mut rest = vec![];
        self.s.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty(), "the client sent more: {rest:02x?}");
    }
}

pub fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// Runs `client` against `server` until both are done. The client gets a
/// `Fake`; what it sent is in the returned log.
pub fn run<T, C, F, S, G>(client: C, server: S) -> (T, Vec<Sent>, bool)
where
    C: FnOnce(Fake) -> F,
    F: Future<Output = T>,
    S: FnOnce(Peer) -> G,
    G: Future<Output = ()>,
{
    // Larger than any packet a test sends, so a blocked writer never
    // waits on a reader that waits on it.
    let (a, b) = tokio::io::duplex(40 << 20);
    let tls_at = Rc::new(Cell::new(None));
    let sent = Rc::new(RefCell::new(vec![]));
    let fake = Fake {
        inner: a,
        written: Rc::new(Cell::new(0)),
        tls_at: tls_at.clone(),
    };
    let peer = Peer {
        s: b,
        offset: 0,
        tls_at: tls_at.clone(),
        sent: sent.clone(),
    };
    let (out, ()) = pollster::block_on(futures_util::future::join(client(fake), server(peer)));
    let log = sent.take();
    (out, log, tls_at.get().is_some())
}

pub fn target(user: &str, password: &str, database: Option<&str>, tls: bool) -> Target {
    Target {
        dialect: Dialect::Mysql,
        host: "db.example.com".into(),
        port: 3306,
        user: user.into(),
        password: password.into(),
        database: database.map(Into::into),
        tls,
        connect_timeout_ms: 10_000,
    }
}

/// Connects, then runs `then` on the session and closes it.
pub async fn session<T, F, Fut>(stream: Fake, t: &Target, then: F) -> Result<T, crate::db::DbError>
where
    F: FnOnce(MysqlSession<Fake>) -> Fut,
    Fut: Future<Output = (T, MysqlSession<Fake>)>,
{
    let s = connect(stream, t).await?;
    let (out, s) = then(s).await;
    crate::db::Session::close(Box::new(s)).await;
    Ok(out)
}

/// No packet written before TLS began holds `secret`.
pub fn assert_never_in_clear(log: &[Sent], secret: &[u8]) {
    for s in log.iter().filter(|s| !s.tls) {
        assert!(
            !s.payload.windows(secret.len()).any(|w| w == secret),
            "the password went out in clear: {:02x?}",
            s.payload
        );
    }
}

/// Packet builders for scripts.
pub mod pkt {
    use crate::db::mysql::wire::put_lenenc;

    pub fn ok(affected: u64, status: u16) -> Vec<u8> {
        let mut p = vec![0x00];
        put_lenenc(&mut p, affected);
        p.push(0);
        p.extend_from_slice(&status.to_le_bytes());
        p.extend_from_slice(&[0, 0]);
        p
    }

    /// OK with the 0xFE header: the end of a result set under DEPRECATE_EOF.
    pub fn ok_end(status: u16) -> Vec<u8> {
        let mut p = ok(0, status);
        p[0] = 0xFE;
        p
    }

    pub fn eof(status: u16) -> Vec<u8> {
        let mut p = vec![0xFE, 0, 0];
        p.extend_from_slice(&status.to_le_bytes());
        p
    }

    pub fn err(code: u16, state: &str, message: &str) -> Vec<u8> {
        let mut p = vec![0xFF];
        p.extend_from_slice(&code.to_le_bytes());
        p.push(b'#');
        p.extend_from_slice(state.as_bytes());
        p.extend_from_slice(message.as_bytes());
        p
    }

    pub fn column(name: &str, charset: u16, kind: u8, flags: u16) -> Vec<u8> {
        let mut p = vec![];
        for s in ["def", "db", "t", "t", name, name] {
            put_lenenc(&mut p, s.len() as u64);
            p.extend_from_slice(s.as_bytes());
        }
        p.push(0x0c);
        p.extend_from_slice(&charset.to_le_bytes());
        p.extend_from_slice(&11u32.to_le_bytes());
        p.push(kind);
        p.extend_from_slice(&flags.to_le_bytes());
        p.extend_from_slice(&[0, 0, 0]);
        p
    }

    pub fn row(cells: &[Option<&[u8]>]) -> Vec<u8> {
        let mut p = vec![];
        for c in cells {
            match c {
                None => p.push(0xFB),
                Some(c) => {
                    put_lenenc(&mut p, c.len() as u64);
                    p.extend_from_slice(c);
                }
            }
        }
        p
    }
}
