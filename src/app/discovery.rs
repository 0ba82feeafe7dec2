//! `mcp_oauth` (API §5): the authorization server of an MCP server is not in
//! the listing. It is discovered from the server (RFC 9728 protected-resource
//! metadata, then RFC 8414 authorization-server metadata) and this service
//! registers itself as a client there (RFC 7591). The result is kept with the
//! instance's sealed credential, so consent, the code exchange and refreshes
//! use the same endpoints and client.
//!
//! Every request goes through the guarded client: the metadata documents are
//! third-party input and may name any host.

use super::App;
use crate::domain::manifest::Listing;
use crate::domain::oauth;
use crate::domain::Error;
use crate::probe::client::OutboundRequest;
use crate::probe::template::Values;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub use crate::probe::credential::{
    mcp_url, AUTHORIZE_URL, ISSUER, REDIRECT_URI, RESOURCE, TOKEN_URL,
};

/// An absolute https URL, or plain http to a `PROBE_ALLOW_HOSTS` pair.
fn https_or_dev_pair(u: &str, allow: &crate::probe::guard::AllowList) -> bool {
    url::Url::parse(u).is_ok_and(|p| {
        p.host().is_some()
            && (p.scheme() == "https"
                || (p.scheme() == "http"
                    && allow.contains(
                        p.host_str().unwrap_or_default(),
                        p.port_or_known_default().unwrap_or(80),
                    )))
    })
}

fn failed(step: &str, why: impl std::fmt::Display) -> String {
    format!("OAuth discovery for the MCP server failed ({step}): {why}")
}

async fn get_json(app: &App, url: &str) -> Result<Option<Value>, String> {
    let resp = app
        .outbound()
        .send(OutboundRequest {
            method: "GET".into(),
            url: url.to_string(),
            headers: vec![("Accept".into(), "application/json".into())],
            body: None,
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    if resp.status != 200 {
        return Ok(None);
    }
    serde_json::from_slice(&resp.body)
        .map(Some)
        .map_err(|_| format!("{url} did not answer JSON"))
}

/// RFC 9728: where the server's protected-resource metadata is. A `401`
/// challenge naming `resource_metadata` wins (§5.1); otherwise the
/// well-known URL for the endpoint's path, then for its origin (§3.1).
async fn resource_metadata(app: &App, server: &str) -> Result<Value, String> {
    let mut candidates = vec![];
    let probe = app
        .outbound()
        .send(OutboundRequest {
            method: "POST".into(),
            url: server.to_string(),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                (
                    "Accept".into(),
                    "application/json, text/event-stream".into(),
                ),
            ],
            body: Some(
                json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                    "protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": {"name": "connector-marketplace", "version": "1"}}})
                .to_string(),
            ),
            ..Default::default()
        })
        .await
        .map_err(|e| failed("reaching the server", e))?;
    if probe.status == 401 {
        if let Some(url) = probe
            .header("www-authenticate")
            .and_then(oauth::resource_metadata_from_challenge)
        {
            candidates.push(url);
        }
    }
    candidates.push(oauth::resource_metadata_url(server).map_err(|e| failed("metadata URL", e))?);
    let origin = url::Url::parse(server)
        .map(|u| u.origin().ascii_serialization())
        .map_err(|_| failed("metadata URL", "the server URL is not absolute"))?;
    let at_origin = format!("{origin}/.well-known/oauth-protected-resource");
    if !candidates.contains(&at_origin) {
        candidates.push(at_origin);
    }
    for url in &candidates {
        if let Some(v) = get_json(app, url)
            .await
            .map_err(|e| failed("protected-resource metadata", e))?
        {
            return Ok(v);
        }
    }
    Err(failed(
        "protected-resource metadata",
        "the server publishes none (RFC 9728); it may not require OAuth",
    ))
}

/// RFC 8414 metadata of `issuer`, or its OpenID Connect discovery document.
async fn server_metadata(app: &App, issuer: &str) -> Result<oauth::ServerMetadata, String> {
    let rfc8414 = oauth::server_metadata_url(issuer).map_err(|e| failed("issuer", e))?;
    let oidc = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    for url in [rfc8414, oidc] {
        if let Some(v) = get_json(app, &url)
            .await
            .map_err(|e| failed("authorization-server metadata", e))?
        {
            // MCP requires PKCE: a server that does not say it supports S256
            // is not used (`server_metadata` refuses one listing others).
            if v["code_challenge_methods_supported"].as_array().is_none() {
                return Err(failed(
                    "authorization-server metadata",
                    "the server does not advertise PKCE (code_challenge_methods_supported)",
                ));
            }
            return oauth::server_metadata(&v, issuer)
                .map_err(|e| failed("authorization-server metadata", e));
        }
    }
    Err(failed(
        "authorization-server metadata",
        format!("{issuer} publishes no RFC 8414 or OpenID metadata"),
    ))
}

/// RFC 7591: registers this service as a public client using PKCE.
async fn register(
    app: &App,
    endpoint: &str,
    redirect_uri: &str,
) -> Result<(String, Option<String>), String> {
    let body = oauth::registration_request("Connector marketplace", redirect_uri);
    let resp = app
        .outbound()
        .send(OutboundRequest {
            method: "POST".into(),
            url: endpoint.to_string(),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Accept".into(), "application/json".into()),
            ],
            body: Some(body.to_string()),
            ..Default::default()
        })
        .await
        .map_err(|e| failed("client registration", e))?;
    if !(200..300).contains(&resp.status) {
        return Err(failed(
            "client registration",
            format!("the server answered HTTP {}", resp.status),
        ));
    }
    let v: Value = serde_json::from_slice(&resp.body)
        .map_err(|_| failed("client registration", "the answer is not JSON"))?;
    oauth::registered_client(&v).map_err(|e| failed("client registration", e))
}

/// Discovers the instance's authorization server and makes sure this
/// service is registered there for `redirect_uri`. `previous` is what the
/// instance holds already: its client is kept while issuer and redirect URI
/// are unchanged, and so are its tokens. Answers the field map to seal.
pub async fn discover(
    app: &App,
    listing: &Listing,
    config: &Map<String, Value>,
    redirect_uri: &str,
    previous: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, Error> {
    let values = Values {
        config,
        auth: &BTreeMap::new(),
    };
    let server =
        mcp_url(listing, &values).map_err(|e| Error::Upstream(failed("MCP endpoint", e)))?;
    let prm = resource_metadata(app, &server)
        .await
        .map_err(Error::Upstream)?;
    // RFC 9728 §3.3: the metadata must be about this resource.
    if let Some(r) = prm["resource"].as_str() {
        if r.trim_end_matches('/') != server.trim_end_matches('/') {
            return Err(Error::Upstream(failed(
                "protected-resource metadata",
                "the metadata describes another resource",
            )));
        }
    }
    let issuer = oauth::authorization_server(&prm)
        .map_err(|e| Error::Upstream(failed("protected-resource metadata", e)))?;
    let meta = server_metadata(app, &issuer)
        .await
        .map_err(Error::Upstream)?;
    // Secrets go to these endpoints (the code, the verifier, tokens): https
    // only, except the development allow-list pairs (local fakes).
    for (name, u) in [
        ("authorization_endpoint", Some(&meta.authorization_endpoint)),
        ("token_endpoint", Some(&meta.token_endpoint)),
        ("registration_endpoint", meta.registration_endpoint.as_ref()),
    ] {
        if let Some(u) = u.filter(|u| !https_or_dev_pair(u, &app.config.allow)) {
            let host = url::Url::parse(u)
                .ok()
                .and_then(|p| p.host_str().map(str::to_string))
                .unwrap_or_default();
            return Err(Error::Upstream(failed(
                "authorization-server metadata",
                format!("its {name} on '{host}' is not an https URL (PROBE_ALLOW_HOSTS lists the plain-http pairs of a development deployment)"),
            )));
        }
    }
    let mut fields = previous.clone();
    let same_client = previous.get(ISSUER) == Some(&issuer)
        && previous.get(REDIRECT_URI).map(String::as_str) == Some(redirect_uri)
        && previous.contains_key("client_id");
    if !same_client {
        let endpoint = meta.registration_endpoint.as_deref().ok_or_else(|| {
            Error::Upstream(failed(
                "client registration",
                "the authorization server does not offer dynamic client registration (RFC 7591)",
            ))
        })?;
        let (id, secret) = register(app, endpoint, redirect_uri)
            .await
            .map_err(Error::Upstream)?;
        // A new client: tokens of another client are not kept.
        fields.clear();
        fields.insert("client_id".into(), id);
        if let Some(s) = secret {
            fields.insert("client_secret".into(), s);
        }
    }
    fields.insert(RESOURCE.into(), server);
    fields.insert(ISSUER.into(), issuer);
    fields.insert(AUTHORIZE_URL.into(), meta.authorization_endpoint);
    fields.insert(TOKEN_URL.into(), meta.token_endpoint);
    fields.insert(REDIRECT_URI.into(), redirect_uri.to_string());
    Ok(fields)
}
