//! What can go wrong, how it is told, and the exit code it ends with.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done |
//! | 1 | the API or the provider behind it failed (5xx, 502, 422, 429; a tool call that failed; a test that failed; an unhealthy connector) |
//! | 2 | usage: a bad command line or answer, or a request the API refused as invalid (400, 413) |
//! | 3 | not logged in, the key was refused (401) or its role may not do this (403); a call a policy denied |
//! | 4 | not found (404) |
//! | 5 | conflict (409, an idempotency key reused) or a call waiting for approval |
//! | 6 | the server cannot be reached |

use serde_json::Value;
use std::fmt::Write as _;

pub const OK: i32 = 0;
pub const API: i32 = 1;
pub const USAGE: i32 = 2;
pub const AUTH: i32 = 3;
pub const NOT_FOUND: i32 = 4;
pub const CONFLICT: i32 = 5;
pub const UNREACHABLE: i32 = 6;

/// An error answer of the API (API §2's envelope), with its raw body for `--json`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub kind: String,
    pub code: String,
    pub message: String,
    pub param: Option<String>,
    pub request_id: Option<String>,
    /// The error object as sent (extra members such as `tool_call_id`).
    pub error: Value,
    pub body: Vec<u8>,
    /// `Retry-After`, when the API sent one.
    pub retry_after: Option<String>,
}

impl ApiError {
    /// Reads an error answer; one that is not the envelope (a proxy's page)
    /// is described by its status.
    pub fn from_answer(
        status: u16,
        request_id: Option<String>,
        retry_after: Option<String>,
        body: Vec<u8>,
    ) -> ApiError {
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let e = v.get("error").cloned().unwrap_or(Value::Null);
        let text = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
        ApiError {
            status,
            kind: text("type").unwrap_or_else(|| "api_error".into()),
            code: text("code").unwrap_or_else(|| format!("http_{status}")),
            message: text("message").unwrap_or_else(|| {
                let snippet: String = String::from_utf8_lossy(&body).chars().take(200).collect();
                format!(
                    "HTTP {status} without an API error body: {}",
                    snippet.trim()
                )
            }),
            param: text("param"),
            request_id: text("request_id").or(request_id),
            error: e,
            body,
            retry_after,
        }
    }

    pub fn exit_code(&self) -> i32 {
        match (self.status, self.code.as_str()) {
            (_, "idempotency_key_reused" | "idempotency_in_progress") => CONFLICT,
            (400 | 413, _) => USAGE,
            (401 | 403, _) => AUTH,
            (404, _) => NOT_FOUND,
            (409, _) => CONFLICT,
            _ => API,
        }
    }

    /// What to do next, for a person.
    pub fn hint(&self) -> String {
        let param = self.param.as_deref().unwrap_or("");
        match (self.status, self.code.as_str()) {
            (_, "idempotency_key_reused") => {
                "This idempotency key was used for a different request: pick a new --idempotency-key.".into()
            }
            (_, "idempotency_in_progress") => {
                "The first request with this idempotency key is still running: wait and run the command again.".into()
            }
            (400, "target_not_allowed") => format!(
                "The server will not send requests to that address: use a public https URL{}.",
                if param.is_empty() { String::new() } else { format!(" for {param}") }
            ),
            (400, _) if self.code == "missing_parameter" && !param.is_empty() => {
                format!("Give {param} and run the command again.")
            }
            (400, _) if !param.is_empty() => {
                format!("Fix the value of {param} and run the command again.")
            }
            (400 | 413, _) => "Fix the request and run the command again.".into(),
            (401, _) => {
                "The API key was refused (revoked or mistyped): run `connector login` with a valid key.".into()
            }
            (403, _) => "This key's role may not do this: use a manager or admin key (`connector login`).".into(),
            (404, _) => "Check the name or id (`connector connectors list`, `connector catalog search`).".into(),
            (409, _) if self.message.contains("already exists") => {
                "Choose another name (--name) and run the command again.".into()
            }
            (409, _) => "The object is not in a state that allows this: check it with `connector connectors show` and try again.".into(),
            (422, "auth_failed") => "The provider rejected the credentials: check them and install again.".into(),
            (422, "listing_early_access") => "This listing is not available for installs yet.".into(),
            (422, _) => "The request was understood but cannot be done as asked: see the message.".into(),
            (429, _) => format!(
                "Too many calls: wait{} and try again.",
                self.retry_after.as_deref().map(|s| format!(" {s} s")).unwrap_or_default()
            ),
            (502, _) => "The provider behind the connector could not be reached or failed: check its config and try again.".into(),
            _ => "Try again later; quote the request id if you report it.".into(),
        }
    }

    /// The human account: message, then code/param/request id, then the hint.
    pub fn describe(&self) -> String {
        format!("{}\n  → {}", self.describe_brief(), self.hint())
    }

    /// Message and code/param/request id, without the hint (when the CLI
    /// itself goes on, e.g. asking for the field again).
    pub fn describe_brief(&self) -> String {
        let mut s = format!("error: {}\n", self.message);
        let mut facts = vec![format!("code {} ({})", self.code, self.kind)];
        if let Some(p) = &self.param {
            facts.push(format!("param {p}"));
        }
        facts.push(format!("HTTP {}", self.status));
        if let Some(r) = &self.request_id {
            facts.push(format!("request id {r}"));
        }
        if let Some(tc) = self.error.get("tool_call_id").and_then(Value::as_str) {
            facts.push(format!("receipt {tc}"));
        }
        let _ = write!(s, "  {}", facts.join(" · "));
        s
    }
}

/// Every way a command ends other than success.
#[derive(Debug)]
pub enum Failure {
    /// A bad command line or answer (exit 2).
    Usage(String),
    /// No key to use, or a key that must not be used (exit 3).
    Auth(String),
    /// The API said no.
    Api(Box<ApiError>),
    /// The server cannot be reached (exit 6).
    Unreachable { base: String, detail: String },
    /// The request went through but what it reports is a failure (a tool call
    /// that failed, a test that failed); already shown. Carries the exit code.
    Outcome(i32),
    /// Anything local (a config file that cannot be written).
    Local(String),
}

impl Failure {
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Usage(_) => USAGE,
            Failure::Auth(_) => AUTH,
            Failure::Api(e) => e.exit_code(),
            Failure::Unreachable { .. } => UNREACHABLE,
            Failure::Outcome(c) => *c,
            Failure::Local(_) => API,
        }
    }

    /// What is printed on stderr (nothing for an outcome already shown).
    pub fn describe(&self) -> Option<String> {
        match self {
            Failure::Usage(m) => Some(format!("error: {m}")),
            Failure::Auth(m) => Some(format!("error: {m}")),
            Failure::Api(e) => Some(e.describe()),
            Failure::Unreachable { base, detail } => Some(format!(
                "error: cannot reach {base}: {detail}\n  → Check the URL (`connector login --base-url …` or CONNECTOR_BASE_URL) and that the server is running."
            )),
            Failure::Outcome(_) => None,
            Failure::Local(m) => Some(format!("error: {m}")),
        }
    }
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Api(Box::new(e))
    }
}

pub type Result<T> = std::result::Result<T, Failure>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(status: u16, code: &str, param: Option<&str>) -> ApiError {
        let mut e = json!({"type": "invalid_request_error", "code": code, "message": "Nope.", "request_id": "req_abc"});
        if let Some(p) = param {
            e["param"] = json!(p);
        }
        ApiError::from_answer(
            status,
            None,
            None,
            json!({ "error": e }).to_string().into_bytes(),
        )
    }

    #[test]
    fn statuses_map_to_exit_codes() {
        for (status, code, exit) in [
            (400, "invalid_parameter", USAGE),
            (400, "missing_parameter", USAGE),
            (413, "payload_too_large", USAGE),
            (401, "unauthenticated", AUTH),
            (403, "forbidden", AUTH),
            (404, "not_found", NOT_FOUND),
            (409, "state_conflict", CONFLICT),
            (409, "connector_in_use", CONFLICT),
            (422, "idempotency_key_reused", CONFLICT),
            (422, "auth_failed", API),
            (429, "rate_limit_exceeded", API),
            (500, "internal_error", API),
            (502, "connector_upstream_error", API),
        ] {
            assert_eq!(err(status, code, None).exit_code(), exit, "{status} {code}");
        }
        assert_eq!(Failure::Usage("x".into()).exit_code(), USAGE);
        assert_eq!(Failure::Auth("x".into()).exit_code(), AUTH);
        assert_eq!(
            Failure::Unreachable {
                base: "b".into(),
                detail: "d".into()
            }
            .exit_code(),
            UNREACHABLE
        );
        assert_eq!(Failure::Outcome(CONFLICT).exit_code(), CONFLICT);
    }

    #[test]
    fn the_account_names_code_param_request_id_and_what_to_do() {
        let e = err(400, "invalid_parameter", Some("config.base_url"));
        let d = e.describe();
        assert!(d.starts_with("error: Nope.\n"), "{d}");
        assert!(
            d.contains("code invalid_parameter (invalid_request_error)"),
            "{d}"
        );
        assert!(d.contains("param config.base_url"), "{d}");
        assert!(d.contains("request id req_abc"), "{d}");
        assert!(d.contains("Fix the value of config.base_url"), "{d}");
    }

    #[test]
    fn a_body_that_is_not_the_envelope_is_described_by_its_status() {
        let e = ApiError::from_answer(
            503,
            Some("req_x".into()),
            None,
            b"<html>down</html>".to_vec(),
        );
        assert_eq!((e.code.as_str(), e.exit_code()), ("http_503", API));
        assert!(e.message.contains("HTTP 503"));
        assert_eq!(e.request_id.as_deref(), Some("req_x"));
    }
}
