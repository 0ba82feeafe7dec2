//! The marketplace's review gate (API §8) as use cases: tenants submit
//! manifests; the operator approves public ones (a new listing, or a higher
//! version from the listing's owner) or rejects them; a tenant's admin reviews
//! the tenant's private ones, which live in the tenant's own namespace.

use super::App;
use crate::domain::auth::{Principal, Role};
use crate::domain::ids::{ListingId, SubmissionId, TenantId};
use crate::domain::manifest::{self, version_cmp, ValidManifest};
use crate::domain::Error;
use crate::store::{Fail, StoredListing, SubmissionFilter, SubmissionRecord, Written};
use serde_json::{json, Value};

/// Where a submission publishes (its listing key) and what is published
/// there now. A private listing lives in its tenant's namespace and may not
/// reuse a public id; a public id takes new versions only from its owner
/// (the operator publishes with `PUT`). The version must be higher. Read from
/// the store, not a cache: approvals compare-and-set on what is read here.
async fn check_publishable(
    app: &App,
    tenant: &TenantId,
    visibility: &str,
    m: &ValidManifest,
) -> Result<(ListingId, Option<StoredListing>), Fail> {
    let slug = m.summary.id.as_str();
    let public_key = ListingId::parse(slug)?;
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
                let owner = match p.owner {
                    None => "the platform",
                    Some(_) => "another tenant",
                };
                return Err(Error::Forbidden(format!(
                    "Only the owner of '{slug}' ({owner}) publishes new versions of it."
                ))
                .into());
            }
        }
        (public_key, public)
    };
    if let Some(current) = &current {
        let published = serde_json::from_str::<Value>(&current.raw)
            .ok()
            .and_then(|v| v["version"].as_str().map(str::to_string))
            .unwrap_or_default();
        if version_cmp(&m.summary.version, &published) != std::cmp::Ordering::Greater {
            return Err(Error::StateConflict(format!(
                "Version {} of '{slug}' is not higher than the published {published}; raise `version`.",
                m.summary.version
            ))
            .into());
        }
    }
    Ok((key, current))
}

/// Submits `manifest` for review, stored `pending` with its event.
pub async fn create(
    app: &App,
    tenant: &TenantId,
    by: &str,
    manifest: &Value,
    visibility: String,
) -> Result<SubmissionRecord, Fail> {
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
               "visibility": record.visibility, "by": by}),
    );
    app.catalog.insert_submission(&record, &event).await?;
    Ok(record)
}

/// A submission the caller may see: its tenant's, or (the operator) any.
/// Anything else is not found.
pub async fn visible(app: &App, p: &Principal, id: &str) -> Result<SubmissionRecord, Fail> {
    let sid = SubmissionId::parse(id)?;
    let s = app
        .catalog
        .submission(sid.as_str())
        .await?
        .ok_or_else(|| Error::not_found("submission", id))?;
    if p.viewer().is_some_and(|t| &s.tenant != t) {
        return Err(Error::not_found("submission", id).into());
    }
    Ok(s)
}

/// Newest first, after `(created_at, id)`; the operator sees every tenant's.
pub async fn list(
    app: &App,
    p: &Principal,
    status: Option<String>,
    after: Option<(String, String)>,
    limit: usize,
) -> Result<Vec<SubmissionRecord>, Fail> {
    if let Some(s) = &status {
        if !matches!(s.as_str(), "pending" | "approved" | "rejected") {
            return Err(Error::invalid(
                "status",
                "Invalid status: expected pending, approved or rejected.",
            )
            .into());
        }
    }
    let f = SubmissionFilter {
        tenant: p.viewer().cloned(),
        status,
    };
    Ok(app.catalog.submissions(&f, after, limit).await?)
}

/// The submission `p` may review, and who the reviewer is: the operator for
/// public submissions, an admin of the submitting tenant for private ones.
pub async fn for_review(
    app: &App,
    p: &Principal,
    id: &str,
) -> Result<(SubmissionRecord, String), Fail> {
    let s = visible(app, p, id).await?;
    if s.visibility == "public" {
        p.require_operator()?;
        return Ok((s, "operator".into()));
    }
    if let Principal::Operator = p {
        return Err(Error::Forbidden(
            "A private submission is reviewed by an admin of its own tenant, not the operator."
                .into(),
        )
        .into());
    }
    let (_, by) = p.require(Role::Admin)?;
    Ok((s, by.to_string()))
}

fn not_pending(s: &SubmissionRecord) -> Fail {
    Error::StateConflict(format!(
        "The submission was already {}; only pending submissions can be reviewed.",
        s.status
    ))
    .into()
}

/// Publishes a pending submission in one transaction, compare-and-set on the
/// listing as read; answers the decided submission.
pub async fn approve(
    app: &App,
    p: &Principal,
    s: SubmissionRecord,
    by: &str,
) -> Result<SubmissionRecord, Fail> {
    if s.status != "pending" {
        return Err(not_pending(&s));
    }
    // Validated again: the schema or the allow-list may have changed since.
    let mut m = manifest::validate_for(&s.manifest, None, &app.config.allow)?;
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
            let again = visible(app, p, &s.id).await?;
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
    let mut done = s;
    done.status = "approved".into();
    done.decided_at = Some(now);
    Ok(done)
}

/// Rejects a pending submission with its reason.
pub async fn reject(
    app: &App,
    p: &Principal,
    s: SubmissionRecord,
    by: &str,
    reason: String,
) -> Result<SubmissionRecord, Fail> {
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
        let again = visible(app, p, &s.id).await?;
        return Err(not_pending(&again));
    }
    let mut done = s;
    done.status = "rejected".into();
    done.reason = Some(reason);
    done.decided_at = Some(now);
    Ok(done)
}
