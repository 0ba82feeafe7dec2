//! An instance's typed state (API §4): its status and the auth mode it
//! authenticates with. Stored and shown as the strings of the contract;
//! matched as enums everywhere else.

use crate::domain::manifest::Listing;
use serde::{Deserialize, Serialize};

/// `status` of an instance: `connected | pending_auth | error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Credentials verified (or an OAuth consent completed).
    Connected,
    /// Waiting for OAuth consent: nothing can run through it yet.
    PendingAuth,
    /// The provider refused the credential, or a consent failed.
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Connected => "connected",
            Status::PendingAuth => "pending_auth",
            Status::Error => "error",
        }
    }

    /// A stored status; an unknown string (a hand-edited row) reads as `error`.
    pub fn parse(s: &str) -> Self {
        match s {
            "connected" => Status::Connected,
            "pending_auth" => Status::PendingAuth,
            _ => Status::Error,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `auth.mode` of a listing, `auth.type` of an install (API §3, §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    Pat,
    ApiKey,
    Basic,
    ConnString,
    #[serde(rename = "oauth2")]
    OAuth2,
    McpOauth,
    None,
}

impl AuthMode {
    pub const ALL: [AuthMode; 7] = [
        AuthMode::Pat,
        AuthMode::ApiKey,
        AuthMode::Basic,
        AuthMode::ConnString,
        AuthMode::OAuth2,
        AuthMode::McpOauth,
        AuthMode::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::Pat => "pat",
            AuthMode::ApiKey => "api_key",
            AuthMode::Basic => "basic",
            AuthMode::ConnString => "conn_string",
            AuthMode::OAuth2 => "oauth2",
            AuthMode::McpOauth => "mcp_oauth",
            AuthMode::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Authenticated by consent (a token the service obtains), not by a
    /// credential the caller submits and a probe verifies.
    pub fn is_oauth(self) -> bool {
        matches!(self, AuthMode::OAuth2 | AuthMode::McpOauth)
    }

    /// The fields this mode takes in an install's `auth`.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            AuthMode::ApiKey => &["key"],
            AuthMode::Basic => &["username", "password"],
            AuthMode::Pat => &["token"],
            AuthMode::ConnString => &["value"],
            AuthMode::OAuth2 => &["client_id", "client_secret"],
            AuthMode::McpOauth | AuthMode::None => &[],
        }
    }
}

impl std::fmt::Display for AuthMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Listing {
    /// The listing's auth mode. Manifests passed the schema, which names
    /// the same modes; an unknown one (a hand-edited row) reads as `none`,
    /// which carries no credential.
    pub fn mode(&self) -> AuthMode {
        AuthMode::parse(&self.auth_mode).unwrap_or(AuthMode::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_statuses_round_trip_as_the_contract_spells_them() {
        for m in AuthMode::ALL {
            assert_eq!(AuthMode::parse(m.as_str()), Some(m));
            assert_eq!(serde_json::to_value(m).unwrap(), m.as_str());
        }
        assert_eq!(AuthMode::parse("oauth"), None);
        for s in [Status::Connected, Status::PendingAuth, Status::Error] {
            assert_eq!(Status::parse(s.as_str()), s);
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert!(AuthMode::McpOauth.is_oauth() && !AuthMode::Pat.is_oauth());
    }
}
