//! Runs a manifest probe (`verify`, `health` or a tool's `probe`): renders the
//! templates with the instance's config and credentials, sends it through the
//! guarded client and reads the answer as accepted, rejected (the provider
//! refused the credentials: user-correctable) or unreachable; and puts an
//! outcome into words (`Outcome::verdict`) and into the domain error that
//! refuses a write (`Outcome::admit`), once for every caller. Nothing that
//! leaves this module carries a credential value.

use super::client::{Guarded, OutboundRequest, ProbeError};
use super::template::{render_body, render_header, render_url, TemplateError, Values};
use crate::domain::connector::{refusal, AuthMode};
use crate::domain::template::{absent_credential, header_lines_in, Scope};
use crate::domain::Error;
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
        /// What the probe's `status_messages` say this status means
        /// (a missing assistant, not a refused credential).
        reason: Option<String>,
    },
    /// The provider failed (down, slow, 5xx, not HTTP): retry later.
    Unreachable {
        message: String,
    },
    /// An accepted status whose body is not the JSON the probe asked for
    /// (a login page, a captive portal, a proxy): not the provider's answer.
    NotJson {
        status: u16,
        message: String,
    },
    /// The target is not allowed (API §10) or the probe cannot be built.
    Refused {
        message: String,
    },
    /// A probe kind this worker cannot run yet (database wire protocols).
    Unsupported {
        message: String,
    },
}

/// What an outcome says, in words, in one place: whether the check passed
/// (`None`: it could not run here), how fast, and why not. Health checks,
/// verify, installs and tool tests all read an outcome through this.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub ok: Option<bool>,
    pub latency_ms: Option<u64>,
    /// Empty when `ok`; otherwise the reason, free of credentials.
    pub message: String,
}

/// An outcome that lets a write store the credential.
#[derive(Debug, Clone, PartialEq)]
pub enum Admitted {
    Verified {
        latency_ms: u64,
    },
    /// The probe kind cannot run here: stored unchecked, and said so.
    Unverified {
        message: String,
    },
}

impl Outcome {
    /// The outcome in words. `who` names the provider ("The provider", the
    /// listing's name); `mode` words a refusal of a listing that sends no
    /// credential as a refused request.
    pub fn verdict(&self, mode: AuthMode, who: &str) -> Verdict {
        let (ok, latency_ms, message) = match self {
            Outcome::Accepted { latency_ms, .. } => (Some(true), Some(*latency_ms), String::new()),
            // Status 0: refused before the probe ran (an OAuth refresh).
            Outcome::Rejected {
                status: 0, snippet, ..
            } => (Some(false), None, snippet.clone()),
            Outcome::Rejected {
                status,
                snippet,
                latency_ms,
                reason,
            } => (
                Some(false),
                Some(*latency_ms),
                match reason {
                    Some(r) => format!("{who} answered HTTP {status}: {r} It said: {snippet}"),
                    None => refusal(mode, who, *status, snippet),
                },
            ),
            Outcome::Unreachable { message }
            | Outcome::Refused { message }
            | Outcome::NotJson { message, .. } => (Some(false), None, message.clone()),
            Outcome::Unsupported { message } => (None, None, message.clone()),
        };
        Verdict {
            ok,
            latency_ms,
            message,
        }
    }

    /// The provider answered (even if it refused): not a failure to back off from.
    pub fn reachable(&self) -> bool {
        !matches!(self, Outcome::Unreachable { .. } | Outcome::NotJson { .. })
    }

    /// The outcome for a write that would store the credential (install,
    /// rotation, upgrade): accepted, or not checkable here; otherwise the
    /// domain error that refuses the write.
    pub fn admit(self, mode: AuthMode, who: &str) -> Result<Admitted, Error> {
        match self {
            Outcome::Accepted { latency_ms, .. } => Ok(Admitted::Verified { latency_ms }),
            Outcome::Unsupported { message } => Ok(Admitted::Unverified { message }),
            rejected @ Outcome::Rejected { .. } => {
                Err(Error::AuthRejected(rejected.verdict(mode, who).message))
            }
            Outcome::Unreachable { message } | Outcome::NotJson { message, .. } => {
                Err(Error::Upstream(message))
            }
            Outcome::Refused { message } => Err(Error::TargetRefused(message)),
        }
    }
}

/// Milliseconds since the epoch, read at the edge.
pub type Clock<'a> = &'a dyn Fn() -> i64;

/// Runs a probe; `hosts` (the listing's `allowed_hosts`, resolved) binds
/// every hop of a request that carries a credential.
pub async fn run(
    probe: &Value,
    values: &Values<'_>,
    client: &Guarded<'_>,
    clock: Clock<'_>,
    hosts: Option<&[String]>,
) -> Outcome {
    if probe["kind"] == "database" {
        return Outcome::Unsupported {
            message: format!(
                "A database probe ({}) runs on the connector's connection string (probe::database), not as a request; it was not checked here.",
                probe["driver"].as_str().unwrap_or("sql")
            ),
        };
    }
    // A base URL from config is checked as written: rendering normalises it,
    // which would turn a disguise (`http://2130706433:…`) into a listed host.
    if let Some(base) = base_value(probe["url"].as_str().unwrap_or_default(), values.config) {
        if let Err(r) = crate::probe::guard::check(&base, client.allow) {
            return Outcome::Refused { message: r.0 };
        }
    }
    let mut req = match build(probe, values) {
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
    // Signed last, as sent (AWS SigV4): the signature covers this URL.
    if let Some(signing) = probe.get("signing").filter(|s| s.is_object()) {
        let signed = render_header(signing["region"].as_str().unwrap_or_default(), values)
            .map_err(|e| e.to_string())
            .and_then(|region| {
                super::signing::apply(
                    &mut req,
                    signing["service"].as_str().unwrap_or_default(),
                    &region,
                    values.auth,
                    clock(),
                )
            });
        if let Err(message) = signed {
            return Outcome::Refused { message };
        }
    }
    let target = url::Url::parse(&req.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    if req.carries_credential() {
        req.hosts = Some(bound_hosts(hosts, &target));
    }
    let wants_json = expects_json(probe, &req);
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
    let parsed: Option<Value> = if wants_json && resp.status != 204 {
        serde_json::from_slice(&resp.body).ok()
    } else {
        None
    };
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
            reason: probe["status_messages"][resp.status.to_string()]
                .as_str()
                .map(str::to_string),
        };
    }
    if wants_json && resp.status != 204 && parsed.is_none() {
        return Outcome::NotJson {
            status: resp.status,
            message: format!(
                "{target} answered HTTP {} but not with JSON (a login page or a proxy?): it is not the provider's answer.",
                resp.status
            ),
        };
    }
    if let Some(want) = probe["expect_json"].as_object() {
        let body = parsed;
        let ok = body
            .as_ref()
            .is_some_and(|b| want.iter().all(|(ptr, v)| b.pointer(ptr) == Some(v)));
        if !ok {
            return Outcome::Rejected {
                status: resp.status,
                snippet: snippet(&resp.body, &secrets),
                latency_ms,
                reason: None,
            };
        }
    }
    Outcome::Accepted {
        status: resp.status,
        latency_ms,
    }
}

pub(crate) fn build(probe: &Value, v: &Values) -> Result<OutboundRequest, TemplateError> {
    let method = probe["method"]
        .as_str()
        .unwrap_or("GET")
        .to_ascii_uppercase();
    let url = render_url(probe["url"].as_str().unwrap_or_default(), v)?;
    let mut headers = vec![];
    // Every header rendered from a template counts as a credential: a
    // `{{config.*}}` value may be one too (an account key in a header).
    let mut credential_headers = vec![];
    if let Some(h) = probe["headers"].as_object() {
        for (k, t) in h {
            let t = t.as_str().unwrap_or_default();
            // An optional credential that was not given sends no header.
            if absent_credential(t, v.auth) {
                continue;
            }
            if t.contains("{{") {
                credential_headers.push(k.to_ascii_lowercase());
            }
            headers.push((k.clone(), render_header(t, v)?));
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
    // A credential's header block (custom headers): every header counts.
    if let Some(t) = probe["header_lines"].as_str() {
        for (k, value) in header_lines_in(t, &Scope::from(v), &headers)? {
            credential_headers.push(k.to_ascii_lowercase());
            headers.push((k, value));
        }
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
    let body_has_credential = probe["body"]
        .as_str()
        .is_some_and(|t| t.contains("{{auth."));
    Ok(OutboundRequest {
        method,
        url,
        headers,
        body,
        credential_headers,
        body_has_credential,
        ..Default::default()
    })
}

/// The config value a URL template starts with (`{{config.base_url}}/user`).
/// The config value a URL template starts with (`{{config.base_url}}/…`).
pub(super) fn base_value(
    template: &str,
    config: &serde_json::Map<String, Value>,
) -> Option<String> {
    let inner = template.strip_prefix("{{")?;
    let key = inner[..inner.find("}}")?].trim().strip_prefix("config.")?;
    config.get(key)?.as_str().map(str::to_string)
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

/// The hosts a credential-bearing request may reach: the listing's, or
/// (a version that names none) the first host only.
pub fn bound_hosts(hosts: Option<&[String]>, first: &str) -> Vec<String> {
    hosts.map_or_else(|| vec![first.to_ascii_lowercase()], <[String]>::to_vec)
}

/// Whether an accepted answer must be JSON: the probe checks JSON
/// (`expect_json`) or asked for it (`Accept: …json…`, not an event stream).
fn expects_json(probe: &Value, req: &OutboundRequest) -> bool {
    if req.method == "HEAD" {
        return false;
    }
    probe["expect_json"].is_object()
        || req.headers.iter().any(|(k, v)| {
            let v = v.to_ascii_lowercase();
            k.eq_ignore_ascii_case("accept") && v.contains("json") && !v.contains("event-stream")
        })
}

/// The forms a secret can be echoed in: as is, base64 (each value, and
/// Basic's `user:pass` for each pair), URL-encoded and JSON-escaped.
fn secret_forms(secrets: &[&str]) -> Vec<String> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    // A header block (custom headers) is one field, but a provider may echo
    // any one of its values.
    let values: Vec<String> = secrets
        .iter()
        .filter(|s| s.contains(':'))
        .filter_map(|s| crate::domain::template::parse_header_lines(s).ok())
        .flatten()
        .map(|(_, v)| v)
        .collect();
    let mut out = vec![];
    for s in secrets
        .iter()
        .copied()
        .chain(values.iter().map(String::as_str))
        .filter(|s| s.len() >= 4)
    {
        out.push(s.to_string());
        let encoded = b64(s);
        out.push(encoded.trim_end_matches('=').to_string());
        out.push(url::form_urlencoded::byte_serialize(s.as_bytes()).collect());
        out.push(s.bytes().fold(String::new(), |mut e, b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                e.push(char::from(b));
            } else {
                e.push_str(&format!("%{b:02X}"));
            }
            e
        }));
        let json = serde_json::to_string(s).expect("a string serialises");
        out.push(json[1..json.len() - 1].to_string());
    }
    for a in secrets {
        for b in secrets.iter().filter(|b| a.len() + b.len() >= 4) {
            out.push(b64(&format!("{a}:{b}")).trim_end_matches('=').to_string());
        }
    }
    // Longest first, so a form that contains another is masked whole.
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out.dedup();
    out.retain(|s| s.len() >= 4);
    out
}

/// `text` with every form of every secret replaced by `****`.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut text = text.to_string();
    for form in secret_forms(secrets) {
        text = text.replace(&form, "****");
    }
    text
}

/// A short, printable, secret-free quote of a provider's answer.
pub fn snippet(body: &[u8], secrets: &[&str]) -> String {
    let text = redact(&String::from_utf8_lossy(body), secrets);
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
