//! Read tools as probes: `POST …/test` runs a tool's `probe` (an `http_probe`
//! of the old manifests, API §4). A read tool of the executable manifests
//! gets one derived from its `request` and `test_arguments`: the arguments
//! are bound into the templates here, escaped for their place, and the
//! `{{config.*}}` / `{{auth.*}}` placeholders are left for the probe
//! renderer. An argument value that could read as a placeholder (`{{`) in a
//! header or body, or that cannot sit where the template puts it, gives no
//! probe (the tool is then only dry-run).

use super::Request;
use crate::domain::template::{self, Ns, Part, Place};
use serde_json::{json, Map, Value};

/// The probe a read tool's test runs, or `None` when it cannot be bound.
/// `bearer`: an OAuth listing, whose access token the runtime sends.
pub fn as_probe(req: &Request, args: &Map<String, Value>, bearer: bool) -> Option<Value> {
    let mut url = bind_url(&req.url, args)?;
    let mut sep = if url.contains('?') { '&' } else { '?' };
    for (name, t) in &req.query {
        let Some(value) = bind_text(t, args, encode)? else {
            continue;
        };
        url.push(sep);
        sep = '&';
        url.push_str(&encode(name));
        url.push('=');
        url.push_str(&value);
    }
    let mut headers = Map::new();
    for (name, t) in &req.headers {
        if let Some(value) = bind_text(t, args, verbatim)? {
            headers.insert(name.clone(), Value::String(value));
        }
    }
    if bearer
        && !headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("authorization"))
    {
        headers.insert(
            "Authorization".into(),
            json!("Bearer {{auth.access_token}}"),
        );
    }
    let mut probe = json!({
        "method": req.method,
        "url": url,
        "expect_status": req.success.clone().unwrap_or_else(|| vec![200, 201, 202, 204]),
    });
    if !headers.is_empty() {
        probe["headers"] = Value::Object(headers);
    }
    if let Some(want) = &req.expect_json {
        probe["expect_json"] = Value::Object(want.clone());
    }
    if let Some(b) = &req.basic_auth {
        probe["basic_auth"] = json!({"username": b.username, "password": b.password});
    }
    if let Some(s) = &req.signing {
        probe["signing"] = s.clone();
    }
    if let Some(body) = &req.body {
        let bound = json_value_bound(body, args)?.unwrap_or(Value::Null);
        probe["body"] = Value::String(bound.to_string());
    } else if let Some(form) = &req.form {
        let mut out = vec![];
        for (name, t) in form {
            if let Some(value) = bind_text(t, args, form_encode)? {
                out.push(format!("{}={value}", form_encode(name)));
            }
        }
        probe["body"] = Value::String(out.join("&"));
    }
    Some(probe)
}

/// A URL template with its arguments bound (percent-encoded, never a dot
/// segment, never in the host); `None` when one is missing or misplaced.
fn bind_url(t: &str, args: &Map<String, Value>) -> Option<String> {
    let places = template::url_places(t);
    let mut places = places.iter();
    let mut out = String::new();
    for part in template::parse(t).ok()? {
        match part {
            Part::Text(text) => out.push_str(text),
            Part::Slot(slot) => {
                let (_, place) = places.next()?;
                if slot.ns != Ns::Args {
                    out.push_str(&format!("{{{{{}}}}}", raw_name(&slot)));
                    continue;
                }
                let value = scalar(args.get(slot.key)?)?;
                match place {
                    Place::Path if value.is_empty() || value.chars().all(|c| c == '.') => {
                        return None
                    }
                    Place::Path | Place::Query | Place::Fragment => out.push_str(&encode(&value)),
                    _ => return None,
                }
            }
        }
    }
    Some(out)
}

/// A text template with its arguments bound through `escape`; `Some(None)`
/// when it is only an absent argument, `None` when it cannot be bound.
fn bind_text(
    t: &str,
    args: &Map<String, Value>,
    escape: fn(&str) -> String,
) -> Option<Option<String>> {
    if let Some(slot) = template::whole_slot(t) {
        if slot.ns == Ns::Args && args.get(slot.key).is_none_or(Value::is_null) {
            return Some(None);
        }
    }
    let mut out = String::new();
    for part in template::parse(t).ok()? {
        match part {
            Part::Text(text) => out.push_str(&escape(text)),
            Part::Slot(slot) if slot.ns == Ns::Args => {
                let value = scalar(args.get(slot.key)?)?;
                if value.contains("{{") || value.chars().any(|c| c.is_control()) {
                    return None;
                }
                out.push_str(&escape(&value));
            }
            Part::Slot(slot) => out.push_str(&format!("{{{{{}}}}}", raw_name(&slot))),
        }
    }
    Some(Some(out))
}

/// A JSON body with its arguments bound: a whole-value argument keeps its
/// type (absent: the member or item is left out); inside a longer string an
/// argument is text. Config and credential placeholders stay for the probe.
fn json_value_bound(v: &Value, args: &Map<String, Value>) -> Option<Option<Value>> {
    Some(Some(match v {
        Value::String(s) => {
            if let Some(slot) = template::whole_slot(s) {
                if slot.ns == Ns::Args {
                    let value = args.get(slot.key).cloned();
                    if value.as_ref().is_some_and(|x| x.to_string().contains("{{")) {
                        return None;
                    }
                    return Some(value);
                }
            }
            Value::String(bind_text(s, args, verbatim)?.unwrap_or_default())
        }
        Value::Array(items) => {
            let mut out = vec![];
            for item in items {
                out.extend(json_value_bound(item, args)?);
            }
            Value::Array(out)
        }
        Value::Object(members) => {
            let mut out = Map::new();
            for (k, item) in members {
                if let Some(x) = json_value_bound(item, args)? {
                    out.insert(k.clone(), x);
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }))
}

/// `config.x` / `auth.x` as written in a template.
fn raw_name(slot: &template::Slot) -> String {
    let ns = match slot.ns {
        Ns::Config => "config",
        Ns::Auth => "auth",
        Ns::Args => "args",
    };
    format!("{ns}.{}", slot.key)
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Percent-encodes all but the RFC 3986 unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn verbatim(s: &str) -> String {
    s.to_string()
}
