//! Connector manifests: validation against `catalog/manifest.schema.json`
//! (JSON Schema draft-07) plus the semantic checks a schema cannot express,
//! and the summary the catalog browses. Errors name the JSON path.

use super::{tool, Error};
use crate::probe::guard::AllowList;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
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
    /// A client-credentials exchange whose access token every probe and tool
    /// request of the listing carries as a Bearer (MongoDB Atlas).
    #[serde(default)]
    pub token_exchange: Option<Value>,
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

/// A listing's tool (API §3). Only `name`, `capability` and `side_effect`
/// serialise: that is what an instance records of its tools.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Tool {
    pub name: String,
    pub capability: String,
    pub side_effect: bool,
    /// A side effect that may destroy or overwrite (MCP `destructiveHint`).
    #[serde(default, skip_serializing)]
    pub destructive: Option<bool>,
    /// A side effect that repeating has no further effect (MCP `idempotentHint`).
    #[serde(default, skip_serializing)]
    pub idempotent: Option<bool>,
    #[serde(default, skip_serializing)]
    pub title: Option<String>,
    #[serde(default, skip_serializing)]
    pub description: String,
    /// Draft-07 JSON Schema of the arguments (`{"type": "object"}` for the
    /// versions stored before tools were executable).
    #[serde(default = "any_object", skip_serializing)]
    pub input_schema: Value,
    /// `transport: http`: the templated request.
    #[serde(default, skip_serializing)]
    pub request: Option<tool::Request>,
    /// `transport: mcp`: the upstream server's tool.
    #[serde(default, skip_serializing)]
    pub mcp_tool: Option<String>,
    /// `transport: mcp`, generic servers (remote-mcp): the MCP request
    /// (`tools/call`, `resources/read`, …) the tool sends.
    #[serde(default, skip_serializing)]
    pub mcp_method: Option<String>,
    /// `transport: database`: the statement kind.
    #[serde(default, skip_serializing)]
    pub sql: Option<tool::Sql>,
    #[serde(default, skip_serializing)]
    pub result: Option<tool::ResultSpec>,
    /// A side-effecting tool's read-only check (same shape as `request`).
    #[serde(default, skip_serializing)]
    pub dry_run: Option<tool::Request>,
    /// What `POST …/test` runs a read tool with.
    #[serde(default, skip_serializing)]
    pub test_arguments: Option<Map<String, Value>>,
    /// Where the text of a read tool's answer is: `POST …/test` quotes it.
    #[serde(default, skip_serializing)]
    pub test_output: Option<tool::TestOutput>,
    /// The live check of versions stored before tools were executable:
    /// `POST …/test` runs it for a read tool without `request` +
    /// `test_arguments` (which it runs on the tool call's own path).
    #[serde(default, skip_serializing)]
    pub probe: Option<Value>,
}

impl Tool {
    /// Whether a dry run exists: a declared `dry_run` request, or a `sql`
    /// statement (prepared in a transaction that is rolled back).
    pub fn has_dry_run(&self) -> bool {
        self.dry_run.is_some() || self.sql.is_some()
    }
}

fn any_object() -> Value {
    serde_json::json!({"type": "object"})
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

mod checks;
mod tools;
use checks::{check_schema, check_semantics};
pub use checks::{credential_urls, placeholders};

#[cfg(test)]
mod tests;
