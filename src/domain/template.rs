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

mod lines;
mod target;
pub use lines::{absent_credential, header_lines_in, parse_header_lines};
pub use target::{render_url, url_in, url_places, Place};

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
