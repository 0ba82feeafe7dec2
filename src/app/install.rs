//! Verifying credentials and installing a listing (API §3 verify, §4
//! install) as use cases. An install is planned first (everything the
//! request says is checked, the listing loaded: nothing is sent or stored),
//! so the caller can take the plan's locks; running the plan probes the
//! credential, seals it and stores the instance with its event.

use super::consent::{self, Consent};
use super::locks::{self, Locks};
use super::App;
use crate::domain::connector::{validate_name, validate_return_url, AuthInput, AuthMode, Status};
use crate::domain::health::Health;
use crate::domain::ids::{ConnectorId, TenantId};
use crate::domain::manifest::Listing;
use crate::domain::Error;
use crate::probe::credential::Session;
use crate::probe::run::{Admitted, Outcome};
use crate::store::{ConnectorRecord, Fail, StoreError, Written};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::rc::Rc;

/// An instance's health right after its credential was admitted.
pub fn health_after(app: &App, checked: &Admitted) -> Health {
    match checked {
        Admitted::Verified { latency_ms } => {
            Health::checked(app.now, Some(true), Some(*latency_ms), "")
        }
        Admitted::Unverified { message } => Health::unchecked(message),
    }
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
    let session = Session::new(listing, auth.mode, config, auth.fields.clone());
    session.probe(&app.net(), p, false).await
}

/// Probes `auth` for a write (install, rotation, upgrade): a rejection or a
/// failure refuses the write; a probe that cannot run here lets it store
/// the credential unverified.
pub async fn check_credential(
    app: &App,
    listing: &Listing,
    auth: &AuthInput,
    config: &Map<String, Value>,
) -> Result<Admitted, Error> {
    probe(app, listing, auth, config)
        .await
        .admit(listing.mode(), "The provider")
}

/// `verify`'s answer: `ok: false` is the provider's rejection.
pub struct Verified {
    pub ok: bool,
    pub message: String,
}

/// Runs a listing's verify probe once with the submitted `auth` and
/// `config`, and records a `connector.verified` event.
pub async fn verify(
    app: &App,
    tenant: &TenantId,
    listing_id: &str,
    auth: Option<&Value>,
    config: Option<&Value>,
) -> Result<Verified, Fail> {
    let listing = super::listings::live(app, tenant, listing_id).await?;
    let auth = AuthInput::parse(auth, &listing)?;
    let config = super::listings::checked_config(app, config, &listing)?;
    if auth.mode.is_oauth() {
        return Err(Error::VerificationUnsupported(
            "OAuth listings are verified by completing consent after install, not by a probe."
                .into(),
        )
        .into());
    }
    let outcome = probe(app, &listing, &auth, &config).await;
    let verdict = outcome.verdict(listing.mode(), &listing.name);
    let (ok, message) = match outcome {
        // Status 0: not HTTP (a database login).
        Outcome::Accepted {
            status: 0,
            latency_ms,
        } => (
            true,
            format!(
                "{} accepted the credentials ({latency_ms} ms).",
                listing.name
            ),
        ),
        Outcome::Accepted { status, latency_ms } => (
            true,
            format!(
                "{} accepted the credentials (HTTP {status}, {latency_ms} ms).",
                listing.name
            ),
        ),
        // The provider's "no" is the answer, not an error.
        Outcome::Rejected { .. } | Outcome::NotJson { .. } => (false, verdict.message),
        Outcome::Unsupported { message } => {
            return Err(Error::VerificationUnsupported(message).into())
        }
        // Unreachable or refused by the guard: the request failed.
        failed => {
            failed.admit(listing.mode(), &listing.name)?;
            (false, verdict.message)
        }
    };
    let event = app.event(
        tenant,
        "connector.verified",
        json!({"listing": listing.id, "ok": ok}),
    );
    app.connectors.insert_event(tenant, &event).await?;
    Ok(Verified { ok, message })
}

/// An install request as the caller sent it (strings already bounded).
pub struct InstallRequest {
    pub listing: String,
    pub name: Option<String>,
    pub auth: Option<Value>,
    pub config: Option<Value>,
    pub crew_id: Option<String>,
    pub return_url: Option<String>,
}

/// A checked install, ready to run under its locks.
pub struct InstallPlan {
    listing: Rc<Listing>,
    auth: AuthInput,
    config: Map<String, Value>,
    name: String,
    crew_id: Option<String>,
    return_url: Option<String>,
}

/// Checks an install request against the listing; sends and stores nothing.
pub async fn plan_install(
    app: &App,
    tenant: &TenantId,
    req: InstallRequest,
) -> Result<InstallPlan, Fail> {
    let listing = super::listings::live(app, tenant, &req.listing).await?;
    if listing.availability == "early_access" {
        return Err(Error::EarlyAccess {
            listing: listing.id.clone(),
        }
        .into());
    }
    let auth = AuthInput::parse(req.auth.as_ref(), &listing)?;
    let config = super::listings::checked_config(app, req.config.as_ref(), &listing)?;
    let name = req.name.unwrap_or_else(|| listing.id.clone());
    validate_name(&name)?;
    if let Some(u) = &req.return_url {
        validate_return_url(u, &app.config.return_url_origins, app.config.development)?;
    }
    if !auth.fields.is_empty() && app.config.vault.is_none() {
        return Err(
            StoreError("VAULT_KEY is not configured: credentials cannot be stored".into()).into(),
        );
    }
    Ok(InstallPlan {
        listing,
        auth,
        config,
        name,
        crew_id: req.crew_id,
        return_url: req.return_url,
    })
}

impl InstallPlan {
    /// The name's claim. Without an Idempotency-Key there is nothing to
    /// record after a successful install: the lock is left to be freed by an
    /// uninstall or rename of this instance (or to expire), and D1's unique
    /// index holds the name meanwhile.
    pub fn locks(&self) -> Locks {
        Locks {
            take: vec![locks::name(&self.name)],
            free: vec![],
            keep_on_success: true,
        }
    }
}

/// A stored instance, with the consent to complete for OAuth listings.
pub struct Installed {
    pub connector: ConnectorRecord,
    pub listing: Rc<Listing>,
    /// `None` for static credentials; `Some(None)` for an OAuth instance
    /// whose endpoints are unknown.
    pub consent: Option<Option<Consent>>,
}

/// Runs a planned install: probes static credentials (nothing is stored if
/// they are refused), or for `mcp_oauth` discovers the authorization server
/// and registers with it; stores the instance and its event; starts the
/// consent of an OAuth instance. `redirect_uri` is where providers send the
/// user back.
pub async fn install(
    app: &App,
    tenant: &TenantId,
    by: &str,
    plan: InstallPlan,
    redirect_uri: &str,
) -> Result<Installed, Fail> {
    let InstallPlan {
        listing,
        mut auth,
        config,
        name,
        crew_id,
        return_url,
    } = plan;
    // Concurrent claims of one name are held off by the lock; an existing
    // name is caught by the store's unique index at insert, which saves a
    // read on every install.
    if auth.mode == AuthMode::McpOauth {
        // Discovered and registered now, so the instance is stored with them;
        // a server that cannot be discovered fails the install, storing nothing.
        auth.fields =
            super::discovery::discover(app, &listing, &config, redirect_uri, &BTreeMap::new())
                .await?;
    }
    let (status, health) = if auth.mode.is_oauth() {
        (
            Status::PendingAuth,
            Health::unchecked("Waiting for OAuth consent."),
        )
    } else {
        let checked = check_credential(app, &listing, &auth, &config).await?;
        (Status::Connected, health_after(app, &checked))
    };
    let id = ConnectorId::generate(app.rng.as_ref());
    let now = app.now.rfc3339();
    let record = ConnectorRecord {
        id: id.clone(),
        tenant: tenant.clone(),
        listing: listing.key.clone(),
        listing_version: listing.version.clone(),
        name: name.clone(),
        kind: listing.kind.clone(),
        transport: listing.transport.clone(),
        crew_id,
        capabilities: listing.capabilities.clone(),
        tools: serde_json::to_value(&listing.tools).expect("tools serialise"),
        config: Value::Object(config),
        auth_type: auth.mode,
        auth_hint: auth.hint(&listing),
        secret: seal(app, tenant, &id, &auth)?,
        status,
        health,
        return_url,
        created_at: now.clone(),
        updated_at: now,
        last_synced_at: None,
    };
    let event = app.event_for(
        tenant,
        &id,
        "connector.installed",
        json!({"listing": listing.id, "listing_version": listing.version, "name": name, "status": status, "by": by}),
    );
    if app
        .connectors
        .insert_connector(tenant, &record, &event)
        .await?
        == Written::NameTaken
    {
        return Err(Error::name_taken(&name).into());
    }
    if listing.transport == "mcp" && !auth.mode.is_oauth() {
        // The upstream tool definitions are pinned now (API §13). A server
        // that cannot list them yet does not fail the install: they are
        // pinned at the first test or call instead.
        if let Ok(current) = super::tool_call::current_definitions(app, &record, &listing).await {
            let pins: Vec<(String, String)> = listing
                .tools
                .iter()
                .filter_map(|t| t.mcp_tool.as_ref())
                .filter_map(|u| Some((u.clone(), current.get(u)?.clone())))
                .collect();
            app.tool_calls
                .pin_tools(tenant, id.as_str(), &pins, &app.now.rfc3339())
                .await?;
        }
    }
    let consent = if auth.mode.is_oauth() {
        Some(consent::start(app, &record, &listing, &auth.fields, redirect_uri).await?)
    } else {
        None
    };
    Ok(Installed {
        connector: record,
        listing,
        consent,
    })
}

/// The sealed credential of an instance (`None` for auth `none`). A missing
/// `VAULT_KEY` is an error, never a silently dropped credential.
pub fn seal(
    app: &App,
    tenant: &TenantId,
    id: &ConnectorId,
    auth: &AuthInput,
) -> Result<Option<String>, StoreError> {
    if auth.fields.is_empty() {
        return Ok(None);
    }
    Ok(Some(super::vault::seal_fields(
        app,
        tenant,
        id,
        &auth.fields,
    )?))
}
