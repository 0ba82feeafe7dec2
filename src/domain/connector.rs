//! Installing a listing into a tenant: the install request is checked against
//! the listing (auth mode and fields, config schema with defaults, names),
//! and the public view of an instance is built. Pure: the probe and the
//! vault are applied by the caller.

use super::manifest::Listing;
use super::Error;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

mod state;
pub use state::{AuthMode, Status};

/// The auth field that holds a header block: extra request headers, one
/// `Name: value` per line, that the listing's requests add through
/// `header_lines` (seed 001's custom headers).
pub const HEADERS_FIELD: &str = "headers";

/// The credential an install or rotation submits: `auth` of API §4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthInput {
    pub mode: AuthMode,
    /// Field key → value, e.g. `token` → `ghp_…`. Secret and non-secret alike.
    pub fields: BTreeMap<String, String>,
}

impl AuthInput {
    /// Parses `auth` and checks it against the listing: same mode, only the
    /// mode's fields, required fields present, patterns matched. Messages
    /// never echo a submitted value.
    pub fn parse(v: Option<&Value>, listing: &Listing) -> Result<Self, Error> {
        let obj = match v {
            None | Some(Value::Null) => return Err(Error::missing("auth")),
            Some(Value::Object(o)) => o,
            Some(_) => {
                return Err(Error::invalid(
                    "auth",
                    "Invalid auth: expected an object with a 'type'.",
                ))
            }
        };
        let mode = match obj.get("type") {
            Some(Value::String(s)) => s.as_str(),
            None => return Err(Error::missing("auth.type")),
            Some(_) => {
                return Err(Error::invalid(
                    "auth.type",
                    "Invalid auth.type: expected a string.",
                ))
            }
        };
        let parsed = AuthMode::parse(mode).ok_or_else(|| {
            Error::invalid(
                "auth.type",
                format!("Unknown auth.type '{mode}': expected pat, api_key, basic, conn_string, oauth2, mcp_oauth or none."),
            )
        })?;
        let allowed = parsed.fields();
        if parsed != listing.mode() {
            return Err(Error::invalid(
                "auth.type",
                format!(
                    "The listing '{}' authenticates with '{}', not '{mode}'.",
                    listing.id, listing.auth_mode
                ),
            ));
        }
        // A header block (custom headers) is a field of the modes that send
        // a static credential over HTTP, for the listings that declare it.
        let block = matches!(parsed, AuthMode::Pat | AuthMode::ApiKey | AuthMode::Basic)
            && listing.auth_fields.iter().any(|f| f.key == HEADERS_FIELD);
        let mut fields = BTreeMap::new();
        for (k, v) in obj {
            if k == "type" {
                continue;
            }
            if !(allowed.contains(&k.as_str()) || (block && k == HEADERS_FIELD)) {
                return Err(Error::invalid(
                    format!("auth.{k}"),
                    format!("Unknown parameter auth.{k} for auth.type '{mode}'."),
                ));
            }
            match v {
                Value::String(s) if !s.is_empty() && s.len() <= 8192 => {
                    fields.insert(k.clone(), s.clone());
                }
                Value::Null => {}
                _ => {
                    return Err(Error::invalid(
                        format!("auth.{k}"),
                        format!(
                            "Invalid auth.{k}: expected a non-empty string of at most 8192 bytes."
                        ),
                    ))
                }
            }
        }
        for f in &listing.auth_fields {
            match fields.get(&f.key) {
                None if f.required => return Err(Error::missing(format!("auth.{}", f.key))),
                Some(value) if f.key == HEADERS_FIELD => {
                    if let Err(m) = super::template::parse_header_lines(value) {
                        return Err(Error::invalid(
                            "auth.headers",
                            format!("Invalid auth.headers (one 'Name: value' per line): {m}"),
                        ));
                    }
                }
                Some(value) => {
                    if let Some(p) = &f.pattern {
                        if !matches_pattern(p, value) {
                            return Err(Error::invalid(
                                format!("auth.{}", f.key),
                                format!(
                                    "Invalid auth.{}: it does not match the format of the {}.",
                                    f.key, f.label
                                ),
                            ));
                        }
                    }
                }
                None => {}
            }
        }
        Ok(AuthInput {
            mode: parsed,
            fields,
        })
    }

    /// The masked hint shown instead of the secret, e.g. `ghp_****a1`.
    pub fn hint(&self, listing: &Listing) -> Option<String> {
        let secret = listing
            .auth_fields
            .iter()
            .filter(|f| f.secret)
            .find_map(|f| self.fields.get(&f.key))?;
        Some(mask(secret))
    }
}

/// Keeps a short non-secret prefix (`ghp_`, `sk_live_`…) and, for long
/// secrets, the last two characters.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let prefix_len = chars
        .iter()
        .take(9)
        .rposition(|c| *c == '_' || *c == '-')
        .map(|i| i + 1)
        .filter(|n| chars.len() >= n + 12)
        .unwrap_or(0);
    let prefix: String = chars[..prefix_len].iter().collect();
    let tail: String = if chars.len() >= 12 {
        chars[chars.len() - 2..].iter().collect()
    } else {
        String::new()
    };
    format!("{prefix}****{tail}")
}

/// A field `pattern` is a JSON Schema regex; validating through a one-line
/// schema keeps one regex dialect for manifests and inputs.
fn matches_pattern(pattern: &str, value: &str) -> bool {
    let schema = json!({"type": "string", "pattern": pattern});
    let instance = Value::String(value.to_string());
    match jsonschema_valid::Config::from_schema(
        &schema,
        Some(jsonschema_valid::schemas::Draft::Draft7),
    ) {
        Ok(cfg) => cfg.validate(&instance).is_ok(),
        Err(_) => false,
    }
}

/// Fills top-level defaults from the listing's `config_schema`, then
/// validates; the message names the failing field (`config.base_url`). A
/// default may be built from other config values
/// (`https://connect.{{config.region}}.amazonaws.com`): it renders after the
/// plain defaults are in, each value verbatim, and is validated like a value
/// the caller gave.
pub fn validate_config(v: Option<&Value>, listing: &Listing) -> Result<Map<String, Value>, Error> {
    let mut config = match v {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(_) => {
            return Err(Error::invalid(
                "config",
                "Invalid config: expected an object.",
            ))
        }
    };
    if let Some(props) = listing.config_schema["properties"].as_object() {
        let mut built = vec![];
        for (k, p) in props {
            match (config.contains_key(k), p.get("default")) {
                (false, Some(Value::String(t))) if t.contains("{{") => built.push((k, t)),
                (false, Some(d)) => {
                    config.insert(k.clone(), d.clone());
                }
                _ => {}
            }
        }
        let none = BTreeMap::new();
        let scope = super::template::Scope {
            config: &config,
            auth: &none,
            args: None,
        };
        let built: Vec<(String, String)> = built
            .into_iter()
            .map(|(k, t)| match super::template::text_in(t, &scope) {
                Ok(v) => Ok((k.clone(), v)),
                Err(super::template::TemplateError::Missing(name)) => Err(Error::missing(name)),
                Err(e) => Err(Error::invalid(format!("config.{k}"), e.to_string())),
            })
            .collect::<Result<_, _>>()?;
        for (k, v) in built {
            config.insert(k, Value::String(v));
        }
    }
    let instance = Value::Object(config);
    let cfg = jsonschema_valid::Config::from_schema(
        &listing.config_schema,
        Some(jsonschema_valid::schemas::Draft::Draft7),
    )
    .map_err(|_| Error::invalid("listing", "The listing's config_schema does not compile."))?;
    check_against(&cfg, &listing.config_schema, &instance, "config")?;
    match instance {
        Value::Object(o) => Ok(o),
        _ => unreachable!("built from a map above"),
    }
}

/// Validates an object against a compiled draft-07 schema; the error names
/// the failing field under `prefix` (`config.base_url`, `arguments.order_id`):
/// a missing required property as a missing parameter, anything else as an
/// invalid one whose message quotes the schema rule, never the value.
pub fn check_against(
    cfg: &jsonschema_valid::Config,
    schema: &Value,
    instance: &Value,
    prefix: &str,
) -> Result<(), Error> {
    if let Err(errors) = cfg.validate(instance) {
        let e = errors
            .max_by_key(|e| e.instance_path.len())
            .expect("an Err carries at least one error");
        let mut path: Vec<String> = e.instance_path.iter().rev().cloned().collect();
        // "additionalProperties" reports at the object; name the extra key.
        if e.msg.contains("Additional properties") {
            if let Some(extra) = instance.as_object().and_then(|o| {
                o.keys()
                    .find(|k| schema["properties"].get(k.as_str()).is_none())
            }) {
                path = vec![extra.clone()];
            }
        }
        // "required" reports at the object too: name the missing property,
        // as a missing parameter.
        if let Some(missing) = e
            .msg
            .strip_prefix("Required properties ")
            .and_then(|rest| rest.split('"').nth(1))
        {
            path.push(missing.to_string());
            let param = format!("{prefix}.{}", path.join("."));
            return Err(Error::missing(param));
        }
        let param = if path.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}.{}", path.join("."))
        };
        // The message quotes the schema rule, never the submitted value. The
        // validator's "Invalid for format" does not say which: the schema does.
        let format = path
            .iter()
            .try_fold(schema, |s, k| s["properties"].get(k.as_str()))
            .and_then(|s| s["format"].as_str());
        let rule = match format {
            Some(f) if e.msg.contains("format") => format!("expected a valid '{f}' value"),
            _ => e
                .msg
                .split(" is not ")
                .nth(1)
                .map(|r| format!("is not {r}"))
                .unwrap_or_else(|| e.msg.clone()),
        };
        return Err(Error::invalid(
            param.clone(),
            format!("Invalid {param}: {}.", rule.trim_end_matches('.')),
        ));
    }
    Ok(())
}

/// An instance name: 1–100 characters from letters, digits, `-`, `_`, `.`,
/// starting with a letter or digit.
/// What a provider's refusal means for a listing with auth `mode`: refused
/// credentials, or (auth `none`, which sends none) a refused request.
pub fn refusal(mode: AuthMode, who: &str, status: u16, snippet: &str) -> String {
    if mode == AuthMode::None {
        format!(
            "{who} refused the request (HTTP {status}): {snippet}. This listing sends no credentials: check its config (e.g. base_url)."
        )
    } else {
        format!("{who} rejected the credentials (HTTP {status}): {snippet}")
    }
}

pub fn validate_name(name: &str) -> Result<(), Error> {
    let ok = (1..=100).contains(&name.len())
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "name",
            "Invalid name: use 1 to 100 letters, digits, '-', '_' or '.', starting with a letter or digit.",
        ))
    }
}

/// `return_url`: an absolute http(s) URL the OAuth flow may redirect to.
pub fn validate_return_url(u: &str, origins: &[String], development: bool) -> Result<(), Error> {
    let refused = || {
        Error::invalid(
            "return_url",
            "Invalid return_url: expected an absolute https URL on an origin this deployment allows (RETURN_URL_ORIGINS).",
        )
    };
    let p = url::Url::parse(u).map_err(|_| refused())?;
    if p.host().is_none() || !p.username().is_empty() || p.password().is_some() {
        return Err(refused());
    }
    // Development: a local app on loopback, over http too.
    let loopback = match p.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if development && loopback && matches!(p.scheme(), "http" | "https") {
        return Ok(());
    }
    let origin = p.origin().ascii_serialization();
    if p.scheme() == "https" && origins.contains(&origin) {
        return Ok(());
    }
    Err(refused())
}

/// `RETURN_URL_ORIGINS` (comma or space separated) as serialised origins;
/// entries that are not absolute URLs are ignored.
pub fn parse_origins(s: &str) -> Vec<String> {
    s.split(|c: char| c == ',' || c.is_whitespace())
        .filter_map(|o| url::Url::parse(o).ok())
        .map(|u| u.origin().ascii_serialization())
        .filter(|o| o != "null")
        .collect()
}

#[cfg(test)]
mod tests;
