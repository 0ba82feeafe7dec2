//! A tool's arguments: where its request templates use each one (for the
//! publish checks), and one call's arguments checked against the tool's
//! `input_schema` (errors name `arguments.<field>`).

use super::{arg_slots, Request};
use crate::domain::connector::check_against;
use crate::domain::template::{self, Ns, Place};
use crate::domain::Error;
use serde_json::{Map, Value};

/// Where a request template puts an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgPlace {
    /// The URL's scheme, host or port (never allowed), or its base.
    Host,
    Path,
    Query,
    Fragment,
    Header,
    Body,
    Form,
    /// `basic_auth` or `signing` (never allowed: credentials and regions
    /// come from the instance).
    Credential,
}

/// One `{{args.<key>}}` of a request, with the JSON pointer (inside the
/// request object) of the template that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgUse {
    pub key: String,
    pub at: ArgPlace,
    pub pointer: String,
}

/// Every argument a request uses, in template order.
pub fn args_of(req: &Request) -> Vec<ArgUse> {
    let mut out = vec![];
    for (slot, place) in template::url_places(&req.url) {
        if slot.ns != Ns::Args {
            continue;
        }
        let at = match place {
            Place::Base | Place::Scheme | Place::Authority => ArgPlace::Host,
            Place::Path => ArgPlace::Path,
            Place::Query => ArgPlace::Query,
            Place::Fragment => ArgPlace::Fragment,
        };
        out.push(ArgUse {
            key: slot.key.to_string(),
            at,
            pointer: "/url".into(),
        });
    }
    let mut push = |at: ArgPlace, pointer: String, t: &str| {
        for key in arg_slots(t) {
            out.push(ArgUse {
                key,
                at,
                pointer: pointer.clone(),
            });
        }
    };
    for (k, t) in &req.query {
        push(ArgPlace::Query, format!("/query/{}", escape(k)), t);
    }
    for (k, t) in &req.headers {
        push(ArgPlace::Header, format!("/headers/{}", escape(k)), t);
    }
    for (k, t) in req.form.iter().flatten() {
        push(ArgPlace::Form, format!("/form/{}", escape(k)), t);
    }
    if let Some(b) = &req.basic_auth {
        push(
            ArgPlace::Credential,
            "/basic_auth/username".into(),
            &b.username,
        );
        push(
            ArgPlace::Credential,
            "/basic_auth/password".into(),
            &b.password,
        );
    }
    if let Some(s) = &req.signing {
        push(
            ArgPlace::Credential,
            "/signing/region".into(),
            s["region"].as_str().unwrap_or_default(),
        );
    }
    if let Some(body) = &req.body {
        let mut strings = vec![];
        collect_strings(body, "/body".into(), &mut strings);
        for (pointer, t) in strings {
            push(ArgPlace::Body, pointer, &t);
        }
    }
    out
}

fn collect_strings(v: &Value, at: String, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => out.push((at, s.clone())),
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                collect_strings(x, format!("{at}/{i}"), out);
            }
        }
        Value::Object(members) => {
            for (k, x) in members {
                collect_strings(x, format!("{at}/{}", escape(k)), out);
            }
        }
        _ => {}
    }
}

/// A JSON pointer segment.
fn escape(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

/// A call's `arguments` (absent: `{}`) with the schema's top-level defaults
/// filled in, checked against the tool's `input_schema`.
pub fn validate_arguments(
    schema: &Value,
    args: Option<&Value>,
) -> Result<Map<String, Value>, Error> {
    let mut args = match args {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(_) => {
            return Err(Error::invalid(
                "arguments",
                "Invalid arguments: expected an object.",
            ))
        }
    };
    if let Some(props) = schema["properties"].as_object() {
        for (k, p) in props {
            if let (false, Some(d)) = (args.contains_key(k), p.get("default")) {
                args.insert(k.clone(), d.clone());
            }
        }
    }
    let instance = Value::Object(args);
    let cfg = jsonschema_valid::Config::from_schema(
        schema,
        Some(jsonschema_valid::schemas::Draft::Draft7),
    )
    .map_err(|_| Error::invalid("tool", "The tool's input_schema does not compile."))?;
    check_against(&cfg, schema, &instance, "arguments")?;
    match instance {
        Value::Object(o) => Ok(o),
        _ => unreachable!("built from a map above"),
    }
}
