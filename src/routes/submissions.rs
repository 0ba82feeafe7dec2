//! The marketplace's review gate (API §8): tenants submit manifests; the
//! operator sees every submission and approves public ones (publishing a new
//! listing or a higher version of one) or rejects them; a tenant's admin
//! reviews the tenant's private ones, which no other tenant ever sees.

use super::catalog::viewer;
use super::error::ApiError;
use super::extract::{list_json, list_query, JsonBody};
use super::http::{HttpRequest, HttpResponse};
use super::App;
use crate::domain::auth::{Principal, Role};
use crate::domain::ids::{ListingId, SubmissionId};
use crate::domain::manifest::{self, version_cmp, ValidManifest};
use crate::domain::Error;
use crate::store::{StoredListing, SubmissionFilter, SubmissionRecord, Written};
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

/// Refuses to publish `m` for `tenant` over `current` (the listing as read,
/// if any) when the id is another tenant's private listing or the version
/// does not move the listing forward.
/// Where a submission publishes (its listing key) and what is published
/// there now. A private listing lives in its tenant's namespace and may not
/// reuse a public id; a public id takes new versions only from its owner
/// (the operator publishes with `PUT`). The version must be higher.
async fn check_publishable(
    app: &App,
    tenant: &crate::domain::ids::TenantId,
    visibility: &str,
    m: &ValidManifest,
) -> Result<(ListingId, Option<StoredListing>), ApiError> {
    let slug = m.summary.id.as_str();
    let public_key = ListingId::parse(slug)?;
    // The store, not a cache: approvals compare-and-set on what is read here.
    let public = app.catalog.listing(&public_key).await?;
    let (key, current) = if visibility == "private" {
        if public.is_some() {
            return Err(Error::StateConflict(format!(
                "'{slug}' is the id of a public listing; a private listing needs an id of its own."
            ))
            .into());
        }
        let key = ListingId::private(tenant, slug)?;
        let current = app.catalog.listing(&key).await?;
        (key, current)
    } else {
        if let Some(p) = &public {
            if p.owner.as_deref() != Some(tenant.as_str()) {
                let owner = p.owner.as_deref().unwrap_or("platform");
                return Err(Error::Forbidden(format!(
                    "Only the owner of '{slug}' ({}) publishes new versions of it.",
                    if owner == "platform" {
                        "the platform"
                    } else {
                        "another tenant"
                    }
                ))
                .into());
            }
        }
        (public_key, public)
    };
    if let Some(current) = &current {
        let latest = super::connectors::parsed(app, current, slug)?;
        if version_cmp(&m.summary.version, &latest.version) != std::cmp::Ordering::Greater {
            return Err(Error::StateConflict(format!(
                "Version {} of '{}' is not higher than the published {}; raise `version`.",
                m.summary.version, slug, latest.version
            ))
            .into());
        }
    }
    Ok((key, current))
}

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
    let raw = serde_json::to_string_pretty(manifest).expect("a JSON value serialises");
    let m = manifest::validate_for(&raw, None, &app.config.allow)?;
    // Advisory here: the approval checks again.
    check_publishable(app, tenant, &visibility, &m).await?;
    let record = SubmissionRecord {
        id: SubmissionId::generate(app.rng.as_ref()).to_string(),
        tenant: tenant.clone(),
        listing_id: m.summary.id.clone(),
        version: m.summary.version.clone(),
        visibility,
        manifest: raw,
        status: "pending".into(),
        reason: None,
        created_at: app.now.rfc3339(),
        decided_at: None,
    };
    let event = app.event(
        tenant,
        "submission.created",
        json!({"submission_id": record.id, "listing": record.listing_id, "version": record.version,
               "visibility": record.visibility, "by": by.as_str()}),
    );
    app.catalog.insert_submission(&record, &event).await?;
    Ok(HttpResponse::json(201, &submission_json(&record)))
}

/// A submission the caller may see: its tenant's, or (the operator) any.
/// Anything else is not found.
async fn visible(app: &App, p: &Principal, id: &str) -> Result<SubmissionRecord, ApiError> {
    let sid = SubmissionId::parse(id)?;
    let s = app
        .catalog
        .submission(sid.as_str())
        .await?
        .ok_or_else(|| Error::not_found("submission", id))?;
    if viewer(p).is_some_and(|t| &s.tenant != t) {
        return Err(Error::not_found("submission", id).into());
    }
    Ok(s)
}

/// `GET /v1/submissions[?status=]`.
pub async fn list(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    // Any API key (viewer is the least role) or the operator.
    let p = app.principal(req).await?;
    let (page, after, filters) = list_query(req, &["status"])?;
    if let Some(s) = filters.get("status") {
        if !matches!(s.as_str(), "pending" | "approved" | "rejected") {
            return Err(Error::invalid(
                "status",
                "Invalid status: expected pending, approved or rejected.",
            )
            .into());
        }
    }
    let f = SubmissionFilter {
        tenant: viewer(&p).cloned(),
        status: filters.get("status").cloned(),
    };
    let items = app.catalog.submissions(&f, after, page.limit + 1).await?;
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
    let s = visible(app, &p, id).await?;
    Ok(HttpResponse::json(200, &submission_json(&s)))
}

/// Who reviews: the operator for public submissions, an admin of the
/// submitting tenant for private ones.
fn require_reviewer(p: &Principal, s: &SubmissionRecord) -> Result<String, ApiError> {
    if s.visibility == "public" {
        p.require_operator()?;
        return Ok("operator".into());
    }
    if let Principal::Operator = p {
        return Err(Error::Forbidden(
            "A private submission is reviewed by an admin of its own tenant, not the operator."
                .into(),
        )
        .into());
    }
    let (_, by) = p.require(Role::Admin)?;
    Ok(by.to_string())
}

fn not_pending(s: &SubmissionRecord) -> ApiError {
    Error::StateConflict(format!(
        "The submission was already {}; only pending submissions can be reviewed.",
        s.status
    ))
    .into()
}

/// `POST /v1/submissions/{id}/approve` — publishes the submission.
pub async fn approve(app: &App, req: &HttpRequest, id: &str) -> Result<HttpResponse, ApiError> {
    let p = app.principal(req).await?;
    let s = visible(app, &p, id).await?;
    let by = require_reviewer(&p, &s)?;
    JsonBody::parse(&req.body)?.only(&[])?;
    if s.status != "pending" {
        return Err(not_pending(&s));
    }
    // Validated again: the schema or the allow-list may have changed since.
    let mut m = manifest::validate_for(&s.manifest, None, &app.config.allow)?;
    // Read from the store, not a cache, and published only if the listing
    // is still this one: two approvals racing for one listing cannot leave
    // it pointing at the lower version.
    let (key, current) = check_publishable(app, &s.tenant, &s.visibility, &m).await?;
    // Stored under its key (the summary's id too); shown under its slug.
    m.summary.id = key.as_str().to_string();
    let seen = current.as_ref().map(|c| c.etag.as_str());
    let now = app.now.rfc3339();
    let event = app.event(
        &s.tenant,
        "submission.approved",
        json!({"submission_id": s.id, "listing": s.listing_id, "version": s.version, "by": by}),
    );
    match app.catalog.publish(&s, &m, seen, &now, &event).await? {
        Written::Done => {}
        Written::NameTaken => {
            return Err(Error::StateConflict(format!(
                "Version {} of '{}' is already published.",
                s.version, s.listing_id
            ))
            .into())
        }
        Written::Gone => {
            let again = visible(app, &p, id).await?;
            if again.status == "pending" {
                return Err(Error::StateConflict(format!(
                    "'{}' was published by another approval while this one ran; review the submission again.",
                    s.listing_id
                ))
                .into());
            }
            return Err(not_pending(&again));
        }
    }
    app.catalog().invalidate(&key).await?;
    let mut done = s.clone();
    done.status = "approved".into();
    done.decided_at = Some(now);
    Ok(HttpResponse::json(200, &submission_json(&done)))
}

/// `POST /v1/submissions/{id}/reject {reason}`.
pub async fn reject(app: &App, req: &HttpRequest, id: &str) -> Result<HttpResponse, ApiError> {
    let p = app.principal(req).await?;
    let s = visible(app, &p, id).await?;
    let by = require_reviewer(&p, &s)?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&["reason"])?;
    let reason = body.req_str("reason", 500)?;
    if s.status != "pending" {
        return Err(not_pending(&s));
    }
    let now = app.now.rfc3339();
    let event = app.event(
        &s.tenant,
        "submission.rejected",
        json!({"submission_id": s.id, "listing": s.listing_id, "version": s.version, "reason": reason, "by": by}),
    );
    if !app.catalog.reject(&s.id, &reason, &now, &event).await? {
        let again = visible(app, &p, id).await?;
        return Err(not_pending(&again));
    }
    let mut done = s.clone();
    done.status = "rejected".into();
    done.reason = Some(reason);
    done.decided_at = Some(now);
    Ok(HttpResponse::json(200, &submission_json(&done)))
}
