//! Connect sessions as use cases: a manager mints a link; the link's holder
//! is authenticated by it (`grant`) and spends it on one install
//! (`complete`, under the install's locks, so one link never installs twice).

use super::install::InstallRequest;
use super::App;
use crate::domain::auth::{hash_secret, same_secret, ConnectGrant};
use crate::domain::connect::{self, State};
use crate::domain::connector::validate_return_url;
use crate::domain::ids::{ConnectSessionId, ConnectorId, TenantId};
use crate::domain::time::Millis;
use crate::domain::Error;
use crate::store::{ConnectSessionRecord, Fail, StoreError};
use serde_json::{json, Value};

/// What a manager asks for.
pub struct NewSession {
    pub listing: Option<String>,
    pub consumer: Option<String>,
    pub return_url: String,
    pub expires_in: Option<Value>,
}

/// A stored session with the token to show once.
pub struct Minted {
    pub session: ConnectSessionRecord,
    pub token: String,
}

/// The lock a link's install holds: a second install through the same link
/// waits for (and then sees) the first.
pub fn lock(id: &ConnectSessionId) -> String {
    format!("connect:{id}")
}

pub async fn create(
    app: &App,
    tenant: &TenantId,
    by: &str,
    new: NewSession,
) -> Result<Minted, Fail> {
    let expires_in = connect::expires_in(new.expires_in.as_ref())?;
    validate_return_url(
        &new.return_url,
        &app.config.return_url_origins,
        app.config.development,
    )?;
    let listing = match &new.listing {
        Some(id) => {
            let l = super::listings::live(app, tenant, id)
                .await
                .map_err(|f| match f {
                    Fail::Domain(Error::NotFound { .. }) => Fail::Domain(Error::invalid(
                        "listing",
                        format!("No such listing: '{id}'."),
                    )),
                    other => other,
                })?;
            if l.availability == "early_access" {
                return Err(Error::EarlyAccess {
                    listing: l.id.clone(),
                }
                .into());
            }
            Some(l.id.clone())
        }
        None => None,
    };
    let minted = connect::mint(app.rng.as_ref());
    let expires_at_ms = app.now.0 + expires_in * 1000;
    let session = ConnectSessionRecord {
        id: minted.id,
        tenant: tenant.clone(),
        token_hash: minted.hash,
        listing,
        consumer: new.consumer,
        return_url: new.return_url,
        completed: false,
        connector_id: None,
        created_by: by.to_string(),
        created_at: app.now.rfc3339(),
        expires_at: Millis(expires_at_ms).rfc3339(),
        expires_at_ms,
        completed_at: None,
    };
    let event = app.event(
        tenant,
        "connect_session.created",
        json!({"connect_session": session.id.as_str(), "listing": session.listing, "consumer": session.consumer, "expires_at": session.expires_at, "by": by}),
    );
    app.connect_sessions
        .insert_connect_session(tenant, &session, &event)
        .await?;
    Ok(Minted {
        session,
        token: minted.secret,
    })
}

/// The state callers see now.
pub fn state(app: &App, s: &ConnectSessionRecord) -> State {
    State::of(s.completed, s.expires_at_ms, app.now)
}

/// Authenticates a link: the session must exist, match the token's hash
/// and still be usable.
pub async fn grant(app: &App, id: &ConnectSessionId, token: &str) -> Result<ConnectGrant, Fail> {
    let s = app
        .connect_sessions
        .connect_session_by_id(id)
        .await?
        .filter(|s| same_secret(&hash_secret(token), &s.token_hash))
        .ok_or_else(|| Error::Unauthenticated("Invalid connect link: ask for a new one.".into()))?;
    state(app, &s).usable()?;
    Ok(ConnectGrant {
        tenant: s.tenant,
        session: s.id,
        listing: s.listing,
        return_url: s.return_url,
    })
}

/// The session behind a grant, read again (it may have been spent since
/// the request was authenticated).
pub async fn current(app: &App, g: &ConnectGrant) -> Result<ConnectSessionRecord, Fail> {
    app.connect_sessions
        .connect_session(&g.tenant, &g.session)
        .await?
        .ok_or_else(|| StoreError("an authenticated connect session is gone".into()).into())
}

/// An install through a link installs the session's listing and sends the
/// user back where the session says; answers the lock it holds.
pub fn shape_install(g: &ConnectGrant, req: &mut InstallRequest) -> Result<String, Error> {
    g.allows(&req.listing)?;
    let own = if req.crew_id.is_some() {
        Some("crew_id")
    } else {
        req.return_url.as_ref().map(|_| "return_url")
    };
    if let Some(p) = own {
        return Err(Error::invalid(
            p,
            format!("A connect link sets {p} itself; leave it out."),
        ));
    }
    req.return_url = Some(g.return_url.clone());
    Ok(lock(&g.session))
}

/// Before an install through a link: still pending (read inside the lock);
/// answers the session for [`complete`].
pub async fn check_usable(app: &App, g: &ConnectGrant) -> Result<ConnectSessionRecord, Fail> {
    let s = current(app, g).await?;
    state(app, &s).usable()?;
    Ok(s)
}

/// Spends the link (`s`, as [`check_usable`] read it) on the connector it
/// installed.
pub async fn complete(
    app: &App,
    g: &ConnectGrant,
    s: &ConnectSessionRecord,
    connector: &ConnectorId,
) -> Result<(), Fail> {
    let event = app.event_for(
        &g.tenant,
        connector,
        "connect_session.completed",
        json!({"connect_session": g.session.as_str(), "listing": s.listing, "consumer": s.consumer, "connector_id": connector.as_str()}),
    );
    let spent = app
        .connect_sessions
        .complete_connect_session(&g.tenant, &g.session, connector, &app.now.rfc3339(), &event)
        .await?;
    if !spent {
        // Only reachable if the lock was lost: the install stands, the
        // session already names another connector.
        (app.log)(&format!(
            "connect session {} was spent twice (second connector {connector})",
            g.session
        ));
    }
    Ok(())
}

pub async fn get(app: &App, tenant: &TenantId, id: &str) -> Result<ConnectSessionRecord, Fail> {
    let id = ConnectSessionId::parse(id)?;
    app.connect_sessions
        .connect_session(tenant, &id)
        .await?
        .ok_or_else(|| Error::not_found("connect_session", id.as_str()).into())
}
