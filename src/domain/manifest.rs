//! Connector manifests: validation against `catalog/manifest.schema.json`
//! (JSON Schema draft-07) plus the semantic checks a schema cannot express,
//! and the summary the catalog browses. Errors name the JSON path.

use super::Error;
use crate::probe::guard::AllowList;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// The manifest schema (catalog/manifest.schema.json): the loader, the
/// submissions and the tests apply exactly the same rules.
#[cfg(not(target_arch = "wasm32"))]
pub const SCHEMA: &str = include_str!("../../catalog/manifest.schema.json");

/// The manifest schema's text. Native builds embed it; the Wasm build gets it
/// from the JavaScript bundle (worker/entry.mjs imports the same file as a
/// text module), as static text need not be compiled into the module.
#[cfg(not(target_arch = "wasm32"))]
fn schema_text() -> String {
    SCHEMA.to_owned()
}

#[cfg(target_arch = "wasm32")]
fn schema_text() -> String {
    crate::edge::manifest_schema()
}

/// A manifest that passed every check, with the exact text it came from.
#[derive(Debug, Clone)]
pub struct ValidManifest {
    pub raw: String,
    pub etag: String,
    pub summary: ListingSummary,
}

/// What the catalog list shows of a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListingSummary {
    pub id: String,
    pub object: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub tags: Vec<String>,
    pub icon: String,
    pub brand_color: String,
    pub version: String,
    pub kind: String,
    pub transport: String,
    pub availability: String,
    pub featured: bool,
    pub pricing: Value,
    pub auth_mode: String,
    pub capabilities: Vec<String>,
    /// `public`, or `private` to the tenant that published it (set from the
    /// listing's record when shown; manifests do not carry it).
    #[serde(default = "public")]
    pub visibility: String,
    /// `platform`, or the tenant whose approved submission created the
    /// listing (set from the listing's record when shown; API §3).
    #[serde(default = "platform")]
    pub owner: String,
}

fn platform() -> String {
    "platform".into()
}

fn public() -> String {
    "public".into()
}

/// A published listing, read back from its (already validated) manifest text:
/// what installs, probes and views need.
#[derive(Debug, Clone, Deserialize)]
pub struct Listing {
    pub id: String,
    pub name: String,
    pub version: String,
    pub kind: String,
    pub transport: String,
    pub availability: String,
    pub pricing: Value,
    #[serde(rename = "auth", deserialize_with = "auth_mode")]
    pub auth_mode: String,
    #[serde(skip)]
    pub auth_fields: Vec<AuthField>,
    pub config_schema: Value,
    #[serde(default)]
    pub verify: Option<Value>,
    #[serde(default)]
    pub health: Option<Value>,
    #[serde(default)]
    pub oauth: Option<Value>,
    #[serde(default)]
    pub mcp: Option<Value>,
    pub capabilities: Vec<String>,
    pub tools: Vec<Tool>,
    /// Where this version's credentials may go (API §3): hosts, `*.suffix`
    /// patterns and `{{config.x}}` entries. Empty only for listings that
    /// carry no credential (and for versions stored before it existed).
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// The URL templates that can carry a credential, with their JSON path.
    #[serde(skip)]
    pub credential_urls: Vec<(String, String)>,
    /// The stored manifest's ETag (set by the reader, not part of the text):
    /// it names this exact version, so per-isolate caches key on it.
    #[serde(skip)]
    pub etag: String,
    /// Where the listing is stored (`ListingId`): the slug, or
    /// `tenant/slug` for a private listing. Set by the reader.
    #[serde(skip)]
    pub key: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthField {
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub secret: bool,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub pattern: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Tool {
    pub name: String,
    pub capability: String,
    pub side_effect: bool,
    #[serde(default, skip_serializing)]
    pub probe: Option<Value>,
}

fn auth_mode<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(AuthHead::deserialize(d)?.mode)
}

impl Listing {
    /// Parses a stored manifest. Stored manifests passed `validate`, so a
    /// failure here means the store was edited by hand.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let v: Value = serde_json::from_str(raw).map_err(|e| e.to_string())?;
        let mut l: Listing = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
        l.auth_fields = serde_json::from_value(v["auth"]["fields"].clone()).unwrap_or_default();
        l.credential_urls = credential_urls(&v);
        Ok(l)
    }

    pub fn is_priced(&self) -> bool {
        self.pricing["model"] == "paid"
    }
}

#[derive(Deserialize)]
struct Head {
    id: String,
    name: String,
    description: String,
    category: String,
    tags: Vec<String>,
    icon: String,
    brand_color: String,
    version: String,
    kind: String,
    transport: String,
    availability: String,
    featured: bool,
    pricing: Value,
    auth: AuthHead,
    capabilities: Vec<String>,
}

#[derive(Deserialize)]
struct AuthHead {
    mode: String,
}

/// Validates manifest text; `expected_id` (the file name or the route's
/// listing id) must equal the manifest's `id` when given.
pub fn validate(raw: &str, expected_id: Option<&str>) -> Result<ValidManifest, Error> {
    validate_for(raw, expected_id, &AllowList::default())
}

/// As `validate`, with the development allow-list (API §10): OAuth endpoints
/// must be https, except on a listed `host:port` (local fake providers).
pub fn validate_for(
    raw: &str,
    expected_id: Option<&str>,
    allow: &AllowList,
) -> Result<ValidManifest, Error> {
    let value: Value = serde_json::from_str(raw).map_err(|e| Error::InvalidManifest {
        path: "/".into(),
        message: format!(
            "The manifest is not valid JSON: {e} (line {}, column {}).",
            e.line(),
            e.column()
        ),
    })?;
    check_schema(&value)?;
    check_semantics(&value, allow)?;
    let head: Head = serde_json::from_value(value).map_err(|e| bad("/", format!("{e}")))?;
    if let Some(want) = expected_id {
        if head.id != want {
            return Err(bad(
                "/id",
                format!("The manifest id '{}' does not match '{want}'.", head.id),
            ));
        }
    }
    Ok(ValidManifest {
        etag: etag_of(raw),
        raw: raw.to_string(),
        summary: ListingSummary {
            id: head.id,
            object: "listing".into(),
            name: head.name,
            description: head.description,
            category: head.category,
            tags: head.tags,
            icon: head.icon,
            brand_color: head.brand_color,
            version: head.version,
            kind: head.kind,
            transport: head.transport,
            availability: head.availability,
            featured: head.featured,
            pricing: head.pricing,
            auth_mode: head.auth.mode,
            capabilities: head.capabilities,
            visibility: public(),
            owner: platform(),
        },
    })
}

/// Orders two manifest versions as semver (`MAJOR.MINOR.PATCH[-pre]`; the
/// schema guarantees the form): numbers numerically, a pre-release below
/// its release, pre-release identifiers numerically or lexically.
pub fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    fn split(v: &str) -> (Vec<u64>, Option<&str>) {
        let v = v.split('+').next().unwrap_or(v);
        let (core, pre) = match v.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (v, None),
        };
        (
            core.split('.').map(|n| n.parse().unwrap_or(0)).collect(),
            pre,
        )
    }
    let ((ca, pa), (cb, pb)) = (split(a), split(b));
    match ca.cmp(&cb) {
        Ordering::Equal => {}
        o => return o,
    }
    match (pa, pb) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => {
            let (xs, ys): (Vec<&str>, Vec<&str>) = (x.split('.').collect(), y.split('.').collect());
            for (p, q) in xs.iter().zip(&ys) {
                let o = match (p.parse::<u64>(), q.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    _ => p.cmp(q),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            xs.len().cmp(&ys.len())
        }
    }
}

/// A strong ETag over the exact bytes served.
pub fn etag_of(raw: &str) -> String {
    format!("\"{}\"", &hex::encode(Sha256::digest(raw.as_bytes()))[..32])
}

fn bad(path: &str, message: impl Into<String>) -> Error {
    Error::InvalidManifest {
        path: path.to_string(),
        message: message.into(),
    }
}

fn check_schema(value: &Value) -> Result<(), Error> {
    let schema: Value =
        serde_json::from_str(&schema_text()).expect("the bundled manifest schema is JSON");
    let cfg = jsonschema_valid::Config::from_schema(
        &schema,
        Some(jsonschema_valid::schemas::Draft::Draft7),
    )
    .expect("the bundled manifest schema compiles");
    let result = cfg.validate(value);
    if let Err(errors) = result {
        let errors: Vec<_> = errors.collect();
        // Every failing field is reported at once, deepest first; a oneOf or
        // anyOf failure whose branches report deeper errors adds nothing.
        // `param` is the deepest, most specific field.
        let mut found: Vec<(String, String)> = errors
            .iter()
            .filter(|e| {
                let combinator =
                    matches!(e.msg.as_str(), "anyOf failed" | "nothing matched in oneOf");
                !(combinator
                    && errors.iter().any(|o| {
                        o.instance_path.len() > e.instance_path.len()
                            && o.instance_path.ends_with(&e.instance_path)
                    }))
            })
            .map(|e| (pointer(&e.instance_path), describe(e)))
            .collect();
        found.sort_by_key(|(p, _)| std::cmp::Reverse(p.matches('/').count()));
        found.dedup();
        let (path, _) = found
            .first()
            .cloned()
            .expect("an Err carries at least one error");
        let shown: Vec<String> = found
            .iter()
            .take(MAX_REPORTED)
            .map(|(p, m)| format!("{p}: {m}"))
            .collect();
        let more = found.len().saturating_sub(MAX_REPORTED);
        let tail = if more > 0 {
            format!(" (and {more} more)")
        } else {
            String::new()
        };
        let noun = if found.len() == 1 { "field" } else { "fields" };
        return Err(bad(
            &path,
            format!("Manifest {noun} {}{tail}.", shown.join("; ")),
        ));
    }
    Ok(())
}

/// How many failing fields one answer lists.
const MAX_REPORTED: usize = 10;

/// A schema error in words, with the pattern a string failed to match.
fn describe(e: &jsonschema_valid::ValidationError) -> String {
    let msg = e.msg.trim_end_matches('.');
    match (&e.schema, msg) {
        (Some(Value::String(pattern)), "Does not match pattern") => {
            format!("does not match the pattern {pattern}")
        }
        _ => msg.to_string(),
    }
}

/// jsonschema-valid records paths leaf first.
fn pointer(reversed: &[String]) -> String {
    if reversed.is_empty() {
        return "/".into();
    }
    reversed.iter().rev().fold(String::new(), |mut s, seg| {
        s.push('/');
        s.push_str(&seg.replace('~', "~0").replace('/', "~1"));
        s
    })
}

fn check_semantics(m: &Value, allow: &AllowList) -> Result<(), Error> {
    let capabilities: BTreeSet<&str> = m["capabilities"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut tool_names = BTreeSet::new();
    for (i, tool) in m["tools"].as_array().into_iter().flatten().enumerate() {
        let name = tool["name"].as_str().unwrap_or_default();
        if !tool_names.insert(name) {
            return Err(bad(
                &format!("/tools/{i}/name"),
                format!("Manifest field /tools/{i}/name: the tool name '{name}' is used twice."),
            ));
        }
        let cap = tool["capability"].as_str().unwrap_or_default();
        if !capabilities.contains(cap) {
            return Err(bad(
                &format!("/tools/{i}/capability"),
                format!("Manifest field /tools/{i}/capability: '{cap}' is not one of the listing's capabilities."),
            ));
        }
    }
    let config_keys: BTreeSet<&str> = m["config_schema"]["properties"]
        .as_object()
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let auth_keys: BTreeSet<&str> = m["auth"]["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["key"].as_str())
        .collect();
    for section in ["verify", "health", "mcp", "allowed_hosts"] {
        check_templates(
            &m[section],
            &format!("/{section}"),
            &config_keys,
            &auth_keys,
        )?;
    }
    for (i, tool) in m["tools"].as_array().into_iter().flatten().enumerate() {
        check_templates(
            &tool["probe"],
            &format!("/tools/{i}/probe"),
            &config_keys,
            &auth_keys,
        )?;
    }
    check_credential_hosts(m, allow)?;
    for field in ["authorize_url", "token_url"] {
        if let Some(u) = m["oauth"][field].as_str() {
            let ok = url::Url::parse(u).is_ok_and(|p| {
                p.host().is_some()
                    && (p.scheme() == "https"
                        || (p.scheme() == "http"
                            && allow.contains(
                                p.host_str().unwrap_or_default(),
                                p.port_or_known_default().unwrap_or(80),
                            )))
            });
            if !ok {
                return Err(bad(
                    &format!("/oauth/{field}"),
                    format!("Manifest field /oauth/{field}: '{u}' is not an absolute https URL."),
                ));
            }
        }
    }
    Ok(())
}

/// The URL templates of a manifest that can carry a credential, with their
/// JSON path: probes using `{{auth.*}}` (for OAuth listings verify and
/// health always: the access token is added to them), the MCP endpoint of a
/// listing with credentials, and the OAuth endpoints.
pub fn credential_urls(m: &Value) -> Vec<(String, String)> {
    let mode = m["auth"]["mode"].as_str().unwrap_or("none");
    let oauth = matches!(mode, "oauth2" | "mcp_oauth");
    let carries = |probe: &Value| probe.to_string().contains("{{auth.");
    let mut out = vec![];
    let mut push = |path: String, url: &Value| {
        if let Some(u) = url.as_str() {
            out.push((path, u.to_string()));
        }
    };
    for section in ["verify", "health"] {
        let p = &m[section];
        if p.is_object() && (oauth || carries(p)) {
            push(format!("/{section}/url"), &p["url"]);
        }
    }
    for (i, tool) in m["tools"].as_array().into_iter().flatten().enumerate() {
        if carries(&tool["probe"]) {
            push(format!("/tools/{i}/probe/url"), &tool["probe"]["url"]);
        }
    }
    if mode != "none" {
        push("/mcp/url".into(), &m["mcp"]["url"]);
    }
    for field in ["authorize_url", "token_url"] {
        push(format!("/oauth/{field}"), &m["oauth"][field]);
    }
    out
}

/// The host part of a URL template (`https://{{config.sub}}.x.com/…` →
/// `{{config.sub}}.x.com`), without a port; `None` when it starts with a
/// placeholder (the base URL).
fn template_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => authority,
    };
    Some(host.to_ascii_lowercase())
}

/// API §3: every host a credential-bearing template can reach is named in
/// the listing's `allowed_hosts` (or is a development pair of
/// `PROBE_ALLOW_HOSTS`, like a local fake's OAuth endpoints).
fn check_credential_hosts(m: &Value, allow: &AllowList) -> Result<(), Error> {
    let urls = credential_urls(m);
    let Some((first, _)) = urls.first() else {
        return Ok(());
    };
    let Some(hosts) = m["allowed_hosts"].as_array() else {
        return Err(bad(
            "/allowed_hosts",
            format!("Manifest field /allowed_hosts: the listing sends a credential ({first}), so it must name the hosts it may go to."),
        ));
    };
    let hosts: Vec<&str> = hosts.iter().filter_map(Value::as_str).collect();
    let literal: Vec<&str> = hosts
        .iter()
        .copied()
        .filter(|h| !h.starts_with("{{"))
        .collect();
    for (path, url) in &urls {
        match template_host(url) {
            None => {
                let slot = url
                    .strip_prefix("{{")
                    .and_then(|r| r.split_once("}}"))
                    .map(|(s, _)| s.trim())
                    .unwrap_or_default();
                let named = hosts
                    .iter()
                    .any(|h| h.trim_start_matches("{{").trim_end_matches("}}").trim() == slot);
                if !named && literal.is_empty() {
                    return Err(bad(
                        path,
                        format!("Manifest field {path}: a credential goes to the host of {{{{{slot}}}}}, which /allowed_hosts does not cover: add \"{{{{{slot}}}}}\" (self-hosted instances) or the provider's hosts."),
                    ));
                }
            }
            Some(h) if h.contains("{{") => {
                if literal.is_empty() {
                    return Err(bad(
                        path,
                        format!("Manifest field {path}: a credential goes to a host built from config, which /allowed_hosts must name (exact hosts or '*.' patterns)."),
                    ));
                }
            }
            Some(h) => {
                let dev_pair = url::Url::parse(url)
                    .is_ok_and(|u| allow.contains(&h, u.port_or_known_default().unwrap_or(443)));
                if !dev_pair
                    && !literal
                        .iter()
                        .any(|p| crate::probe::run::host_matches(p, &h))
                {
                    return Err(bad(
                        path,
                        format!("Manifest field {path}: a credential goes to '{h}', which /allowed_hosts does not name."),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Every `{{…}}` in a probe must name a declared config property or auth field.
fn check_templates(
    v: &Value,
    path: &str,
    config: &BTreeSet<&str>,
    auth: &BTreeSet<&str>,
) -> Result<(), Error> {
    match v {
        Value::String(s) => {
            for placeholder in
                placeholders(s).map_err(|m| bad(path, format!("Manifest field {path}: {m}")))?
            {
                let known = match placeholder.split_once('.') {
                    Some(("config", k)) => config.contains(k),
                    Some(("auth", k)) => auth.contains(k),
                    _ => false,
                };
                if !known {
                    return Err(bad(
                        path,
                        format!("Manifest field {path}: the placeholder '{{{{{placeholder}}}}}' names no declared config property or auth field."),
                    ));
                }
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, x)| check_templates(x, &format!("{path}/{i}"), config, auth)),
        Value::Object(map) => map
            .iter()
            .try_for_each(|(k, x)| check_templates(x, &format!("{path}/{k}"), config, auth)),
        _ => Ok(()),
    }
}

/// The trimmed contents of each `{{…}}` in a template.
pub fn placeholders(s: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| "a '{{' placeholder is never closed.".to_string())?;
        out.push(after[..end].trim());
        rest = &after[end + 2..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
