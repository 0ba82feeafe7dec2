//! A fake third-party provider: a real HTTP/1.1 server on 127.0.0.1 that
//! accepts one bearer token and rejects others, and can be switched to fail
//! (500, slow past the probe timeout, garbage instead of HTTP).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Error500,
    Slow,
    Garbage,
}

#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

pub struct Provider {
    pub port: u16,
    pub good_token: String,
    mode: Arc<Mutex<Mode>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Provider {
    pub fn start(good_token: &str) -> Provider {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let mode = Arc::new(Mutex::new(Mode::Normal));
        let seen = Arc::new(Mutex::new(vec![]));
        let (m, s, good) = (mode.clone(), seen.clone(), good_token.to_string());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (m, s, good) = (m.clone(), s.clone(), good.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &m, &s, &good);
                });
            }
        });
        Provider {
            port,
            good_token: good_token.to_string(),
            mode,
            seen,
        }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }
}

fn serve(
    stream: TcpStream,
    mode: &Mutex<Mode>,
    seen: &Mutex<Vec<Seen>>,
    good: &str,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut headers = vec![];
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
                if k == "content-length" {
                    length = v.parse().unwrap_or(0);
                }
                headers.push((k, v));
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let authorized = headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == &format!("Bearer {good}"));
        seen.lock().unwrap().push(Seen {
            method,
            path,
            headers,
        });
        let mode = *mode.lock().unwrap();
        let (status, text) = match mode {
            Mode::Garbage => {
                out.write_all(b"\x00\x01 this is not http \xff\r\n\r\n")?;
                return Ok(());
            }
            Mode::Slow => {
                std::thread::sleep(Duration::from_secs(13));
                (200, r#"{"login":"octocat"}"#)
            }
            Mode::Error500 => (500, r#"{"message":"Server Error"}"#),
            Mode::Normal if authorized => (200, r#"{"login":"octocat","id":1}"#),
            // Echoes part of the presented credential, as some providers do:
            // the worker must redact it from what it shows.
            Mode::Normal => (
                401,
                r#"{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}"#,
            ),
        };
        let reason = match status {
            200 => "OK",
            401 => "Unauthorized",
            _ => "Internal Server Error",
        };
        write!(
            out,
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        )?;
        out.flush()?;
    }
}
