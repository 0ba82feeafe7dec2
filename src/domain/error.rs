//! The domain's error type: meaningful variants with user-safe messages and
//! no HTTP. `routes::error` holds the single mapping to statuses and codes.

/// Everything that can go wrong in the domain, phrased for the API caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A required field is absent; `message` says why when it is not obvious.
    #[error("{}", message.clone().unwrap_or_else(|| format!("Missing required parameter: {param}.")))]
    MissingParameter {
        param: String,
        message: Option<String>,
    },
    /// A field is present but malformed; `message` names the problem.
    #[error("{message}")]
    InvalidParameter { param: String, message: String },
    /// The request body is not valid JSON.
    #[error("{0}")]
    MalformedJson(String),
    /// No credentials, or credentials that match nothing.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller is known but its role is too weak.
    #[error("{0}")]
    Forbidden(String),
    /// The object does not exist in the caller's tenant.
    #[error("No such {kind}: '{id}'.")]
    NotFound { kind: &'static str, id: String },
    /// An instance name already used in the tenant (`state_conflict` on
    /// `name`).
    #[error("A connector named '{name}' already exists in this tenant; choose another name.")]
    NameTaken { name: String },
    /// The object exists but the request conflicts with its state.
    #[error("{0}")]
    StateConflict(String),
    /// The provider could not be reached or failed (down, slow, 5xx, an
    /// answer that is not the one asked for); the message names host and cause.
    #[error("{0}")]
    Upstream(String),
    /// The provider refused the credentials (or, auth `none`, the request).
    #[error("{0}")]
    AuthRejected(String),
    /// The outbound target is refused by the guard (API §10).
    #[error("{0}")]
    TargetRefused(String),
    /// A URL the caller gave is refused by the outbound guard (API §10),
    /// named by its parameter (a webhook endpoint's `url`).
    #[error("{message}")]
    TargetNotAllowed { param: String, message: String },
    /// A check this listing cannot have here (OAuth by probe, database probes…).
    #[error("{0}")]
    VerificationUnsupported(String),
    /// The listing is in early access and cannot be installed yet.
    #[error("The listing '{listing}' is in early access and cannot be installed yet.")]
    EarlyAccess { listing: String },
    /// The first request with this idempotency key is still running.
    #[error("A request with this Idempotency-Key is still being processed; retry shortly.")]
    IdempotencyInProgress,
    /// The idempotency key was used with a different request.
    #[error("This Idempotency-Key was used with a different request; use a new key.")]
    IdempotencyKeyReused,
    /// An OAuth callback's state is unknown, expired, used or orphaned.
    #[error("{0}")]
    InvalidState(String),
    /// An instance cannot be uninstalled: bindings depend on it.
    #[error("{}", in_use_message(connector, dependents))]
    ConnectorInUse {
        connector: String,
        dependents: Vec<Dependent>,
    },
    /// A tool that cannot run here (yet): database statements, signed requests.
    #[error("{0}")]
    ToolUnsupported(String),
    /// An upstream MCP tool's definition changed since it was pinned (or is
    /// gone): withheld until a manager accepts it.
    #[error("{0}")]
    ToolChanged(String),
    /// A binding would give its consumer a tool name another of its
    /// bindings already gives (API §14): names are never renamed later.
    #[error("{message}")]
    ToolNameTaken {
        message: String,
        name: String,
        binding: String,
    },
    /// A binding's rate limit is used up for now (API §15); a call is free
    /// again in `retry_after_secs`.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    /// A tool call reached no answer; its receipt is `tool_call`.
    #[error("{message}")]
    ToolUpstream { message: String, tool_call: String },
    /// A connect session's link was used already (`used`) or has expired.
    #[error("{}", if *used { "This connect link has already been used to install a connector; ask for a new link." } else { "This connect link has expired; ask for a new link." })]
    ConnectSessionInactive { used: bool },
    /// A catalog manifest fails the schema or the semantic checks.
    #[error("{message}")]
    InvalidManifest { path: String, message: String },
}

impl Error {
    pub fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidParameter {
            param: param.into(),
            message: message.into(),
        }
    }

    pub fn missing(param: impl Into<String>) -> Self {
        Error::MissingParameter {
            param: param.into(),
            message: None,
        }
    }

    /// The same parameter error, explained by `message` instead (the
    /// parameter and the code are kept); other errors are returned as they are.
    pub fn reworded(self, message: impl Into<String>) -> Self {
        match self {
            Error::MissingParameter { param, .. } => Error::MissingParameter {
                param,
                message: Some(message.into()),
            },
            Error::InvalidParameter { param, .. } => Error::InvalidParameter {
                param,
                message: message.into(),
            },
            other => other,
        }
    }

    /// An instance name already used in the tenant.
    pub fn name_taken(name: &str) -> Self {
        Error::NameTaken {
            name: name.to_string(),
        }
    }

    pub fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        Error::NotFound {
            kind,
            id: id.into(),
        }
    }
}

/// A binding that would break if an instance went away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependent {
    pub binding: String,
    pub consumer: String,
    pub capability: String,
    /// Pinned to the instance (else: no other instance fulfils the capability).
    pub pinned: bool,
}

/// "order.hold is fulfilled only by cn_…; support-bot (bnd_…) depends on it."
/// Grouped by capability, consumers in the order given.
fn in_use_message(connector: &str, dependents: &[Dependent]) -> String {
    let mut parts: Vec<String> = vec![];
    let consumers = |pinned: bool, cap: Option<&str>| -> Vec<String> {
        dependents
            .iter()
            .filter(|d| d.pinned == pinned && cap.is_none_or(|c| d.capability == c))
            .map(|d| format!("{} ({})", d.consumer, d.binding))
            .collect()
    };
    let mut caps: Vec<&str> = vec![];
    for d in dependents.iter().filter(|d| !d.pinned) {
        if !caps.contains(&d.capability.as_str()) {
            caps.push(&d.capability);
        }
    }
    for cap in caps {
        let who = consumers(false, Some(cap));
        let verb = if who.len() == 1 { "depends" } else { "depend" };
        parts.push(format!(
            "{cap} is fulfilled only by {connector}; {} {verb} on it",
            who.join(", ")
        ));
    }
    let pinned = consumers(true, None);
    if !pinned.is_empty() {
        parts.push(format!(
            "{} {} pinned to {connector}",
            pinned.join(", "),
            if pinned.len() == 1 { "is" } else { "are" }
        ));
    }
    format!(
        "The connector is in use: {}. Install another connector that fulfils the capability, or delete or re-point the bindings first.",
        parts.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(b: &str, consumer: &str, cap: &str, pinned: bool) -> Dependent {
        Dependent {
            binding: b.into(),
            consumer: consumer.into(),
            capability: cap.into(),
            pinned,
        }
    }

    #[test]
    fn in_use_names_the_capability_and_its_consumers() {
        let e = Error::ConnectorInUse {
            connector: "cn_7d2f4a".into(),
            dependents: vec![
                dep("bnd_1", "op_8f2a1c", "order.hold", false),
                dep("bnd_2", "support-bot", "order.read", true),
                dep("bnd_3", "billing", "order.hold", false),
            ],
        };
        assert_eq!(
            e.to_string(),
            "The connector is in use: order.hold is fulfilled only by cn_7d2f4a; op_8f2a1c (bnd_1), \
             billing (bnd_3) depend on it; support-bot (bnd_2) is pinned to cn_7d2f4a. Install \
             another connector that fulfils the capability, or delete or re-point the bindings first."
        );
    }
}
