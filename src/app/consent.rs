//! OAuth consent (API §5) as use cases: the authorize URL with a single-use
//! state and PKCE, re-consent, and the callback that spends the state,
//! exchanges the code through the guarded client and stores the tokens.
//! `oauth2` listings name their endpoints; `mcp_oauth` instances use what
//! discovery found and registered (`discovery.rs`). `redirect_uri` is always
//! given by the caller: it depends on where the request was addressed.

use super::vault::{open_fields, seal_fields};
use super::App;
use crate::domain::connector::{AuthMode, Status};
use crate::domain::health::Health;
use crate::domain::ids::TenantId;
use crate::domain::manifest::Listing;
use crate::domain::oauth::{self, Authorize, STATE_TTL_MS};
use crate::domain::time::Millis;
use crate::domain::vault;
use crate::domain::Error;
use crate::probe::credential::{self, endpoints_for, with_resource};
use crate::probe::run::redact;
use crate::store::{ConnectorRecord, Fail, OAuthStateRecord, StoreError, Taken, Written};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Where to send the user, and until when the link works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub authorize_url: String,
    pub expires_at: String,
}

/// Starts a consent: stores a state (and the sealed PKCE verifier) and
/// answers the provider's authorize URL. `None` when the instance has no
/// known endpoints.
pub async fn start(
    app: &App,
    c: &ConnectorRecord,
    listing: &Listing,
    fields: &BTreeMap<String, String>,
    redirect_uri: &str,
) -> Result<Option<Consent>, Fail> {
    let (tenant, id) = (&c.tenant, &c.id);
    let config: Map<String, Value> = c.config.as_object().cloned().unwrap_or_default();
    // The instance's config: a My Domain `login_url` moves the endpoints.
    let Some(ep) = endpoints_for(listing, fields, &config) else {
        return Ok(None);
    };
    let block = listing.oauth.clone().unwrap_or_default();
    let key = app
        .config
        .vault
        .as_ref()
        .ok_or_else(|| StoreError("VAULT_KEY is not configured".into()))?;
    let (state, hash) = oauth::new_state(app.rng.as_ref());
    let verifier = (block["pkce"] != false).then(|| oauth::pkce_verifier(app.rng.as_ref()));
    let challenge = verifier.as_deref().map(oauth::pkce_challenge);
    let scopes: Vec<String> = block["scopes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect();
    let mut extra: Map<String, Value> = block["extra_params"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    if let Some(r) = &ep.resource {
        extra.insert("resource".into(), Value::String(r.clone()));
    }
    let url = Authorize {
        endpoint: &ep.authorize_url,
        client_id: fields
            .get("client_id")
            .map(String::as_str)
            .unwrap_or_default(),
        redirect_uri,
        scopes: &scopes,
        scope_separator: block["scope_separator"].as_str().unwrap_or(" "),
        state: &state,
        challenge: challenge.as_deref(),
        extra: &extra,
    }
    .url()
    .map_err(|e| StoreError(format!("listing {}: {e}", listing.id)))?;
    let expires_at_ms = app.now.0 + STATE_TTL_MS;
    let record = OAuthStateRecord {
        verifier: verifier.map(|v| {
            key.seal(
                app.rng.as_ref(),
                &vault::owner(tenant.as_str(), &hash),
                v.as_bytes(),
            )
        }),
        state_hash: hash,
        tenant: tenant.clone(),
        connector_id: id.clone(),
        redirect_uri: redirect_uri.to_string(),
        expires_at_ms,
    };
    app.oauth.insert_state(&record).await?;
    Ok(Some(Consent {
        authorize_url: url,
        expires_at: Millis(expires_at_ms).rfc3339(),
    }))
}

/// An OAuth instance whose token would now reach another host (API §10):
/// the tokens are dropped, an `mcp_oauth` server's authorization is
/// discovered again for the new config, and the instance waits for consent.
/// Answers the fields the fresh consent starts from.
pub async fn reset(
    app: &App,
    listing: &Listing,
    next: &mut ConnectorRecord,
    mut fields: BTreeMap<String, String>,
    redirect_uri: &str,
) -> Result<BTreeMap<String, String>, Fail> {
    for k in ["access_token", "refresh_token", "expires_at_ms"] {
        fields.remove(k);
    }
    if next.auth_type == AuthMode::McpOauth {
        let cfg: Map<String, Value> = next.config.as_object().cloned().unwrap_or_default();
        fields = super::discovery::discover(app, listing, &cfg, redirect_uri, &fields).await?;
    }
    next.secret = Some(seal_fields(app, &next.tenant, &next.id, &fields)?);
    next.status = Status::PendingAuth;
    next.health =
        Health::unchecked("Waiting for OAuth consent: the token would now go to another host.");
    Ok(fields)
}

/// `POST /v1/connectors/{id}/authorize` — a fresh consent (re-consent).
pub async fn authorize(
    app: &App,
    tenant: &TenantId,
    id: &str,
    redirect_uri: &str,
) -> Result<(ConnectorRecord, Consent), Fail> {
    let c = super::connectors::owned(app, tenant, id).await?;
    if !c.auth_type.is_oauth() {
        return Err(Error::StateConflict(format!(
            "The connector authenticates with '{}'; only oauth2 and mcp_oauth connectors take consent.",
            c.auth_type
        ))
        .into());
    }
    let listing = super::listings::of_instance(app, &c).await?;
    let mut fields = open_fields(app, &c)?;
    if c.auth_type == AuthMode::McpOauth {
        // Discovered again: the server may have moved its authorization
        // server; the registered client is kept while it still applies.
        let config = c.config.as_object().cloned().unwrap_or_default();
        let found =
            super::discovery::discover(app, &listing, &config, redirect_uri, &fields).await?;
        if found != fields {
            let mut next = c.clone();
            next.secret = Some(seal_fields(app, tenant, &c.id, &found)?);
            next.updated_at = app.now.rfc3339();
            if app.connectors.update_connector(tenant, &next, None).await? != Written::Done {
                return Err(Error::not_found("connector", id).into());
            }
            fields = found;
        }
    }
    let consent = start(app, &c, &listing, &fields, redirect_uri)
        .await?
        .ok_or_else(|| Error::StateConflict("The listing declares no OAuth endpoints.".into()))?;
    Ok((c, consent))
}

/// What the provider sent back to the callback.
pub struct Callback<'a> {
    pub state: Option<&'a str>,
    pub code: Option<&'a str>,
    /// The provider's `error=` (consent refused).
    pub error: Option<&'a str>,
}

/// The consent's outcome, recorded on the instance.
pub struct Finished {
    pub connector: ConnectorRecord,
    /// `connected`, or `error` with `message` saying why.
    pub status: Status,
    pub message: String,
}

fn invalid_state(message: &str) -> Error {
    Error::InvalidState(message.to_string())
}

/// `GET /v1/oauth/callback` — no API key: the state is the credential.
/// Spends the state, exchanges the code, stores the tokens (or the failure).
pub async fn callback(app: &App, cb: Callback<'_>) -> Result<Finished, Fail> {
    let state = cb
        .state
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::missing("state"))?;
    // Checked before the state is spent, so a malformed callback can be retried.
    if cb.error.is_none() && cb.code.is_none_or(|c| c.is_empty()) {
        return Err(Error::missing("code").into());
    }
    let record =
        match app
            .oauth
            .take_state(&oauth::state_hash(state), app.now.0, &app.now.rfc3339())
            .await?
        {
            Taken::Fresh(r) => r,
            Taken::Expired => return Err(invalid_state(
                "This consent link has expired (they last 10 minutes); start the consent again.",
            )
            .into()),
            Taken::Used => {
                return Err(invalid_state(
                    "This consent link was already used; start the consent again.",
                )
                .into())
            }
            Taken::Unknown => {
                return Err(invalid_state(
                    "Unknown state: the consent link is not one this service issued.",
                )
                .into())
            }
        };
    let tenant = record.tenant.clone();
    let c = app
        .connectors
        .connector(&tenant, &record.connector_id)
        .await?
        .ok_or_else(|| invalid_state("The connector this consent was for no longer exists."))?;
    let listing = super::listings::of_instance(app, &c).await?;
    if let Some(err) = cb.error {
        let code: String = err
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return finish(
            app,
            c,
            Err(format!("The provider refused consent ({code}).")),
        )
        .await;
    }
    let code = cb.code.unwrap_or_default();
    let fields = open_fields(app, &c)?;
    let verifier = match (&record.verifier, &app.config.vault) {
        (Some(sealed), Some(key)) => Some(
            String::from_utf8(
                key.open(&vault::owner(tenant.as_str(), &record.state_hash), sealed)
                    .map_err(|e| StoreError(format!("vault: {e}")))?,
            )
            .map_err(|_| StoreError("vault: verifier is not text".into()))?,
        ),
        _ => None,
    };
    let config = c.config.as_object().cloned().unwrap_or_default();
    let Some(ep) = endpoints_for(&listing, &fields, &config) else {
        return finish(
            app,
            c,
            Err("The connector has no token endpoint; authorize it again.".into()),
        )
        .await;
    };
    let body = oauth::code_exchange_body(
        code,
        &record.redirect_uri,
        fields
            .get("client_id")
            .map(String::as_str)
            .unwrap_or_default(),
        fields.get("client_secret").map(String::as_str),
        verifier.as_deref(),
    );
    let body = with_resource(body, ep.resource.as_deref());
    let hosts = (c.auth_type == AuthMode::OAuth2)
        .then(|| credential::allowed_hosts(&listing, &config))
        .flatten();
    let sent = credential::token_request(&app.net(), &ep.token_url, body, hosts).await;
    // A provider may echo what it was sent (the code, the client secret).
    let mut secrets: Vec<&str> = fields.values().map(String::as_str).collect();
    secrets.push(code);
    secrets.extend(verifier.as_deref());
    let outcome = match sent {
        Err(e) => Err(format!("The token exchange failed: {e}")),
        Ok(resp) => oauth::parse_token_response(resp.status, &resp.body, app.now.0)
            .map_err(|e| redact(&e.to_string(), &secrets)),
    };
    let outcome = outcome.map(|t| (fields.clone(), t));
    finish(app, c, outcome).await
}

/// Records the consent's outcome on the instance: the tokens sealed with
/// the client credentials (never partially), or `error` with the reason.
async fn finish(
    app: &App,
    c: ConnectorRecord,
    outcome: Result<(BTreeMap<String, String>, oauth::Tokens), String>,
) -> Result<Finished, Fail> {
    let mut next = c.clone();
    next.updated_at = app.now.rfc3339();
    let (message, kind, data) = match outcome {
        Ok((mut fields, tokens)) => {
            fields.insert("access_token".into(), tokens.access_token);
            if let Some(r) = tokens.refresh_token {
                fields.insert("refresh_token".into(), r);
            }
            if let Some(t) = tokens.expires_at_ms {
                fields.insert("expires_at_ms".into(), t.to_string());
            }
            next.secret = Some(seal_fields(app, &c.tenant, &c.id, &fields)?);
            next.status = Status::Connected;
            next.health = Health::unchecked("Authorized; not checked yet.");
            let data = json!({"listing": crate::domain::ids::slug_of(&c.listing)});
            (String::new(), "connector.authorized", data)
        }
        Err(message) => {
            // The code is spent: the instance needs a fresh consent.
            next.status = Status::Error;
            next.health = Health::checked(app.now, Some(false), None, &message);
            let data = json!({"changed": ["status"], "status": "error", "reason": message});
            (message, "connector.updated", data)
        }
    };
    let event = app.event_for(&c.tenant, &c.id, kind, data);
    if app
        .connectors
        .update_connector(&c.tenant, &next, Some(&event))
        .await?
        != Written::Done
    {
        return Err(invalid_state("The connector this consent was for no longer exists.").into());
    }
    Ok(Finished {
        status: next.status,
        connector: next,
        message,
    })
}
