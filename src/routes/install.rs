//! `POST /v1/catalog/{listing}/verify` and `POST /v1/connectors` over HTTP:
//! parse, call `app::install`, render (API §3 verify, §4 install).

use super::connectors::{connector_json, with_consent};
use super::error::ApiError;
use super::extract::JsonBody;
use super::http::{HttpRequest, HttpResponse};
use super::oauth::redirect_uri;
use super::write::{guarded, idempotency};
use super::App;
use crate::app::connect;
use crate::app::install::{self as uc, InstallRequest};
use crate::domain::auth::Installer;
use serde_json::json;

/// `POST /v1/catalog/{listing}/verify` — runs the probe once.
pub async fn verify_listing(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.linked_principal(req).await?;
    let installer = principal.require_installer()?;
    if let Installer::Connect(g) = &installer {
        g.allows(id)?;
    }
    let tenant = installer.tenant();
    let body = JsonBody::parse(&req.body)?;
    body.only(&["auth", "config"])?;
    let v = uc::verify(app, tenant, id, body.get("auth"), body.get("config"))
        .await
        .map_err(super::catalog::listing_error)?;
    Ok(HttpResponse::json(
        200,
        &json!({"ok": v.ok, "message": v.message}),
    ))
}

/// `POST /v1/connectors` — installs a listing into the caller's tenant.
pub async fn create_connector(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = app.linked_principal(req).await?;
    let installer = principal.require_installer()?;
    let tenant = installer.tenant();
    let idem = idempotency(req)?;
    let body = JsonBody::parse(&req.body)?;
    let mut request = install_request(&body)?;
    let link_lock = match &installer {
        Installer::Connect(g) => Some(connect::shape_install(g, &mut request)?),
        Installer::Key { .. } => None,
    };
    let plan = uc::plan_install(app, tenant, request)
        .await
        .map_err(super::catalog::listing_error)?;
    let mut held = plan.locks();
    held.take.extend(link_lock);
    guarded(app, tenant, idem, held, || async {
        let link = match &installer {
            Installer::Connect(g) => Some((g, connect::check_usable(app, g).await?)),
            Installer::Key { .. } => None,
        };
        let done = uc::install(app, tenant, installer.by(), plan, &redirect_uri(app, req)).await?;
        if let Some((g, session)) = &link {
            connect::complete(app, g, session, &done.connector.id).await?;
        }
        let mut view = connector_json(&done.connector, "live");
        if done.listing.is_priced() {
            view["price"] = done.listing.pricing.clone();
        }
        with_consent(&mut view, done.consent);
        Ok(HttpResponse::json(201, &view))
    })
    .await
}

fn install_request(body: &JsonBody) -> Result<InstallRequest, ApiError> {
    body.only(&["listing", "name", "auth", "config", "crew_id", "return_url"])?;
    Ok(InstallRequest {
        listing: body.req_str("listing", 63)?,
        name: body.opt_str("name", 100)?,
        auth: body.get("auth").cloned(),
        config: body.get("config").cloned(),
        crew_id: body.opt_str("crew_id", 100)?,
        return_url: body.opt_str("return_url", 2000)?,
    })
}
