//! The connector catalog: browse, read a listing (or one of its versions)
//! verbatim with ETag, category counts, versions, and the operator's publish
//! and de-list routes. De-listed listings and other tenants' private ones are
//! not found here (API §3, §8).

use super::error::ApiError;
use super::http::{HttpRequest, HttpResponse};
use super::App;
use crate::domain::auth::Principal;
use crate::domain::catalog::{categories, search, CatalogQuery};
use crate::domain::ids::{slug_of, ListingId, TenantId};
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
    // A private listing whose id a public one took later is not shown: the id
    // means the public listing (its instances keep running on their version).
    let public: std::collections::HashSet<&str> = index
        .iter()
        .filter(|e| e.visibility == "public")
        .map(|e| e.summary.id.as_str())
        .collect();
    Ok(index
        .iter()
        .filter(|e| e.browsable_by(tenant))
        .filter(|e| e.visibility == "public" || !public.contains(slug_of(&e.summary.id)))
        .map(|e| {
            let mut s = e.summary.clone();
            s.id = slug_of(&e.summary.id).to_string();
            s.visibility = e.visibility.clone();
            s.owner = e.owner.clone().unwrap_or_else(|| "platform".into());
            s
        })
        .collect())
}

/// The key of the listing `slug` as `tenant` sees it: the public listing of
/// that id when there is one (a private listing never shadows it), else the
/// tenant's private listing. A stored key (`ten_…/slug`, an instance's
/// `listing`) names the tenant's own private listing directly.
pub async fn resolve_key(
    app: &App,
    tenant: Option<&TenantId>,
    id: &str,
) -> Result<Option<(ListingId, Rc<StoredListing>)>, ApiError> {
    let not_found = || ApiError::from(Error::not_found("listing", id)).param("listing");
    let key = ListingId::from_key(id).map_err(|_| not_found())?;
    if let Some(owner) = key.private_owner() {
        if tenant.map(TenantId::as_str) != Some(owner) {
            return Err(not_found());
        }
        return Ok(app.catalog().listing(&key).await?.map(|l| (key, l)));
    }
    if let Some(l) = app.catalog().listing(&key).await? {
        return Ok(Some((key, l)));
    }
    let Some(t) = tenant else { return Ok(None) };
    let private = ListingId::private(t, id)?;
    Ok(app.catalog().listing(&private).await?.map(|l| (private, l)))
}

pub async fn find_live(
    app: &App,
    tenant: Option<&TenantId>,
    id: &str,
) -> Result<(ListingId, Rc<StoredListing>), ApiError> {
    resolve_key(app, tenant, id)
        .await?
        .filter(|(_, l)| l.status == "live" && l.visible_to(tenant))
        .ok_or_else(|| ApiError::from(Error::not_found("listing", id)).param("listing"))
}

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
    let (lid, latest) = find_live(app, viewer(&p), id).await?;
    let listing = match version {
        None => latest,
        Some(v) => app.catalog().version(&lid, &v).await?.ok_or_else(|| {
            ApiError::from(Error::not_found("listing version", &v)).param("version")
        })?,
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
    let changed = app.catalog().put(&id, raw).await? == Put::Changed;
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
    let (lid, latest) = find_live(app, viewer(&p), id).await?;
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

/// `POST /v1/catalog/{listing}/relist` — operator only: a de-listed listing
/// is live again, on the version it had. `PUT` never re-lists by itself, so
/// reloading the catalog from disk cannot undo a de-listing.
pub async fn relist(app: &App, req: &HttpRequest, id: &str) -> Result<HttpResponse, ApiError> {
    app.principal(req).await?.require_operator()?;
    no_query(req)?;
    super::extract::JsonBody::parse(&req.body)?.only(&[])?;
    let lid = ListingId::parse(id)?;
    if app.catalog.listing(&lid).await?.is_none() {
        return Err(Error::not_found("listing", id).into());
    }
    let changed = app.catalog.relist(&lid, &app.now.rfc3339()).await?;
    app.catalog().invalidate(&lid).await?;
    Ok(HttpResponse::json(
        200,
        &json!({"id": id, "object": "listing", "status": "live", "changed": changed}),
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
