//! The connector catalog: browse, read a listing verbatim with ETag, category
//! counts, and the operator's publish route used by the catalog loader.

use super::error::ApiError;
use super::http::{HttpRequest, HttpResponse};
use super::App;
use crate::domain::catalog::{categories, search, CatalogQuery};
use crate::domain::ids::ListingId;
use crate::domain::Error;
use serde_json::json;

/// `GET /v1/catalog` — listing summaries, filtered, paged, with `total`.
pub async fn list_catalog(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    app.principal(req).await?;
    let q = CatalogQuery::parse(&req.query)?;
    let index = app.catalog().index().await?;
    Ok(HttpResponse::json(200, &search(&index, &q)?))
}

/// `GET /v1/catalog/categories` — categories with listing counts.
pub async fn list_categories(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    app.principal(req).await?;
    no_query(req)?;
    let index = app.catalog().index().await?;
    let data = categories(&index);
    Ok(HttpResponse::json(
        200,
        &json!({"object": "list", "data": data, "has_more": false, "next_cursor": null}),
    ))
}

/// `GET /v1/catalog/{listing}` — the manifest verbatim; `If-None-Match` → 304.
pub async fn get_listing(app: &App, req: &HttpRequest, id: &str) -> Result<HttpResponse, ApiError> {
    app.principal(req).await?;
    no_query(req)?;
    let id = ListingId::parse(id)?;
    let listing = app
        .catalog()
        .listing(&id)
        .await?
        .ok_or_else(|| Error::not_found("listing", id.as_str()))?;
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
    let changed = app.catalog().put(&id, raw).await?;
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
