//! Runs a manifest probe (`verify`, `health` or a tool's `probe`): renders the
//! templates with the instance's config and credentials, sends it through the
//! guarded client and reads the answer as accepted, rejected (the provider
//! refused the credentials: user-correctable) or unreachable. Nothing that
//! leaves this module carries a credential value.

use super::client::{Guarded, OutboundRequest, ProbeError};
use super::template::{render_body, render_header, render_url, TemplateError, Values};
use base64::Engine;
use serde_json::Value;

/// How much of a rejecting answer is quoted back (after redaction).
pub const SNIPPET_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Accepted {
        status: u16,
        latency_ms: u64,
    },
    /// The provider answered, and not with an accepted status.
    Rejected {
        status: u16,
        snippet: String,
        latency_ms: u64,
    },
    /// The provider failed (down, slow, 5xx, not HTTP): retry later.
    Unreachable {
        message: String,
    },
    /// The target is not allowed (API §10) or the probe cannot be built.
    Refused {
        message: String,
    },
    /// A probe kind this worker cannot run yet (database wire protocols, AWS SigV4).
    Unsupported {
        message: String,
    },
}

/// Milliseconds since the epoch, read at the edge.
pub type Clock<'a> = &'a dyn Fn() -> i64;

pub async fn run(
    probe: &Value,
    values: &Values<'_>,
    client: &Guarded<'_>,
    clock: Clock<'_>,
) -> Outcome {
    if probe["kind"] == "database" {
        return Outcome::Unsupported {
            message: format!(
                "Database probes ({}) cannot run from the edge yet; the connection string was not checked.",
                probe["driver"].as_str().unwrap_or("sql")
            ),
        };
    }
    if !probe["signing"].is_null() {
        return Outcome::Unsupported {
            message: "Signed probes (AWS SigV4) cannot run yet; the credentials were not checked."
                .into(),
        };
    }
    // A base URL from config is checked as written: rendering normalises it,
    // which would turn a disguise (`http://2130706433:…`) into a listed host.
    if let Some(base) = base_value(probe["url"].as_str().unwrap_or_default(), values) {
        if let Err(r) = crate::probe::guard::check(&base, client.allow) {
            return Outcome::Refused { message: r.0 };
        }
    }
    let req = match build(probe, values) {
        Ok(r) => r,
        Err(e) => {
            return Outcome::Refused {
                message: e.to_string(),
            }
        }
    };
    if let Some(hosts) = probe["allowed_hosts"].as_array() {
        let host = url::Url::parse(&req.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
        let port = url::Url::parse(&req.url)
            .ok()
            .and_then(|u| u.port_or_known_default())
            .unwrap_or(443);
        let allowed = host.as_deref().is_some_and(|h| {
            client.allow.contains(h, port)
                || hosts
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|p| host_matches(p, h))
        });
        if !allowed {
            return Outcome::Refused {
                message: format!(
                    "The probe may only reach {}; '{}' is not one of them.",
                    hosts
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", "),
                    host.unwrap_or_default()
                ),
            };
        }
    }
    let started = clock();
    let resp = match client.send(req).await {
        Ok(r) => r,
        Err(ProbeError::Refused(r)) => return Outcome::Refused { message: r.0 },
        Err(e) => {
            return Outcome::Unreachable {
                message: e.to_string(),
            }
        }
    };
    let latency_ms = (clock() - started).max(0) as u64;
    let expected: Vec<u64> = probe["expect_status"].as_array().map_or_else(
        || vec![200],
        |a| a.iter().filter_map(Value::as_u64).collect(),
    );
    let secrets: Vec<&str> = values.auth.values().map(String::as_str).collect();
    if resp.status >= 500 {
        return Outcome::Unreachable {
            message: format!("The provider answered HTTP {}.", resp.status),
        };
    }
    if !expected.contains(&u64::from(resp.status)) {
        return Outcome::Rejected {
            status: resp.status,
            snippet: snippet(&resp.body, &secrets),
            latency_ms,
        };
    }
    if let Some(want) = probe["expect_json"].as_object() {
        let body: Option<Value> = serde_json::from_slice(&resp.body).ok();
        let ok = body
            .as_ref()
            .is_some_and(|b| want.iter().all(|(ptr, v)| b.pointer(ptr) == Some(v)));
        if !ok {
            return Outcome::Rejected {
                status: resp.status,
                snippet: snippet(&resp.body, &secrets),
                latency_ms,
            };
        }
    }
    Outcome::Accepted {
        status: resp.status,
        latency_ms,
    }
}

fn build(probe: &Value, v: &Values) -> Result<OutboundRequest, TemplateError> {
    let method = probe["method"]
        .as_str()
        .unwrap_or("GET")
        .to_ascii_uppercase();
    let url = render_url(probe["url"].as_str().unwrap_or_default(), v)?;
    let mut headers = vec![];
    if let Some(h) = probe["headers"].as_object() {
        for (k, t) in h {
            headers.push((k.clone(), render_header(t.as_str().unwrap_or_default(), v)?));
        }
    }
    if let Some(b) = probe["basic_auth"].as_object() {
        let user = render_header(
            b.get("username")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            v,
        )?;
        let pass = render_header(
            b.get("password")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            v,
        )?;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        headers.push(("Authorization".into(), format!("Basic {token}")));
    }
    let body = match probe["body"].as_str() {
        Some(t) => {
            let b = render_body(t, v)?;
            if !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                let json = matches!(t.trim_start().chars().next(), Some('{' | '['));
                let ct = if json {
                    "application/json"
                } else {
                    "application/x-www-form-urlencoded"
                };
                headers.push(("Content-Type".into(), ct.into()));
            }
            Some(b)
        }
        None => None,
    };
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
    {
        headers.push(("User-Agent".into(), "connector-marketplace-probe/1".into()));
    }
    Ok(OutboundRequest {
        method,
        url,
        headers,
        body,
    })
}

/// The config value a URL template starts with (`{{config.base_url}}/user`).
fn base_value(template: &str, v: &Values) -> Option<String> {
    let inner = template.strip_prefix("{{")?;
    let key = inner[..inner.find("}}")?].trim().strip_prefix("config.")?;
    v.config.get(key)?.as_str().map(str::to_string)
}

/// `api.github.com` exactly, or `*.atlassian.net` for any subdomain depth
/// (not the bare domain).
pub fn host_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => host.len() > suffix.len() + 1 && host.ends_with(&format!(".{suffix}")),
        None => host == pattern,
    }
}

/// A short, printable, secret-free quote of a provider's answer.
pub fn snippet(body: &[u8], secrets: &[&str]) -> String {
    let mut text = String::from_utf8_lossy(body).into_owned();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        text = text.replace(s, "****");
    }
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut out: String = text.chars().take(SNIPPET_CHARS).collect();
    if text.chars().count() > SNIPPET_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests;
