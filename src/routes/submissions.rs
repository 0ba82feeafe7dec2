//! The marketplace's review gate (API §8), over HTTP: parse, call
//! `app::submissions`, render. The rules live there.

use super::error::ApiError;
use super::extract::{list_json, list_query, JsonBody};
use super::http::{HttpRequest, HttpResponse};
use super::App;
use crate::app::submissions as uc;
use crate::domain::auth::Role;
use crate::domain::Error;
use crate::store::SubmissionRecord;
use serde_json::{json, Value};

fn submission_json(s: &SubmissionRecord) -> Value {
    json!({
        "id": s.id,
        "object": "submission",
        "tenant_id": s.tenant.as_str(),
        "listing": s.listing_id,
        "version": s.version,
        "visibility": s.visibility,
        "status": s.status,
        "reason": s.reason,
        "manifest": serde_json::from_str::<Value>(&s.manifest).unwrap_or(Value::Null),
        "created_at": s.created_at,
        "decided_at": s.decided_at,
    })
}

/// `POST /v1/submissions {manifest, visibility?}`.
pub async fn create(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Manager)?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&["manifest", "visibility"])?;
    let manifest = body
        .get("manifest")
        .ok_or_else(|| Error::missing("manifest"))?;
    let visibility = body
        .opt_str("visibility", 16)?
        .unwrap_or_else(|| "public".into());
    if visibility != "public" && visibility != "private" {
        return Err(Error::invalid(
            "visibility",
            "Invalid visibility: expected public or private.",
        )
        .into());
    }
    let record = uc::create(app, tenant, by.as_str(), manifest, visibility).await?;
    Ok(HttpResponse::json(201, &submission_json(&record)))
}

/// `GET /v1/submissions[?status=]`.
pub async fn list(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let p = app.principal(req).await?;
    let (page, after, mut filters) = list_query(req, &["status"])?;
    let items = uc::list(app, &p, filters.remove("status"), after, page.limit + 1).await?;
    Ok(list_json(
        items,
        page.limit,
        |s| format!("{}|{}", s.created_at, s.id),
        submission_json,
    ))
}

/// `GET /v1/submissions/{id}`.
pub async fn get(app: &App, req: &HttpRequest, id: &str) -> Result<HttpResponse, ApiError> {
    let p = app.principal(req).await?;
    let s = uc::visible(app, &p, id).await?;
    Ok(HttpResponse::json(200, &submission_json(&s)))
}

/// `POST /v1/submissions/{id}/approve`.
pub async fn approve(app: &App, req: &HttpRequest, id: &str) -> Result<HttpResponse, ApiError> {
    let p = app.principal(req).await?;
    let (s, by) = uc::for_review(app, &p, id).await?;
    JsonBody::parse(&req.body)?.only(&[])?;
    let done = uc::approve(app, &p, s, &by).await?;
    Ok(HttpResponse::json(200, &submission_json(&done)))
}

/// `POST /v1/submissions/{id}/reject {reason}`.
pub async fn reject(app: &App, req: &HttpRequest, id: &str) -> Result<HttpResponse, ApiError> {
    let p = app.principal(req).await?;
    let (s, by) = uc::for_review(app, &p, id).await?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&["reason"])?;
    let reason = body.req_str("reason", 500)?;
    let done = uc::reject(app, &p, s, &by, reason).await?;
    Ok(HttpResponse::json(200, &submission_json(&done)))
}
