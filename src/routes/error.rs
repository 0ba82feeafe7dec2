//! The API error envelope and the one mapping from domain errors to HTTP
//! statuses, types and codes (API §2).

use super::http::HttpResponse;
use crate::domain::Error;
use crate::store::{Fail, StoreError};
use serde_json::json;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub kind: &'static str,
    pub code: &'static str,
    pub message: String,
    pub param: Option<String>,
    /// Extra members of the error object (e.g. the dependent `bindings`).
    pub extra: Vec<(String, serde_json::Value)>,
    /// Extra response headers (e.g. `Allow` on a 405).
    pub headers: Vec<(String, String)>,
    /// What to log for a 5xx; never shown to the caller.
    pub internal: Option<String>,
    /// A 5xx that is still the request's answer and is kept for its
    /// `Idempotency-Key` (a tool call that was sent: retrying could run it
    /// twice). Other 5xx release the key.
    pub final_answer: bool,
}

impl ApiError {
    pub fn new(
        status: u16,
        kind: &'static str,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            kind,
            code,
            message: message.into(),
            param: None,
            extra: vec![],
            headers: vec![],
            internal: None,
            final_answer: false,
        }
    }

    pub fn param(mut self, p: impl Into<String>) -> Self {
        self.param = Some(p.into());
        self
    }

    pub fn with_message(mut self, m: impl Into<String>) -> Self {
        self.message = m.into();
        self
    }

    pub fn extra(mut self, k: &str, v: serde_json::Value) -> Self {
        self.extra.push((k.to_string(), v));
        self
    }

    /// A 500 whose cause goes to the log, not to the caller.
    pub fn internal(cause: impl Into<String>) -> Self {
        let mut e = Self::new(
            500,
            "api_error",
            "internal_error",
            "Something went wrong on our side. The request id identifies it if you contact support.",
        );
        e.internal = Some(cause.into());
        e
    }

    pub fn route_not_found(method: &str, path: &str) -> Self {
        Self::new(
            404,
            "invalid_request_error",
            "route_not_found",
            format!(
                "Unrecognized request URL ({method} {path}). See /v1/openapi.json for the routes."
            ),
        )
    }

    pub fn method_not_allowed(method: &str, path: &str, allow: &[&str]) -> Self {
        let mut e = Self::new(
            405,
            "invalid_request_error",
            "method_not_allowed",
            format!(
                "{method} is not allowed on {path}; allowed: {}.",
                allow.join(", ")
            ),
        );
        e.headers.push(("allow".into(), allow.join(", ")));
        e
    }

    /// The deployment refuses to serve (a weak `OPERATOR_TOKEN`): every
    /// request answers this, and the cause is logged.
    pub fn misconfigured(cause: impl Into<String>) -> Self {
        let mut e = Self::new(
            503,
            "api_error",
            "service_misconfigured",
            "The service is misconfigured and refuses to serve; its log names the cause.",
        );
        e.internal = Some(cause.into());
        e
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            413,
            "invalid_request_error",
            "payload_too_large",
            format!("The request body exceeds the limit of {limit} bytes."),
        )
    }

    pub fn into_response(self, request_id: &str) -> HttpResponse {
        let mut error = json!({
            "type": self.kind,
            "code": self.code,
            "message": self.message,
            "request_id": request_id,
        });
        if let Some(p) = &self.param {
            error["param"] = json!(p);
        }
        for (k, v) in &self.extra {
            error[k.as_str()] = v.clone();
        }
        let mut r = HttpResponse::json(self.status, &json!({ "error": error }));
        r.headers.extend(self.headers);
        r
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        match e {
            Error::MissingParameter { param, .. } => {
                ApiError::new(400, "invalid_request_error", "missing_parameter", message)
                    .param(param)
            }
            Error::InvalidParameter { param, .. } => {
                ApiError::new(400, "invalid_request_error", "invalid_parameter", message)
                    .param(param)
            }
            Error::MalformedJson(_) => {
                ApiError::new(400, "invalid_request_error", "malformed_json", message)
            }
            Error::InvalidManifest { path, .. } => {
                ApiError::new(400, "invalid_request_error", "invalid_manifest", message).param(path)
            }
            Error::Unauthenticated(_) => {
                let mut e = ApiError::new(401, "authentication_error", "unauthenticated", message);
                // RFC 9110 §11.6.1: a 401 names the schemes it accepts.
                e.headers.push((
                    "www-authenticate".into(),
                    r#"Bearer realm="connector-marketplace", Basic realm="connector-marketplace""#
                        .into(),
                ));
                e
            }
            Error::ConnectSessionInactive { used } => ApiError::new(
                401,
                "authentication_error",
                if used {
                    "connect_session_used"
                } else {
                    "connect_session_expired"
                },
                message,
            ),
            Error::Forbidden(_) => ApiError::new(403, "permission_error", "forbidden", message),
            Error::NotFound { .. } => ApiError::new(404, "not_found_error", "not_found", message),
            Error::NameTaken { .. } => {
                ApiError::new(409, "conflict_error", "state_conflict", message).param("name")
            }
            Error::StateConflict(_) => {
                ApiError::new(409, "conflict_error", "state_conflict", message)
            }
            Error::Upstream(_) => {
                ApiError::new(502, "upstream_error", "connector_upstream_error", message)
            }
            Error::AuthRejected(_) => {
                ApiError::new(422, "invalid_request_error", "auth_failed", message).param("auth")
            }
            Error::TargetRefused(_) => {
                ApiError::new(400, "invalid_request_error", "target_not_allowed", message)
                    .param("config")
            }
            Error::TargetNotAllowed { param, .. } => {
                ApiError::new(400, "invalid_request_error", "target_not_allowed", message)
                    .param(param)
            }
            Error::VerificationUnsupported(_) => ApiError::new(
                422,
                "invalid_request_error",
                "verification_unsupported",
                message,
            ),
            Error::EarlyAccess { .. } => ApiError::new(
                422,
                "invalid_request_error",
                "listing_early_access",
                message,
            )
            .param("listing"),
            Error::ToolUnsupported(_) => {
                ApiError::new(422, "invalid_request_error", "tool_unsupported", message)
            }
            Error::ToolChanged(_) => ApiError::new(409, "conflict_error", "tool_changed", message),
            Error::RateLimited {
                retry_after_secs, ..
            } => {
                let mut e = ApiError::new(429, "rate_limit_error", "rate_limit_exceeded", message)
                    .extra("retry_after", json!(retry_after_secs));
                e.headers
                    .push(("retry-after".into(), retry_after_secs.to_string()));
                e
            }
            Error::ToolNameTaken { name, binding, .. } => {
                ApiError::new(409, "conflict_error", "tool_name_taken", message)
                    .param("alias")
                    .extra("tool_name", json!(name))
                    .extra("binding_id", json!(binding))
            }
            Error::ToolUpstream { tool_call, .. } => {
                let mut e =
                    ApiError::new(502, "upstream_error", "connector_upstream_error", message)
                        .extra("tool_call_id", json!(tool_call));
                e.final_answer = true;
                e
            }
            Error::IdempotencyInProgress => {
                ApiError::new(409, "conflict_error", "idempotency_in_progress", message)
            }
            Error::IdempotencyKeyReused => ApiError::new(
                422,
                "invalid_request_error",
                "idempotency_key_reused",
                message,
            ),
            Error::InvalidState(_) => {
                ApiError::new(400, "invalid_request_error", "invalid_state", message).param("state")
            }
            Error::ConnectorInUse { dependents, .. } => {
                let ids: Vec<&str> = dependents.iter().map(|d| d.binding.as_str()).collect();
                let detail: Vec<serde_json::Value> = dependents
                    .iter()
                    .map(|d| json!({"binding": d.binding, "consumer": d.consumer, "capability": d.capability, "pinned": d.pinned}))
                    .collect();
                ApiError::new(409, "conflict_error", "connector_in_use", message)
                    .extra("bindings", json!(ids))
                    .extra("dependents", json!(detail))
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::internal(e.0)
    }
}

impl From<Fail> for ApiError {
    fn from(f: Fail) -> Self {
        match f {
            Fail::Domain(e) => e.into(),
            Fail::Store(e) => e.into(),
        }
    }
}

/// Every code the API answers with, for the OpenAPI document and its test.
pub const CODES: &[&str] = &[
    "missing_parameter",
    "invalid_parameter",
    "malformed_json",
    "invalid_manifest",
    "unauthenticated",
    "connect_session_used",
    "connect_session_expired",
    "forbidden",
    "not_found",
    "route_not_found",
    "method_not_allowed",
    "state_conflict",
    "connector_in_use",
    "idempotency_in_progress",
    "idempotency_key_reused",
    "listing_early_access",
    "auth_failed",
    "verification_unsupported",
    "tool_unsupported",
    "tool_changed",
    "tool_name_taken",
    "rate_limit_exceeded",
    "target_not_allowed",
    "connector_upstream_error",
    "invalid_state",
    "payload_too_large",
    "internal_error",
    "service_misconfigured",
];
