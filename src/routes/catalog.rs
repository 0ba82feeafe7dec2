//! The connector catalog: browse, read a listing (or one of its versions)
//! verbatim with ETag, category counts, versions, and the operator's publish
//! and de-list routes. De-listed listings and other tenants' private ones are
//! not found here (API §3, §8).

use super::error::ApiError;
use super::extract::no_query;
use super::http::{HttpRequest, HttpResponse};
use super::App;
use crate::domain::catalog::CatalogQuery;
use crate::domain::Error;
use crate::store::Fail;
use serde_json::json;

/// `404` for a listing names `listing` (or `version`) as the parameter.
pub(super) fn listing_error(e: Fail) -> ApiError {
    let param = match &e {
        Fail::Domain(Error::NotFound {
            kind: "listing", ..
        }) => Some("listing"),
        Fail::Domain(Error::NotFound {
            kind: "listing version",
            ..
        }) => Some("version"),
        _ => None,
    };
    let e = ApiError::from(e);
    match param {
        Some(p) => e.param(p),
        None => e,
    }
}

/// `GET /v1/catalog` — a page of listings (filters, search), with `total`.
pub async fn list_catalog(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let p = app.linked_principal(req).await?;
    let q = CatalogQuery::parse(&req.query)?;
    let page = crate::app::catalog::browse(app, p.viewer(), &q).await?;
    Ok(HttpResponse::raw_json(200, page))
}

/// `GET /v1/catalog/categories` — categories with listing counts.
pub async fn list_categories(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let p = app.linked_principal(req).await?;
    no_query(req)?;
    let data = crate::app::catalog::categories(app, p.viewer()).await?;
    Ok(HttpResponse::json(
        200,
        &json!({"object": "list", "data": data, "has_more": false, "next_cursor": null}),
    ))
}

/// `GET /v1/catalog/{listing}[?version=]` — the manifest verbatim;
/// `If-None-Match` → 304.
pub async fn get_listing(app: &App, req: &HttpRequest, id: &str) -> Result<HttpResponse, ApiError> {
    let p = app.linked_principal(req).await?;
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
    let listing = crate::app::catalog::read(app, p.viewer(), id, version.as_deref())
        .await
        .map_err(listing_error)?;
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
    let raw = std::str::from_utf8(&req.body)
        .map_err(|_| Error::MalformedJson("The request body is not UTF-8.".into()))?;
    let (changed, etag) = crate::app::catalog::publish(app, id, raw).await?;
    Ok(HttpResponse::json(
        200,
        &json!({"id": id, "object": "listing", "etag": etag, "changed": changed}),
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
    let (versions, latest) = crate::app::catalog::versions(app, p.viewer(), id)
        .await
        .map_err(listing_error)?;
    let data: Vec<_> = versions
        .iter()
        .map(|v| {
            json!({"object": "listing_version", "listing": id, "version": v.version,
                        "etag": v.etag, "published_at": v.published_at, "latest": v.etag == latest})
        })
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
    let changed = crate::app::catalog::set_live(app, id, false).await?;
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
    let changed = crate::app::catalog::set_live(app, id, true).await?;
    Ok(HttpResponse::json(
        200,
        &json!({"id": id, "object": "listing", "status": "live", "changed": changed}),
    ))
}

/// RFC 9110 `If-None-Match`: `*` or a list of (possibly weak) tags.
fn etag_matches(header: &str, etag: &str) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}
