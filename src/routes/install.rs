//! `POST /v1/catalog/{listing}/verify` and `POST /v1/connectors` over HTTP:
//! parse, call `app::install`, render (API §3 verify, §4 install).

use super::connectors::{connector_json, with_consent};
use super::error::ApiError;
use super::extract::JsonBody;
use super::http::{HttpRequest, HttpResponse};
use super::oauth::redirect_uri;
use super::write::{guarded, idempotency};
use super::App;
use crate::app::install::{self as uc, InstallRequest};
use crate::domain::auth::Role;
use serde_json::json;

/// `POST /v1/catalog/{listing}/verify` — runs the probe once.
pub async fn verify_listing(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Manager)?;
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
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Manager)?;
    let idem = idempotency(req)?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&["listing", "name", "auth", "config", "crew_id", "return_url"])?;
    let request = InstallRequest {
        listing: body.req_str("listing", 63)?,
        name: body.opt_str("name", 100)?,
        auth: body.get("auth").cloned(),
        config: body.get("config").cloned(),
        crew_id: body.opt_str("crew_id", 100)?,
        return_url: body.opt_str("return_url", 2000)?,
    };
    let plan = uc::plan_install(app, tenant, request)
        .await
        .map_err(super::catalog::listing_error)?;
    guarded(app, tenant, idem, plan.locks(), || async {
        let done = uc::install(app, tenant, by.as_str(), plan, &redirect_uri(app, req)).await?;
        let mut view = connector_json(&done.connector, "live");
        if done.listing.is_priced() {
            view["price"] = done.listing.pricing.clone();
        }
        with_consent(&mut view, done.consent);
        Ok(HttpResponse::json(201, &view))
    })
    .await
}
