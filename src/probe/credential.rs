//! The one credential path (API §10): every request that carries an
//! instance's credential — verify and install probes, health checks, tool
//! tests, the MCP handshake and tool list, OAuth refreshes and code
//! exchanges — is built and sent here. A [`Session`] holds the opened
//! credential fields with the config and the listing version; it refreshes
//! a due OAuth token (the caller seals `fields` again when `refreshed`),
//! renders the request and sends it through the guarded client bound to the
//! version's `allowed_hosts` (resolved against the config) on every hop.

use super::client::{Guarded, OutboundRequest, OutboundResponse, ProbeError};
use super::run::{self, Clock, Outcome};
use super::template::{render_header, render_url, Values};
use crate::domain::connector::AuthMode;
use crate::domain::manifest::Listing;
use crate::domain::oauth;
use crate::domain::template::{self, Scope};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Keys of an `mcp_oauth` instance's sealed field map that hold what
/// discovery found (the tokens sit beside them once consent succeeds).
pub const RESOURCE: &str = "resource";
pub const ISSUER: &str = "issuer";
pub const AUTHORIZE_URL: &str = "authorize_url";
pub const TOKEN_URL: &str = "token_url";
pub const REDIRECT_URI: &str = "redirect_uri";

/// The outbound side of a request: the guarded client and the clock.
pub struct Net<'a> {
    pub client: Guarded<'a>,
    pub clock: Clock<'a>,
    pub now_ms: i64,
    /// Database sockets (`transport: database` listings).
    pub db: &'a dyn crate::db::Databases,
}

/// The listing version's `allowed_hosts` for this config: `{{config.x}}`
/// entries become the host of that value. `None` for a version that names
/// none (a listing without credentials, or stored before the field existed:
/// the probe then binds a credential to its first host).
pub fn allowed_hosts(listing: &Listing, config: &Map<String, Value>) -> Option<Vec<String>> {
    if listing.allowed_hosts.is_empty() {
        return None;
    }
    Some(
        listing
            .allowed_hosts
            .iter()
            .filter_map(|h| match h.strip_prefix("{{") {
                Some(slot) => {
                    let key = slot.trim_end_matches("}}").trim().strip_prefix("config.")?;
                    let u = url::Url::parse(config.get(key)?.as_str()?).ok()?;
                    u.host_str().map(str::to_ascii_lowercase)
                }
                None => Some(h.to_ascii_lowercase()),
            })
            .collect(),
    )
}

/// The hosts this config sends the instance's credential to: the hosts of
/// every credential-bearing template rendered with it. A config change that
/// changes this set moves the credential (API §10).
pub fn credential_hosts(listing: &Listing, config: &Map<String, Value>) -> BTreeSet<String> {
    let dummy: BTreeMap<String, String> = listing
        .auth_fields
        .iter()
        .map(|f| (f.key.clone(), "x".to_string()))
        .chain([("access_token".to_string(), "x".to_string())])
        .collect();
    listing
        .credential_urls
        .iter()
        .filter_map(|(_, t)| {
            // A tool request's arguments never change its host: any will do.
            let args = placeholder_args(t);
            let scope = Scope {
                config,
                auth: &dummy,
                args: Some(&args),
            };
            template::url_in(t, &scope).ok()
        })
        .filter_map(|u| {
            let u = url::Url::parse(&u).ok()?;
            Some(format!(
                "{}://{}:{}",
                u.scheme(),
                u.host_str()?,
                u.port_or_known_default()?
            ))
        })
        .collect()
}

/// Every `{{args.*}}` of a template, as `x`.
fn placeholder_args(t: &str) -> Map<String, Value> {
    template::parse(t)
        .map(|parts| {
            parts
                .iter()
                .filter_map(|p| match p {
                    template::Part::Slot(s) if s.ns == template::Ns::Args => {
                        Some((s.key.to_string(), json!("x")))
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Where an instance's consent and token requests go.
pub struct Endpoints {
    pub authorize_url: String,
    pub token_url: String,
    /// The RFC 8707 `resource` sent with authorize and token requests
    /// (`mcp_oauth`: the MCP server, as the MCP spec requires).
    pub resource: Option<String>,
}

/// `oauth2`: the listing's OAuth block; `mcp_oauth`: the discovered
/// endpoints kept with the instance's sealed fields. `None` when unknown.
/// An endpoint template (`{{config.login_url}}/…`) renders with the
/// config_schema's defaults here; [`endpoints_for`] renders it with the
/// instance's config.
pub fn endpoints(listing: &Listing, fields: &BTreeMap<String, String>) -> Option<Endpoints> {
    let defaults: Map<String, Value> = listing.config_schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, p)| Some((k.clone(), p.get("default")?.clone())))
        .collect();
    endpoints_for(listing, fields, &defaults)
}

/// [`endpoints`] for one instance's config (a My Domain `login_url`).
pub fn endpoints_for(
    listing: &Listing,
    fields: &BTreeMap<String, String>,
    config: &Map<String, Value>,
) -> Option<Endpoints> {
    if listing.mode() == AuthMode::McpOauth {
        return Some(Endpoints {
            authorize_url: fields.get(AUTHORIZE_URL)?.clone(),
            token_url: fields.get(TOKEN_URL)?.clone(),
            resource: fields.get(RESOURCE).cloned(),
        });
    }
    let block = listing.oauth.as_ref()?;
    let none = BTreeMap::new();
    let values = Values {
        config,
        auth: &none,
    };
    let url = |t: &str| render_url(t, &values).ok();
    Some(Endpoints {
        authorize_url: url(block["authorize_url"].as_str()?)?,
        token_url: url(block["token_url"].as_str()?)?,
        resource: None,
    })
}

/// A token-endpoint form with the RFC 8707 `resource` added when there is one.
pub fn with_resource(mut form: String, resource: Option<&str>) -> String {
    if let Some(r) = resource {
        form.push_str("&resource=");
        form.extend(url::form_urlencoded::byte_serialize(r.as_bytes()));
    }
    form
}

/// A form POST to a token endpoint: the body carries secrets (client
/// secret, code verifier, refresh token), so a redirect is a failure, never
/// followed. `oauth2` endpoints are bound to the listing's hosts; an
/// `mcp_oauth` instance's were discovered and sealed with it.
pub async fn token_request(
    net: &Net<'_>,
    token_url: &str,
    form: String,
    hosts: Option<Vec<String>>,
) -> Result<OutboundResponse, ProbeError> {
    net.client
        .send(OutboundRequest {
            method: "POST".into(),
            url: token_url.to_string(),
            headers: vec![
                (
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
                ("Accept".into(), "application/json".into()),
            ],
            body: Some(form),
            body_has_credential: true,
            no_redirects: true,
            hosts,
            ..Default::default()
        })
        .await
}

/// The listing's `mcp.url` rendered with the config (and credential fields,
/// should the template name any).
pub fn mcp_url(listing: &Listing, values: &Values) -> Result<String, String> {
    let template = listing
        .mcp
        .as_ref()
        .and_then(|m| m["url"].as_str())
        .ok_or("The listing declares no MCP endpoint.")?;
    render_url(template, values).map_err(|e| e.to_string())
}

/// One instance's credential on its way out.
pub struct Session<'a> {
    pub listing: &'a Listing,
    /// The instance's `auth.type` (`pat`, `oauth2`, …).
    pub auth_type: AuthMode,
    pub config: &'a Map<String, Value>,
    pub fields: BTreeMap<String, String>,
    /// `fields` holds a refreshed token: seal them again.
    pub refreshed: bool,
}

impl<'a> Session<'a> {
    pub fn new(
        listing: &'a Listing,
        auth_type: AuthMode,
        config: &'a Map<String, Value>,
        fields: BTreeMap<String, String>,
    ) -> Self {
        Self {
            listing,
            auth_type,
            config,
            fields,
            refreshed: false,
        }
    }

    pub fn oauth(&self) -> bool {
        self.auth_type.is_oauth()
    }

    fn hosts(&self) -> Option<Vec<String>> {
        allowed_hosts(self.listing, self.config)
    }

    fn secrets(&self) -> Vec<&str> {
        self.fields.values().map(String::as_str).collect()
    }

    /// Refreshes an OAuth access token due within 5 minutes. `Err` carries a
    /// message for the instance when the refresh failed or was refused.
    pub async fn refresh_if_due(&mut self, net: &Net<'_>) -> Result<bool, String> {
        let fields = &self.fields;
        let expires = fields
            .get("expires_at_ms")
            .and_then(|s| s.parse::<i64>().ok());
        if !oauth::needs_refresh(expires, net.now_ms) {
            return Ok(false);
        }
        let Some(refresh) = fields.get("refresh_token").cloned() else {
            return Err(
                "The access token expired and the provider issued no refresh token; authorize again."
                    .into(),
            );
        };
        let Some(ep) = endpoints_for(self.listing, fields, self.config) else {
            return Err("The connector has no token endpoint; authorize it again.".into());
        };
        let body = oauth::refresh_body(
            &refresh,
            fields
                .get("client_id")
                .map(String::as_str)
                .unwrap_or_default(),
            fields.get("client_secret").map(String::as_str),
        );
        let body = with_resource(body, ep.resource.as_deref());
        let hosts = (self.auth_type == AuthMode::OAuth2)
            .then(|| self.hosts())
            .flatten();
        let resp = token_request(net, &ep.token_url, body, hosts)
            .await
            .map_err(|e| format!("The token refresh failed: {e}"))?;
        let tokens =
            oauth::parse_token_response(resp.status, &resp.body, net.now_ms).map_err(|e| {
                run::redact(
                    &format!("The token refresh was refused: {e}"),
                    &self.secrets(),
                )
            })?;
        self.fields
            .insert("access_token".into(), tokens.access_token);
        if let Some(r) = tokens.refresh_token {
            self.fields.insert("refresh_token".into(), r);
        }
        match tokens.expires_at_ms {
            Some(t) => self.fields.insert("expires_at_ms".into(), t.to_string()),
            None => self.fields.remove("expires_at_ms"),
        };
        self.refreshed = true;
        Ok(true)
    }

    /// Runs a manifest probe with the credential; `bearer` adds the OAuth
    /// access token as `Authorization: Bearer` unless the probe sets that
    /// header itself (the manifest convention). A listing with a
    /// `token_exchange` gets its access token first, and sends it the same way.
    pub async fn probe(&self, net: &Net<'_>, probe: &Value, bearer: bool) -> Outcome {
        if probe["kind"] == "database" {
            return super::database::verify(self, net).await;
        }
        let mut probe = probe.clone();
        let (exchanged, add) = match self.bearer(net, bearer).await {
            Ok(b) => b,
            Err(outcome) => return outcome,
        };
        if add {
            add_bearer(&mut probe);
        }
        let values = Values {
            config: self.config,
            auth: exchanged.as_ref().unwrap_or(&self.fields),
        };
        let hosts = self.hosts();
        run::run(&probe, &values, &net.client, net.clock, hosts.as_deref()).await
    }

    /// What a credential-bearing request (a probe, a tool's request) renders
    /// its `{{auth.*}}` from, and whether it carries `{{auth.access_token}}`
    /// as a Bearer: a listing's `token_exchange` runs first and its token is
    /// sent (the fields then come back with it); otherwise `bearer` (an OAuth
    /// instance) decides. `Err` is the outcome of a failed exchange.
    pub(super) async fn bearer(
        &self,
        net: &Net<'_>,
        bearer: bool,
    ) -> Result<(Option<BTreeMap<String, String>>, bool), Outcome> {
        let hosts = self.hosts();
        let exchanged = super::exchange::access_token(
            net,
            self.listing,
            self.config,
            &self.fields,
            hosts.as_deref(),
        )
        .await?;
        Ok(match exchanged {
            Some(token) => {
                let mut f = self.fields.clone();
                f.insert("access_token".into(), token);
                (Some(f), true)
            }
            None => (None, bearer),
        })
    }

    /// The MCP endpoint and the credential headers for it: the OAuth access
    /// token, or the verify probe's `Authorization` (a PAT as a Bearer).
    fn mcp_target(&self) -> Result<(String, Vec<(String, String)>), String> {
        let values = Values {
            config: self.config,
            auth: &self.fields,
        };
        let url = mcp_url(self.listing, &values)?;
        let mut headers = vec![];
        if self.oauth() {
            if let Some(t) = self.fields.get("access_token") {
                headers.push(("Authorization".to_string(), format!("Bearer {t}")));
            }
        } else if let Some(h) = self
            .listing
            .verify
            .as_ref()
            .and_then(|v| v["headers"].as_object())
        {
            for (k, t) in h
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            {
                headers.push((
                    k.clone(),
                    render_header(t.as_str().unwrap_or_default(), &values)
                        .map_err(|e| e.to_string())?,
                ));
            }
        }
        Ok((url, headers))
    }

    /// The MCP `initialize` handshake as a health check.
    pub async fn mcp_handshake(&self, net: &Net<'_>) -> Outcome {
        let (url, headers) = match self.mcp_target() {
            Ok(t) => t,
            Err(message) => return Outcome::Refused { message },
        };
        let hosts = self.hosts();
        super::mcp::handshake(&net.client, &url, &headers, hosts.as_deref(), net.clock).await
    }

    /// A connection to the instance's MCP server (the handshake done),
    /// through its credential.
    pub async fn mcp_connect<'n>(&self, net: &'n Net<'n>) -> Result<super::mcp::Conn<'n>, String> {
        if self.oauth() && !self.fields.contains_key("access_token") {
            return Err("The connector holds no access token; authorize it.".into());
        }
        let (url, headers) = self.mcp_target()?;
        let hosts = self.hosts();
        super::mcp::Conn::open(&net.client, &url, &headers, hosts.as_deref()).await
    }

    /// The definitions of the tools the instance's MCP server offers.
    pub async fn mcp_tool_definitions(&self, net: &Net<'_>) -> Result<Vec<Value>, String> {
        self.mcp_connect(net).await?.tool_definitions().await
    }
}

/// OAuth probes carry the access token as a Bearer unless they set
/// `Authorization` themselves. The token goes in through the template like
/// any credential, so its value is checked there.
fn add_bearer(probe: &mut Value) {
    let mut headers = probe["headers"].as_object().cloned().unwrap_or_default();
    if !headers
        .keys()
        .any(|k| k.eq_ignore_ascii_case("authorization"))
    {
        headers.insert(
            "Authorization".into(),
            json!("Bearer {{auth.access_token}}"),
        );
        probe["headers"] = Value::Object(headers);
    }
}
