//! Installed connectors as use cases (API §4): the caller's instance by id,
//! update (rename, config, rotation), upgrade to the listing's latest
//! version, uninstall. Updates and upgrades are planned first (the request
//! is checked, nothing is sent or stored) so the caller can take the plan's
//! locks; applying the plan verifies a new credential before it replaces the
//! old one and writes the instance with its event.

use super::consent::{self, Consent};
use super::install::{check_credential, health_after, seal};
use super::locks::{self, Locks};
use super::vault::open_fields;
use super::App;
use crate::domain::connector::{validate_name, AuthInput, Status};
use crate::domain::ids::{ConnectorId, TenantId};
use crate::domain::manifest::Listing;
use crate::domain::Error;
use crate::probe::credential::credential_hosts;
use crate::store::{ConnectorRecord, Fail, StoreError, Written};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

/// The caller's tenant's instance by path id; anything else is not found.
pub async fn owned(app: &App, tenant: &TenantId, id: &str) -> Result<ConnectorRecord, Fail> {
    let id = ConnectorId::parse(id)?;
    app.connectors
        .connector(tenant, &id)
        .await?
        .ok_or_else(|| Error::not_found("connector", id.as_str()).into())
}

/// The status (`live` / `delisted`) of each of `listings` (a page's), for
/// `listing_status`: one lookup each in the isolate's catalog index.
pub async fn listing_statuses<'a>(
    app: &App,
    listings: impl IntoIterator<Item = &'a str>,
) -> Result<HashMap<String, String>, StoreError> {
    let index = app.catalog().index().await?;
    let index = index.borrow();
    Ok(listings
        .into_iter()
        .map(|l| {
            (
                l.to_string(),
                index.status(l).unwrap_or("delisted").to_string(),
            )
        })
        .collect())
}

/// One listing's status; a listing no longer in the index is `delisted`.
pub async fn listing_status(app: &App, listing: &str) -> Result<String, StoreError> {
    let index = app.catalog().index().await?;
    let status = index
        .borrow()
        .status(listing)
        .unwrap_or("delisted")
        .to_string();
    Ok(status)
}

/// A changed instance, with the fresh consent it now needs, if any.
pub struct Changed {
    pub connector: ConnectorRecord,
    pub listing_status: String,
    /// `Some` when the instance now waits for consent (`Some(None)`: the
    /// listing declares no endpoints).
    pub consent: Option<Option<Consent>>,
}

/// A `PATCH` as the caller sent it (strings already bounded).
pub struct UpdateRequest {
    pub name: Option<String>,
    pub crew_id: Option<String>,
    pub auth: Option<Value>,
    /// `Some(None)`: `config` was sent as `null`.
    pub config: Option<Option<Value>>,
}

/// A checked update, ready to apply under its locks.
pub struct UpdatePlan {
    current: ConnectorRecord,
    listing: Rc<Listing>,
    listing_status: String,
    name: Option<String>,
    crew_id: Option<String>,
    auth: Option<AuthInput>,
    /// The new config, when it differs from the stored one.
    config: Option<Map<String, Value>>,
    /// An OAuth token would now reach another host: consent again.
    reconsent: bool,
}

fn config_of(c: &ConnectorRecord) -> Map<String, Value> {
    c.config.as_object().cloned().unwrap_or_default()
}

/// Checks an update. A config change must come with the credential again,
/// so that a stored secret can never be pointed at a new host by whoever
/// holds a manager key; an OAuth token that the new config would send to
/// another host is dropped, and the instance asks for consent again (API §10).
pub async fn plan_update(
    app: &App,
    tenant: &TenantId,
    id: &str,
    req: UpdateRequest,
) -> Result<UpdatePlan, Fail> {
    let current = owned(app, tenant, id).await?;
    let listing = super::listings::of_instance(app, &current).await?;
    let listing_status = listing_status(app, &current.listing).await?;
    if let Some(n) = &req.name {
        validate_name(n)?;
    }
    let auth = match &req.auth {
        Some(v) if !v.is_null() => Some(AuthInput::parse(Some(v), &listing)?),
        _ => None,
    };
    let config = match &req.config {
        Some(c) => Some(super::listings::checked_config(app, c.as_ref(), &listing)?),
        None => None,
    }
    .filter(|c| Value::Object(c.clone()) != current.config);
    // A database listing's target is in its connection string, not its
    // config (read_only, timeouts): changing config moves nothing.
    let moves = listing.transport != "database";
    if config.is_some() && auth.is_none() && !listing.auth_fields.is_empty() && moves {
        return Err(Error::missing("auth")
            .reworded("Changing config needs the credential again (auth): a stored secret is never sent to a new target unverified.")
            .into());
    }
    let reconsent = config.as_ref().is_some_and(|c| {
        current.auth_type.is_oauth()
            && credential_hosts(&listing, c) != credential_hosts(&listing, &config_of(&current))
    });
    Ok(UpdatePlan {
        current,
        listing,
        listing_status,
        name: req.name,
        crew_id: req.crew_id,
        auth,
        config,
        reconsent,
    })
}

impl UpdatePlan {
    /// The instance, and a new name's claim (the old name is free once renamed).
    pub fn locks(&self) -> Locks {
        let mut l = Locks::take(vec![locks::connector(&self.current.id)]);
        if let Some(n) = self.name.as_ref().filter(|n| **n != self.current.name) {
            l.take.push(locks::name(n));
            l.free.push(locks::name(&self.current.name));
        }
        l
    }
}

/// Applies a planned update. A rejected rotation keeps the old secret.
pub async fn update(
    app: &App,
    by: &str,
    plan: UpdatePlan,
    redirect_uri: &str,
) -> Result<Changed, Fail> {
    let UpdatePlan {
        current,
        listing,
        listing_status,
        name,
        crew_id,
        auth,
        config,
        reconsent,
    } = plan;
    let tenant = &current.tenant;
    let mut next = current.clone();
    let mut changed = vec![];
    if let Some(n) = name.filter(|n| *n != current.name) {
        if app.connectors.name_taken(tenant, &n).await? {
            return Err(Error::name_taken(&n).into());
        }
        next.name = n;
        changed.push("name");
    }
    if let Some(c) = crew_id.filter(|c| Some(c) != current.crew_id.as_ref()) {
        next.crew_id = Some(c);
        changed.push("crew_id");
    }
    if let Some(c) = config {
        next.config = Value::Object(c);
        changed.push("config");
    }
    if let Some(a) = &auth {
        if !a.mode.is_oauth() {
            // Verified first: a rejected rotation keeps the old secret.
            let checked = check_credential(app, &listing, a, &config_of(&next)).await?;
            next.health = health_after(app, &checked);
            next.status = Status::Connected;
        }
        next.secret = seal(app, tenant, &next.id, a)?;
        next.auth_hint = a.hint(&listing);
        changed.push("auth");
    }
    let mut consent_fields = None;
    if reconsent {
        let fields = match &auth {
            Some(a) => a.fields.clone(),
            None => open_fields(app, &current)?,
        };
        consent_fields =
            Some(consent::reset(app, &listing, &mut next, fields, redirect_uri).await?);
        changed.push("status");
    }
    if changed.is_empty() {
        return Ok(Changed {
            connector: current,
            listing_status,
            consent: None,
        });
    }
    next.updated_at = app.now.rfc3339();
    let event = app.event_for(
        tenant,
        &next.id,
        "connector.updated",
        json!({"changed": changed, "by": by}),
    );
    store(app, &next, &event).await?;
    let consent = match consent_fields {
        Some(f) => Some(consent::start(app, &next, &listing, &f, redirect_uri).await?),
        None => None,
    };
    Ok(Changed {
        connector: next,
        listing_status,
        consent,
    })
}

async fn store(
    app: &App,
    next: &ConnectorRecord,
    event: &crate::store::EventRecord,
) -> Result<(), Fail> {
    match app
        .connectors
        .update_connector(&next.tenant, next, Some(event))
        .await?
    {
        Written::Done => Ok(()),
        Written::NameTaken => Err(Error::name_taken(&next.name).into()),
        Written::Gone => Err(Error::not_found("connector", next.id.as_str()).into()),
    }
}

/// A checked upgrade, ready to apply under its locks.
pub struct UpgradePlan {
    current: ConnectorRecord,
    latest: Rc<Listing>,
    config: Map<String, Value>,
    auth: Option<AuthInput>,
    /// The new version sends the credential to other hosts.
    moved: bool,
}

/// What `plan_upgrade` found.
pub enum Upgrade {
    /// Already on the latest version: nothing to do.
    Current(ConnectorRecord),
    Planned(UpgradePlan),
}

/// Checks an upgrade to the listing's latest version: the stored config
/// must pass the new version's schema, and a version that sends the
/// credential to other hosts needs it again (static) or a fresh consent
/// (OAuth) (API §10).
pub async fn plan_upgrade(
    app: &App,
    tenant: &TenantId,
    id: &str,
    auth: Option<&Value>,
) -> Result<Upgrade, Fail> {
    let current = owned(app, tenant, id).await?;
    let latest = match super::listings::live(app, tenant, &current.listing).await {
        Ok(l) => l,
        Err(Fail::Domain(Error::NotFound { .. })) => {
            return Err(Error::StateConflict(format!(
                "The listing '{}' is de-listed: there is no version to upgrade to.",
                crate::domain::ids::slug_of(&current.listing)
            ))
            .into())
        }
        Err(e) => return Err(e),
    };
    if latest.version == current.listing_version {
        return Ok(Upgrade::Current(current));
    }
    let config =
        super::listings::checked_config(app, Some(&current.config), &latest).map_err(|e| {
            e.reworded(format!(
            "The connector's config does not satisfy version {} of '{}'; update the config first.",
            latest.version, latest.id
        ))
        })?;
    let before = super::listings::of_instance(app, &current).await?;
    let moved =
        credential_hosts(&before, &config_of(&current)) != credential_hosts(&latest, &config);
    let auth = match auth {
        Some(v) if !v.is_null() => Some(AuthInput::parse(Some(v), &latest)?),
        _ => None,
    };
    if moved && !current.auth_type.is_oauth() && auth.is_none() && !latest.auth_fields.is_empty() {
        return Err(Error::missing("auth")
            .reworded(format!(
                "Version {} of '{}' sends the credential to other hosts: upgrade with the credential again (auth).",
                latest.version, latest.id
            ))
            .into());
    }
    Ok(Upgrade::Planned(UpgradePlan {
        current,
        latest,
        config,
        auth,
        moved,
    }))
}

impl UpgradePlan {
    pub fn locks(&self) -> Locks {
        Locks::take(vec![locks::connector(&self.current.id)])
    }
}

/// Applies a planned upgrade: a new static credential is verified against
/// the new version first, as a rotation is.
pub async fn upgrade(
    app: &App,
    by: &str,
    plan: UpgradePlan,
    redirect_uri: &str,
) -> Result<Changed, Fail> {
    let UpgradePlan {
        current,
        latest,
        config,
        auth,
        moved,
    } = plan;
    let tenant = &current.tenant;
    let mut next = current.clone();
    if let Some(a) = auth.as_ref().filter(|a| !a.mode.is_oauth()) {
        let checked = check_credential(app, &latest, a, &config).await?;
        next.health = health_after(app, &checked);
        next.status = Status::Connected;
        next.secret = seal(app, tenant, &next.id, a)?;
        next.auth_hint = a.hint(&latest);
    }
    next.listing_version = latest.version.clone();
    next.kind = latest.kind.clone();
    next.transport = latest.transport.clone();
    next.capabilities = latest.capabilities.clone();
    next.tools = serde_json::to_value(&latest.tools).expect("tools serialise");
    next.config = Value::Object(config);
    next.updated_at = app.now.rfc3339();
    let consent_fields: Option<BTreeMap<String, String>> = if moved && current.auth_type.is_oauth()
    {
        let fields = match &auth {
            Some(a) => a.fields.clone(),
            None => open_fields(app, &current)?,
        };
        Some(consent::reset(app, &latest, &mut next, fields, redirect_uri).await?)
    } else {
        None
    };
    let event = app.event_for(
        tenant,
        &next.id,
        "connector.upgraded",
        json!({"from": current.listing_version, "to": next.listing_version, "by": by}),
    );
    store(app, &next, &event).await?;
    let consent = match consent_fields {
        Some(f) => Some(consent::start(app, &next, &latest, &f, redirect_uri).await?),
        None => None,
    };
    Ok(Changed {
        connector: next,
        listing_status: "live".into(),
        consent,
    })
}

/// An uninstall's locks: the instance and the tenant's bindings (an
/// uninstall must not race a binding that comes to depend on it); its name
/// is free once uninstalled.
pub fn uninstall_locks(c: &ConnectorRecord) -> Locks {
    Locks {
        take: vec![locks::connector(&c.id), locks::BINDINGS.to_string()],
        free: vec![locks::name(&c.name)],
        keep_on_success: false,
    }
}

/// Uninstalls an instance, refused while a binding depends on it; purges its
/// credential, keeps its events. Call under [`uninstall_locks`].
pub async fn uninstall(app: &App, by: &str, current: &ConnectorRecord) -> Result<(), Fail> {
    let tenant = &current.tenant;
    let dependents = super::bindings::dependents(app, tenant, current).await?;
    if !dependents.is_empty() {
        return Err(Error::ConnectorInUse {
            connector: current.id.to_string(),
            dependents,
        }
        .into());
    }
    let event = app.event_for(
        tenant,
        &current.id,
        "connector.uninstalled",
        json!({"listing": crate::domain::ids::slug_of(&current.listing), "name": current.name, "by": by}),
    );
    if !app
        .connectors
        .delete_connector(tenant, &current.id, &event)
        .await?
    {
        return Err(Error::not_found("connector", current.id.as_str()).into());
    }
    Ok(())
}
