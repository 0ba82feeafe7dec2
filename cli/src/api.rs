//! The public HTTP API, with `Authorization: Bearer <key>`.

use crate::error::{ApiError, Failure, Result};
use crate::ui::Spinner;
use serde_json::Value;
use std::time::Duration;

pub struct Api {
    pub base: String,
    key: String,
    agent: ureq::Agent,
}

/// A successful answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub replayed: bool,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// A request to send.
pub struct Req<'a> {
    method: &'a str,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Value>,
    headers: Vec<(String, String)>,
    what: String,
}

impl<'a> Req<'a> {
    pub fn new(method: &'a str, path: impl Into<String>) -> Self {
        let path = path.into();
        Req {
            method,
            what: format!("{method} {path}"),
            path,
            query: vec![],
            body: None,
            headers: vec![],
        }
    }

    pub fn get(path: impl Into<String>) -> Self {
        Req::new("GET", path)
    }

    pub fn post(path: impl Into<String>, body: Value) -> Self {
        Req::new("POST", path).body(body)
    }

    pub fn query(mut self, k: &str, v: Option<impl ToString>) -> Self {
        if let Some(v) = v {
            self.query.push((k.to_string(), v.to_string()));
        }
        self
    }

    pub fn body(mut self, b: Value) -> Self {
        self.body = Some(b);
        self
    }

    pub fn header(mut self, k: &str, v: Option<&str>) -> Self {
        if let Some(v) = v {
            self.headers.push((k.to_string(), v.to_string()));
        }
        self
    }

    /// What the spinner says while it waits.
    pub fn doing(mut self, what: impl Into<String>) -> Self {
        self.what = what.into();
        self
    }
}

/// A path segment, percent-encoded (ids and names come from the command line).
pub fn seg(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Api {
    pub fn new(base: &str, key: &str) -> Api {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout_read(Duration::from_secs(120))
            .timeout_write(Duration::from_secs(30))
            .redirects(0)
            .user_agent(concat!("connector-cli/", env!("CARGO_PKG_VERSION")))
            .build();
        Api {
            base: crate::config::trim_base(base),
            key: key.to_string(),
            agent,
        }
    }

    pub fn from_session(s: &crate::config::Session) -> Api {
        Api::new(&s.base_url, &s.api_key)
    }

    /// Sends; a 2xx/3xx is a [`Reply`], anything else an [`ApiError`].
    pub fn send(&self, r: Req) -> Result<Reply> {
        let url = format!("{}{}", self.base, r.path);
        let mut req = self
            .agent
            .request(r.method, &url)
            .set("authorization", &format!("Bearer {}", self.key))
            .set("accept", "application/json");
        for (k, v) in &r.query {
            req = req.query(k, v);
        }
        for (k, v) in &r.headers {
            req = req.set(k, v);
        }
        let spinner = Spinner::start(&r.what);
        let sent = match &r.body {
            Some(b) => req
                .set("content-type", "application/json")
                .send_string(&b.to_string()),
            None => req.call(),
        };
        let resp = match sent {
            Ok(resp) => resp,
            Err(ureq::Error::Status(_, resp)) => resp,
            Err(ureq::Error::Transport(t)) => {
                drop(spinner);
                return Err(Failure::Unreachable {
                    base: self.base.clone(),
                    detail: transport_detail(&t),
                });
            }
        };
        let status = resp.status();
        let request_id = resp.header("request-id").map(str::to_string);
        let retry_after = resp.header("retry-after").map(str::to_string);
        let replayed = resp.header("idempotent-replayed") == Some("true");
        let mut body = vec![];
        let read = std::io::Read::read_to_end(&mut resp.into_reader(), &mut body);
        drop(spinner);
        if let Err(e) = read {
            return Err(Failure::Unreachable {
                base: self.base.clone(),
                detail: format!("the answer was cut off: {e}"),
            });
        }
        if status >= 400 {
            return Err(ApiError::from_answer(status, request_id, retry_after, body).into());
        }
        Ok(Reply {
            status,
            body,
            replayed,
        })
    }
}

fn transport_detail(t: &ureq::Transport) -> String {
    let mut s = t.to_string();
    // ureq repeats the URL; keep the message short and the cause visible.
    if let Some(src) = std::error::Error::source(t) {
        let cause = src.to_string();
        if !s.contains(&cause) {
            s = format!("{s} ({cause})");
        }
    }
    s
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::{Arc, Mutex};

    /// What the canned server was asked.
    #[derive(Debug, Clone)]
    pub struct Seen {
        pub method: String,
        pub path: String,
        pub headers: Vec<(String, String)>,
        pub body: String,
    }

    /// A one-thread HTTP server on 127.0.0.1 that answers `answers` in
    /// order (status, JSON body), one per connection, and records requests.
    pub fn canned(answers: Vec<(u16, String)>) -> (String, Arc<Mutex<Vec<Seen>>>) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(vec![]));
        let log = seen.clone();
        std::thread::spawn(move || {
            for (status, body) in answers {
                let Ok((stream, _)) = l.accept() else { return };
                let mut r = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                r.read_line(&mut line).unwrap();
                let mut parts = line.split_whitespace();
                let (method, path) = (
                    parts.next().unwrap_or("").to_string(),
                    parts.next().unwrap_or("").to_string(),
                );
                let mut headers = vec![];
                let mut len = 0;
                loop {
                    let mut h = String::new();
                    r.read_line(&mut h).unwrap();
                    let h = h.trim_end();
                    if h.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':') {
                        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
                        if k == "content-length" {
                            len = v.parse().unwrap();
                        }
                        headers.push((k, v));
                    }
                }
                let mut b = vec![0; len];
                r.read_exact(&mut b).unwrap();
                log.lock().unwrap().push(Seen {
                    method,
                    path,
                    headers,
                    body: String::from_utf8(b).unwrap(),
                });
                let mut out = stream;
                let _ = write!(
                    out,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nRequest-Id: req_canned\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (base, seen)
    }

    #[test]
    fn the_key_is_sent_as_a_bearer_and_errors_are_read() {
        let err = r#"{"error":{"type":"permission_error","code":"forbidden","message":"No.","request_id":"req_1"}}"#;
        let (base, seen) = canned(vec![(200, "{\"ok\":true}".into()), (403, err.into())]);
        let api = Api::new(&base, "mk_secret");
        let r = api
            .send(Req::get("/v1/catalog").query("q", Some("a b")))
            .unwrap();
        assert_eq!((r.status, r.json()["ok"].as_bool()), (200, Some(true)));
        match api.send(Req::post("/v1/x", serde_json::json!({"a": 1}))) {
            Err(Failure::Api(e)) => {
                assert_eq!((e.status, e.code.as_str()), (403, "forbidden"));
                assert_eq!(e.request_id.as_deref(), Some("req_1"));
                assert_eq!(Failure::Api(e).exit_code(), crate::error::AUTH);
            }
            other => panic!("{other:?}"),
        }
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0].path, "/v1/catalog?q=a+b");
        assert!(seen[0]
            .headers
            .contains(&("authorization".into(), "Bearer mk_secret".into())));
        assert_eq!(
            (seen[1].method.as_str(), seen[1].body.as_str()),
            ("POST", "{\"a\":1}")
        );
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(seg("cn_AbC-1.2~x"), "cn_AbC-1.2~x");
        assert_eq!(seg("a/b?c d"), "a%2Fb%3Fc%20d");
        assert_eq!(seg("ü"), "%C3%BC");
    }

    #[test]
    fn an_unreachable_server_is_exit_6() {
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let api = Api::new(&format!("http://127.0.0.1:{port}/"), "mk_x");
        assert_eq!(api.base, format!("http://127.0.0.1:{port}"));
        match api.send(Req::get("/v1/catalog")) {
            Err(f @ Failure::Unreachable { .. }) => {
                assert_eq!(f.exit_code(), crate::error::UNREACHABLE)
            }
            other => panic!("{other:?}"),
        }
    }
}
