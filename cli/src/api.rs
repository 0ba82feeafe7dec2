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
mod tests {
    use super::*;

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
