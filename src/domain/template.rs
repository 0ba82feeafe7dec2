//! Manifest templates: strings with `{{config.<key>}}`, `{{auth.<key>}}`
//! and, in a tool's request, `{{args.<key>}}` placeholders, rendered from one
//! instance's settings and credentials (and one call's arguments). Probes
//! (`verify`, `health`) render through [`Values`]; tool requests through a
//! [`Scope`] that also holds the arguments (`domain::tool`).
//!
//! Values are data, never structure: in a URL a value can only be (part of)
//! one path segment or query value, or (config only) one DNS label of the
//! host; an argument never sits in the host at all; in a header a value
//! cannot start a new line; in a JSON body it stays inside its string; in a
//! form body it stays inside its field. Errors name the placeholder and
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

/// What a tool request renders from: [`Values`] and the call's arguments
/// (a JSON object validated against the tool's `input_schema`). Not `Debug`:
/// it holds credentials.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    pub config: &'a Map<String, Value>,
    pub auth: &'a BTreeMap<String, String>,
    /// `None` for a probe, where `{{args.*}}` has no meaning.
    pub args: Option<&'a Map<String, Value>>,
}

impl<'a> From<&Values<'a>> for Scope<'a> {
    fn from(v: &Values<'a>) -> Self {
        Scope {
            config: v.config,
            auth: v.auth,
            args: None,
        }
    }
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
    /// A call's argument cannot go where the template puts it; `param` is
    /// `arguments.<key>`. The message never quotes the value.
    #[error("{message}")]
    Argument { param: String, message: String },
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
    url_in(template, &Scope::from(v))
}

/// [`render_url`] over a [`Scope`]: an argument may fill (part of) a path
/// segment, a query value or the fragment, never the scheme, host or port.
pub fn url_in(template: &str, v: &Scope) -> Result<String, TemplateError> {
    let parts = parse(template)?;
    let mut out = String::with_capacity(template.len());
    let mut at;
    let mut rest = parts.as_slice();
    match rest {
        [Part::Slot(base), next @ ..] => {
            if base.ns == Ns::Args {
                return Err(argument(
                    base,
                    format!(
                        "{} cannot be the base URL: a URL template starts with https:// or a config value.",
                        base.name()
                    ),
                ));
            }
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
                if slot.ns == Ns::Args && matches!(at, Place::Scheme | Place::Authority) {
                    return Err(argument(
                        slot,
                        format!("{} cannot sit in the URL's host.", slot.name()),
                    ));
                }
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
                        let message =
                            format!("{} cannot be '.' or '..' in the URL path.", slot.name());
                        return Err(if slot.ns == Ns::Args {
                            argument(slot, message)
                        } else {
                            invalid(message)
                        });
                    }
                    Place::Base | Place::Path | Place::Query | Place::Fragment => {
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
    header_in(template, &Scope::from(v))
}

/// [`render_header`] over a [`Scope`].
pub fn header_in(template: &str, v: &Scope) -> Result<String, TemplateError> {
    let parts = parse(template)?;
    let mut out = String::with_capacity(template.len());
    for part in &parts {
        match part {
            Part::Text(text) => out.push_str(text),
            Part::Slot(slot) => {
                let value = lookup(slot, v)?;
                if value.chars().any(is_header_control) {
                    let message = format!(
                        "{} contains a line break or control character, which a header cannot carry.",
                        slot.name()
                    );
                    return Err(if slot.ns == Ns::Args {
                        argument(slot, message)
                    } else {
                        invalid(message)
                    });
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
    let v = &Scope::from(v);
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

/// The text of a template with every value inserted verbatim: for callers
/// that encode the whole result for its place (a query value or a form
/// field added through a URL or form serialiser, a JSON string).
pub fn text_in(template: &str, v: &Scope) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len());
    for part in &parse(template)? {
        match part {
            Part::Text(text) => out.push_str(text),
            Part::Slot(slot) => out.push_str(&lookup(slot, v)?),
        }
    }
    Ok(out)
}

/// When a template is exactly one placeholder (`"{{args.limit}}"`), that
/// placeholder: a JSON body keeps such a value's type, and a query value,
/// header or form field made only of an absent argument is left out.
pub fn whole_slot(template: &str) -> Option<Slot<'_>> {
    match parse(template).ok()?.as_slice() {
        [Part::Slot(slot)] => Some(*slot),
        _ => None,
    }
}

/// The value of a whole-value placeholder with its JSON type: an argument as
/// given (`None` when absent), a config value as stored, a credential as a
/// string.
pub fn json_of(slot: &Slot, v: &Scope) -> Result<Option<Value>, TemplateError> {
    match slot.ns {
        Ns::Args => {
            let Some(args) = v.args else {
                return Err(no_args(slot));
            };
            Ok(args.get(slot.key).cloned())
        }
        Ns::Config => match v.config.get(slot.key) {
            None | Some(Value::Null) => Err(TemplateError::Missing(slot.name())),
            Some(value) => Ok(Some(value.clone())),
        },
        Ns::Auth => lookup(slot, v).map(|s| Some(Value::String(s))),
    }
}

fn render_json(parts: &[Part], v: &Scope) -> Result<String, TemplateError> {
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
pub enum Part<'t> {
    Text(&'t str),
    Slot(Slot<'t>),
}

/// What a placeholder draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ns {
    Config,
    Auth,
    Args,
}

/// One placeholder: `{{config.base_url}}` is `Slot { ns: Config, key: "base_url" }`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slot<'t> {
    pub ns: Ns,
    pub key: &'t str,
}

impl Slot<'_> {
    /// The canonical name (`config.base_url`), whatever the spacing in the
    /// braces; an argument is named as the API names it (`arguments.order_id`).
    pub fn name(&self) -> String {
        let ns = match self.ns {
            Ns::Config => "config",
            Ns::Auth => "auth",
            Ns::Args => "arguments",
        };
        format!("{ns}.{}", self.key)
    }
}

/// A template split into text and placeholders.
pub fn parse(template: &str) -> Result<Vec<Part<'_>>, TemplateError> {
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
        Some(("config", key)) => Slot {
            ns: Ns::Config,
            key,
        },
        Some(("auth", key)) => Slot { ns: Ns::Auth, key },
        Some(("args", key)) => Slot { ns: Ns::Args, key },
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
        "The template uses an unknown placeholder '{{{{{shown}}}}}'; only config.<key>, auth.<key> and (in a tool request) args.<key> are allowed."
    ))
}

/// The value behind a placeholder as text; an empty string (and an
/// argument given as `null`) counts as not set.
fn lookup(slot: &Slot, v: &Scope) -> Result<String, TemplateError> {
    let scalar = |value: Option<&Value>| match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(_) => Err(()),
    };
    let value = match slot.ns {
        Ns::Auth => v.auth.get(slot.key).cloned(),
        Ns::Config => match v.config.get(slot.key) {
            None => None,
            Some(Value::Null) => {
                return Err(invalid(format!(
                    "The probe cannot use {}: it must be a string, number or boolean.",
                    slot.name()
                )))
            }
            other => scalar(other).map_err(|()| {
                invalid(format!(
                    "The probe cannot use {}: it must be a string, number or boolean.",
                    slot.name()
                ))
            })?,
        },
        Ns::Args => {
            let Some(args) = v.args else {
                return Err(no_args(slot));
            };
            scalar(args.get(slot.key)).map_err(|()| {
                argument(
                    slot,
                    format!(
                        "Invalid {}: it must be a string, number or boolean here.",
                        slot.name()
                    ),
                )
            })?
        }
    };
    value
        .filter(|s| !s.is_empty())
        .ok_or_else(|| TemplateError::Missing(slot.name()))
}

/// Checks a base URL value and returns its normalised text without trailing `/`.
fn render_base(slot: &Slot, v: &Scope) -> Result<String, TemplateError> {
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

/// Where each placeholder of a URL template sits, in order: the base URL
/// slot at the very start is `Place::Base`. Unparseable templates give none.
pub fn url_places<'t>(template: &'t str) -> Vec<(Slot<'t>, Place)> {
    let Ok(parts) = parse(template) else {
        return vec![];
    };
    let mut out = vec![];
    let mut at = Place::Scheme;
    for (i, part) in parts.iter().enumerate() {
        match part {
            Part::Slot(slot) if i == 0 => {
                out.push((*slot, Place::Base));
                at = Place::Path;
            }
            Part::Slot(slot) => out.push((*slot, at)),
            Part::Text(text) => at = at.after(text),
        }
    }
    out
}

/// Where in a URL the text written so far has reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A placeholder that opens the template: the base URL.
    Base,
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
            Place::Base => (Place::Path, text),
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

fn argument(slot: &Slot, message: String) -> TemplateError {
    TemplateError::Argument {
        param: slot.name(),
        message,
    }
}

fn no_args(slot: &Slot) -> TemplateError {
    invalid(format!(
        "{{{{args.{}}}}} can only be used in a tool's request.",
        slot.key
    ))
}

#[cfg(test)]
mod tests;
