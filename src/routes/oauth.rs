//! OAuth consent (API §5): the authorize URL with a single-use state and
//! PKCE, the callback that exchanges the code through the guarded client, and
//! re-consent. `oauth2` listings name their endpoints; `mcp_oauth` instances
//! use what discovery found and registered (`discovery.rs`).

use super::connectors::instance_listing;
use super::discovery;
use super::error::ApiError;
use super::http::{HttpRequest, HttpResponse};
use super::install::upstream;
use super::App;
use crate::domain::auth::Role;
use crate::domain::health::Health;
use crate::domain::ids::{ConnectorId, TenantId};
use crate::domain::manifest::Listing;
use crate::domain::oauth::{self, Authorize, STATE_TTL_MS};
use crate::domain::time::Millis;
use crate::domain::vault;
use crate::domain::Error;
use crate::probe::credential;
use crate::probe::run::redact;
use crate::store::{ConnectorRecord, OAuthStateRecord, Taken, Written};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub const CALLBACK_PATH: &str = "/v1/oauth/callback";

/// Where providers send the user back: `PUBLIC_BASE_URL` or this request's origin.
pub fn redirect_uri(app: &App, req: &HttpRequest) -> String {
    let base = app
        .config
        .public_base_url
        .clone()
        .unwrap_or_else(|| req.origin.clone());
    format!("{}{CALLBACK_PATH}", base.trim_end_matches('/'))
}

pub use crate::app::vault::{open_fields, seal_fields};
pub use crate::probe::credential::{endpoints, with_resource, Endpoints};

/// Starts a consent: stores a state (and PKCE verifier) and answers the
/// provider's authorize URL with its expiry. `None` when the instance has no
/// known endpoints.
pub async fn start_consent(
    app: &App,
    req: &HttpRequest,
    tenant: &TenantId,
    id: &ConnectorId,
    listing: &Listing,
    fields: &BTreeMap<String, String>,
) -> Result<Option<(String, String)>, ApiError> {
    let Some(ep) = endpoints(listing, fields) else {
        return Ok(None);
    };
    let block = listing.oauth.clone().unwrap_or_default();
    let key = app
        .config
        .vault
        .as_ref()
        .ok_or_else(|| ApiError::internal("VAULT_KEY is not configured"))?;
    let (state, hash) = oauth::new_state(app.rng.as_ref());
    let verifier = (block["pkce"] != false).then(|| oauth::pkce_verifier(app.rng.as_ref()));
    let challenge = verifier.as_deref().map(oauth::pkce_challenge);
    let redirect = redirect_uri(app, req);
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
        redirect_uri: &redirect,
        scopes: &scopes,
        scope_separator: block["scope_separator"].as_str().unwrap_or(" "),
        state: &state,
        challenge: challenge.as_deref(),
        extra: &extra,
    }
    .url()
    .map_err(|e| ApiError::internal(format!("listing {}: {e}", listing.id)))?;
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
        redirect_uri: redirect,
        expires_at_ms,
    };
    app.oauth.insert_state(&record).await?;
    Ok(Some((url, Millis(expires_at_ms).rfc3339())))
}

/// `POST /v1/connectors/{id}/authorize` — a fresh consent (re-consent).
pub async fn authorize_connector(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, _) = principal.require(Role::Manager)?;
    let c = super::connectors::owned(app, tenant, id).await?;
    if !matches!(c.auth_type.as_str(), "oauth2" | "mcp_oauth") {
        return Err(Error::StateConflict(format!(
            "The connector authenticates with '{}'; only oauth2 and mcp_oauth connectors take consent.",
            c.auth_type
        ))
        .into());
    }
    let listing = instance_listing(app, &c).await?;
    let mut fields = open_fields(app, &c)?;
    if c.auth_type == "mcp_oauth" {
        // Discovered again: the server may have moved its authorization
        // server; the registered client is kept while it still applies.
        let config = c.config.as_object().cloned().unwrap_or_default();
        let found =
            discovery::discover(app, &listing, &config, &redirect_uri(app, req), &fields).await?;
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
    let (url, expires_at) = start_consent(app, req, tenant, &c.id, &listing, &fields)
        .await?
        .ok_or_else(|| Error::StateConflict("The listing declares no OAuth endpoints.".into()))?;
    Ok(HttpResponse::json(
        200,
        &json!({"object": "authorization", "connector_id": c.id.as_str(), "authorize_url": url, "expires_at": expires_at}),
    ))
}

fn invalid_state(message: &str) -> ApiError {
    Error::InvalidState(message.to_string()).into()
}

/// `GET /v1/oauth/callback?state=…&code=…` — no API key: the state is the
/// credential. Spends the state, exchanges the code, stores the tokens.
pub async fn oauth_callback(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let q: BTreeMap<&str, &str> = req
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let state = q
        .get("state")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::missing("state"))?;
    // Checked before the state is spent, so a malformed callback can be retried.
    if !q.contains_key("error") && q.get("code").is_none_or(|c| c.is_empty()) {
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
            )),
            Taken::Used => {
                return Err(invalid_state(
                    "This consent link was already used; start the consent again.",
                ))
            }
            Taken::Unknown => {
                return Err(invalid_state(
                    "Unknown state: the consent link is not one this service issued.",
                ))
            }
        };
    let tenant = record.tenant.clone();
    let c = app
        .connectors
        .connector(&tenant, &record.connector_id)
        .await?
        .ok_or_else(|| invalid_state("The connector this consent was for no longer exists."))?;
    let listing = instance_listing(app, &c).await?;
    if let Some(err) = q.get("error") {
        let code: String = err
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return finish(
            app,
            &c,
            Err(format!("The provider refused consent ({code}).")),
        )
        .await;
    }
    let code = q.get("code").copied().unwrap_or_default();
    let fields = open_fields(app, &c)?;
    let verifier = match (&record.verifier, &app.config.vault) {
        (Some(sealed), Some(key)) => Some(
            String::from_utf8(
                key.open(&vault::owner(tenant.as_str(), &record.state_hash), sealed)
                    .map_err(|e| ApiError::internal(format!("vault: {e}")))?,
            )
            .map_err(|_| ApiError::internal("vault: verifier is not text"))?,
        ),
        _ => None,
    };
    let Some(ep) = endpoints(&listing, &fields) else {
        return finish(
            app,
            &c,
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
    let config = c.config.as_object().cloned().unwrap_or_default();
    let hosts = (c.auth_type == "oauth2")
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
    finish(app, &c, outcome).await
}

/// Records the consent's outcome on the instance and answers the browser.
async fn finish(
    app: &App,
    c: &ConnectorRecord,
    outcome: Result<(BTreeMap<String, String>, oauth::Tokens), String>,
) -> Result<HttpResponse, ApiError> {
    let mut next = c.clone();
    next.updated_at = app.now.rfc3339();
    let (status, message, kind) = match outcome {
        Ok((mut fields, tokens)) => {
            fields.insert("access_token".into(), tokens.access_token);
            if let Some(r) = tokens.refresh_token {
                fields.insert("refresh_token".into(), r);
            }
            if let Some(t) = tokens.expires_at_ms {
                fields.insert("expires_at_ms".into(), t.to_string());
            }
            next.secret = Some(seal_fields(app, &c.tenant, &c.id, &fields)?);
            next.status = "connected".into();
            next.health = Health::unchecked("Authorized; not checked yet.").to_json();
            ("connected", String::new(), "connector.authorized")
        }
        Err(message) => {
            // The code is spent: the instance needs a fresh consent.
            next.status = "error".into();
            next.health = Health::checked(app.now, Some(false), None, &message).to_json();
            ("error", message, "connector.updated")
        }
    };
    let data = if status == "connected" {
        json!({"listing": crate::domain::ids::slug_of(&c.listing)})
    } else {
        json!({"changed": ["status"], "status": "error", "reason": message})
    };
    let event = app.event_for(&c.tenant, &c.id, kind, data);
    if app
        .connectors
        .update_connector(&c.tenant, &next, Some(&event))
        .await?
        != Written::Done
    {
        return Err(invalid_state(
            "The connector this consent was for no longer exists.",
        ));
    }
    if let Some(ret) = c
        .return_url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
    {
        let mut ret = ret;
        ret.query_pairs_mut()
            .append_pair("connector_id", c.id.as_str())
            .append_pair("status", status);
        if status == "error" {
            ret.query_pairs_mut().append_pair("error", &message);
        }
        return Ok(HttpResponse::empty(302).header("location", ret.as_str()));
    }
    if status == "error" {
        return Err(upstream(&message));
    }
    let page = format!(
        "<!doctype html><meta charset=utf-8><title>Connected</title><p>{} is connected. You can close this window.</p>",
        html_escape(&c.name)
    );
    Ok(HttpResponse {
        status: 200,
        headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
        body: page.into_bytes(),
    })
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
