//! Identifiers: prefixed random ids, newtypes parsed at the boundary, and the
//! source of randomness (read at the edge, passed in as a value).

use super::Error;

/// Where random bytes come from. The edge uses the platform's CSPRNG; tests
/// may use a seeded one.
pub trait Random {
    fn fill(&self, buf: &mut [u8]);
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` base62 characters, each drawn without modulo bias.
pub fn random_base62(rng: &dyn Random, len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        rng.fill(&mut buf);
        for b in buf {
            // 248 = 62 * 4: rejecting the top 8 values keeps every symbol equally likely.
            if b < 248 && out.len() < len {
                out.push(BASE62[(b % 62) as usize] as char);
            }
        }
    }
    out
}

fn is_base62(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $len:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;
            pub const KIND: &'static str = $kind;

            pub fn generate(rng: &dyn Random) -> Self {
                Self(format!("{}{}", $prefix, random_base62(rng, $len)))
            }

            /// Parses an id from a path or body; anything malformed cannot name
            /// an existing object, so it is reported as not found.
            pub fn parse(s: &str) -> Result<Self, Error> {
                match s.strip_prefix($prefix) {
                    Some(rest) if rest.len() == $len && is_base62(rest) => Ok(Self(s.to_string())),
                    _ => Err(Error::not_found($kind, s)),
                }
            }

            /// Wraps an id read back from our own storage.
            pub fn from_trusted(s: String) -> Self {
                Self(s)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

prefixed_id!(
    /// A tenant: the isolation boundary.
    TenantId, "ten_", 20, "tenant"
);
prefixed_id!(
    /// An API key's public id (the Basic-auth user name).
    KeyId, "key_", 20, "api_key"
);
prefixed_id!(
    /// A request, echoed in `Request-Id` and in every error.
    RequestId, "req_", 20, "request"
);
prefixed_id!(
    /// An installed connector (an instance of a listing).
    ConnectorId, "cn_", 20, "connector"
);
prefixed_id!(
    /// A capability binding.
    BindingId, "bnd_", 20, "binding"
);
prefixed_id!(
    /// An audit event.
    EventId, "evt_", 20, "event"
);
prefixed_id!(
    /// A tool call receipt.
    ToolCallId, "tc_", 20, "tool_call"
);
prefixed_id!(
    /// An approval: one side-effecting call waiting for a person (API §15).
    ApprovalId, "ap_", 20, "approval"
);
prefixed_id!(
    /// A manifest submitted to the marketplace for review.
    SubmissionId, "sub_", 20, "submission"
);

prefixed_id!(
    /// A connect session: a short-lived link an end user installs one
    /// connector through, without an API key.
    ConnectSessionId, "cs_", 20, "connect_session"
);
prefixed_id!(
    /// A webhook endpoint (API §16).
    WebhookEndpointId, "we_", 20, "webhook_endpoint"
);
prefixed_id!(
    /// One event's delivery to one webhook endpoint, with its attempts.
    WebhookDeliveryId, "whd_", 20, "webhook_delivery"
);

/// Where a listing is stored: a public listing under its slug (`github`), a
/// private one in its tenant's own namespace (`ten_…/acme-crm`), so a private
/// listing can never take, shadow or block a public id (API §8). Callers name
/// listings by slug; the key is resolved from the slug and the caller's tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListingId(String);

impl ListingId {
    /// A public listing's key: its slug.
    pub fn parse(s: &str) -> Result<Self, Error> {
        if is_slug(s) {
            Ok(Self(s.to_string()))
        } else {
            Err(Error::not_found("listing", s))
        }
    }

    /// The key of `tenant`'s private listing `slug`.
    pub fn private(tenant: &TenantId, slug: &str) -> Result<Self, Error> {
        Self::parse(slug)?;
        Ok(Self(format!("{}/{slug}", tenant.as_str())))
    }

    /// A key as stored (an instance's `listing`): a slug, or `tenant/slug`.
    pub fn from_key(key: &str) -> Result<Self, Error> {
        match key.split_once('/') {
            None => Self::parse(key),
            Some((tenant, slug)) => Self::private(&TenantId::parse(tenant)?, slug),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The slug callers see.
    pub fn slug(&self) -> &str {
        slug_of(&self.0)
    }

    /// The tenant a private listing belongs to.
    pub fn private_owner(&self) -> Option<&str> {
        self.0.split_once('/').map(|(t, _)| t)
    }
}

/// The slug of a listing key (`ten_…/acme-crm` → `acme-crm`).
pub fn slug_of(key: &str) -> &str {
    key.rsplit_once('/').map_or(key, |(_, s)| s)
}

/// `^[a-z0-9][a-z0-9-]{1,62}$`, the manifest schema's id pattern.
pub fn is_slug(s: &str) -> bool {
    let b = s.as_bytes();
    (2..=63).contains(&b.len())
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

#[cfg(test)]
pub mod testing {
    use super::Random;
    use std::cell::Cell;

    /// A deterministic xorshift generator for tests.
    pub struct SeqRandom(pub Cell<u64>);

    impl Random for SeqRandom {
        fn fill(&self, buf: &mut [u8]) {
            for b in buf {
                let mut x = self.0.get();
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                self.0.set(x);
                *b = (x >> 24) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::SeqRandom;
    use super::*;
    use std::cell::Cell;

    #[test]
    fn generated_ids_parse_back() {
        let rng = SeqRandom(Cell::new(7));
        let t = TenantId::generate(&rng);
        assert!(t.as_str().starts_with("ten_"));
        assert_eq!(TenantId::parse(t.as_str()).unwrap(), t);
        assert_ne!(TenantId::generate(&rng), t);
    }

    #[test]
    fn malformed_ids_are_not_found() {
        for bad in [
            "",
            "ten_",
            "key_AAAAAAAAAAAAAAAAAAAA",
            "ten_AAAA",
            "ten_AAAAAAAAAAAAAAAAAAA!",
        ] {
            assert!(
                matches!(TenantId::parse(bad), Err(Error::NotFound { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn slugs() {
        for ok in ["github", "remote-mcp", "s3", "0x"] {
            assert!(is_slug(ok), "{ok}");
        }
        for bad in ["", "a", "GitHub", "-x", "a_b", "a/b", &"a".repeat(64)] {
            assert!(!is_slug(bad), "{bad}");
        }
    }
}
