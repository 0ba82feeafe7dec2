//! The domain's error type: meaningful variants with user-safe messages and
//! no HTTP. `routes::error` holds the single mapping to statuses and codes.

/// Everything that can go wrong in the domain, phrased for the API caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A required field is absent.
    #[error("Missing required parameter: {param}.")]
    MissingParameter { param: String },
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
    /// The object exists but the request conflicts with its state.
    #[error("{0}")]
    StateConflict(String),
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
        }
    }

    pub fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        Error::NotFound {
            kind,
            id: id.into(),
        }
    }
}
