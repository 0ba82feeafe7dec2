//! Connect sessions over HTTP: a manager mints a link
//! (`POST /v1/connect-sessions`) and follows it (`GET …/{id}`); the link's
//! page reads its own session (`GET /v1/connect/session`) with the token.

use super::error::ApiError;
use super::extract::{list_json, list_query, no_query, JsonBody};
use super::http::{HttpRequest, HttpResponse};
use super::App;
use crate::app::connect::{self as uc, NewSession};
use crate::domain::auth::{Principal, Role};
use crate::store::ConnectSessionRecord;
use serde_json::{json, Value};

/// The public view; `url` (which carries the token) only in the answer
/// that creates the session.
fn session_json(app: &App, s: &ConnectSessionRecord, url: Option<&str>) -> Value {
    let mut v = json!({
        "id": s.id.as_str(),
        "object": "connect_session",
        "listing": s.listing,
        "consumer": s.consumer,
        "return_url": s.return_url,
        "status": uc::state(app, s).as_str(),
        "connector_id": s.connector_id.as_ref().map(|c| c.as_str()),
        "created_at": s.created_at,
        "expires_at": s.expires_at,
        "completed_at": s.completed_at,
    });
    if let Some(u) = url {
        v["url"] = json!(u);
    }
    v
}

/// `POST /v1/connect-sessions` — `{listing?, consumer?, return_url,
/// expires_in?}`; the link is shown once. No `Idempotency-Key`: a replayed
/// answer would have to keep the token.
pub async fn create_connect_session(
    app: &App,
    req: &HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Manager)?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&["listing", "consumer", "return_url", "expires_in"])?;
    let new = NewSession {
        listing: body.opt_str("listing", 63)?,
        consumer: body.opt_str("consumer", 200)?,
        return_url: body.req_str("return_url", 2000)?,
        expires_in: body.get("expires_in").cloned(),
    };
    let m = uc::create(app, tenant, by.as_str(), new).await?;
    let base = app.config.public_base_url.as_deref().unwrap_or(&req.origin);
    // The token rides in the fragment, which browsers never send: no access
    // log, proxy or Referer sees it (the page reads it from `location.hash`).
    let url = format!(
        "{}/connect/{}#{}",
        base.trim_end_matches('/'),
        m.session.id,
        m.token
    );
    Ok(HttpResponse::json(
        201,
        &session_json(app, &m.session, Some(&url)),
    ))
}

/// `GET /v1/connect-sessions` — newest first.
pub async fn list_connect_sessions(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Viewer)?;
    let (page, after, _) = list_query(req, &[])?;
    let rows = app
        .connect_sessions
        .list_connect_sessions(tenant, after, page.limit + 1)
        .await?;
    Ok(list_json(
        rows,
        page.limit,
        |s| format!("{}|{}", s.created_at, s.id),
        |s| session_json(app, s, None),
    ))
}

/// `GET /v1/connect-sessions/{id}` — its status and, once used, the connector.
pub async fn get_connect_session(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Viewer)?;
    no_query(req)?;
    let s = uc::get(app, tenant, id).await?;
    Ok(HttpResponse::json(200, &session_json(app, &s, None)))
}

/// `GET /v1/connect/session` — the link's own session (its token only).
pub async fn current_connect_session(
    app: &App,
    req: &HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let Principal::Connect(g) = app.linked_principal(req).await? else {
        return Err(crate::domain::Error::Forbidden(
            "This route answers a connect link's token (the page at /connect/{token}); a manager reads a session with GET /v1/connect-sessions/{id}.".into(),
        )
        .into());
    };
    no_query(req)?;
    let s = uc::current(app, &g).await?;
    Ok(HttpResponse::json(200, &session_json(app, &s, None)))
}
