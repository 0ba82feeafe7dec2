//! The HTTP surface: one router over plain request/response values, and the
//! adapters that parse a request, call the application (`crate::app`) and
//! render its answer. Natively the whole API runs in tests (its SQL on
//! SQLite, fakes of KV and the Durable Objects); in production on workerd
//! over D1/KV/Durable Objects.

// `ApiError` is ~160 bytes; it only travels on the cold path of a request,
// and boxing it would cost an allocation on every error for no gain.
#![allow(clippy::result_large_err)]

pub mod api_keys;
pub mod approvals;
pub mod bindings;
pub mod catalog;
pub mod connect;
pub mod connectors;
pub mod error;
pub mod extract;
pub mod health;
pub mod http;
pub mod install;
pub mod mcp;
pub mod oauth;
pub mod service;
pub mod submissions;
pub mod tenants;
pub mod test_tools;
pub mod tool_calls;
pub mod webhooks;
pub mod write;

use crate::domain::auth::Principal;
use error::ApiError;
use http::{HttpRequest, HttpResponse, Method};

pub use crate::app::{App, Config, Deferred};

/// Request bodies above this size are refused with `413` (API §2).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Who is calling: the HTTP side of a request's context.
impl App {
    /// The caller of a tenant or operator route: an agent key is refused
    /// here (API §1: it may only call tools), whatever role the route needs.
    pub async fn principal(&self, req: &HttpRequest) -> Result<Principal, ApiError> {
        let p = self.any_principal(req).await?;
        p.refuse_agent()?;
        p.refuse_connect()?;
        Ok(p)
    }

    /// The caller of the catalog's reads, verify and install: besides keys,
    /// a connect link (its end user picks and installs a listing).
    pub async fn linked_principal(&self, req: &HttpRequest) -> Result<Principal, ApiError> {
        let p = self.any_principal(req).await?;
        p.refuse_agent()?;
        Ok(p)
    }

    /// The caller of a route an agent key may use (a tool call).
    pub async fn any_principal(&self, req: &HttpRequest) -> Result<Principal, ApiError> {
        Ok(extract::authenticate(self, req.header("authorization")).await?)
    }
}

/// A routed endpoint with its path parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    Healthz,
    Ping,
    OpenApi,
    Tenants,
    ApiKeys,
    ApiKey(String),
    Catalog,
    Categories,
    Listing(String),
    Versions(String),
    Relist(String),
    Verify(String),
    Submissions,
    Submission(String),
    Approve(String),
    Reject(String),
    Upgrade(String),
    Connectors,
    Connector(String),
    Bindings,
    Binding(String),
    Capabilities,
    Events,
    Authorize(String),
    OAuthCallback,
    Health(String),
    HealthChecks(String),
    Test(String),
    /// `(connector, tool)`.
    CallTool(String, String),
    AcceptTools(String),
    ToolCalls,
    ToolCall(String),
    Mcp,
    ConsumerTools(String),
    Approvals,
    Approval(String),
    /// `(approval, approve?)`.
    Decide(String, bool),
    Settings,
    WebhookEndpoints,
    WebhookEndpoint(String),
    WebhookTest(String),
    WebhookDeliveries(String),
    ConnectSessions,
    ConnectSession(String),
    CurrentConnectSession,
}

/// Every routed path with its methods: the OpenAPI document must name each.
pub const ROUTES: &[(&str, &[Method])] = &[
    ("/healthz", &[Method::Get]),
    ("/v1/ping", &[Method::Get]),
    ("/v1/openapi.json", &[Method::Get]),
    ("/v1/tenants", &[Method::Post]),
    ("/v1/api-keys", &[Method::Get, Method::Post]),
    ("/v1/api-keys/{id}", &[Method::Delete]),
    ("/v1/catalog", &[Method::Get]),
    ("/v1/catalog/categories", &[Method::Get]),
    (
        "/v1/catalog/{listing}",
        &[Method::Get, Method::Put, Method::Delete],
    ),
    ("/v1/catalog/{listing}/versions", &[Method::Get]),
    ("/v1/catalog/{listing}/relist", &[Method::Post]),
    ("/v1/submissions", &[Method::Get, Method::Post]),
    ("/v1/submissions/{id}", &[Method::Get]),
    ("/v1/submissions/{id}/approve", &[Method::Post]),
    ("/v1/submissions/{id}/reject", &[Method::Post]),
    ("/v1/connectors/{id}/upgrade", &[Method::Post]),
    ("/v1/catalog/{listing}/verify", &[Method::Post]),
    ("/v1/connectors", &[Method::Get, Method::Post]),
    (
        "/v1/connectors/{id}",
        &[Method::Get, Method::Patch, Method::Delete],
    ),
    ("/v1/bindings", &[Method::Get, Method::Post]),
    ("/v1/bindings/{id}", &[Method::Patch, Method::Delete]),
    ("/v1/capabilities", &[Method::Get]),
    ("/v1/events", &[Method::Get]),
    ("/v1/connectors/{id}/authorize", &[Method::Post]),
    ("/v1/oauth/callback", &[Method::Get]),
    ("/v1/connectors/{id}/health", &[Method::Get]),
    ("/v1/connectors/{id}/health-checks", &[Method::Get]),
    ("/v1/connectors/{id}/test", &[Method::Post]),
    ("/v1/connectors/{id}/tools/{tool}/call", &[Method::Post]),
    ("/v1/connectors/{id}/tools/accept", &[Method::Post]),
    ("/v1/tool-calls", &[Method::Get]),
    ("/v1/tool-calls/{id}", &[Method::Get]),
    ("/v1/mcp", &[Method::Post]),
    ("/v1/consumers/{consumer}/tools", &[Method::Get]),
    ("/v1/approvals", &[Method::Get]),
    ("/v1/approvals/{id}", &[Method::Get]),
    ("/v1/approvals/{id}/approve", &[Method::Post]),
    ("/v1/approvals/{id}/deny", &[Method::Post]),
    ("/v1/settings", &[Method::Get, Method::Patch]),
    ("/v1/webhook-endpoints", &[Method::Get, Method::Post]),
    ("/v1/webhook-endpoints/{id}", &[Method::Get, Method::Delete]),
    ("/v1/webhook-endpoints/{id}/test", &[Method::Post]),
    ("/v1/webhook-endpoints/{id}/deliveries", &[Method::Get]),
    ("/v1/connect-sessions", &[Method::Get, Method::Post]),
    ("/v1/connect-sessions/{id}", &[Method::Get]),
    ("/v1/connect/session", &[Method::Get]),
];

/// Resolves a path to a route and the methods it allows.
pub fn resolve(path: &str) -> Option<(Route, &'static [Method])> {
    let trimmed = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    let segs: Vec<&str> = trimmed.split('/').skip(1).collect();
    let (route, template) = match segs.as_slice() {
        ["healthz"] => (Route::Healthz, "/healthz"),
        ["v1", "ping"] => (Route::Ping, "/v1/ping"),
        ["v1", "openapi.json"] => (Route::OpenApi, "/v1/openapi.json"),
        ["v1", "tenants"] => (Route::Tenants, "/v1/tenants"),
        ["v1", "api-keys"] => (Route::ApiKeys, "/v1/api-keys"),
        ["v1", "api-keys", id] if !id.is_empty() => {
            (Route::ApiKey(id.to_string()), "/v1/api-keys/{id}")
        }
        ["v1", "catalog"] => (Route::Catalog, "/v1/catalog"),
        ["v1", "catalog", "categories"] => (Route::Categories, "/v1/catalog/categories"),
        ["v1", "catalog", id] if !id.is_empty() => {
            (Route::Listing(id.to_string()), "/v1/catalog/{listing}")
        }
        ["v1", "catalog", id, "versions"] if !id.is_empty() => (
            Route::Versions(id.to_string()),
            "/v1/catalog/{listing}/versions",
        ),
        ["v1", "catalog", id, "relist"] if !id.is_empty() => (
            Route::Relist(id.to_string()),
            "/v1/catalog/{listing}/relist",
        ),
        ["v1", "submissions"] => (Route::Submissions, "/v1/submissions"),
        ["v1", "submissions", id] if !id.is_empty() => {
            (Route::Submission(id.to_string()), "/v1/submissions/{id}")
        }
        ["v1", "submissions", id, "approve"] if !id.is_empty() => (
            Route::Approve(id.to_string()),
            "/v1/submissions/{id}/approve",
        ),
        ["v1", "submissions", id, "reject"] if !id.is_empty() => {
            (Route::Reject(id.to_string()), "/v1/submissions/{id}/reject")
        }
        ["v1", "connectors", id, "upgrade"] if !id.is_empty() => (
            Route::Upgrade(id.to_string()),
            "/v1/connectors/{id}/upgrade",
        ),
        ["v1", "catalog", id, "verify"] if !id.is_empty() => (
            Route::Verify(id.to_string()),
            "/v1/catalog/{listing}/verify",
        ),
        ["v1", "connectors"] => (Route::Connectors, "/v1/connectors"),
        ["v1", "connectors", id] if !id.is_empty() => {
            (Route::Connector(id.to_string()), "/v1/connectors/{id}")
        }
        ["v1", "bindings"] => (Route::Bindings, "/v1/bindings"),
        ["v1", "bindings", id] if !id.is_empty() => {
            (Route::Binding(id.to_string()), "/v1/bindings/{id}")
        }
        ["v1", "capabilities"] => (Route::Capabilities, "/v1/capabilities"),
        ["v1", "events"] => (Route::Events, "/v1/events"),
        ["v1", "connectors", id, "authorize"] if !id.is_empty() => (
            Route::Authorize(id.to_string()),
            "/v1/connectors/{id}/authorize",
        ),
        ["v1", "oauth", "callback"] => (Route::OAuthCallback, "/v1/oauth/callback"),
        ["v1", "connectors", id, "health"] if !id.is_empty() => {
            (Route::Health(id.to_string()), "/v1/connectors/{id}/health")
        }
        ["v1", "connectors", id, "health-checks"] if !id.is_empty() => (
            Route::HealthChecks(id.to_string()),
            "/v1/connectors/{id}/health-checks",
        ),
        ["v1", "connectors", id, "test"] if !id.is_empty() => {
            (Route::Test(id.to_string()), "/v1/connectors/{id}/test")
        }
        ["v1", "connectors", id, "tools", tool, "call"] if !id.is_empty() && !tool.is_empty() => (
            Route::CallTool(id.to_string(), tool.to_string()),
            "/v1/connectors/{id}/tools/{tool}/call",
        ),
        ["v1", "connectors", id, "tools", "accept"] if !id.is_empty() => (
            Route::AcceptTools(id.to_string()),
            "/v1/connectors/{id}/tools/accept",
        ),
        ["v1", "tool-calls"] => (Route::ToolCalls, "/v1/tool-calls"),
        ["v1", "tool-calls", id] if !id.is_empty() => {
            (Route::ToolCall(id.to_string()), "/v1/tool-calls/{id}")
        }
        ["v1", "mcp"] => (Route::Mcp, "/v1/mcp"),
        ["v1", "approvals"] => (Route::Approvals, "/v1/approvals"),
        ["v1", "approvals", id] if !id.is_empty() => {
            (Route::Approval(id.to_string()), "/v1/approvals/{id}")
        }
        ["v1", "approvals", id, "approve"] if !id.is_empty() => (
            Route::Decide(id.to_string(), true),
            "/v1/approvals/{id}/approve",
        ),
        ["v1", "approvals", id, "deny"] if !id.is_empty() => (
            Route::Decide(id.to_string(), false),
            "/v1/approvals/{id}/deny",
        ),
        ["v1", "settings"] => (Route::Settings, "/v1/settings"),
        ["v1", "consumers", c, "tools"] if !c.is_empty() => (
            Route::ConsumerTools(c.to_string()),
            "/v1/consumers/{consumer}/tools",
        ),
        ["v1", "webhook-endpoints"] => (Route::WebhookEndpoints, "/v1/webhook-endpoints"),
        ["v1", "webhook-endpoints", id] if !id.is_empty() => (
            Route::WebhookEndpoint(id.to_string()),
            "/v1/webhook-endpoints/{id}",
        ),
        ["v1", "webhook-endpoints", id, "test"] if !id.is_empty() => (
            Route::WebhookTest(id.to_string()),
            "/v1/webhook-endpoints/{id}/test",
        ),
        ["v1", "webhook-endpoints", id, "deliveries"] if !id.is_empty() => (
            Route::WebhookDeliveries(id.to_string()),
            "/v1/webhook-endpoints/{id}/deliveries",
        ),
        ["v1", "connect-sessions"] => (Route::ConnectSessions, "/v1/connect-sessions"),
        ["v1", "connect-sessions", id] if !id.is_empty() => (
            Route::ConnectSession(id.to_string()),
            "/v1/connect-sessions/{id}",
        ),
        ["v1", "connect", "session"] => (Route::CurrentConnectSession, "/v1/connect/session"),
        _ => return None,
    };
    let methods = ROUTES
        .iter()
        .find(|(t, _)| *t == template)
        .map(|(_, m)| *m)
        .expect("every resolved template is listed in ROUTES");
    Some((route, methods))
}

/// Answers one request. Never panics on input; every failure is an envelope.
pub async fn handle(app: &App, req: HttpRequest) -> HttpResponse {
    let request_id = &app.request_id;
    let result = if let Some(cause) = app.config.misconfigured() {
        Err(ApiError::misconfigured(cause))
    } else if req.body.len() > MAX_BODY_BYTES {
        Err(ApiError::payload_too_large(MAX_BODY_BYTES))
    } else {
        dispatch(app, &req).await
    };
    let mut resp = match result {
        Ok(r) => r,
        Err(e) => {
            if let Some(cause) = &e.internal {
                (app.log)(&format!(
                    "{request_id} {} {}: {cause}",
                    req.method.as_str(),
                    req.path
                ));
            }
            e.into_response(request_id.as_str())
        }
    };
    // Events this request wrote go to the tenant's webhooks (API §16).
    crate::app::webhooks::send_poke(app);
    resp.headers
        .push(("request-id".into(), request_id.to_string()));
    if resp.get_header("cache-control").is_none() {
        resp.headers
            .push(("cache-control".into(), "no-store".into()));
    }
    resp
}

async fn dispatch(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let Some((route, allowed)) = resolve(&req.path) else {
        return Err(ApiError::route_not_found(req.method.as_str(), &req.path));
    };
    // HEAD is answered as GET; the runtime drops the body.
    let method = if req.method == Method::Head {
        Method::Get
    } else {
        req.method
    };
    if !allowed.contains(&method) {
        let names: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
        return Err(ApiError::method_not_allowed(
            req.method.as_str(),
            &req.path,
            &names,
        ));
    }
    match (route, method) {
        (Route::Healthz, _) => service::healthz(app).await,
        (Route::Ping, _) => Ok(service::ping()),
        (Route::OpenApi, _) => Ok(service::openapi()),
        (Route::Tenants, _) => tenants::create_tenant(app, req).await,
        (Route::ApiKeys, Method::Post) => api_keys::create_api_key(app, req).await,
        (Route::ApiKeys, _) => api_keys::list_api_keys(app, req).await,
        (Route::ApiKey(id), _) => api_keys::delete_api_key(app, req, &id).await,
        (Route::Catalog, _) => catalog::list_catalog(app, req).await,
        (Route::Categories, _) => catalog::list_categories(app, req).await,
        (Route::Listing(id), Method::Put) => catalog::put_listing(app, req, &id).await,
        (Route::Listing(id), Method::Delete) => catalog::delist(app, req, &id).await,
        (Route::Versions(id), _) => catalog::list_versions(app, req, &id).await,
        (Route::Relist(id), _) => catalog::relist(app, req, &id).await,
        (Route::Submissions, Method::Post) => submissions::create(app, req).await,
        (Route::Submissions, _) => submissions::list(app, req).await,
        (Route::Submission(id), _) => submissions::get(app, req, &id).await,
        (Route::Approve(id), _) => submissions::approve(app, req, &id).await,
        (Route::Reject(id), _) => submissions::reject(app, req, &id).await,
        (Route::Upgrade(id), _) => connectors::upgrade_connector(app, req, &id).await,
        (Route::Listing(id), _) => catalog::get_listing(app, req, &id).await,
        (Route::Verify(id), _) => install::verify_listing(app, req, &id).await,
        (Route::Connectors, Method::Post) => install::create_connector(app, req).await,
        (Route::Connectors, _) => connectors::list_connectors(app, req).await,
        (Route::Connector(id), Method::Patch) => connectors::update_connector(app, req, &id).await,
        (Route::Connector(id), Method::Delete) => connectors::delete_connector(app, req, &id).await,
        (Route::Connector(id), _) => connectors::get_connector(app, req, &id).await,
        (Route::Bindings, Method::Post) => bindings::create_binding(app, req).await,
        (Route::Bindings, _) => bindings::list_bindings(app, req).await,
        (Route::Binding(id), Method::Patch) => bindings::update_binding(app, req, &id).await,
        (Route::Binding(id), _) => bindings::delete_binding(app, req, &id).await,
        (Route::Capabilities, _) => bindings::list_capabilities(app, req).await,
        (Route::Events, _) => bindings::list_events(app, req).await,
        (Route::Authorize(id), _) => oauth::authorize_connector(app, req, &id).await,
        (Route::OAuthCallback, _) => oauth::oauth_callback(app, req).await,
        (Route::CallTool(id, tool), _) => tool_calls::call_tool(app, req, &id, &tool).await,
        (Route::AcceptTools(id), _) => tool_calls::accept_tools(app, req, &id).await,
        (Route::ToolCalls, _) => tool_calls::list_tool_calls(app, req).await,
        (Route::ToolCall(id), _) => tool_calls::get_tool_call(app, req, &id).await,
        (Route::Mcp, _) => mcp::mcp(app, req).await,
        (Route::Approvals, _) => approvals::list_approvals(app, req).await,
        (Route::Approval(id), _) => approvals::get_approval(app, req, &id).await,
        (Route::Decide(id, approve), _) => approvals::decide_approval(app, req, &id, approve).await,
        (Route::Settings, m) => approvals::settings(app, req, m == Method::Patch).await,
        (Route::ConsumerTools(c), _) => bindings::consumer_tools(app, req, &c).await,
        (Route::Health(id), _) => health::connector_health(app, req, &id).await,
        (Route::HealthChecks(id), _) => health::list_health_checks(app, req, &id).await,
        (Route::Test(id), _) => test_tools::test_connector(app, req, &id).await,
        (Route::WebhookEndpoints, Method::Post) => webhooks::create_endpoint(app, req).await,
        (Route::WebhookEndpoints, _) => webhooks::list_endpoints(app, req).await,
        (Route::WebhookEndpoint(id), Method::Delete) => {
            webhooks::delete_endpoint(app, req, &id).await
        }
        (Route::WebhookEndpoint(id), _) => webhooks::get_endpoint(app, req, &id).await,
        (Route::WebhookTest(id), _) => webhooks::test_endpoint(app, req, &id).await,
        (Route::WebhookDeliveries(id), _) => webhooks::list_deliveries(app, req, &id).await,
        (Route::ConnectSessions, Method::Post) => connect::create_connect_session(app, req).await,
        (Route::ConnectSessions, _) => connect::list_connect_sessions(app, req).await,
        (Route::ConnectSession(id), _) => connect::get_connect_session(app, req, &id).await,
        (Route::CurrentConnectSession, _) => connect::current_connect_session(app, req).await,
    }
}

#[cfg(test)]
pub mod tests;
