//! Verifying credentials and installing a listing (API §3 verify, §4 install).

use super::connectors::{checked_config, connector_json, load_listing};
use super::error::ApiError;
use super::extract::JsonBody;
use super::http::{HttpRequest, HttpResponse};
use super::write::{guarded, idempotency, Locks};
use super::App;
use crate::domain::auth::Role;
use crate::domain::connector::{refusal, validate_name, validate_return_url, AuthInput};
use crate::domain::health::Health;
use crate::domain::ids::{ConnectorId, TenantId};
use crate::domain::manifest::Listing;
use crate::domain::Error;
use crate::probe::credential::Session;
use crate::probe::run::Outcome;
use crate::store::{ConnectorRecord, Written};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// What a probe said about credentials that may be stored.
pub enum Checked {
    Verified {
        latency_ms: u64,
    },
    /// The probe kind cannot run here; stored without a check, and said so.
    Unverified {
        message: String,
    },
}

/// Runs the listing's verify probe (static credentials only).
pub async fn probe(
    app: &App,
    listing: &Listing,
    auth: &AuthInput,
    config: &Map<String, Value>,
) -> Outcome {
    let Some(p) = listing.verify.as_ref() else {
        return Outcome::Unsupported {
            message: "This listing declares no verify probe; the credentials were not checked."
                .into(),
        };
    };
    let session = Session::new(listing, &auth.mode, config, auth.fields.clone());
    session.probe(&app.net(), p, false).await
}

/// Maps a probe outcome for a write: rejection and failures refuse it.
pub fn require_accepted(outcome: Outcome, mode: &str) -> Result<Checked, ApiError> {
    match outcome {
        Outcome::Accepted { latency_ms, .. } => Ok(Checked::Verified { latency_ms }),
        Outcome::Unsupported { message } => Ok(Checked::Unverified { message }),
        Outcome::Rejected {
            status, snippet, ..
        } => Err(Error::AuthRejected(refusal(mode, "The provider", status, &snippet)).into()),
        Outcome::Unreachable { message } | Outcome::NotJson { message, .. } => {
            Err(upstream(&message))
        }
        Outcome::Refused { message } => Err(target_not_allowed(&message)),
    }
}

pub fn upstream(message: &str) -> ApiError {
    Error::Upstream(message.to_string()).into()
}

pub fn target_not_allowed(message: &str) -> ApiError {
    Error::TargetRefused(message.to_string()).into()
}

fn oauth_mode(mode: &str) -> bool {
    matches!(mode, "oauth2" | "mcp_oauth")
}

/// `POST /v1/catalog/{listing}/verify` — runs the probe once.
pub async fn verify_listing(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Manager)?;
    let listing = load_listing(app, tenant, id).await?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&["auth", "config"])?;
    let auth = AuthInput::parse(body.get("auth"), &listing)?;
    let config = checked_config(app, body.get("config"), &listing)?;
    if oauth_mode(&auth.mode) {
        return Err(Error::VerificationUnsupported(
            "OAuth listings are verified by completing consent after install, not by a probe."
                .into(),
        )
        .into());
    }
    let (ok, message) = match probe(app, &listing, &auth, &config).await {
        Outcome::Accepted { status, latency_ms } => (
            true,
            format!(
                "{} accepted the credentials (HTTP {status}, {latency_ms} ms).",
                listing.name
            ),
        ),
        Outcome::Rejected {
            status, snippet, ..
        } => (
            false,
            refusal(&listing.auth_mode, &listing.name, status, &snippet),
        ),
        Outcome::NotJson { message, .. } => (false, message),
        Outcome::Unreachable { message } => return Err(upstream(&message)),
        Outcome::Refused { message } => return Err(target_not_allowed(&message)),
        Outcome::Unsupported { message } => {
            return Err(Error::VerificationUnsupported(message).into())
        }
    };
    let event = app.event(
        tenant,
        "connector.verified",
        json!({"listing": listing.id, "ok": ok}),
    );
    app.connectors.insert_event(tenant, &event).await?;
    Ok(HttpResponse::json(
        200,
        &json!({"ok": ok, "message": message}),
    ))
}

/// `POST /v1/connectors` — installs a listing into the caller's tenant.
pub async fn create_connector(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Manager)?;
    let idem = idempotency(req)?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&["listing", "name", "auth", "config", "crew_id", "return_url"])?;
    let listing_id = body.req_str("listing", 63)?;
    let listing = load_listing(app, tenant, &listing_id).await?;
    if listing.availability == "early_access" {
        return Err(Error::EarlyAccess {
            listing: listing.id.clone(),
        }
        .into());
    }
    let auth = AuthInput::parse(body.get("auth"), &listing)?;
    let config = checked_config(app, body.get("config"), &listing)?;
    let name = body
        .opt_str("name", 100)?
        .unwrap_or_else(|| listing.id.clone());
    validate_name(&name)?;
    let crew_id = body.opt_str("crew_id", 100)?;
    let return_url = body.opt_str("return_url", 2000)?;
    if let Some(u) = &return_url {
        validate_return_url(u, &app.config.return_url_origins, app.config.development)?;
    }
    if !auth.fields.is_empty() && app.config.vault.is_none() {
        return Err(ApiError::internal(
            "VAULT_KEY is not configured: credentials cannot be stored",
        ));
    }
    // Without an Idempotency-Key there is nothing to record after a
    // successful install: the name's lock is left to be freed by an
    // uninstall or rename of this instance (or to expire), and D1's unique
    // index holds the name meanwhile.
    let locks = Locks {
        take: vec![format!("name:{name}")],
        free: vec![],
        keep_on_success: true,
    };
    let by = by.to_string();
    guarded(app, tenant, idem, locks, || async {
        // Concurrent claims of one name are held off by the lock; an existing
        // name is caught by the store's unique index at insert, which saves
        // a read on every install.
        // mcp_oauth: the authorization server is discovered and this service
        // registered with it now, so the instance is stored with them; a
        // server that cannot be discovered fails the install, storing nothing.
        let discovered;
        let auth = if auth.mode == "mcp_oauth" {
            let redirect = super::oauth::redirect_uri(app, req);
            discovered = AuthInput {
                mode: auth.mode.clone(),
                fields: super::discovery::discover(app, &listing, &config, &redirect, &BTreeMap::new()).await?,
            };
            &discovered
        } else {
            &auth
        };
        let (status, health) = if oauth_mode(&auth.mode) {
            ("pending_auth", Health::unchecked("Waiting for OAuth consent.").to_json())
        } else {
            let checked = require_accepted(probe(app, &listing, auth, &config).await, &listing.auth_mode)?;
            ("connected", health_json(app, &checked))
        };
        let id = ConnectorId::generate(app.rng.as_ref());
        let record = new_record(app, tenant, &id, &listing, &name, auth, config.clone(), status, health, crew_id.clone(), return_url.clone())?;
        let event = app.event_for(
            tenant,
            &id,
            "connector.installed",
            json!({"listing": listing.id, "listing_version": listing.version, "name": name, "status": status, "by": by}),
        );
        if app.connectors.insert_connector(tenant, &record, &event).await? == Written::NameTaken {
            return Err(name_taken(&name));
        }
        let mut view = connector_json(&record, "live");
        if listing.is_priced() {
            view["price"] = listing.pricing.clone();
        }
        if oauth_mode(&auth.mode) {
            let consent = super::oauth::start_consent(app, req, tenant, &id, &listing, &auth.fields).await?;
            view["next_step"] = json!("oauth");
            view["authorize_url"] = json!(consent.as_ref().map(|c| &c.0));
            view["authorize_expires_at"] = json!(consent.as_ref().map(|c| &c.1));
        }
        Ok(HttpResponse::json(201, &view))
    })
    .await
}

pub fn name_taken(name: &str) -> ApiError {
    Error::StateConflict(format!(
        "A connector named '{name}' already exists in this tenant; choose another name."
    ))
    .into()
}

pub fn health_json(app: &App, checked: &Checked) -> Value {
    match checked {
        Checked::Verified { latency_ms } => {
            Health::checked(app.now, Some(true), Some(*latency_ms), "").to_json()
        }
        Checked::Unverified { message } => Health::unchecked(message).to_json(),
    }
}

/// The sealed credential of an instance (`None` for auth `none`). A missing
/// `VAULT_KEY` is an error, never a silently dropped credential.
pub fn seal(
    app: &App,
    tenant: &TenantId,
    id: &ConnectorId,
    auth: &AuthInput,
) -> Result<Option<String>, ApiError> {
    if auth.fields.is_empty() {
        return Ok(None);
    }
    Ok(Some(super::oauth::seal_fields(
        app,
        tenant,
        id,
        &auth.fields,
    )?))
}

#[allow(clippy::too_many_arguments)]
fn new_record(
    app: &App,
    tenant: &TenantId,
    id: &ConnectorId,
    listing: &Listing,
    name: &str,
    auth: &AuthInput,
    config: Map<String, Value>,
    status: &str,
    health: Value,
    crew_id: Option<String>,
    return_url: Option<String>,
) -> Result<ConnectorRecord, ApiError> {
    let now = app.now.rfc3339();
    Ok(ConnectorRecord {
        id: id.clone(),
        tenant: tenant.clone(),
        listing: listing.key.clone(),
        listing_version: listing.version.clone(),
        name: name.to_string(),
        kind: listing.kind.clone(),
        transport: listing.transport.clone(),
        crew_id,
        capabilities: listing.capabilities.clone(),
        tools: serde_json::to_value(&listing.tools).expect("tools serialise"),
        config: Value::Object(config),
        auth_type: auth.mode.clone(),
        auth_hint: auth.hint(listing),
        secret: seal(app, tenant, id, auth)?,
        status: status.to_string(),
        health,
        return_url,
        created_at: now.clone(),
        updated_at: now,
        last_synced_at: None,
    })
}
