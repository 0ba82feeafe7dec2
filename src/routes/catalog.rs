//! The connector catalog: browse, read a listing (or one of its versions)
//! verbatim with ETag, category counts, versions, and the operator's publish
//! and de-list routes. De-listed listings and other tenants' private ones are
//! not found here (API §3, §8).

use super::error::ApiError;
use super::http::{HttpRequest, HttpResponse};
use super::App;
use crate::domain::auth::Principal;
use crate::domain::catalog::{categories, search, CatalogQuery};
use crate::domain::ids::{ListingId, TenantId};
use crate::domain::manifest::{version_cmp, ListingSummary};
use crate::domain::Error;
use crate::store::{Put, StoredListing};
use serde_json::json;
use std::rc::Rc;

/// The tenant whose private listings the caller sees (`None`: the operator).
pub fn viewer(p: &Principal) -> Option<&TenantId> {
    match p {
        Principal::Key { tenant, .. } => Some(tenant),
        Principal::Operator => None,
    }
}

/// What `tenant` may browse: live listings, public or its own private ones.
async fn visible(app: &App, tenant: Option<&TenantId>) -> Result<Vec<ListingSummary>, ApiError> {
    let index = app.catalog().index().await?;
    Ok(index
        .iter()
        .filter(|e| e.browsable_by(tenant))
        .map(|e| {
            let mut s = e.summary.clone();
            s.visibility = e.visibility.clone();
            s
        })
        .collect())
}

/// A live listing `tenant` may see, or `404` (de-listed and other tenants'
/// private listings are not found).
pub async fn find_live(
    app: &App,
    tenant: Option<&TenantId>,
    id: &str,
) -> Result<Rc<StoredListing>, ApiError> {
    let lid = ListingId::parse(id).map_err(|e| ApiError::from(e).param("listing"))?;
    app.catalog()
        .listing(&lid)
        .await?
        .filter(|l| l.status == "live" && l.visible_to(tenant))
        .ok_or_else(|| ApiError::from(Error::not_found("listing", id)).param("listing"))
}

/// `GET /v1/catalog` — listing summaries, filtered, paged, with `total`.
pub async fn list_catalog(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let p = app.principal(req).await?;
    let q = CatalogQuery::parse(&req.query)?;
    let index = visible(app, viewer(&p)).await?;
    Ok(HttpResponse::json(200, &search(&index, &q)?))
}

/// `GET /v1/catalog/categories` — categories with listing counts.
pub async fn list_categories(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let p = app.principal(req).await?;
    no_query(req)?;
    let index = visible(app, viewer(&p)).await?;
    let data = categories(&index);
    Ok(HttpResponse::json(
        200,
        &json!({"object": "list", "data": data, "has_more": false, "next_cursor": null}),
    ))
}

/// `GET /v1/catalog/{listing}[?version=]` — the manifest verbatim;
/// `If-None-Match` → 304.
pub async fn get_listing(app: &App, req: &HttpRequest, id: &str) -> Result<HttpResponse, ApiError> {
    let p = app.principal(req).await?;
    let mut version = None;
    for (k, v) in &req.query {
        match k.as_str() {
            "version" => version = Some(v.clone()).filter(|v| !v.is_empty()),
            _ => {
                return Err(
                    Error::invalid(k.clone(), format!("Unknown query parameter '{k}'.")).into(),
                )
            }
        }
    }
    let latest = find_live(app, viewer(&p), id).await?;
    let listing = match version {
        None => latest,
        Some(v) => {
            let lid = ListingId::parse(id)?;
            app.catalog().version(&lid, &v).await?.ok_or_else(|| {
                ApiError::from(Error::not_found("listing version", &v)).param("version")
            })?
        }
    };
    let revalidate = ("cache-control", "private, no-cache");
    if let Some(inm) = req.header("if-none-match") {
        if etag_matches(inm, &listing.etag) {
            return Ok(HttpResponse::empty(304)
                .header("etag", &listing.etag)
                .header(revalidate.0, revalidate.1));
        }
    }
    Ok(HttpResponse::raw_json(200, listing.raw.as_bytes().to_vec())
        .header("etag", &listing.etag)
        .header(revalidate.0, revalidate.1))
}

/// `PUT /v1/catalog/{listing}` — operator only: validates the manifest in the
/// body and publishes it (insert or replace), invalidating the caches.
pub async fn put_listing(app: &App, req: &HttpRequest, id: &str) -> Result<HttpResponse, ApiError> {
    app.principal(req).await?.require_operator()?;
    let id = ListingId::parse(id)?;
    let raw = std::str::from_utf8(&req.body)
        .map_err(|_| Error::MalformedJson("The request body is not UTF-8.".into()))?;
    let changed = match app.catalog().put(&id, raw).await? {
        Put::Changed => true,
        Put::Unchanged => false,
        Put::PrivateId => {
            return Err(Error::StateConflict(format!(
            "The listing id '{}' belongs to a tenant's private listing; publish under another id.",
            id.as_str()
        ))
            .into())
        }
    };
    let listing = app
        .catalog()
        .listing(&id)
        .await?
        .ok_or_else(|| ApiError::internal("a listing just written cannot be read back"))?;
    Ok(HttpResponse::json(
        200,
        &json!({"id": id.as_str(), "object": "listing", "etag": listing.etag, "changed": changed}),
    ))
}

/// `GET /v1/catalog/{listing}/versions` — every published version, newest first.
pub async fn list_versions(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let p = app.principal(req).await?;
    no_query(req)?;
    let latest = find_live(app, viewer(&p), id).await?;
    let lid = ListingId::parse(id)?;
    let mut versions = app.catalog.versions(&lid).await?;
    versions.sort_by(|a, b| version_cmp(&b.version, &a.version));
    let data: Vec<_> = versions
        .iter()
        .map(|v| json!({"object": "listing_version", "listing": id, "version": v.version,
                        "etag": v.etag, "published_at": v.published_at, "latest": v.etag == latest.etag}))
        .collect();
    Ok(HttpResponse::json(
        200,
        &json!({"object": "list", "data": data, "has_more": false, "next_cursor": null}),
    ))
}

/// `DELETE /v1/catalog/{listing}` — operator only: de-lists softly. Browse,
/// reads, verify and install stop finding it; installed instances keep working.
pub async fn delist(app: &App, req: &HttpRequest, id: &str) -> Result<HttpResponse, ApiError> {
    app.principal(req).await?.require_operator()?;
    no_query(req)?;
    let lid = ListingId::parse(id)?;
    if app.catalog.listing(&lid).await?.is_none() {
        return Err(Error::not_found("listing", id).into());
    }
    let changed = app.catalog.delist(&lid, &app.now.rfc3339()).await?;
    app.catalog().invalidate(&lid).await?;
    Ok(HttpResponse::json(
        200,
        &json!({"id": id, "object": "listing", "status": "delisted", "changed": changed}),
    ))
}

fn no_query(req: &HttpRequest) -> Result<(), Error> {
    match req.query.first() {
        Some((k, _)) => Err(Error::invalid(
            k.clone(),
            format!("Unknown query parameter '{k}'."),
        )),
        None => Ok(()),
    }
}

/// RFC 9110 `If-None-Match`: `*` or a list of (possibly weak) tags.
fn etag_matches(header: &str, etag: &str) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}
