//! OAuth 2.0 pieces for consent (API §5), pure and RFC-tested: PKCE S256
//! (RFC 7636), single-use state, authorize URLs, token requests and answers
//! (RFC 6749), refresh timing, and for `mcp_oauth` the discovery documents
//! (RFC 9728 protected-resource metadata, RFC 8414 server metadata) and
//! dynamic client registration (RFC 7591). The flow that uses them (routes,
//! callback, storage) is the OAuth issue's; nothing here does I/O.

use super::ids::{random_base62, Random};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// A consent must be completed within this long.
pub const STATE_TTL_MS: i64 = 10 * 60 * 1000;
/// Tokens are refreshed this long before they expire.
pub const REFRESH_SKEW_MS: i64 = 5 * 60 * 1000;
/// Parameters a listing's `extra_params` may never override.
const CORE_PARAMS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// The provider or a document said no; the text is bounded and safe to show.
    #[error("{0}")]
    Refused(String),
    /// A document or URL is not usable.
    #[error("{0}")]
    Invalid(String),
}

/// A PKCE verifier: 64 characters from the unreserved set (RFC 7636 §4.1).
pub fn pkce_verifier(rng: &dyn Random) -> String {
    random_base62(rng, 64)
}

/// `BASE64URL(SHA256(verifier))` without padding (RFC 7636 §4.2, S256).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// An opaque single-use state token, and the hash under which it is stored
/// (a leaked table does not let anyone complete someone else's consent).
pub fn new_state(rng: &dyn Random) -> (String, String) {
    let token = format!("st_{}", random_base62(rng, 40));
    let hash = state_hash(&token);
    (token, hash)
}

pub fn state_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// One consent's authorize request.
pub struct Authorize<'a> {
    pub endpoint: &'a str,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub scopes: &'a [String],
    pub scope_separator: &'a str,
    pub state: &'a str,
    /// The PKCE S256 challenge, when the listing uses PKCE.
    pub challenge: Option<&'a str>,
    /// A listing's `extra_params`; they can never override the core ones.
    pub extra: &'a Map<String, Value>,
}

impl Authorize<'_> {
    /// The provider's authorize URL. It is opened by the user's browser, not
    /// fetched by the worker; manifests require it to be https.
    pub fn url(&self) -> Result<String, OAuthError> {
        let mut u = url::Url::parse(self.endpoint)
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
            .ok_or_else(|| {
                OAuthError::Invalid("The authorization endpoint is not an absolute URL.".into())
            })?;
        {
            let mut q = u.query_pairs_mut();
            q.append_pair("response_type", "code");
            q.append_pair("client_id", self.client_id);
            q.append_pair("redirect_uri", self.redirect_uri);
            if !self.scopes.is_empty() {
                q.append_pair("scope", &self.scopes.join(self.scope_separator));
            }
            q.append_pair("state", self.state);
            if let Some(c) = self.challenge {
                q.append_pair("code_challenge", c);
                q.append_pair("code_challenge_method", "S256");
            }
            for (k, v) in self.extra {
                if let (false, Some(v)) = (CORE_PARAMS.contains(&k.as_str()), v.as_str()) {
                    q.append_pair(k, v);
                }
            }
        }
        Ok(u.to_string())
    }
}

/// The form body exchanging an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.5).
pub fn code_exchange_body(
    code: &str,
    redirect_uri: &str,
    client_id: &str,
    client_secret: Option<&str>,
    verifier: Option<&str>,
) -> String {
    let mut f = url::form_urlencoded::Serializer::new(String::new());
    f.append_pair("grant_type", "authorization_code");
    f.append_pair("code", code);
    f.append_pair("redirect_uri", redirect_uri);
    f.append_pair("client_id", client_id);
    if let Some(s) = client_secret {
        f.append_pair("client_secret", s);
    }
    if let Some(v) = verifier {
        f.append_pair("code_verifier", v);
    }
    f.finish()
}

/// The form body refreshing an access token (RFC 6749 §6).
pub fn refresh_body(refresh_token: &str, client_id: &str, client_secret: Option<&str>) -> String {
    let mut f = url::form_urlencoded::Serializer::new(String::new());
    f.append_pair("grant_type", "refresh_token");
    f.append_pair("refresh_token", refresh_token);
    f.append_pair("client_id", client_id);
    if let Some(s) = client_secret {
        f.append_pair("client_secret", s);
    }
    f.finish()
}

/// Tokens from a token endpoint. Never shown; sealed by the vault.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_at_ms: Option<i64>,
    pub scope: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &"****")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "****"),
            )
            .field("expires_at_ms", &self.expires_at_ms)
            .finish()
    }
}

/// Reads a token endpoint's answer. Errors quote only the RFC 6749 `error`
/// code and a bounded `error_description`, never the body (it may echo a code).
pub fn parse_token_response(status: u16, body: &[u8], now_ms: i64) -> Result<Tokens, OAuthError> {
    let v: Value = serde_json::from_slice(body).map_err(|_| {
        OAuthError::Refused(format!(
            "The token endpoint answered HTTP {status} without JSON."
        ))
    })?;
    // Slack answers 200 with {"ok": false, "error": …}.
    let slack_refusal = v.get("ok") == Some(&Value::Bool(false));
    if !(200..300).contains(&status) || v.get("error").is_some() || slack_refusal {
        let code = v["error"].as_str().unwrap_or("unknown_error");
        let code: String = code
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        let desc: String = v["error_description"]
            .as_str()
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        let sep = if desc.is_empty() { "" } else { ": " };
        return Err(OAuthError::Refused(format!(
            "The provider refused the token request ({code}){sep}{desc}"
        )));
    }
    let access_token = v["access_token"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            OAuthError::Refused("The token endpoint answered without an access_token.".into())
        })?
        .to_string();
    let expires_in = v["expires_in"]
        .as_i64()
        .or_else(|| v["expires_in"].as_str().and_then(|s| s.parse().ok()))
        .filter(|s| *s > 0);
    Ok(Tokens {
        access_token,
        refresh_token: v["refresh_token"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        expires_at_ms: expires_in.map(|s| now_ms + s * 1000),
        scope: v["scope"].as_str().map(str::to_string),
    })
}

/// Whether a token should be refreshed now.
pub fn needs_refresh(expires_at_ms: Option<i64>, now_ms: i64) -> bool {
    expires_at_ms.is_some_and(|t| now_ms >= t - REFRESH_SKEW_MS)
}

/// RFC 9728 §3.1: the protected-resource metadata URL of an MCP endpoint
/// (`https://h/mcp` → `https://h/.well-known/oauth-protected-resource/mcp`).
pub fn resource_metadata_url(resource: &str) -> Result<String, OAuthError> {
    well_known(resource, "oauth-protected-resource")
}

/// RFC 8414 §3.1: the metadata URL of an issuer
/// (`https://as/tenant1` → `https://as/.well-known/oauth-authorization-server/tenant1`).
pub fn server_metadata_url(issuer: &str) -> Result<String, OAuthError> {
    well_known(issuer, "oauth-authorization-server")
}

fn well_known(base: &str, name: &str) -> Result<String, OAuthError> {
    let u = url::Url::parse(base)
        .map_err(|_| OAuthError::Invalid(format!("'{base}' is not an absolute URL.")))?;
    let host = u
        .host_str()
        .ok_or_else(|| OAuthError::Invalid("The URL has no host.".into()))?;
    let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
    let path = u.path().trim_end_matches('/');
    Ok(format!(
        "{}://{host}{port}/.well-known/{name}{path}",
        u.scheme()
    ))
}

/// The `resource_metadata` parameter of a `WWW-Authenticate: Bearer …`
/// challenge (RFC 9728 §5.1), when a server names its metadata itself.
pub fn resource_metadata_from_challenge(header: &str) -> Option<String> {
    let i = header.find("resource_metadata=")?;
    let rest = &header[i + "resource_metadata=".len()..];
    let value = match rest.strip_prefix('"') {
        Some(q) => &q[..q.find('"')?],
        None => rest.split([',', ' ']).next()?,
    };
    Some(value.to_string())
}

/// The authorization server an MCP resource names (RFC 9728 §2).
pub fn authorization_server(resource_metadata: &Value) -> Result<String, OAuthError> {
    resource_metadata["authorization_servers"]
        .as_array()
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            OAuthError::Invalid(
                "The protected-resource metadata names no authorization_servers.".into(),
            )
        })
}

/// What consent needs from RFC 8414 server metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerMetadata {
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub registration_endpoint: Option<String>,
}

pub fn server_metadata(v: &Value, issuer: &str) -> Result<ServerMetadata, OAuthError> {
    let field = |k: &str| v[k].as_str().map(str::to_string);
    if v["issuer"]
        .as_str()
        .is_some_and(|i| i.trim_end_matches('/') != issuer.trim_end_matches('/'))
    {
        // RFC 8414 §3.3: the metadata must be about the issuer asked for.
        return Err(OAuthError::Invalid(
            "The server metadata names another issuer.".into(),
        ));
    }
    let methods = v["code_challenge_methods_supported"].as_array();
    if methods.is_some_and(|m| !m.iter().any(|x| x == "S256")) {
        return Err(OAuthError::Invalid(
            "The authorization server does not support PKCE S256.".into(),
        ));
    }
    Ok(ServerMetadata {
        authorization_endpoint: field("authorization_endpoint").ok_or_else(|| {
            OAuthError::Invalid("The server metadata has no authorization_endpoint.".into())
        })?,
        token_endpoint: field("token_endpoint").ok_or_else(|| {
            OAuthError::Invalid("The server metadata has no token_endpoint.".into())
        })?,
        registration_endpoint: field("registration_endpoint"),
    })
}

/// An RFC 7591 registration request for a public client using PKCE.
pub fn registration_request(client_name: &str, redirect_uri: &str) -> Value {
    json!({
        "client_name": client_name,
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    })
}

/// The client id (and secret, if the server issued one) from an RFC 7591 answer.
pub fn registered_client(v: &Value) -> Result<(String, Option<String>), OAuthError> {
    let id = v["client_id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| OAuthError::Refused("The registration answer has no client_id.".into()))?;
    Ok((
        id.to_string(),
        v["client_secret"].as_str().map(str::to_string),
    ))
}

#[cfg(test)]
mod tests;
