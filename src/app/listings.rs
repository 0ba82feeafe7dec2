//! The listing a use case works with, parsed once per isolate: the live
//! version a tenant may install, the version an instance runs on, and a
//! config checked against a version's schema.

use super::App;
use crate::domain::connector::validate_config;
use crate::domain::ids::{ListingId, TenantId};
use crate::domain::manifest::Listing;
use crate::domain::Error;
use crate::store::{ConnectorRecord, Fail, StoreError, StoredListing};
use serde_json::{Map, Value};
use std::rc::Rc;

/// A live listing `tenant` may install (its latest version), parsed.
/// De-listed listings and other tenants' private ones are not found.
pub async fn live(app: &App, tenant: &TenantId, id: &str) -> Result<Rc<Listing>, Fail> {
    let (key, stored) = super::catalog::find_live(app, Some(tenant), id).await?;
    Ok(parsed(app, &stored, key.as_str())?)
}

/// The listing version an instance runs on, parsed: instances keep working
/// on their `listing_version`, whatever has been published or de-listed since.
pub async fn of_instance(app: &App, c: &ConnectorRecord) -> Result<Rc<Listing>, Fail> {
    let lid = ListingId::from_key(&c.listing)?;
    let stored = app
        .catalog()
        .version(&lid, &c.listing_version)
        .await?
        .ok_or_else(|| {
            StoreError(format!(
                "listing {} version {} of instance {} is missing",
                c.listing, c.listing_version, c.id
            ))
        })?;
    Ok(parsed(app, &stored, &c.listing)?)
}

/// A stored listing parsed, through the per-isolate cache keyed by ETag;
/// `key` is where it is stored (`ListingId`).
pub fn parsed(app: &App, stored: &StoredListing, key: &str) -> Result<Rc<Listing>, StoreError> {
    if let Some(l) = app.shared.parsed(&stored.etag).filter(|l| l.key == key) {
        return Ok(l);
    }
    let mut l = Listing::parse(&stored.raw)
        .map_err(|e| StoreError(format!("stored listing {key} does not parse: {e}")))?;
    l.etag = stored.etag.clone();
    l.key = key.to_string();
    let l = Rc::new(l);
    app.shared.remember_parsed(l.clone());
    Ok(l)
}

/// `config` checked against the listing's `config_schema`, defaults applied
/// (memoised per listing version: see `Shared::verdict`).
pub fn checked_config(
    app: &App,
    config: Option<&Value>,
    listing: &Listing,
) -> Result<Map<String, Value>, Error> {
    app.shared
        .verdict(listing, config, || validate_config(config, listing))
}
