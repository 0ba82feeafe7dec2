//! The one outbound client (API §10): every hop is checked by `guard`,
//! redirects are followed only after re-checking (at most 3, credentials
//! dropped when the host changes), with a per-hop timeout and a response-size
//! cap enforced by the transport. Pure: the transport is a trait, the
//! platform's `fetch` at the edge and a fake in tests.

use super::guard::{self, AllowList, Refused};
use async_trait::async_trait;

pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;
pub const MAX_REDIRECTS: usize = 3;

#[derive(Debug, Clone, PartialEq)]
pub struct OutboundRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutboundResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// At most `max_bytes`; `truncated` says whether more was refused.
    pub body: Vec<u8>,
    pub truncated: bool,
}

impl OutboundResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("did not answer within {0} ms")]
    Timeout(u64),
    /// Connection refused, reset, TLS failure, not HTTP…; the text is safe to show.
    #[error("could not be reached ({0})")]
    Unreachable(String),
}

/// Sends one request and never follows redirects itself.
#[async_trait(?Send)]
pub trait Transport {
    async fn send(
        &self,
        req: &OutboundRequest,
        timeout_ms: u64,
        max_bytes: usize,
    ) -> Result<OutboundResponse, TransportError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error("{0}")]
    Refused(#[from] Refused),
    #[error("The provider {0}.")]
    Transport(#[from] TransportError),
    #[error("The provider redirected more than {MAX_REDIRECTS} times.")]
    TooManyRedirects,
}

pub struct Guarded<'a> {
    pub transport: &'a dyn Transport,
    pub allow: &'a AllowList,
    pub timeout_ms: u64,
    pub max_bytes: usize,
}

impl<'a> Guarded<'a> {
    pub fn new(transport: &'a dyn Transport, allow: &'a AllowList) -> Self {
        Self {
            transport,
            allow,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            max_bytes: MAX_RESPONSE_BYTES,
        }
    }

    pub async fn send(&self, mut req: OutboundRequest) -> Result<OutboundResponse, ProbeError> {
        let mut url = guard::check(&req.url, self.allow)?;
        for _ in 0..=MAX_REDIRECTS {
            req.url = url.to_string();
            let resp = self
                .transport
                .send(&req, self.timeout_ms, self.max_bytes)
                .await?;
            let location = match (resp.status, resp.header("location")) {
                (301 | 302 | 303 | 307 | 308, Some(l)) => l.to_string(),
                _ => return Ok(resp),
            };
            let next = url
                .join(&location)
                .map_err(|_| Refused("The provider redirected to an invalid URL.".into()))?;
            let next = guard::check(next.as_str(), self.allow)?;
            if next.host_str() != url.host_str()
                || next.port_or_known_default() != url.port_or_known_default()
            {
                // Credentials were meant for the first host only.
                req.headers.retain(|(k, _)| {
                    !k.eq_ignore_ascii_case("authorization") && !k.eq_ignore_ascii_case("cookie")
                });
            }
            if resp.status == 303 || (matches!(resp.status, 301 | 302) && req.method == "POST") {
                req.method = "GET".into();
                req.body = None;
            }
            url = next;
        }
        Err(ProbeError::TooManyRedirects)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Answers from a script keyed by URL and records what was sent.
    struct Script {
        answers: Vec<(&'static str, u16, Option<&'static str>)>,
        sent: RefCell<Vec<OutboundRequest>>,
    }

    #[async_trait(?Send)]
    impl Transport for Script {
        async fn send(
            &self,
            req: &OutboundRequest,
            _t: u64,
            _m: usize,
        ) -> Result<OutboundResponse, TransportError> {
            self.sent.borrow_mut().push(req.clone());
            let (_, status, location) = self
                .answers
                .iter()
                .find(|(u, _, _)| *u == req.url)
                .ok_or_else(|| TransportError::Unreachable("no route".into()))?;
            Ok(OutboundResponse {
                status: *status,
                headers: location
                    .map(|l| vec![("location".to_string(), l.to_string())])
                    .unwrap_or_default(),
                body: vec![],
                truncated: false,
            })
        }
    }

    fn get(url: &str) -> OutboundRequest {
        OutboundRequest {
            method: "GET".into(),
            url: url.into(),
            headers: vec![("authorization".into(), "Bearer t".into())],
            body: None,
        }
    }

    #[test]
    fn redirects_are_rechecked() {
        let allow = AllowList::parse("");
        let t = Script {
            answers: vec![
                (
                    "https://api.example.com/a",
                    302,
                    Some("https://api.example.com/b"),
                ),
                ("https://api.example.com/b", 200, None),
                (
                    "https://api.example.com/evil",
                    302,
                    Some("http://169.254.169.254/latest/meta-data"),
                ),
                ("https://api.example.com/loop", 302, Some("/loop")),
                (
                    "https://api.example.com/away",
                    307,
                    Some("https://other.example.org/x"),
                ),
                ("https://other.example.org/x", 200, None),
            ],
            sent: RefCell::default(),
        };
        let g = Guarded::new(&t, &allow);
        assert_eq!(
            pollster::block_on(g.send(get("https://api.example.com/a")))
                .unwrap()
                .status,
            200
        );
        assert!(matches!(
            pollster::block_on(g.send(get("https://api.example.com/evil"))),
            Err(ProbeError::Refused(_))
        ));
        assert_eq!(
            pollster::block_on(g.send(get("https://api.example.com/loop"))),
            Err(ProbeError::TooManyRedirects)
        );
        t.sent.borrow_mut().clear();
        pollster::block_on(g.send(get("https://api.example.com/away"))).unwrap();
        let sent = t.sent.borrow();
        assert!(sent[0].headers.iter().any(|(k, _)| k == "authorization"));
        assert!(
            sent[1].headers.is_empty(),
            "credentials dropped on another host"
        );
        // Refused before anything is sent.
        let before = t.sent.borrow().len();
        drop(sent);
        assert!(pollster::block_on(g.send(get("http://127.0.0.1:9/"))).is_err());
        assert_eq!(t.sent.borrow().len(), before);
    }
}
