//! Installed connectors over HTTP (API §4): list, read, update (rename,
//! config, rotation), upgrade, uninstall — parse, call `app::connectors`,
//! render. The public view of an instance is built here, never with its secret.

use super::error::ApiError;
use super::extract::{list_json, list_query, JsonBody};
use super::http::{HttpRequest, HttpResponse};
use super::oauth::redirect_uri;
use super::write::guarded;
use super::App;
use crate::app::connectors::{self as uc, Changed, UpdateRequest, Upgrade};
use crate::app::consent::Consent;
use crate::domain::auth::Role;
use crate::store::{ConnectorFilter, ConnectorRecord};
use serde_json::{json, Value};

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

/// Adds the consent an instance now waits for to its view.
pub fn with_consent(view: &mut Value, consent: Option<Option<Consent>>) {
    if let Some(consent) = consent {
        view["next_step"] = json!("oauth");
        view["authorize_url"] = json!(consent.as_ref().map(|c| &c.authorize_url));
        view["authorize_expires_at"] = json!(consent.as_ref().map(|c| &c.expires_at));
    }
}

fn changed_json(c: Changed) -> HttpResponse {
    let mut view = connector_json(&c.connector, &c.listing_status);
    with_consent(&mut view, c.consent);
    HttpResponse::json(200, &view)
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
    let statuses = uc::listing_statuses(app, items.iter().map(|c| c.listing.as_str())).await?;
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

/// `GET /v1/connectors/{id}`.
pub async fn get_connector(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Viewer)?;
    let c = uc::owned(app, tenant, id).await?;
    let details = app.objects.details(tenant, vec![c.id.to_string()]).await?;
    let mut v = connector_json(&c, &uc::listing_status(app, &c.listing).await?);
    // The sweep's latest check lives in the tenant object until a change.
    crate::app::sweep::overlay(&mut v, details.get(c.id.as_str()));
    Ok(HttpResponse::json(200, &v))
}

/// `PATCH /v1/connectors/{id}` — `{name?, config?, auth?, crew_id?}`.
pub async fn update_connector(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Manager)?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&["name", "config", "auth", "crew_id"])?;
    let request = UpdateRequest {
        name: body.opt_str("name", 100)?,
        crew_id: body.opt_str("crew_id", 100)?,
        auth: body.get("auth").cloned(),
        config: body.has("config").then(|| body.get("config").cloned()),
    };
    let plan = uc::plan_update(app, tenant, id, request).await?;
    guarded(app, tenant, None, plan.locks(), || async {
        Ok(changed_json(
            uc::update(app, by.as_str(), plan, &redirect_uri(app, req)).await?,
        ))
    })
    .await
}

/// `POST /v1/connectors/{id}/upgrade` — `{auth?}`: to the listing's latest version.
pub async fn upgrade_connector(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Manager)?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&["auth"])?;
    let plan = match uc::plan_upgrade(app, tenant, id, body.get("auth")).await? {
        Upgrade::Current(c) => return Ok(HttpResponse::json(200, &connector_json(&c, "live"))),
        Upgrade::Planned(plan) => plan,
    };
    guarded(app, tenant, None, plan.locks(), || async {
        Ok(changed_json(
            uc::upgrade(app, by.as_str(), plan, &redirect_uri(app, req)).await?,
        ))
    })
    .await
}

/// `DELETE /v1/connectors/{id}` — refused while a binding depends on it.
pub async fn delete_connector(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Manager)?;
    let current = uc::owned(app, tenant, id).await?;
    guarded(app, tenant, None, uc::uninstall_locks(&current), || async {
        uc::uninstall(app, by.as_str(), &current).await?;
        Ok(HttpResponse::json(
            200,
            &json!({"id": current.id.as_str(), "object": "connector", "deleted": true}),
        ))
    })
    .await
}
