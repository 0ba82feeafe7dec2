//! Probe templates: a manifest's `verify` (and tool probe) strings with
//! `{{config.<key>}}` and `{{auth.<key>}}` placeholders, rendered from one
//! instance's settings and credentials.
//!
//! Values are data, never structure: in a URL a value can only be (part of)
//! one path segment or query value, or one DNS label of the host; in a header
//! it cannot start a new line; in a JSON body it stays inside its string; in
//! a form body it stays inside its field. Errors name the placeholder and
//! never the value, because the values include credentials.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use url::Url;

/// The values a probe may use: the instance's non-secret config (JSON object; only
/// string, number and boolean values are substitutable) and its credential fields.
/// Deliberately not `Debug`: it holds credentials.
#[derive(Clone, Copy)]
pub struct Values<'a> {
    pub config: &'a Map<String, Value>,
    pub auth: &'a BTreeMap<String, String>,
}

/// Why a template cannot be rendered, phrased for the API caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The named value (`config.base_url`, `auth.token`) is absent or empty.
    #[error("The probe needs {0}, which is not set.")]
    Missing(String),
    /// The template or a value is unusable; user-safe, never containing an auth value.
    #[error("{0}")]
    Invalid(String),
}

/// A header value longer than this is refused rather than sent.
const MAX_HEADER_LEN: usize = 8 * 1024;

/// Renders a probe URL. A placeholder at the very start is the base URL
/// (an absolute http(s) URL without credentials, query or fragment, inserted
/// without its trailing `/`); one inside the host of a literal `scheme://`
/// must be a single DNS label; every other value is percent-encoded down to
/// the RFC 3986 unreserved characters. The answer is the parsed URL's
/// normalised serialisation.
pub fn render_url(template: &str, v: &Values) -> Result<String, TemplateError> {
    let parts = parse(template)?;
    let mut out = String::with_capacity(template.len());
    let mut at;
    let mut rest = parts.as_slice();
    match rest {
        [Part::Slot(base), next @ ..] => {
            out.push_str(&render_base(base, v)?);
            let continues = match next.first() {
                None => true,
                Some(Part::Text(text)) => text.starts_with(['/', '?', '#']),
                Some(Part::Slot(_)) => false,
            };
            if !continues {
                return Err(invalid(format!(
                    "The probe URL template must continue with '/', '?' or '#' after {}.",
                    base.name()
                )));
            }
            at = Place::Path;
            rest = next;
        }
        [Part::Text(first), ..] if scheme_prefix(first).is_some() => at = Place::Scheme,
        _ => return Err(invalid(
            "The probe URL template must start with a scheme (https://) or a base URL placeholder."
                .into(),
        )),
    }
    for part in rest {
        match part {
            Part::Text(text) => {
                at = at.after(text);
                out.push_str(text);
            }
            Part::Slot(slot) => {
                let value = lookup(slot, v)?;
                match at {
                    Place::Scheme | Place::Authority => {
                        if !is_dns_label(&value) {
                            return Err(invalid(format!(
                                "{} must be a single DNS label (letters, digits and inner hyphens) to sit in the URL's host.",
                                slot.name()
                            )));
                        }
                        out.push_str(&value);
                    }
                    Place::Path if value.chars().all(|c| c == '.') => {
                        return Err(invalid(format!(
                            "{} cannot be '.' or '..' in the URL path.",
                            slot.name()
                        )));
                    }
                    Place::Path | Place::Query | Place::Fragment => {
                        percent_encode_into(&value, &mut out);
                    }
                }
            }
        }
    }
    Url::parse(&out)
        .map(String::from)
        .map_err(|_| invalid("The probe URL template does not produce a valid URL.".into()))
}

/// Renders a header value: values go in verbatim, but none may carry a
/// control character (other than TAB), so no value can end the header and
/// start another; the whole value is capped at 8 KiB.
pub fn render_header(template: &str, v: &Values) -> Result<String, TemplateError> {
    let parts = parse(template)?;
    let mut out = String::with_capacity(template.len());
    for part in &parts {
        match part {
            Part::Text(text) => out.push_str(text),
            Part::Slot(slot) => {
                let value = lookup(slot, v)?;
                if value.chars().any(is_header_control) {
                    return Err(invalid(format!(
                        "{} contains a line break or control character, which a header cannot carry.",
                        slot.name()
                    )));
                }
                out.push_str(&value);
            }
        }
    }
    if out.chars().any(is_header_control) {
        return Err(invalid(
            "The probe header template contains a control character.".into(),
        ));
    }
    if out.len() > MAX_HEADER_LEN {
        return Err(invalid("The probe header is longer than 8 KiB.".into()));
    }
    Ok(out)
}

/// Renders a request body. A template that opens with `{` or `[` (after
/// whitespace, and not with a `{{` placeholder) is JSON: values inside a
/// string are string-escaped, values outside one must be a number or
/// `true`/`false`, and the result must parse as JSON. Anything else is a
/// form body and each value is form-url-encoded.
pub fn render_body(template: &str, v: &Values) -> Result<String, TemplateError> {
    let parts = parse(template)?;
    let head = template.trim_start();
    let is_json = head.starts_with('[') || (head.starts_with('{') && !head.starts_with("{{"));
    if is_json {
        render_json(&parts, v)
    } else {
        let mut out = String::with_capacity(template.len());
        for part in &parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Slot(slot) => {
                    out.extend(url::form_urlencoded::byte_serialize(
                        lookup(slot, v)?.as_bytes(),
                    ));
                }
            }
        }
        Ok(out)
    }
}

fn render_json(parts: &[Part], v: &Values) -> Result<String, TemplateError> {
    let mut out = String::new();
    let mut in_string = false;
    for part in parts {
        match part {
            Part::Text(text) => {
                in_string = json_string_state(in_string, text);
                out.push_str(text);
            }
            Part::Slot(slot) if in_string => {
                let quoted = Value::String(lookup(slot, v)?).to_string();
                out.push_str(&quoted[1..quoted.len() - 1]);
            }
            Part::Slot(slot) => match serde_json::from_str::<Value>(&lookup(slot, v)?) {
                Ok(scalar @ (Value::Number(_) | Value::Bool(_))) => {
                    out.push_str(&scalar.to_string())
                }
                _ => {
                    return Err(invalid(format!(
                        "{} sits outside a JSON string in the probe body, so it must be a number or true/false.",
                        slot.name()
                    )))
                }
            },
        }
    }
    match serde_json::from_str::<Value>(&out) {
        Ok(_) => Ok(out),
        Err(_) => Err(invalid(
            "The probe body template is not valid JSON once filled in.".into(),
        )),
    }
}

/// Whether a JSON text that starts inside (or outside) a string ends inside one.
fn json_string_state(mut in_string: bool, text: &str) -> bool {
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_string => {
                chars.next();
            }
            '"' => in_string = !in_string,
            _ => {}
        }
    }
    in_string
}

/// One piece of a template: literal text or a placeholder.
#[derive(Debug, PartialEq)]
enum Part<'t> {
    Text(&'t str),
    Slot(Slot<'t>),
}

#[derive(Debug, PartialEq)]
struct Slot<'t> {
    auth: bool,
    key: &'t str,
}

impl Slot<'_> {
    /// The canonical name (`config.base_url`), whatever the spacing in the braces.
    fn name(&self) -> String {
        let ns = if self.auth { "auth" } else { "config" };
        format!("{ns}.{}", self.key)
    }
}

fn parse(template: &str) -> Result<Vec<Part<'_>>, TemplateError> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            parts.push(Part::Text(&rest[..open]));
        }
        let inside = &rest[open + 2..];
        let Some(close) = inside.find("}}") else {
            return Err(invalid("The probe template has an unclosed '{{'.".into()));
        };
        parts.push(Part::Slot(parse_slot(inside[..close].trim())?));
        rest = &inside[close + 2..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest));
    }
    Ok(parts)
}

fn parse_slot(inner: &str) -> Result<Slot<'_>, TemplateError> {
    let slot = match inner.split_once('.') {
        Some(("config", key)) => Slot { auth: false, key },
        Some(("auth", key)) => Slot { auth: true, key },
        _ => return Err(unknown_placeholder(inner)),
    };
    let key_ok = !slot.key.is_empty()
        && slot
            .key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if key_ok {
        Ok(slot)
    } else {
        Err(unknown_placeholder(inner))
    }
}

fn unknown_placeholder(inner: &str) -> TemplateError {
    // The text comes from the manifest, not from a credential, but keep it short.
    let shown: String = inner.chars().take(40).collect();
    invalid(format!(
        "The probe template uses an unknown placeholder '{{{{{shown}}}}}'; only config.<key> and auth.<key> are allowed."
    ))
}

/// The value behind a placeholder; an empty string counts as not set.
fn lookup(slot: &Slot, v: &Values) -> Result<String, TemplateError> {
    let value = if slot.auth {
        v.auth.get(slot.key).cloned()
    } else {
        match v.config.get(slot.key) {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            Some(_) => {
                return Err(invalid(format!(
                    "The probe cannot use {}: it must be a string, number or boolean.",
                    slot.name()
                )))
            }
        }
    };
    value
        .filter(|s| !s.is_empty())
        .ok_or_else(|| TemplateError::Missing(slot.name()))
}

/// Checks a base URL value and returns its normalised text without trailing `/`.
fn render_base(slot: &Slot, v: &Values) -> Result<String, TemplateError> {
    let value = lookup(slot, v)?;
    let name = slot.name();
    let Ok(base) = Url::parse(&value) else {
        return Err(invalid(format!(
            "{name} must be an absolute http or https URL."
        )));
    };
    if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none_or(str::is_empty) {
        return Err(invalid(format!(
            "{name} must be an absolute http or https URL."
        )));
    }
    if !base.username().is_empty() || base.password().is_some() {
        return Err(invalid(format!(
            "{name} must not contain a user name or password."
        )));
    }
    if base.query().is_some() || base.fragment().is_some() {
        return Err(invalid(format!(
            "{name} must not contain a query (?) or fragment (#)."
        )));
    }
    Ok(base.as_str().trim_end_matches('/').to_owned())
}

/// Where in a URL the text written so far has reached.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Place {
    /// Before the `://` of the template's literal scheme.
    Scheme,
    Authority,
    Path,
    Query,
    Fragment,
}

impl Place {
    fn after(self, text: &str) -> Place {
        let (mut at, text) = match self {
            Place::Scheme => match text.split_once("://") {
                Some((_, rest)) => (Place::Authority, rest),
                None => (Place::Scheme, ""),
            },
            other => (other, text),
        };
        for c in text.chars() {
            at = match (at, c) {
                (Place::Authority, '/' | '\\') => Place::Path,
                (Place::Authority | Place::Path, '?') => Place::Query,
                (Place::Authority | Place::Path | Place::Query, '#') => Place::Fragment,
                (other, _) => other,
            };
        }
        at
    }
}

/// `Some(scheme)` when `text` starts with `scheme://`.
fn scheme_prefix(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once("://")?;
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (first_ok && rest_ok).then_some(scheme)
}

/// `^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`
fn is_dns_label(s: &str) -> bool {
    let bytes = s.as_bytes();
    (1..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// Percent-encodes every byte but the RFC 3986 unreserved characters.
fn percent_encode_into(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

fn is_header_control(c: char) -> bool {
    c.is_control() && c != '\t'
}

fn invalid(message: String) -> TemplateError {
    TemplateError::Invalid(message)
}

#[cfg(test)]
mod tests;
