//! Extractors: the JSON body (malformed JSON reports its position) with typed
//! field access that names the failing parameter, and the caller's identity.

use super::error::ApiError;
use super::http::{HttpRequest, HttpResponse};
use super::App;
use crate::domain::auth::{self, Presented, Principal};
use crate::domain::page::{Page, PageRequest};
use crate::domain::Error;
use crate::store::Fail;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// A request body that is a JSON object.
pub struct JsonBody(Map<String, Value>);

impl JsonBody {
    /// Parses the body; an empty body counts as `{}` so that the missing
    /// fields are named one by one.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(Map::new()));
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => Ok(Self(m)),
            Ok(_) => Err(Error::MalformedJson(
                "The request body must be a JSON object.".into(),
            )),
            Err(e) => Err(Error::MalformedJson(format!(
                "The request body is not valid JSON: {} at line {}, column {}.",
                strip_position(&e.to_string()),
                e.line(),
                e.column()
            ))),
        }
    }

    /// Refuses fields the route does not know, so typos are not ignored.
    pub fn only(&self, allowed: &[&str]) -> Result<(), Error> {
        match self.0.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(Error::invalid(
                k.clone(),
                format!("Unknown parameter '{k}': expected {}.", allowed.join(", ")),
            )),
            None => Ok(()),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.0.get(key).is_some_and(|v| !v.is_null())
    }

    /// An optional string of 1..=max characters (trimmed).
    pub fn opt_str(&self, key: &str, max: usize) -> Result<Option<String>, Error> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => {
                let s = s.trim();
                if s.is_empty() || s.chars().count() > max {
                    Err(Error::invalid(
                        key,
                        format!("Invalid {key}: expected 1 to {max} characters."),
                    ))
                } else {
                    Ok(Some(s.to_string()))
                }
            }
            Some(_) => Err(Error::invalid(
                key,
                format!("Invalid {key}: expected a string."),
            )),
        }
    }

    pub fn req_str(&self, key: &str, max: usize) -> Result<String, Error> {
        self.opt_str(key, max)?.ok_or_else(|| Error::missing(key))
    }
}

/// serde_json appends " at line X column Y"; we phrase the position ourselves.
fn strip_position(msg: &str) -> &str {
    msg.rfind(" at line ").map_or(msg, |i| &msg[..i])
}

/// Resolves `Authorization` to a principal.
pub async fn authenticate(app: &App, header: Option<&str>) -> Result<Principal, Fail> {
    match auth::parse_authorization(header)? {
        Presented::Opaque(token) => {
            if !app.config.operator_token.is_empty()
                && auth::same_secret(&token, &app.config.operator_token)
            {
                Ok(Principal::Operator)
            } else {
                Err(auth::invalid_key().into())
            }
        }
        Presented::Connect { id, secret } => Ok(Principal::Connect(
            crate::app::connect::grant(app, &id, &secret).await?,
        )),
        Presented::Key { id, secret } => {
            let record = match app.shared.cached_key(&id, app.now) {
                Some(r) => Some(r),
                None => {
                    let r = app.tenants.live_key(&id).await?;
                    if let Some(r) = &r {
                        app.shared.remember_key(r.clone(), app.now);
                    }
                    r
                }
            };
            match record {
                Some(k) if auth::same_secret(&auth::hash_secret(&secret), &k.secret_hash) => {
                    Ok(Principal::Key {
                        tenant: k.tenant,
                        key_id: k.id,
                        role: k.role,
                        consumer: k.consumer,
                    })
                }
                _ => Err(auth::invalid_key().into()),
            }
        }
    }
}

/// Refuses any query parameter (a route that takes none).
pub fn no_query(req: &HttpRequest) -> Result<(), Error> {
    match req.query.first() {
        Some((k, _)) => Err(Error::invalid(
            k.clone(),
            format!("Unknown query parameter '{k}'."),
        )),
        None => Ok(()),
    }
}

/// A page request, the position after which it starts, and the filters given.
pub type ListQuery = (
    PageRequest,
    Option<(String, String)>,
    BTreeMap<String, String>,
);

/// Parses `limit`/`cursor` plus the named filters; unknown parameters are refused.
pub fn list_query(req: &HttpRequest, filters: &[&str]) -> Result<ListQuery, ApiError> {
    let (mut limit, mut cursor, mut found) = (None, None, BTreeMap::new());
    for (k, v) in &req.query {
        match k.as_str() {
            "limit" => limit = Some(v.as_str()),
            "cursor" => cursor = Some(v.as_str()),
            f if filters.contains(&f) => {
                if !v.is_empty() {
                    found.insert(f.to_string(), v.clone());
                }
            }
            other => {
                let mut expected: Vec<&str> = filters.to_vec();
                expected.extend(["limit", "cursor"]);
                return Err(Error::invalid(
                    other,
                    format!(
                        "Unknown query parameter '{other}': expected {}.",
                        expected.join(", ")
                    ),
                )
                .into());
            }
        }
    }
    let page = PageRequest::parse(limit, cursor)?;
    let after = match &page.after {
        Some(s) => Some(
            s.split_once('|')
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .ok_or_else(|| {
                    Error::invalid(
                        "cursor",
                        "Invalid cursor: pass the next_cursor of a previous page unchanged.",
                    )
                })?,
        ),
        None => None,
    };
    Ok((page, after, found))
}

/// A list answer from an over-fetched page.
pub fn list_json<T>(
    items: Vec<T>,
    limit: usize,
    key: impl Fn(&T) -> String,
    view: impl Fn(&T) -> Value,
) -> HttpResponse {
    let page = Page::from_overfetch(items, limit, key);
    HttpResponse::json(
        200,
        &json!({
            "object": "list",
            "data": page.data.iter().map(view).collect::<Vec<_>>(),
            "has_more": page.has_more,
            "next_cursor": page.next_cursor,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_json_reports_position() {
        let Err(Error::MalformedJson(m)) = JsonBody::parse(b"{\n  \"name\": ,\n}") else {
            panic!("expected malformed json")
        };
        assert!(m.contains("line 2, column 11"), "{m}");
        assert!(JsonBody::parse(b"[1]").is_err());
        assert!(JsonBody::parse(b"  ").is_ok());
    }

    #[test]
    fn fields_are_typed_and_named() {
        let b = JsonBody::parse(br#"{"name": 3, "role": "  ", "x": "ok"}"#).unwrap();
        assert!(
            matches!(b.opt_str("name", 10), Err(Error::InvalidParameter { ref param, .. }) if param == "name")
        );
        assert!(matches!(
            b.opt_str("role", 10),
            Err(Error::InvalidParameter { .. })
        ));
        assert!(
            matches!(b.req_str("missing", 10), Err(Error::MissingParameter { ref param, .. }) if param == "missing")
        );
        assert!(
            matches!(b.only(&["name", "role"]), Err(Error::InvalidParameter { ref param, .. }) if param == "x")
        );
    }
}
