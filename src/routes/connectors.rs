//! Installed connectors: list, read, update (rename, config, rotation),
//! uninstall (API §4).

use super::discovery;
use super::error::ApiError;
use super::extract::{list_json, list_query, JsonBody};
use super::http::{HttpRequest, HttpResponse};
use super::install::{health_json, name_taken, probe, require_accepted, seal};
use super::oauth::{open_fields, redirect_uri, seal_fields, start_consent};
use super::write::{guarded, Locks};
use super::App;
use crate::domain::auth::Role;
use crate::domain::connector::{validate_name, AuthInput};
use crate::domain::ids::ConnectorId;
use crate::domain::manifest::Listing;
use crate::domain::Error;
use crate::probe::credential::credential_hosts;
use crate::store::{ConnectorFilter, ConnectorRecord, Written};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

/// A live listing `tenant` may install (its latest version), parsed.
/// De-listed listings and other tenants' private ones are not found.
pub async fn load_listing(
    app: &App,
    tenant: &crate::domain::ids::TenantId,
    id: &str,
) -> Result<Rc<Listing>, ApiError> {
    crate::app::listings::live(app, tenant, id)
        .await
        .map_err(super::catalog::listing_error)
}

pub use crate::app::listings::{checked_config, of_instance as instance_listing};

/// Each listing's status (`live` / `delisted`), for `listing_status`.
pub async fn listing_statuses(app: &App) -> Result<HashMap<String, String>, ApiError> {
    Ok(app
        .catalog()
        .index()
        .await?
        .iter()
        .map(|e| (e.summary.id.clone(), e.status.clone()))
        .collect())
}

async fn listing_status(app: &App, listing: &str) -> Result<String, ApiError> {
    Ok(app
        .catalog()
        .index()
        .await?
        .iter()
        .find(|e| e.summary.id == listing)
        .map_or_else(|| "delisted".into(), |e| e.status.clone()))
}

/// The public view of an instance (API §4): never the secret.
pub fn connector_json(c: &ConnectorRecord, listing_status: &str) -> Value {
    let tools: Vec<Value> = c
        .tools
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| json!({"name": t["name"], "capability": t["capability"], "side_effect": t["side_effect"]}))
        .collect();
    json!({
        "id": c.id.as_str(),
        "object": "connector",
        "listing": crate::domain::ids::slug_of(&c.listing),
        "listing_version": c.listing_version,
        "listing_status": listing_status,
        "name": c.name,
        "kind": c.kind,
        "transport": c.transport,
        "crew_id": c.crew_id,
        "capabilities": c.capabilities,
        "tools": tools,
        "config": c.config,
        "auth": {"type": c.auth_type, "hint": c.auth_hint},
        "status": c.status,
        "health": c.health,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "last_synced_at": c.last_synced_at,
    })
}

/// `GET /v1/connectors` — newest first, filtered.
pub async fn list_connectors(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Viewer)?;
    let (page, after, mut f) =
        list_query(req, &["listing", "capability", "kind", "status", "crew_id"])?;
    let filter = ConnectorFilter {
        listing: f.remove("listing"),
        capability: f.remove("capability"),
        kind: f.remove("kind"),
        status: f.remove("status"),
        crew_id: f.remove("crew_id"),
    };
    let items = app
        .connectors
        .list_connectors(tenant, &filter, after, page.limit + 1)
        .await?;
    let details = app
        .objects
        .details(tenant, items.iter().map(|c| c.id.to_string()).collect())
        .await?;
    let statuses = listing_statuses(app).await?;
    Ok(list_json(
        items,
        page.limit,
        |c| format!("{}|{}", c.created_at, c.id),
        |c| {
            let status = statuses.get(&c.listing).map_or("delisted", String::as_str);
            let mut v = connector_json(c, status);
            crate::app::sweep::overlay(&mut v, details.get(c.id.as_str()));
            v
        },
    ))
}

/// The caller's tenant's instance by path id; anything else is `404`.
pub(super) async fn owned(
    app: &App,
    tenant: &crate::domain::ids::TenantId,
    id: &str,
) -> Result<ConnectorRecord, ApiError> {
    let id = ConnectorId::parse(id)?;
    app.connectors
        .connector(tenant, &id)
        .await?
        .ok_or_else(|| Error::not_found("connector", id.as_str()).into())
}

/// `GET /v1/connectors/{id}`.
pub async fn get_connector(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Viewer)?;
    let c = owned(app, tenant, id).await?;
    let details = app.objects.details(tenant, vec![c.id.to_string()]).await?;
    let mut v = connector_json(&c, &listing_status(app, &c.listing).await?);
    // The sweep's latest check lives in the tenant object until a change.
    crate::app::sweep::overlay(&mut v, details.get(c.id.as_str()));
    Ok(HttpResponse::json(200, &v))
}

/// `PATCH /v1/connectors/{id}` — `{name?, config?, auth?, crew_id?}`. A new
/// credential is verified before it replaces the old one; a config change
/// must come with the credential again, so that stored secrets can never be
/// pointed at a new host by whoever holds a manager key.
pub async fn update_connector(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Manager)?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&["name", "config", "auth", "crew_id"])?;
    let current = owned(app, tenant, id).await?;
    let listing = instance_listing(app, &current).await?;
    let status = listing_status(app, &current.listing).await?;
    let name = body.opt_str("name", 100)?;
    if let Some(n) = &name {
        validate_name(n)?;
    }
    let crew_id = body.opt_str("crew_id", 100)?;
    let auth = match body.get("auth") {
        Some(v) if !v.is_null() => Some(AuthInput::parse(Some(v), &listing)?),
        _ => None,
    };
    let config = if body.has("config") {
        Some(checked_config(app, body.get("config"), &listing)?)
    } else {
        None
    };
    let config_changed = config
        .as_ref()
        .is_some_and(|c| Value::Object(c.clone()) != current.config);
    if config_changed && auth.is_none() && !listing.auth_fields.is_empty() {
        return Err(ApiError::from(Error::missing("auth")).with_message(
            "Changing config needs the credential again (auth): a stored secret is never sent to a new target unverified.",
        ));
    }
    // API §10: an OAuth token that the new config would send to another
    // host is dropped, and the instance asks for consent again.
    let reconsent = config.as_ref().is_some_and(|c| {
        config_changed
            && matches!(current.auth_type.as_str(), "oauth2" | "mcp_oauth")
            && credential_hosts(&listing, c)
                != credential_hosts(
                    &listing,
                    &current.config.as_object().cloned().unwrap_or_default(),
                )
    });
    let mut locks = Locks::take(vec![format!("cn:{}", current.id)]);
    if let Some(n) = name.as_ref().filter(|n| **n != current.name) {
        locks.take.push(format!("name:{n}"));
        // The old name is free once renamed.
        locks.free.push(format!("name:{}", current.name));
    }
    let by = by.to_string();
    guarded(app, tenant, None, locks, || async {
        let mut next = current.clone();
        let mut changed = vec![];
        if let Some(n) = name.filter(|n| *n != current.name) {
            if app.connectors.name_taken(tenant, &n).await? {
                return Err(name_taken(&n));
            }
            next.name = n;
            changed.push("name");
        }
        if let Some(c) = crew_id.filter(|c| Some(c) != current.crew_id.as_ref()) {
            next.crew_id = Some(c);
            changed.push("crew_id");
        }
        if let Some(c) = config.filter(|_| config_changed) {
            next.config = Value::Object(c);
            changed.push("config");
        }
        if let Some(a) = &auth {
            let cfg: Map<String, Value> = next.config.as_object().cloned().unwrap_or_default();
            if !matches!(a.mode.as_str(), "oauth2" | "mcp_oauth") {
                // Verified first: a rejected rotation keeps the old secret.
                let checked =
                    require_accepted(probe(app, &listing, a, &cfg).await, &listing.auth_mode)?;
                next.health = health_json(app, &checked);
                next.status = "connected".into();
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
            consent_fields = Some(await_consent(app, req, &listing, &mut next, fields).await?);
            changed.push("status");
        }
        if changed.is_empty() {
            return Ok(HttpResponse::json(200, &connector_json(&current, &status)));
        }
        next.updated_at = app.now.rfc3339();
        let event = app.event_for(
            tenant,
            &next.id,
            "connector.updated",
            json!({"changed": changed, "by": by}),
        );
        match app
            .connectors
            .update_connector(tenant, &next, Some(&event))
            .await?
        {
            Written::Done => {}
            Written::NameTaken => return Err(name_taken(&next.name)),
            Written::Gone => return Err(Error::not_found("connector", next.id.as_str()).into()),
        }
        let mut view = connector_json(&next, &status);
        if let Some(fields) = consent_fields {
            with_consent(app, req, &listing, &next, &fields, &mut view).await?;
        }
        Ok(HttpResponse::json(200, &view))
    })
    .await
}

/// An OAuth instance whose token would now reach another host (API §10):
/// the tokens are dropped, an `mcp_oauth` server's authorization is
/// discovered again for the new config, and the instance waits for consent.
/// Answers the fields `with_consent` starts the consent from.
async fn await_consent(
    app: &App,
    req: &HttpRequest,
    listing: &Listing,
    next: &mut ConnectorRecord,
    mut fields: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ApiError> {
    for k in ["access_token", "refresh_token", "expires_at_ms"] {
        fields.remove(k);
    }
    if next.auth_type == "mcp_oauth" {
        let cfg: Map<String, Value> = next.config.as_object().cloned().unwrap_or_default();
        fields = discovery::discover(app, listing, &cfg, &redirect_uri(app, req), &fields).await?;
    }
    next.secret = Some(seal_fields(app, &next.tenant, &next.id, &fields)?);
    next.status = "pending_auth".into();
    next.health = crate::domain::health::Health::unchecked(
        "Waiting for OAuth consent: the token would now go to another host.",
    )
    .to_json();
    Ok(fields)
}

/// Adds a fresh consent to an answer, as install does.
async fn with_consent(
    app: &App,
    req: &HttpRequest,
    listing: &Listing,
    c: &ConnectorRecord,
    fields: &BTreeMap<String, String>,
    view: &mut Value,
) -> Result<(), ApiError> {
    let consent = start_consent(app, req, &c.tenant, &c.id, listing, fields).await?;
    view["next_step"] = json!("oauth");
    view["authorize_url"] = json!(consent.as_ref().map(|c| &c.0));
    view["authorize_expires_at"] = json!(consent.as_ref().map(|c| &c.1));
    Ok(())
}

/// `DELETE /v1/connectors/{id}` — refused while a binding depends on it.
pub async fn delete_connector(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Manager)?;
    let current = owned(app, tenant, id).await?;
    // "bindings" serialises uninstalls with binding changes.
    let locks = Locks {
        take: vec![
            format!("cn:{}", current.id),
            crate::app::bindings::LOCK.to_string(),
        ],
        // Its name is free once uninstalled.
        free: vec![format!("name:{}", current.name)],
        keep_on_success: false,
    };
    let by = by.to_string();
    guarded(app, tenant, None, locks, || async {
        let dependents = crate::app::bindings::dependents(app, tenant, &current).await?;
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
        Ok(HttpResponse::json(
            200,
            &json!({"id": current.id.as_str(), "object": "connector", "deleted": true}),
        ))
    })
    .await
}

/// `POST /v1/connectors/{id}/upgrade` — moves an instance to its listing's
/// latest version, once its config passes the new version's schema.
pub async fn upgrade_connector(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Manager)?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&["auth"])?;
    let current = owned(app, tenant, id).await?;
    let latest = match crate::app::listings::live(app, tenant, &current.listing).await {
        Ok(l) => l,
        Err(crate::store::Fail::Domain(Error::NotFound { .. })) => {
            return Err(Error::StateConflict(format!(
                "The listing '{}' is de-listed: there is no version to upgrade to.",
                crate::domain::ids::slug_of(&current.listing)
            ))
            .into())
        }
        Err(e) => return Err(e.into()),
    };
    if latest.version == current.listing_version {
        return Ok(HttpResponse::json(200, &connector_json(&current, "live")));
    }
    let config = checked_config(app, Some(&current.config), &latest).map_err(|e| {
        ApiError::from(e).with_message(format!(
            "The connector's config does not satisfy version {} of '{}'; update the config first.",
            latest.version, latest.id
        ))
    })?;
    // API §10: a version that sends the credential to other hosts needs it
    // again (static) or a fresh consent (OAuth).
    let before = instance_listing(app, &current).await?;
    let moved = credential_hosts(
        &before,
        &current.config.as_object().cloned().unwrap_or_default(),
    ) != credential_hosts(&latest, &config);
    let oauth = matches!(current.auth_type.as_str(), "oauth2" | "mcp_oauth");
    let auth = match body.get("auth") {
        Some(v) if !v.is_null() => Some(AuthInput::parse(Some(v), &latest)?),
        _ => None,
    };
    if moved && !oauth && auth.is_none() && !latest.auth_fields.is_empty() {
        return Err(ApiError::from(Error::missing("auth")).with_message(format!(
            "Version {} of '{}' sends the credential to other hosts: upgrade with the credential again (auth).",
            latest.version, latest.id
        )));
    }
    let by = by.to_string();
    let locks = Locks::take(vec![format!("cn:{}", current.id)]);
    guarded(app, tenant, None, locks, || async {
        let mut next = current.clone();
        if let Some(a) = auth
            .as_ref()
            .filter(|a| !matches!(a.mode.as_str(), "oauth2" | "mcp_oauth"))
        {
            // Verified against the new version first, as a rotation is.
            let checked =
                require_accepted(probe(app, &latest, a, &config).await, &latest.auth_mode)?;
            next.health = health_json(app, &checked);
            next.status = "connected".into();
            next.secret = seal(app, tenant, &next.id, a)?;
            next.auth_hint = a.hint(&latest);
        }
        next.listing_version = latest.version.clone();
        next.kind = latest.kind.clone();
        next.transport = latest.transport.clone();
        next.capabilities = latest.capabilities.clone();
        next.tools = serde_json::to_value(&latest.tools).expect("tools serialise");
        next.config = Value::Object(config.clone());
        next.updated_at = app.now.rfc3339();
        let consent_fields = if moved && oauth {
            let fields = match &auth {
                Some(a) => a.fields.clone(),
                None => open_fields(app, &current)?,
            };
            Some(await_consent(app, req, &latest, &mut next, fields).await?)
        } else {
            None
        };
        let event = app.event_for(
            tenant,
            &next.id,
            "connector.upgraded",
            json!({"from": current.listing_version, "to": next.listing_version, "by": by}),
        );
        match app
            .connectors
            .update_connector(tenant, &next, Some(&event))
            .await?
        {
            Written::Done => {}
            Written::NameTaken => return Err(name_taken(&next.name)),
            Written::Gone => return Err(Error::not_found("connector", next.id.as_str()).into()),
        }
        let mut view = connector_json(&next, "live");
        if let Some(fields) = consent_fields {
            with_consent(app, req, &latest, &next, &fields, &mut view).await?;
        }
        Ok(HttpResponse::json(200, &view))
    })
    .await
}
