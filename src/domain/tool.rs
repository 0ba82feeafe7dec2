//! Executable tools (API §3, §13): a tool's `request` is a templated HTTP
//! request, rendered here from the instance's config and credential and one
//! call's arguments into the exact method, URL, headers and body to send.
//!
//! An argument is data in its place, never structure: percent-encoded in a
//! path segment (never `.`/`..`), a query value through the URL serialiser,
//! a header value without control characters, a JSON value (a whole-string
//! `"{{args.x}}"` keeps the argument's JSON type, inside a longer string it
//! is string-escaped) or a form field. It can never change the scheme, host
//! or port, add a header or add a path segment; [`render`] re-checks that on
//! the result against the template rendered with placeholder arguments and
//! refuses a request whose target moved. Pure: sending is `probe::credential`'s.

use super::template::{self, Ns, Part, Scope, Slot, TemplateError};
use super::Error;
use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

mod args;
mod result;

pub use args::{args_of, validate_arguments, ArgPlace, ArgUse};
pub use result::{ResultSpec, Shaped, TestOutput, DEFAULT_MAX_BYTES};

/// A tool's `request` (or `dry_run`) as the manifest states it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Request {
    pub method: String,
    pub url: String,
    /// Query parameters, name → template, in manifest order.
    #[serde(default, deserialize_with = "pairs")]
    pub query: Vec<(String, String)>,
    #[serde(default, deserialize_with = "pairs")]
    pub headers: Vec<(String, String)>,
    /// A JSON body: any JSON, whose strings are templates.
    #[serde(default)]
    pub body: Option<Value>,
    /// A form body (`application/x-www-form-urlencoded`), name → template.
    #[serde(default, deserialize_with = "some_pairs")]
    pub form: Option<Vec<(String, String)>>,
    #[serde(default)]
    pub basic_auth: Option<BasicAuth>,
    /// Request signing (`aws_sigv4`), as in a probe.
    #[serde(default)]
    pub signing: Option<Value>,
    /// The statuses that mean success; absent: any 2xx.
    #[serde(default)]
    pub success: Option<Vec<u16>>,
    /// JSON pointer → value that must also hold for success (Slack answers
    /// 200 with `{"ok": false}`).
    #[serde(default)]
    pub expect_json: Option<Map<String, Value>>,
    /// JSON pointers that must not be in the answer for success (a
    /// LangGraph run answers 200 with `{"__error__": …}` when it failed).
    #[serde(default)]
    pub expect_absent: Option<Vec<String>>,
    /// A credential's header block, exactly `{{auth.<field>}}`: one more
    /// header per `Name: value` line (`template::header_lines_in`).
    #[serde(default)]
    pub header_lines: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct BasicAuth {
    pub username: String,
    pub password: String,
}

/// A `transport: database` tool's statement (run by the database driver).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Sql {
    pub kind: String,
    #[serde(default)]
    pub statement: Option<String>,
}

fn pairs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    let map = Map::<String, Value>::deserialize(d)?;
    map.into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k, s)),
            _ => Err(serde::de::Error::custom(format!(
                "'{k}' must be a string template"
            ))),
        })
        .collect()
}

fn some_pairs<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<(String, String)>>, D::Error> {
    pairs(d).map(Some)
}

/// A rendered request, ready for the guarded client. Holds credentials: not
/// `Debug`, never logged.
#[derive(Clone, PartialEq)]
pub struct Rendered {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// Lower-case names of headers rendered from a template (any of them may
    /// carry a credential), plus `authorization` for `basic_auth`.
    pub credential_headers: Vec<String>,
    /// The body renders a `{{auth.*}}` value.
    pub body_has_credential: bool,
    /// `aws_sigv4` signing: (service, rendered region).
    pub signing: Option<(String, String)>,
    /// The statuses that mean success (empty: any 2xx).
    pub success: Vec<u16>,
    /// Pointer → value the JSON answer must also carry for success.
    pub expect_json: Map<String, Value>,
    /// Pointers the JSON answer must not carry for success.
    pub expect_absent: Vec<String>,
}

/// Names the method and host only: the rest may hold a credential.
impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = url::Url::parse(&self.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        f.debug_struct("Rendered")
            .field("method", &self.method)
            .field("host", &host)
            .finish_non_exhaustive()
    }
}

impl Rendered {
    /// Whether an answer is the provider saying yes: a success status and,
    /// when the request names any, the expected JSON values.
    pub fn succeeded(&self, status: u16, body: &[u8]) -> bool {
        let status_ok = if self.success.is_empty() {
            (200..300).contains(&status)
        } else {
            self.success.contains(&status)
        };
        status_ok
            && ((self.expect_json.is_empty() && self.expect_absent.is_empty())
                || serde_json::from_slice::<Value>(body).is_ok_and(|b| {
                    self.expect_json
                        .iter()
                        .all(|(ptr, want)| b.pointer(ptr) == Some(want))
                        && self
                            .expect_absent
                            .iter()
                            .all(|ptr| b.pointer(ptr).is_none())
                }))
    }
}

/// Renders a tool request for one call. `scope.args` are the call's
/// arguments, already checked against the tool's `input_schema`
/// ([`validate_arguments`]). Errors about an argument name it
/// (`arguments.order_id`); the others are the listing's or the config's.
/// An OAuth or token-exchange listing's access token is not templated: the
/// credential path adds `Authorization: Bearer` unless a header sets it.
pub fn render(req: &Request, scope: &Scope) -> Result<Rendered, Error> {
    let url = render_target(req, scope)?;
    let same = Map::new();
    let placeholders = placeholder_args(scope.args.unwrap_or(&same));
    let expected = render_target(
        req,
        &Scope {
            args: Some(&placeholders),
            ..*scope
        },
    )?;
    same_target(&url, &expected)?;
    let mut headers = vec![];
    let mut credential_headers = vec![];
    for (name, t) in &req.headers {
        // An optional credential that was not given sends no header.
        if template::absent_credential(t, scope.auth) {
            continue;
        }
        let Some(value) = optional(t, scope, template::header_in)? else {
            continue;
        };
        if t.contains("{{") {
            credential_headers.push(name.to_ascii_lowercase());
        }
        headers.push((name.clone(), value));
    }
    if let Some(b) = &req.basic_auth {
        let user = template::header_in(&b.username, scope).map_err(to_error)?;
        let pass = template::header_in(&b.password, scope).map_err(to_error)?;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        headers.push(("Authorization".into(), format!("Basic {token}")));
        credential_headers.push("authorization".into());
    }
    // A credential's header block (custom headers): every header counts.
    if let Some(t) = &req.header_lines {
        for (name, value) in template::header_lines_in(t, scope, &headers).map_err(to_error)? {
            credential_headers.push(name.to_ascii_lowercase());
            headers.push((name, value));
        }
    }
    let mut content_type = None;
    let body = match (&req.body, &req.form) {
        (Some(json), _) => {
            content_type = Some("application/json");
            let value = json_value(json, scope)?.unwrap_or(Value::Null);
            Some(value.to_string())
        }
        (None, Some(form)) => {
            content_type = Some("application/x-www-form-urlencoded");
            let mut out = url::form_urlencoded::Serializer::new(String::new());
            for (name, t) in form {
                if let Some(value) = optional(t, scope, template::text_in)? {
                    out.append_pair(name, &value);
                }
            }
            Some(out.finish())
        }
        (None, None) => None,
    };
    if let Some(ct) = content_type {
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("Content-Type".into(), ct.into()));
        }
    }
    let body_has_credential = req
        .body
        .as_ref()
        .is_some_and(|b| b.to_string().contains("{{auth."))
        || req
            .form
            .iter()
            .flatten()
            .any(|(_, t)| t.contains("{{auth."));
    let signing = match &req.signing {
        Some(s) => Some((
            s["service"].as_str().unwrap_or_default().to_string(),
            template::text_in(s["region"].as_str().unwrap_or_default(), scope).map_err(to_error)?,
        )),
        None => None,
    };
    Ok(Rendered {
        method: req.method.to_ascii_uppercase(),
        url,
        headers,
        body,
        credential_headers,
        body_has_credential,
        signing,
        success: req.success.clone().unwrap_or_default(),
        expect_json: req.expect_json.clone().unwrap_or_default(),
        expect_absent: req.expect_absent.clone().unwrap_or_default(),
    })
}

/// The URL with its query parameters. A parameter whose template is only an
/// absent argument is left out.
fn render_target(req: &Request, scope: &Scope) -> Result<String, Error> {
    let url = template::url_in(&req.url, scope).map_err(to_error)?;
    if req.query.is_empty() {
        return Ok(url);
    }
    let mut parsed = url::Url::parse(&url).map_err(|_| {
        Error::TargetRefused("The tool's URL template does not produce a valid URL.".into())
    })?;
    let mut added = vec![];
    for (name, t) in &req.query {
        if let Some(value) = optional(t, scope, template::text_in)? {
            added.push((name, value));
        }
    }
    if !added.is_empty() {
        let mut q = parsed.query_pairs_mut();
        for (name, value) in added {
            q.append_pair(name, &value);
        }
    }
    Ok(parsed.into())
}

/// Renders a template, or `None` when it is only an argument that is absent.
fn optional(
    t: &str,
    scope: &Scope,
    render: fn(&str, &Scope) -> Result<String, TemplateError>,
) -> Result<Option<String>, Error> {
    if let Some(slot) = template::whole_slot(t) {
        if slot.ns == Ns::Args && absent(&slot, scope) {
            return Ok(None);
        }
    }
    render(t, scope).map(Some).map_err(to_error)
}

fn absent(slot: &Slot, scope: &Scope) -> bool {
    scope
        .args
        .and_then(|a| a.get(slot.key))
        .is_none_or(|v| v.is_null() || v.as_str() == Some(""))
}

/// A JSON body with its templates filled in; `None` for a whole-value
/// argument that is absent (its object member or array item is left out).
fn json_value(v: &Value, scope: &Scope) -> Result<Option<Value>, Error> {
    Ok(Some(match v {
        Value::String(s) => {
            if let Some(slot) = template::whole_slot(s) {
                return template::json_of(&slot, scope).map_err(to_error);
            }
            Value::String(template::text_in(s, scope).map_err(to_error)?)
        }
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.extend(json_value(item, scope)?);
            }
            Value::Array(out)
        }
        Value::Object(members) => {
            let mut out = Map::new();
            for (k, item) in members {
                if let Some(x) = json_value(item, scope)? {
                    out.insert(k.clone(), x);
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }))
}

/// The same arguments, each replaced by a plain `x`: rendered with these, a
/// template shows the target the manifest meant.
fn placeholder_args(args: &Map<String, Value>) -> Map<String, Value> {
    args.iter()
        .map(|(k, v)| {
            let x = if v.is_null() {
                Value::Null
            } else {
                Value::String("x".into())
            };
            (k.clone(), x)
        })
        .collect()
}

/// Scheme, host, port and the number of path segments must be the ones the
/// template gives with placeholder arguments.
fn same_target(got: &str, expected: &str) -> Result<(), Error> {
    let parse = |u: &str| url::Url::parse(u).ok();
    let (Some(g), Some(e)) = (parse(got), parse(expected)) else {
        return Err(Error::invalid(
            "arguments",
            "The arguments do not produce a valid URL.",
        ));
    };
    let segments = |u: &url::Url| u.path_segments().map_or(0, Iterator::count);
    let same = g.scheme() == e.scheme()
        && g.host_str() == e.host_str()
        && g.port_or_known_default() == e.port_or_known_default()
        && g.username().is_empty()
        && g.password().is_none()
        && segments(&g) == segments(&e);
    if same {
        Ok(())
    } else {
        Err(Error::invalid(
            "arguments",
            "The arguments would change the request's target (scheme, host, port or path); refused.",
        ))
    }
}

/// Template errors as domain errors: an argument's are the caller's
/// (`400 invalid_parameter`/`missing_parameter` naming `arguments.<key>`);
/// a config value or template that cannot be built is a refused target.
fn to_error(e: TemplateError) -> Error {
    match e {
        TemplateError::Argument { param, message } => Error::invalid(param, message),
        TemplateError::Missing(name) if name.starts_with("arguments.") => Error::missing(name),
        other => Error::TargetRefused(other.to_string()),
    }
}

/// Every `{{args.*}}` a template uses.
fn arg_slots(t: &str) -> Vec<String> {
    template::parse(t)
        .map(|parts| {
            parts
                .iter()
                .filter_map(|p| match p {
                    Part::Slot(s) if s.ns == Ns::Args => Some(s.key.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
