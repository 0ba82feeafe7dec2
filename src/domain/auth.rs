//! Who is calling: roles, API key secrets (minted, hashed, parsed from
//! `Authorization`), and the operator token check.

use super::ids::{random_base62, ConnectSessionId, KeyId, Random, TenantId};
use super::Error;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A key's role. `viewer` < `manager` < `admin`, each including the rights
/// of the ones before it; `agent` stands apart: a key bound to one consumer
/// that may only call the tools its bindings grant (API §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Viewer,
    Manager,
    Admin,
    Agent,
}

impl Role {
    pub fn parse(s: &str) -> Result<Self, Error> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "manager" => Ok(Role::Manager),
            "admin" => Ok(Role::Admin),
            "agent" => Ok(Role::Agent),
            _ => Err(Error::invalid(
                "role",
                format!("Invalid role '{s}': expected one of viewer, manager, admin, agent."),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Manager => "manager",
            Role::Admin => "admin",
            Role::Agent => "agent",
        }
    }

    /// Whether this role has the rights of `needed` (a tenant role).
    pub fn includes(self, needed: Role) -> bool {
        let rank = |r: Role| match r {
            Role::Viewer => Some(0),
            Role::Manager => Some(1),
            Role::Admin => Some(2),
            Role::Agent => None,
        };
        matches!((rank(self), rank(needed)), (Some(a), Some(b)) if a >= b)
    }
}

/// Who calls a tool (API §13): a manager (or admin), or an agent key acting
/// for its consumer, whose calls are limited to what its bindings grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCaller<'a> {
    pub tenant: &'a TenantId,
    pub key_id: &'a KeyId,
    /// `Some` for an agent key: the consumer its calls are attributed to.
    pub consumer: Option<&'a str>,
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The platform operator (worker secret `OPERATOR_TOKEN`).
    Operator,
    /// A tenant's API key.
    Key {
        tenant: TenantId,
        key_id: KeyId,
        role: Role,
        /// The consumer an `agent` key acts for.
        consumer: Option<String>,
    },
    /// An end user holding a connect session's link: may read the catalog,
    /// verify and install the session's listing once, nothing else.
    Connect(ConnectGrant),
}

/// What a connect session lets its link do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectGrant {
    pub tenant: TenantId,
    pub session: ConnectSessionId,
    /// The one listing it may install (`None`: the end user picks).
    pub listing: Option<String>,
    pub return_url: String,
}

impl ConnectGrant {
    /// Refuses another listing than the session's.
    pub fn allows(&self, listing: &str) -> Result<(), Error> {
        match &self.listing {
            Some(l) if l != listing => Err(Error::Forbidden(format!(
                "This connect link installs '{l}' only."
            ))),
            _ => Ok(()),
        }
    }
}

/// Who installs: a manager's key, or a connect link.
pub enum Installer<'a> {
    Key { tenant: &'a TenantId, by: &'a KeyId },
    Connect(&'a ConnectGrant),
}

impl Installer<'_> {
    pub fn tenant(&self) -> &TenantId {
        match self {
            Installer::Key { tenant, .. } => tenant,
            Installer::Connect(g) => &g.tenant,
        }
    }

    /// Who the audit trail names: the key, or the session.
    pub fn by(&self) -> &str {
        match self {
            Installer::Key { by, .. } => by.as_str(),
            Installer::Connect(g) => g.session.as_str(),
        }
    }
}

impl Principal {
    /// The tenant whose objects the caller sees (`None`: the operator).
    pub fn viewer(&self) -> Option<&TenantId> {
        match self {
            Principal::Key { tenant, .. } => Some(tenant),
            Principal::Connect(g) => Some(&g.tenant),
            Principal::Operator => None,
        }
    }

    /// A manager (or admin) key, or a connect link: who may verify and
    /// install.
    pub fn require_installer(&self) -> Result<Installer<'_>, Error> {
        match self {
            Principal::Connect(g) => Ok(Installer::Connect(g)),
            _ => {
                let (tenant, by) = self.require(Role::Manager)?;
                Ok(Installer::Key { tenant, by })
            }
        }
    }

    /// Refuses a connect link (every route but the catalog's reads, verify,
    /// install and the session itself).
    pub fn refuse_connect(&self) -> Result<(), Error> {
        match self {
            Principal::Connect(_) => Err(connect_only()),
            _ => Ok(()),
        }
    }

    /// The caller's tenant and role, refusing the operator, weaker roles
    /// and agent keys.
    pub fn require(&self, needed: Role) -> Result<(&TenantId, &KeyId), Error> {
        match self {
            Principal::Key {
                tenant,
                key_id,
                role,
                ..
            } if role.includes(needed) => Ok((tenant, key_id)),
            Principal::Key {
                role: Role::Agent,
                consumer,
                ..
            } => Err(Error::Forbidden(format!(
                "This is an agent key (consumer '{}'): it may only call the tools its consumer's bindings grant (POST /v1/connectors/{{id}}/tools/{{tool}}/call).",
                consumer.as_deref().unwrap_or_default()
            ))),
            Principal::Key { role, .. } => Err(Error::Forbidden(format!(
                "This API key has the '{}' role; this request needs '{}'.",
                role.as_str(),
                needed.as_str()
            ))),
            Principal::Operator => Err(Error::Forbidden(
                "The operator token manages tenants and reviews submissions; use a tenant API key for this request."
                    .into(),
            )),
            Principal::Connect(_) => Err(connect_only()),
        }
    }

    /// Refuses an agent key (every route but tool calls and the gateway).
    pub fn refuse_agent(&self) -> Result<(), Error> {
        match self {
            Principal::Key {
                role: Role::Agent, ..
            } => self.require(Role::Viewer).map(|_| ()),
            _ => Ok(()),
        }
    }

    /// An agent key: the only caller of the MCP gateway (API §14), which
    /// serves one consumer's tools.
    pub fn require_agent(&self) -> Result<ToolCaller<'_>, Error> {
        match self {
            Principal::Key {
                tenant,
                key_id,
                role: Role::Agent,
                consumer: Some(consumer),
            } => Ok(ToolCaller {
                tenant,
                key_id,
                consumer: Some(consumer),
            }),
            _ => Err(Error::Forbidden(
                "The MCP gateway serves agent keys: mint one bound to a consumer (POST /v1/api-keys {\"role\": \"agent\", \"consumer\": …}) and connect with it.".into(),
            )),
        }
    }

    /// A manager (or admin) or an agent key: who may call tools.
    pub fn require_tool_caller(&self) -> Result<ToolCaller<'_>, Error> {
        match self {
            Principal::Key {
                tenant,
                key_id,
                role: Role::Agent,
                consumer,
            } => Ok(ToolCaller {
                tenant,
                key_id,
                consumer: consumer.as_deref(),
            }),
            _ => {
                let (tenant, key_id) = self.require(Role::Manager)?;
                Ok(ToolCaller {
                    tenant,
                    key_id,
                    consumer: None,
                })
            }
        }
    }

    pub fn require_operator(&self) -> Result<(), Error> {
        match self {
            Principal::Operator => Ok(()),
            Principal::Key { .. } | Principal::Connect(_) => Err(Error::Forbidden(
                "This request needs the platform operator token.".into(),
            )),
        }
    }
}

const SECRET_PREFIX: &str = "mk_";
const SECRET_RANDOM_LEN: usize = 40;

/// A freshly minted key: the secret exists only here and in the one answer
/// that shows it; storage keeps `hash`.
pub struct MintedKey {
    pub id: KeyId,
    pub secret: String,
    pub hash: String,
    pub last4: String,
}

/// Mints a key whose secret embeds its id (`mk_<id>_<random>`), so a Bearer
/// token can be looked up by id and then checked against the stored hash.
pub fn mint_key(rng: &dyn Random) -> MintedKey {
    let id = KeyId::generate(rng);
    let secret = format!(
        "{SECRET_PREFIX}{}_{}",
        &id.as_str()[KeyId::PREFIX.len()..],
        random_base62(rng, SECRET_RANDOM_LEN)
    );
    MintedKey {
        hash: hash_secret(&secret),
        last4: secret[secret.len() - 4..].to_string(),
        id,
        secret,
    }
}

/// SHA-256 of the secret, hex. Secrets carry 238 bits of entropy, so a fast
/// unsalted hash is enough: nothing can be guessed from it.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Constant-time comparison of two hex hashes or tokens.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn connect_only() -> Error {
    Error::Forbidden(
        "This is a connect link's token: it may read the catalog and install its listing (GET /v1/connect/session, GET /v1/catalog, POST /v1/catalog/{listing}/verify, POST /v1/connectors), nothing else."
            .into(),
    )
}

/// What an `Authorization` header presents.
#[derive(Debug, PartialEq, Eq)]
pub enum Presented {
    /// A token that is not shaped like an API key: only the operator token can match.
    Opaque(String),
    /// An API key secret, with the id it embeds.
    Key { id: KeyId, secret: String },
    /// A connect session's token, with the session id it embeds.
    Connect {
        id: ConnectSessionId,
        secret: String,
    },
}

/// Parses `Authorization: Bearer <secret>` or `Basic base64(<key id>:<secret>)`.
pub fn parse_authorization(header: Option<&str>) -> Result<Presented, Error> {
    let header = header.ok_or_else(|| {
        Error::Unauthenticated(
            "No API key provided: send 'Authorization: Bearer <api key>'.".into(),
        )
    })?;
    let (scheme, rest) = header.trim().split_once(' ').ok_or_else(malformed)?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok(classify(rest));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .map_err(|_| malformed())?;
        let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
        let (user, secret) = decoded.split_once(':').ok_or_else(malformed)?;
        return match classify(secret) {
            Presented::Key { id, secret } if id.as_str() == user => {
                Ok(Presented::Key { id, secret })
            }
            _ => Err(invalid_key()),
        };
    }
    Err(malformed())
}

fn classify(token: &str) -> Presented {
    if let Some(id) = super::connect::token_id(token) {
        return Presented::Connect {
            id,
            secret: token.to_string(),
        };
    }
    let key = token
        .strip_prefix(SECRET_PREFIX)
        .and_then(|rest| rest.split_once('_'))
        .filter(|(_, random)| random.len() == SECRET_RANDOM_LEN)
        .and_then(|(id, _)| KeyId::parse(&format!("{}{id}", KeyId::PREFIX)).ok());
    match key {
        Some(id) => Presented::Key {
            id,
            secret: token.to_string(),
        },
        None => Presented::Opaque(token.to_string()),
    }
}

fn malformed() -> Error {
    Error::Unauthenticated(
        "Malformed Authorization header: use 'Bearer <api key>' or 'Basic base64(<key id>:<api key>)'."
            .into(),
    )
}

pub fn invalid_key() -> Error {
    Error::Unauthenticated("Invalid API key provided.".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::testing::SeqRandom;
    use std::cell::Cell;

    fn basic(user: &str, pass: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
        )
    }

    #[test]
    fn minted_secret_round_trips_through_both_schemes() {
        let k = mint_key(&SeqRandom(Cell::new(3)));
        assert_eq!(hash_secret(&k.secret), k.hash);
        assert!(!k.hash.contains(&k.secret));
        let want = Presented::Key {
            id: k.id.clone(),
            secret: k.secret.clone(),
        };
        assert_eq!(
            parse_authorization(Some(&format!("Bearer {}", k.secret))).unwrap(),
            want
        );
        assert_eq!(
            parse_authorization(Some(&basic(k.id.as_str(), &k.secret))).unwrap(),
            want
        );
        // Basic with another key's id is refused outright.
        let other = mint_key(&SeqRandom(Cell::new(4)));
        assert!(parse_authorization(Some(&basic(other.id.as_str(), &k.secret))).is_err());
    }

    #[test]
    fn malformed_headers_are_unauthenticated() {
        for h in [
            None,
            Some(""),
            Some("Bearer"),
            Some("Token abc"),
            Some("Basic !!!"),
        ] {
            assert!(
                matches!(parse_authorization(h), Err(Error::Unauthenticated(_))),
                "{h:?}"
            );
        }
        assert_eq!(
            parse_authorization(Some("bearer dev-operator")).unwrap(),
            Presented::Opaque("dev-operator".into())
        );
    }

    #[test]
    fn roles_order_and_operator_is_not_a_tenant() {
        let p = Principal::Key {
            tenant: TenantId::from_trusted("ten_x".into()),
            key_id: KeyId::from_trusted("key_x".into()),
            role: Role::Manager,
            consumer: None,
        };
        assert!(p.require(Role::Viewer).is_ok());
        assert!(p.require(Role::Manager).is_ok());
        assert!(matches!(p.require(Role::Admin), Err(Error::Forbidden(_))));
        assert!(p.require_operator().is_err());
        assert!(Principal::Operator.require(Role::Viewer).is_err());
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd") && !same_secret("a", "ab"));
        assert_eq!(p.require_tool_caller().unwrap().consumer, None);
    }

    #[test]
    fn an_agent_key_is_outside_the_role_order_and_only_calls_tools() {
        let agent = Principal::Key {
            tenant: TenantId::from_trusted("ten_x".into()),
            key_id: KeyId::from_trusted("key_a".into()),
            role: Role::Agent,
            consumer: Some("support-bot".into()),
        };
        for needed in [Role::Viewer, Role::Manager, Role::Admin] {
            assert!(
                matches!(agent.require(needed), Err(Error::Forbidden(m)) if m.contains("support-bot"))
            );
            assert!(!Role::Agent.includes(needed) && !needed.includes(Role::Agent));
        }
        assert_eq!(
            agent.require_tool_caller().unwrap().consumer,
            Some("support-bot")
        );
        let viewer = Principal::Key {
            tenant: TenantId::from_trusted("ten_x".into()),
            key_id: KeyId::from_trusted("key_v".into()),
            role: Role::Viewer,
            consumer: None,
        };
        assert!(matches!(
            viewer.require_tool_caller(),
            Err(Error::Forbidden(_))
        ));
        assert!(Principal::Operator.require_tool_caller().is_err());
        assert_eq!(Role::parse("agent").unwrap(), Role::Agent);
    }
}
