//! The one outbound client (API §10): every hop is checked by `guard`,
//! redirects are followed only after re-checking (at most 3), with a per-hop
//! timeout and a response-size cap enforced by the transport. A request
//! knows which of its headers and whether its body carry a credential: a
//! redirect to another origin (scheme, host or port) drops those headers,
//! and one that would re-send a credential-bearing body is refused. A
//! request may also be bound to hosts (a listing's `allowed_hosts`), checked
//! on the first URL and every hop; token requests never follow redirects,
//! and neither do AWS-signed ones (the signature binds host and path: a hop
//! elsewhere could only go unsigned). Pure: the transport is a trait, the platform's `fetch` at the
//! edge and a fake in tests.

use super::guard::{self, AllowList, Refused};
use async_trait::async_trait;

pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;
pub const MAX_REDIRECTS: usize = 3;

/// Headers that carry a credential whatever the request says.
const ALWAYS_CREDENTIAL: &[&str] = &["authorization", "cookie", "proxy-authorization"];

#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutboundRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// Names of headers rendered from templates or carrying a credential
    /// (besides `Authorization` and `Cookie`, which always count).
    pub credential_headers: Vec<String>,
    /// The body carries a credential (`{{auth.*}}`, a client secret, a code
    /// verifier, a refresh token).
    pub body_has_credential: bool,
    /// Token endpoints: a 3xx is a failure, never followed.
    pub no_redirects: bool,
    /// Signed with AWS SigV4 (`probe::signing`): a 3xx is a failure too.
    pub signed: bool,
    /// The hosts every hop must target (exact or `*.suffix`; the
    /// development allow-list pairs pass too); `None`: any public host.
    pub hosts: Option<Vec<String>>,
}

impl OutboundRequest {
    fn is_credential_header(&self, name: &str) -> bool {
        ALWAYS_CREDENTIAL
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
            || self
                .credential_headers
                .iter()
                .any(|h| name.eq_ignore_ascii_case(h))
    }

    /// Whether anything in it is a credential.
    pub fn carries_credential(&self) -> bool {
        self.body_has_credential
            || self
                .headers
                .iter()
                .any(|(k, _)| self.is_credential_header(k))
    }
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
    /// The host is named so an operator can tell which hop failed.
    #[error("The provider at {host} {error}.")]
    Transport { host: String, error: TransportError },
    #[error("The provider redirected more than {MAX_REDIRECTS} times.")]
    TooManyRedirects,
    #[error("The token endpoint at {0} answered a redirect (HTTP {1}); token requests never follow redirects.")]
    TokenRedirect(String, u16),
    #[error("The provider at {0} answered a redirect (HTTP {1}); a signed request is never sent on to another URL.")]
    SignedRedirect(String, u16),
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
        self.check_hosts(&req, &url)?;
        for _ in 0..=MAX_REDIRECTS {
            req.url = url.to_string();
            let host = url.host_str().unwrap_or_default().to_string();
            let resp = self
                .transport
                .send(&req, self.timeout_ms, self.max_bytes)
                .await
                .map_err(|error| ProbeError::Transport {
                    host: host.clone(),
                    error,
                })?;
            if (300..400).contains(&resp.status) {
                if req.no_redirects {
                    return Err(ProbeError::TokenRedirect(host, resp.status));
                }
                if req.signed {
                    return Err(ProbeError::SignedRedirect(host, resp.status));
                }
            }
            let location = match (resp.status, resp.header("location")) {
                (301 | 302 | 303 | 307 | 308, Some(l)) => l.to_string(),
                _ => return Ok(resp),
            };
            let next = url
                .join(&location)
                .map_err(|_| Refused("The provider redirected to an invalid URL.".into()))?;
            let next = guard::check(next.as_str(), self.allow)?;
            self.check_hosts(&req, &next)?;
            let to_get =
                resp.status == 303 || (matches!(resp.status, 301 | 302) && req.method == "POST");
            if next.origin() != url.origin() {
                // Credentials were meant for the first origin only.
                if req.body_has_credential && !to_get {
                    return Err(ProbeError::Refused(Refused(format!(
                        "The provider at {host} redirected a request whose body carries credentials to another origin ({}); it was not followed.",
                        next.host_str().unwrap_or_default()
                    ))));
                }
                let keep: Vec<bool> = req
                    .headers
                    .iter()
                    .map(|(k, _)| !req.is_credential_header(k))
                    .collect();
                let mut keep = keep.into_iter();
                req.headers.retain(|_| keep.next().unwrap_or(false));
            }
            if to_get {
                req.method = "GET".into();
                req.body = None;
                req.body_has_credential = false;
            }
            url = next;
        }
        Err(ProbeError::TooManyRedirects)
    }

    /// A request bound to hosts may only reach them (or a development pair).
    fn check_hosts(&self, req: &OutboundRequest, url: &url::Url) -> Result<(), Refused> {
        let Some(hosts) = &req.hosts else {
            return Ok(());
        };
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let port = url.port_or_known_default().unwrap_or(443);
        if self.allow.contains(&host, port)
            || hosts.iter().any(|p| super::run::host_matches(p, &host))
        {
            return Ok(());
        }
        Err(Refused(format!(
            "This connector's credential may only be sent to {}; '{host}' is not one of them (the listing's allowed_hosts).",
            if hosts.is_empty() { "no host".to_string() } else { hosts.join(", ") }
        )))
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
            ..Default::default()
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

    fn script(answers: Vec<(&'static str, u16, Option<&'static str>)>) -> Script {
        Script {
            answers,
            sent: RefCell::default(),
        }
    }

    #[test]
    fn cross_origin_redirects_drop_every_credential() {
        let allow = AllowList::parse("");
        let t = script(vec![
            (
                "https://gitlab.example.com/a",
                307,
                Some("https://evil.example.org/a"),
            ),
            (
                "https://gitlab.example.com/s",
                308,
                Some("http://gitlab.example.com:443/s"),
            ),
            ("https://evil.example.org/a", 200, None),
        ]);
        let g = Guarded::new(&t, &allow);
        let mut req = get("https://gitlab.example.com/a");
        req.headers
            .push(("PRIVATE-TOKEN".into(), "glpat-secret".into()));
        req.headers
            .push(("Accept".into(), "application/json".into()));
        req.credential_headers = vec!["private-token".into()];
        pollster::block_on(g.send(req.clone())).unwrap();
        let second = t.sent.borrow()[1].clone();
        assert_eq!(
            second.headers,
            vec![("Accept".to_string(), "application/json".to_string())]
        );
        // A body carrying a credential is never re-sent to another origin.
        req.method = "POST".into();
        req.body = Some("token=glpat-secret".into());
        req.body_has_credential = true;
        t.sent.borrow_mut().clear();
        assert!(matches!(
            pollster::block_on(g.send(req.clone())),
            Err(ProbeError::Refused(_))
        ));
        assert_eq!(t.sent.borrow().len(), 1);
        // Another scheme is another origin, even on the same host.
        req.url = "https://gitlab.example.com/s".into();
        assert!(pollster::block_on(g.send(req)).is_err());
    }

    #[test]
    fn token_requests_never_follow_redirects() {
        let allow = AllowList::parse("");
        let t = script(vec![(
            "https://auth.example.com/token",
            307,
            Some("https://auth.example.com/t2"),
        )]);
        let g = Guarded::new(&t, &allow);
        let mut req = get("https://auth.example.com/token");
        req.no_redirects = true;
        let e = pollster::block_on(g.send(req)).unwrap_err();
        assert_eq!(e, ProbeError::TokenRedirect("auth.example.com".into(), 307));
        assert!(e.to_string().contains("never follow redirects"));
        assert_eq!(t.sent.borrow().len(), 1);
    }

    #[test]
    fn signed_requests_never_follow_redirects() {
        let allow = AllowList::parse("");
        let t = script(vec![(
            "https://connect.us-east-1.amazonaws.com/instance/x",
            307,
            Some("https://connect.us-east-1.amazonaws.com/instance/y"),
        )]);
        let g = Guarded::new(&t, &allow);
        let mut req = get("https://connect.us-east-1.amazonaws.com/instance/x");
        req.signed = true;
        let e = pollster::block_on(g.send(req)).unwrap_err();
        assert_eq!(
            e,
            ProbeError::SignedRedirect("connect.us-east-1.amazonaws.com".into(), 307)
        );
        assert_eq!(t.sent.borrow().len(), 1, "the hop is never sent");
    }

    #[test]
    fn bound_requests_stay_on_their_hosts_on_every_hop() {
        let allow = AllowList::parse("127.0.0.1:9911");
        let t = script(vec![
            (
                "https://api.example.com/a",
                302,
                Some("https://cdn.example.com/a"),
            ),
            (
                "https://x.atlassian.net/a",
                302,
                Some("https://y.atlassian.net/a"),
            ),
            ("https://y.atlassian.net/a", 200, None),
            ("http://127.0.0.1:9911/a", 200, None),
        ]);
        let g = Guarded::new(&t, &allow);
        let bound = |u: &str| OutboundRequest {
            hosts: Some(vec!["api.example.com".into(), "*.atlassian.net".into()]),
            ..get(u)
        };
        let e = pollster::block_on(g.send(bound("https://api.example.com/a"))).unwrap_err();
        assert!(
            e.to_string()
                .contains("'cdn.example.com' is not one of them"),
            "{e}"
        );
        assert_eq!(
            t.sent.borrow().len(),
            1,
            "the hop is refused before it is sent"
        );
        assert!(pollster::block_on(g.send(bound("https://evil.example.org/"))).is_err());
        assert_eq!(t.sent.borrow().len(), 1);
        assert_eq!(
            pollster::block_on(g.send(bound("https://x.atlassian.net/a")))
                .unwrap()
                .status,
            200
        );
        // The development pairs pass, as for every probe.
        assert_eq!(
            pollster::block_on(g.send(bound("http://127.0.0.1:9911/a")))
                .unwrap()
                .status,
            200
        );
    }
}
