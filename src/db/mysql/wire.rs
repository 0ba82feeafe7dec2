//! Packet framing and the generic packets. A packet is a 3-byte
//! little-endian payload length, a sequence id, then the payload; a payload
//! of 16 MiB − 1 bytes or more is split into chunks of that size, the last
//! one shorter (empty when the payload is an exact multiple). The sequence
//! id starts at 0 with each command and goes up by one with every chunk,
//! whichever side sends it.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::Stream;
use crate::db::DbError;

/// The largest chunk: a packet this long continues in the next one.
pub const MAX_CHUNK: usize = 0xFF_FFFF;
/// The largest payload read (one row, after joining its chunks): a bigger
/// one would not fit an isolate's memory next to the rest of the answer.
pub const MAX_PAYLOAD: usize = 64 << 20;

/// Capability flags (HandshakeV10 / HandshakeResponse41).
pub mod caps {
    /// Bit 0: CLIENT_LONG_PASSWORD for MySQL, CLIENT_MYSQL for MariaDB (a
    /// MariaDB server leaves it unset; a client sets it).
    pub const LONG_PASSWORD: u32 = 1;
    pub const LONG_FLAG: u32 = 1 << 2;
    pub const CONNECT_WITH_DB: u32 = 1 << 3;
    pub const PROTOCOL_41: u32 = 1 << 9;
    pub const SSL: u32 = 1 << 11;
    pub const TRANSACTIONS: u32 = 1 << 13;
    pub const SECURE_CONNECTION: u32 = 1 << 15;
    pub const MULTI_RESULTS: u32 = 1 << 17;
    pub const PLUGIN_AUTH: u32 = 1 << 19;
    pub const PLUGIN_AUTH_LENENC_DATA: u32 = 1 << 21;
    pub const DEPRECATE_EOF: u32 = 1 << 24;
}

/// Server status flags (OK, EOF and the greeting).
pub mod status {
    pub const MORE_RESULTS_EXISTS: u16 = 0x0008;
    pub const NO_BACKSLASH_ESCAPES: u16 = 0x0200;
}

pub fn lost(what: &str) -> DbError {
    DbError::Unreachable(format!("The MySQL connection failed: {what}."))
}

pub fn malformed() -> DbError {
    lost("the server sent a malformed packet")
}

fn io_error(e: std::io::Error) -> DbError {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => lost("the server closed the connection"),
        _ => DbError::Unreachable(format!("The MySQL connection failed: {e}.")),
    }
}

/// A stream with a read buffer and the sequence counter.
pub struct Wire<S> {
    stream: S,
    buf: Vec<u8>,
    pos: usize,
    /// The id the next packet, read or written, must carry.
    pub seq: u8,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Wire<S> {
    pub fn new(stream: S) -> Self {
        Wire {
            stream,
            buf: Vec::new(),
            pos: 0,
            seq: 0,
        }
    }

    /// Appends the next `n` bytes of the stream to `out`.
    async fn read_into(&mut self, out: &mut Vec<u8>, mut n: usize) -> Result<(), DbError> {
        while n > 0 {
            if self.pos == self.buf.len() {
                self.buf.resize(16 * 1024, 0);
                self.pos = 0;
                let got = match self.stream.read(&mut self.buf).await {
                    Ok(got) => got,
                    Err(e) => {
                        self.buf.clear();
                        return Err(io_error(e));
                    }
                };
                self.buf.truncate(got);
                if got == 0 {
                    return Err(lost("the server closed the connection"));
                }
            }
            let take = n.min(self.buf.len() - self.pos);
            out.extend_from_slice(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            n -= take;
        }
        Ok(())
    }

    /// Reads one packet, its chunks joined.
    pub async fn read_packet(&mut self) -> Result<Vec<u8>, DbError> {
        let mut payload = Vec::new();
        loop {
            let mut head = Vec::with_capacity(4);
            self.read_into(&mut head, 4).await?;
            let len = usize::from(head[0]) | usize::from(head[1]) << 8 | usize::from(head[2]) << 16;
            if head[3] != self.seq {
                return Err(lost("packets arrived out of order"));
            }
            self.seq = self.seq.wrapping_add(1);
            if payload.len() + len > MAX_PAYLOAD {
                return Err(DbError::Unreachable(format!(
                    "The MySQL server sent a row or packet larger than {} MiB.",
                    MAX_PAYLOAD >> 20
                )));
            }
            self.read_into(&mut payload, len).await?;
            if len < MAX_CHUNK {
                return Ok(payload);
            }
        }
    }

    /// Writes one packet (split into chunks if it must be) and flushes.
    pub async fn write_packet(&mut self, payload: &[u8]) -> Result<(), DbError> {
        let frames = frame(payload, &mut self.seq);
        self.stream.write_all(&frames).await.map_err(io_error)?;
        self.stream.flush().await.map_err(io_error)
    }

    /// Starts a command: the sequence begins again at 0.
    pub async fn command(&mut self, payload: &[u8]) -> Result<(), DbError> {
        self.seq = 0;
        self.write_packet(payload).await
    }

    /// Closes the write side; errors are moot by then.
    pub async fn shutdown(&mut self) {
        let _ = self.stream.shutdown().await;
    }
}

impl<S: Stream> Wire<S> {
    /// Upgrades the stream to TLS. The server says nothing between the
    /// SSLRequest and the TLS handshake, so nothing may be buffered.
    pub fn start_tls(self) -> Result<Self, DbError> {
        if self.pos != self.buf.len() {
            return Err(lost("the server sent data before TLS started"));
        }
        Ok(Wire {
            stream: self.stream.start_tls(),
            buf: Vec::new(),
            pos: 0,
            seq: self.seq,
        })
    }
}

/// The chunks of one packet, headers included, numbered from `*seq` on.
pub fn frame(payload: &[u8], seq: &mut u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 4 * (1 + payload.len() / MAX_CHUNK));
    let mut rest = payload;
    loop {
        let n = rest.len().min(MAX_CHUNK);
        out.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
        out.push(*seq);
        *seq = seq.wrapping_add(1);
        out.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        if n < MAX_CHUNK {
            return out;
        }
    }
}

/// A cursor over a payload; every read past the end is a malformed packet.
pub struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Reader { b, pos: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.b.len()
    }

    pub fn remaining(&self) -> usize {
        self.b.len().saturating_sub(self.pos)
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], DbError> {
        let end = self.pos.checked_add(n).ok_or_else(malformed)?;
        let out = self.b.get(self.pos..end).ok_or_else(malformed)?;
        self.pos = end;
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, DbError> {
        Ok(self.bytes(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16, DbError> {
        let b = self.bytes(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub fn u32(&mut self) -> Result<u32, DbError> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// What is left of the payload.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = self.b.get(self.pos..).unwrap_or_default();
        self.pos = self.b.len();
        out
    }

    /// A NUL-terminated string (or the rest, when the NUL is missing, as
    /// some servers send the plugin name).
    pub fn nul_str(&mut self) -> &'a [u8] {
        let rest = self.b.get(self.pos..).unwrap_or_default();
        match rest.iter().position(|&c| c == 0) {
            Some(i) => {
                self.pos += i + 1;
                &rest[..i]
            }
            None => self.rest(),
        }
    }

    /// A length-encoded integer; `None` is the NULL marker 0xFB.
    pub fn lenenc(&mut self) -> Result<Option<u64>, DbError> {
        let n = |b: &[u8]| b.iter().rev().fold(0u64, |acc, &x| acc << 8 | u64::from(x));
        Ok(Some(match self.u8()? {
            x @ 0..=0xFA => u64::from(x),
            0xFB => return Ok(None),
            0xFC => n(self.bytes(2)?),
            0xFD => n(self.bytes(3)?),
            0xFE => n(self.bytes(8)?),
            0xFF => return Err(malformed()),
        }))
    }

    pub fn lenenc_int(&mut self) -> Result<u64, DbError> {
        self.lenenc()?.ok_or_else(malformed)
    }

    /// A length-encoded string; `None` is a NULL cell.
    pub fn lenenc_bytes(&mut self) -> Result<Option<&'a [u8]>, DbError> {
        match self.lenenc()? {
            None => Ok(None),
            Some(n) => Ok(Some(
                self.bytes(usize::try_from(n).map_err(|_| malformed())?)?,
            )),
        }
    }
}

/// Appends a length-encoded integer.
pub fn put_lenenc(out: &mut Vec<u8>, n: u64) {
    match n {
        0..=0xFA => out.push(n as u8),
        0xFB..=0xFFFF => {
            out.push(0xFC);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xFF_FFFF => {
            out.push(0xFD);
            out.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
        }
        _ => {
            out.push(0xFE);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
}

/// An OK packet (header 0x00, or 0xFE where it ends a result set under
/// CLIENT_DEPRECATE_EOF).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OkPacket {
    pub affected: u64,
    pub status: u16,
}

pub fn parse_ok(p: &[u8]) -> Result<OkPacket, DbError> {
    let mut r = Reader::new(p);
    r.u8()?;
    let affected = r.lenenc_int()?;
    r.lenenc_int()?; // last insert id
    let status = if r.is_empty() { 0 } else { r.u16()? };
    Ok(OkPacket { affected, status })
}

/// The status flags of an EOF packet (0xFE, warnings, status).
pub fn parse_eof(p: &[u8]) -> Result<u16, DbError> {
    let mut r = Reader::new(p);
    r.u8()?;
    if r.is_empty() {
        return Ok(0);
    }
    r.u16()?;
    r.u16()
}

/// Whether a packet in a row stream ends it: 0xFE and too short to be a
/// row (a row starting with 0xFE holds a cell of 2^24 bytes or more).
pub fn is_terminator(p: &[u8], deprecate_eof: bool) -> bool {
    p.first() == Some(&0xFE) && p.len() < if deprecate_eof { MAX_CHUNK } else { 9 }
}

/// An ERR packet: code, SQLSTATE (absent before the server knows the
/// client speaks protocol 4.1) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    pub code: u16,
    pub state: Option<String>,
    pub message: String,
}

pub fn parse_err(p: &[u8]) -> Result<ServerError, DbError> {
    let mut r = Reader::new(p);
    r.u8()?;
    let code = r.u16()?;
    let mut rest = r.rest();
    let mut state = None;
    if rest.first() == Some(&b'#') && rest.len() >= 6 {
        state = Some(String::from_utf8_lossy(&rest[1..6]).into_owned());
        rest = &rest[6..];
    }
    Ok(ServerError {
        code,
        state,
        message: String::from_utf8_lossy(rest).trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_at_16_mib_and_end_an_exact_multiple_with_an_empty_packet() {
        let mut seq = 7;
        assert_eq!(frame(b"ab", &mut seq), [2, 0, 0, 7, b'a', b'b']);
        assert_eq!(seq, 8);
        assert_eq!(frame(b"", &mut seq), [0, 0, 0, 8]);
        let exact = vec![1u8; MAX_CHUNK];
        let mut seq = 255;
        let f = frame(&exact, &mut seq);
        assert_eq!(f.len(), 4 + MAX_CHUNK + 4);
        assert_eq!(f[..4], [0xff, 0xff, 0xff, 255]);
        assert_eq!(
            f[4 + MAX_CHUNK..],
            [0, 0, 0, 0],
            "an empty last chunk, id wrapped"
        );
        assert_eq!(seq, 1);
        let over = vec![1u8; MAX_CHUNK + 3];
        let f = frame(&over, &mut 0);
        assert_eq!(f[4 + MAX_CHUNK..4 + MAX_CHUNK + 4], [3, 0, 0, 1]);
    }

    #[test]
    fn length_encoded_integers_round_trip() {
        for n in [
            0,
            250,
            251,
            0xFFFF,
            0x1_0000,
            0xFF_FFFF,
            0x100_0000,
            u64::MAX,
        ] {
            let mut b = vec![];
            put_lenenc(&mut b, n);
            let mut r = Reader::new(&b);
            assert_eq!(r.lenenc().unwrap(), Some(n));
            assert!(r.is_empty());
        }
        assert_eq!(Reader::new(&[0xFB]).lenenc().unwrap(), None);
        assert!(Reader::new(&[0xFF]).lenenc().is_err());
        assert!(Reader::new(&[0xFC, 1]).lenenc().is_err());
        assert_eq!(
            Reader::new(&[3, b'a', b'b']).lenenc_bytes(),
            Err(malformed())
        );
    }

    #[test]
    fn generic_packets() {
        let ok = parse_ok(&[0x00, 0xFC, 0x10, 0x27, 5, 0x02, 0x02, 0, 0]).unwrap();
        assert_eq!(
            ok,
            OkPacket {
                affected: 10_000,
                status: 0x0202
            }
        );
        assert_eq!(parse_eof(&[0xFE, 0, 0, 0x0A, 0]).unwrap(), 0x0A);
        let e = parse_err(b"\xff\x7a\x04#42S02Table 'a.b' doesn't exist").unwrap();
        assert_eq!((e.code, e.state.as_deref()), (1146, Some("42S02")));
        assert_eq!(e.message, "Table 'a.b' doesn't exist");
        let pre41 = parse_err(b"\xff\x10\x04Too many connections").unwrap();
        assert_eq!(
            (pre41.code, pre41.state, pre41.message.as_str()),
            (1040, None, "Too many connections")
        );
        assert!(is_terminator(&[0xFE, 0, 0, 2, 0], false));
        assert!(
            !is_terminator(&[0xFE, 0, 0, 0, 0, 0, 0, 0, 0], false),
            "a row with an 8-byte length"
        );
        assert!(is_terminator(
            &[0xFE, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0],
            true
        ));
        assert!(!is_terminator(&[0x00, 0, 0, 2, 0], true));
    }
}
