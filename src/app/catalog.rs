//! Catalog use cases: what a caller may browse and read, where a slug leads
//! (the public listing, else the caller's private one: a private listing
//! never shadows a public id), and the operator's publish, de-list and
//! re-list. Answers records and domain errors; routes render them.

use super::App;
use crate::domain::catalog::{CatalogQuery, CategoryCount};
use crate::domain::ids::{ListingId, TenantId};
use crate::domain::manifest::version_cmp;
use crate::domain::Error;
use crate::store::{Fail, Put, StoredListing, VersionRecord};
use std::rc::Rc;

/// One page of the catalog as `tenant` (or the operator, `None`) browses
/// it, rendered: live public listings and the tenant's own private ones, a
/// private one whose id a public listing took later left out (the id means
/// the public listing).
pub async fn browse(
    app: &App,
    tenant: Option<&TenantId>,
    q: &CatalogQuery,
) -> Result<Vec<u8>, Fail> {
    let index = app.catalog().index().await?;
    let page = index.borrow().page(q, tenant.map(TenantId::as_str))?;
    Ok(page)
}

/// The categories `tenant` browses, with how many listings each.
pub async fn categories(app: &App, tenant: Option<&TenantId>) -> Result<Vec<CategoryCount>, Fail> {
    let index = app.catalog().index().await?;
    let counts = index.borrow().categories(tenant.map(TenantId::as_str));
    Ok(counts)
}

/// Where the listing `id` is stored as `tenant` sees it: the public listing
/// of that id when there is one (whatever its status), else the tenant's
/// private listing. A stored key (`ten_…/slug`, an instance's `listing`)
/// names the tenant's own private listing directly.
pub async fn resolve(
    app: &App,
    tenant: Option<&TenantId>,
    id: &str,
) -> Result<Option<(ListingId, Rc<StoredListing>)>, Fail> {
    let Ok(key) = ListingId::from_key(id) else {
        return Ok(None);
    };
    if let Some(owner) = key.private_owner() {
        if tenant.map(TenantId::as_str) != Some(owner) {
            return Ok(None);
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

/// A live listing `tenant` may see, with its key; anything else is not found.
pub async fn find_live(
    app: &App,
    tenant: Option<&TenantId>,
    id: &str,
) -> Result<(ListingId, Rc<StoredListing>), Fail> {
    resolve(app, tenant, id)
        .await?
        .filter(|(_, l)| l.status == "live" && l.visible_to(tenant))
        .ok_or_else(|| Error::not_found("listing", id).into())
}

/// One listing as read: the latest version, or `version` of it.
pub async fn read(
    app: &App,
    tenant: Option<&TenantId>,
    id: &str,
    version: Option<&str>,
) -> Result<Rc<StoredListing>, Fail> {
    let (key, latest) = find_live(app, tenant, id).await?;
    match version {
        None => Ok(latest),
        Some(v) => Ok(app
            .catalog()
            .version(&key, v)
            .await?
            .ok_or_else(|| Error::not_found("listing version", v))?),
    }
}

/// Every published version, newest first, with the latest one's ETag.
pub async fn versions(
    app: &App,
    tenant: Option<&TenantId>,
    id: &str,
) -> Result<(Vec<VersionRecord>, String), Fail> {
    let (key, latest) = find_live(app, tenant, id).await?;
    let mut versions = app.catalog.versions(&key).await?;
    versions.sort_by(|a, b| version_cmp(&b.version, &a.version));
    Ok((versions, latest.etag.clone()))
}

/// The operator's publish (`PUT`): whether anything changed, and the ETag
/// now stored (read back from the store).
pub async fn publish(app: &App, id: &str, raw: &str) -> Result<(bool, String), Fail> {
    let id = ListingId::parse(id)?;
    let changed = app.catalog().put(&id, raw).await? == Put::Changed;
    let listing = app.catalog().listing(&id).await?.ok_or_else(|| {
        Fail::Store(crate::store::StoreError(format!(
            "listing {} just written cannot be read back",
            id.as_str()
        )))
    })?;
    Ok((changed, listing.etag.clone()))
}

/// De-lists (`live: false`) or re-lists (`live: true`) a public listing;
/// `false` when it already was.
pub async fn set_live(app: &App, id: &str, live: bool) -> Result<bool, Fail> {
    let key = ListingId::parse(id)?;
    if app.catalog.listing(&key).await?.is_none() {
        return Err(Error::not_found("listing", id).into());
    }
    let now = app.now.rfc3339();
    let changed = if live {
        app.catalog.relist(&key, &now).await?
    } else {
        app.catalog.delist(&key, &now).await?
    };
    app.catalog().invalidate(&key).await?;
    Ok(changed)
}
