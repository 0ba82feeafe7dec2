//! The whole API over memory stores: every route, envelope and status.
//! `World` holds the stores across the requests of one test.

mod catalog;
mod connectors;
mod credentials;
mod keys;
mod marketplace;
mod oauth;
mod service;
mod sweep;

use super::http::{HttpRequest, HttpResponse, Method};
use super::*;
use crate::domain::ids::testing::SeqRandom;
use crate::probe::client::{OutboundRequest, OutboundResponse, Transport, TransportError};
use crate::store::memory::{
    MemoryCache, MemoryCatalog, MemoryConnectors, MemoryObjects, MemoryTenants,
};
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};

pub(super) const OP: &str = "Bearer test-operator";

/// Stores shared across the requests of one test.
pub(super) struct World {
    tenants: Rc<MemoryTenants>,
    catalog: Rc<MemoryCatalog>,
    cache: Rc<MemoryCache>,
    pub(super) connectors: Rc<MemoryConnectors>,
    pub(super) oauth: Rc<crate::store::memory::MemoryOAuth>,
    objects: Rc<MemoryObjects>,
    pub(super) provider: Rc<FakeProvider>,
    shared: Rc<Shared>,
    seed: Cell<u64>,
    pub(super) now: Cell<i64>,
    logs: Rc<RefCell<Vec<String>>>,
    /// `ENVIRONMENT=development` (a short operator token is fine there).
    pub(super) development: Cell<bool>,
}

impl World {
    pub(super) fn new() -> Self {
        let events: crate::store::memory::EventLog = Rc::default();
        World {
            tenants: Rc::new(MemoryTenants {
                events: events.clone(),
                ..Default::default()
            }),
            connectors: Rc::new(MemoryConnectors {
                events: events.clone(),
                ..Default::default()
            }),
            objects: Rc::default(),
            oauth: Rc::default(),
            provider: Rc::default(),
            catalog: Rc::new(MemoryCatalog {
                events,
                ..Default::default()
            }),
            cache: Rc::default(),
            shared: Rc::default(),
            seed: Cell::new(0x9E37_79B9_7F4A_7C15),
            now: Cell::new(1_795_349_599_000),
            logs: Rc::default(),
            development: Cell::new(true),
        }
    }

    pub(super) fn app(&self) -> App {
        // Each request gets fresh randomness continuing the sequence.
        self.seed.set(
            self.seed
                .get()
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1),
        );
        let logs = self.logs.clone();
        App {
            tenants: self.tenants.clone(),
            catalog: self.catalog.clone(),
            cache: self.cache.clone(),
            objects: self.objects.clone(),
            connectors: self.connectors.clone(),
            oauth: self.oauth.clone(),
            sweep: self.connectors.clone(),
            transport: self.provider.clone(),
            clock: Rc::new(|| 0),
            shared: self.shared.clone(),
            config: Rc::new(Config {
                operator_token: "test-operator".into(),
                allow: crate::probe::guard::AllowList::parse(""),
                vault: Some(
                    crate::domain::vault::VaultKey::from_base64(
                        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                    )
                    .expect("a 32-byte test key"),
                ),
                public_base_url: None,
                return_url_origins: vec!["https://app.example.com".into()],
                development: self.development.get(),
            }),
            request_id: crate::domain::ids::RequestId::generate(&SeqRandom(Cell::new(
                self.seed.get() ^ 0xABCD,
            ))),
            rng: Box::new(SeqRandom(Cell::new(self.seed.get() | 1))),
            now: crate::domain::time::Millis(self.now.get()),
            log: Rc::new(move |l| logs.borrow_mut().push(l.to_string())),
            background: Rc::new(pollster::block_on),
        }
    }

    /// Moves the clock (consent expiry).
    pub(super) fn advance(&self, ms: i64) {
        self.now.set(self.now.get() + ms);
    }

    pub(super) fn send(&self, req: HttpRequest) -> HttpResponse {
        self.now.set(self.now.get() + 1);
        let r = pollster::block_on(handle(&self.app(), req));
        assert!(r
            .get_header("request-id")
            .is_some_and(|id| id.starts_with("req_")));
        r
    }

    pub(super) fn call(
        &self,
        method: Method,
        path: &str,
        auth: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = HttpRequest::new(method, path);
        if let Some(a) = auth {
            req = req.with_header("authorization", a);
        }
        if let Some(b) = body {
            req = req.with_body(b.to_string());
        }
        let r = self.send(req);
        let v = if r.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&r.body).expect("every answer is JSON")
        };
        (r.status, v)
    }

    /// Creates a tenant; answers its id and admin bearer header.
    pub(super) fn tenant(&self, name: &str) -> (String, String) {
        let (s, v) = self.call(
            Method::Post,
            "/v1/tenants",
            Some(OP),
            Some(json!({"name": name})),
        );
        assert_eq!(s, 201, "{v}");
        (
            v["id"].as_str().unwrap().into(),
            format!("Bearer {}", v["api_key"]["secret"].as_str().unwrap()),
        )
    }

    pub(super) fn key(&self, admin: &str, role: &str) -> (String, String) {
        let (s, v) = self.call(
            Method::Post,
            "/v1/api-keys",
            Some(admin),
            Some(json!({"role": role})),
        );
        assert_eq!(s, 201, "{v}");
        (
            v["id"].as_str().unwrap().into(),
            v["secret"].as_str().unwrap().into(),
        )
    }

    pub(super) fn load_catalog(&self) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog");
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name == "manifest.schema.json" {
                continue;
            }
            let id = name.trim_end_matches(".json");
            let req = HttpRequest::new(Method::Put, &format!("/v1/catalog/{id}"))
                .with_header("authorization", OP)
                .with_body(std::fs::read(&p).unwrap());
            let r = self.send(req);
            assert_eq!(r.status, 200, "{id}: {}", String::from_utf8_lossy(&r.body));
        }
    }
}

pub(super) fn err_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<no code>")
}

/// A provider behind every outbound URL: accepts `GOOD_TOKEN` in any header,
/// rejects anything else with 401, or fails as switched.
#[derive(Default)]
pub(super) struct FakeProvider {
    pub mode: RefCell<&'static str>,
    pub sent: RefCell<Vec<OutboundRequest>>,
    /// Scripted redirects: (URL, status, Location), answered before anything else.
    pub redirects: RefCell<Vec<(String, u16, String)>>,
}

/// What the fake MCP server offers: github-mcp's tools but one.
pub(super) const MCP_OFFERED: &[&str] = &[
    "get_me",
    "search_repositories",
    "get_file_contents",
    "create_branch",
    "create_or_update_file",
    "list_issues",
    "search_issues",
    "add_issue_comment",
    "list_pull_requests",
];

pub(super) const GOOD_TOKEN: &str = "ghp_GoodToken1234567890abcdefghijklmnop";

#[async_trait::async_trait(?Send)]
impl Transport for FakeProvider {
    async fn send(
        &self,
        req: &OutboundRequest,
        _t: u64,
        _m: usize,
    ) -> Result<OutboundResponse, TransportError> {
        self.sent.borrow_mut().push(req.clone());
        let answer = |status: u16, body: &str| {
            Ok(OutboundResponse {
                status,
                headers: vec![],
                body: body.as_bytes().to_vec(),
                truncated: false,
            })
        };
        if let Some((_, status, location)) = self
            .redirects
            .borrow()
            .iter()
            .find(|(u, _, _)| *u == req.url)
        {
            return Ok(OutboundResponse {
                status: *status,
                headers: vec![("location".into(), location.clone())],
                body: vec![],
                truncated: false,
            });
        }
        // A second MCP server on another host, behind the same authorization server.
        if req.url.starts_with("https://mcp2.example.com/") {
            return match (req.method.as_str(), req.url.as_str()) {
                ("POST", "https://mcp2.example.com/mcp") => Ok(OutboundResponse {
                    status: 401,
                    headers: vec![(
                        "www-authenticate".into(),
                        r#"Bearer resource_metadata="https://mcp2.example.com/.well-known/oauth-protected-resource/mcp""#.into(),
                    )],
                    body: vec![],
                    truncated: false,
                }),
                ("GET", "https://mcp2.example.com/.well-known/oauth-protected-resource/mcp") => answer(
                    200,
                    r#"{"resource":"https://mcp2.example.com/mcp","authorization_servers":["https://auth.example.com"]}"#,
                ),
                _ => answer(404, ""),
            };
        }
        if req.url.ends_with("/mcp/") {
            // An MCP server: initialize, then tools/list as an SSE stream.
            let authorized = req
                .headers
                .iter()
                .any(|(_, v)| v == &format!("Bearer {GOOD_TOKEN}"));
            if !authorized {
                return answer(401, r#"{"error":"unauthorized"}"#);
            }
            let body: Value =
                serde_json::from_str(req.body.as_deref().unwrap_or("{}")).unwrap_or_default();
            return match body["method"].as_str() {
                Some("initialize") => Ok(OutboundResponse {
                    status: 200,
                    headers: vec![
                        ("content-type".into(), "application/json".into()),
                        ("mcp-session-id".into(), "sess-1".into()),
                    ],
                    body: json!({"jsonrpc": "2.0", "id": body["id"], "result": {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "fake", "version": "1"}}}).to_string().into_bytes(),
                    truncated: false,
                }),
                Some("tools/list") => {
                    let offered: Vec<Value> = MCP_OFFERED.iter().map(|n| json!({"name": n, "inputSchema": {"type": "object"}})).collect();
                    let msg = json!({"jsonrpc": "2.0", "id": body["id"], "result": {"tools": offered}});
                    Ok(OutboundResponse {
                        status: 200,
                        headers: vec![("content-type".into(), "text/event-stream".into())],
                        body: format!("event: message\ndata: {msg}\n\n").into_bytes(),
                        truncated: false,
                    })
                }
                _ => answer(202, ""),
            };
        }
        // A remote MCP server with its own authorization server (RFC 9728,
        // 8414, 7591), for `mcp_oauth`. Mode "no-dcr" drops registration;
        // "no-prm" drops the protected-resource metadata.
        let mode = *self.mode.borrow();
        match (req.method.as_str(), req.url.as_str()) {
            ("POST", "https://mcp.example.com/mcp")
                if !req.headers.iter().any(|(_, v)| v == "Bearer mcp-access-1") =>
            {
                return Ok(OutboundResponse {
                    status: 401,
                    headers: vec![(
                        "www-authenticate".into(),
                        r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#.into(),
                    )],
                    body: vec![],
                    truncated: false,
                });
            }
            ("POST", "https://mcp.example.com/mcp") => {
                let body: Value =
                    serde_json::from_str(req.body.as_deref().unwrap_or("{}")).unwrap_or_default();
                return answer(200, &json!({"jsonrpc": "2.0", "id": body["id"], "result": {"protocolVersion": "2025-06-18", "capabilities": {}, "serverInfo": {"name": "remote", "version": "1"}}}).to_string());
            }
            ("GET", "https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
                if mode != "no-prm" =>
            {
                return answer(
                    200,
                    r#"{"resource":"https://mcp.example.com/mcp","authorization_servers":["https://auth.example.com"]}"#,
                );
            }
            ("GET", "https://auth.example.com/.well-known/oauth-authorization-server") => {
                let mut meta = json!({"issuer": "https://auth.example.com",
                    "authorization_endpoint": "https://auth.example.com/authorize",
                    "token_endpoint": "https://auth.example.com/token",
                    "registration_endpoint": "https://auth.example.com/register",
                    "code_challenge_methods_supported": ["S256"]});
                if mode == "http-token" {
                    meta["token_endpoint"] = json!("http://auth.example.com/token");
                }
                if mode == "no-dcr" {
                    meta.as_object_mut()
                        .unwrap()
                        .remove("registration_endpoint");
                }
                return answer(200, &meta.to_string());
            }
            ("POST", "https://auth.example.com/register") => {
                let n = self
                    .sent
                    .borrow()
                    .iter()
                    .filter(|r| r.url.ends_with("/register"))
                    .count();
                return answer(
                    201,
                    &json!({"client_id": format!("dcr-client-{n}")}).to_string(),
                );
            }
            ("POST", "https://auth.example.com/token") => {
                let body = req.body.clone().unwrap_or_default();
                return if body.contains("code=good-code")
                    && body.contains("client_id=dcr-client-")
                    && body.contains("resource=https%3A%2F%2Fmcp.example.com%2Fmcp")
                {
                    answer(
                        200,
                        r#"{"access_token":"mcp-access-1","refresh_token":"mcp-refresh-1","expires_in":3600,"token_type":"Bearer"}"#,
                    )
                } else {
                    answer(400, r#"{"error":"invalid_grant"}"#)
                };
            }
            (_, u)
                if u.starts_with("https://mcp.example.com/")
                    || u.starts_with("https://auth.example.com/") =>
            {
                return answer(404, "");
            }
            _ => {}
        }
        if req.url == "https://oauth2.googleapis.com/token" {
            // Google's token endpoint: one good code, PKCE verifier required.
            let body = req.body.clone().unwrap_or_default();
            if body.contains("grant_type=refresh_token") {
                return if body.contains("refresh_token=1%2F%2Frefresh-secret-5678")
                    && *self.mode.borrow() != "refuse-refresh"
                {
                    answer(
                        200,
                        r#"{"access_token":"ya29.access-secret-1234-renewed","expires_in":3599,"token_type":"Bearer"}"#,
                    )
                } else {
                    answer(
                        400,
                        r#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#,
                    )
                };
            }
            return if body.contains("code=good-code") && body.contains("code_verifier=") {
                answer(
                    200,
                    r#"{"access_token":"ya29.access-secret-1234","refresh_token":"1//refresh-secret-5678","expires_in":3599,"token_type":"Bearer"}"#,
                )
            } else {
                answer(
                    400,
                    r#"{"error":"invalid_grant","error_description":"Bad Request"}"#,
                )
            };
        }
        match *self.mode.borrow() {
            "down" => Err(TransportError::Unreachable("connection refused".into())),
            "slow" => Err(TransportError::Timeout(10_000)),
            "500" => answer(500, "internal"),
            "html" => answer(200, "<!doctype html><title>Sign in</title><form>…</form>"),
            _ if req.headers.iter().any(|(_, v)| {
                v.contains(GOOD_TOKEN) || v.starts_with("Bearer ya29.access-secret")
            }) =>
            {
                answer(200, r#"{"login":"octocat"}"#)
            }
            _ => answer(401, r#"{"message":"Bad credentials"}"#),
        }
    }
}
