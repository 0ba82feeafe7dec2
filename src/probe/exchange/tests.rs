//! The token exchange through the credential path: Session::probe exchanges
//! the client credentials first, then sends the probe with the access token;
//! a refused exchange is a rejection and the probe is never sent.

use crate::domain::manifest::Listing;
use crate::probe::client::{Guarded, OutboundRequest, OutboundResponse, Transport, TransportError};
use crate::probe::credential::{credential_hosts, Net, Session};
use crate::probe::guard::AllowList;
use crate::probe::run::Outcome;
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Answers the token endpoint with `token` (or 401), anything else 200.
struct Fake {
    token: Option<&'static str>,
    sent: RefCell<Vec<OutboundRequest>>,
}

#[async_trait(?Send)]
impl Transport for Fake {
    async fn send(
        &self,
        req: &OutboundRequest,
        _t: u64,
        _m: usize,
    ) -> Result<OutboundResponse, TransportError> {
        self.sent.borrow_mut().push(req.clone());
        let (status, body) = if req.url.ends_with("/api/oauth/token") {
            match self.token {
                Some(t) => (200, format!(r#"{{"access_token":"{t}","expires_in":3600,"token_type":"Bearer"}}"#)),
                None => (401, r#"{"error":"invalid_client","error_description":"bad secret mdb_sa_sk_secret"}"#.to_string()),
            }
        } else {
            (200, "{}".to_string())
        };
        Ok(OutboundResponse {
            status,
            headers: vec![],
            body: body.into_bytes(),
            truncated: false,
        })
    }
}

fn atlas() -> Listing {
    let raw = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/catalog/mongodb-atlas.json"
    ))
    .unwrap();
    Listing::parse(&raw).unwrap()
}

fn run(fake: &Fake) -> Outcome {
    let listing = atlas();
    let allow = AllowList::default();
    let net = Net {
        client: Guarded::new(fake, &allow),
        clock: &|| 1_000,
        now_ms: 1_000,
        db: &crate::db::NoDatabases,
    };
    let Value::Object(config) = json!({"base_url": "https://cloud.mongodb.com"}) else {
        unreachable!()
    };
    let fields: BTreeMap<String, String> = [
        ("username".to_string(), "mdb_sa_id_abc".to_string()),
        ("password".to_string(), "mdb_sa_sk_secret".to_string()),
    ]
    .into();
    let session = Session::new(
        &listing,
        crate::domain::connector::AuthMode::Basic,
        &config,
        fields,
    );
    let verify = listing.verify.clone().unwrap();
    pollster::block_on(session.probe(&net, &verify, false))
}

#[test]
fn the_probe_carries_the_exchanged_token() {
    let fake = Fake {
        token: Some("atlas-access-token-1"),
        sent: RefCell::default(),
    };
    assert!(matches!(run(&fake), Outcome::Accepted { status: 200, .. }));
    let sent = fake.sent.borrow();
    assert_eq!(sent.len(), 2);
    let (exchange, verify) = (&sent[0], &sent[1]);
    assert_eq!(
        (exchange.method.as_str(), exchange.url.as_str()),
        ("POST", "https://cloud.mongodb.com/api/oauth/token")
    );
    assert!(exchange.no_redirects && exchange.body_has_credential);
    assert_eq!(
        exchange.hosts.as_deref(),
        Some(&["cloud.mongodb.com".to_string()][..])
    );
    // The verification is an Admin API call, with the version header.
    assert_eq!(
        verify.url,
        "https://cloud.mongodb.com/api/atlas/v2/groups?itemsPerPage=1"
    );
    let header = |name: &str| {
        verify
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        header("authorization").as_deref(),
        Some("Bearer atlas-access-token-1")
    );
    assert_eq!(
        header("accept").as_deref(),
        Some("application/vnd.atlas.2023-01-01+json")
    );
}

#[test]
fn a_refused_exchange_is_a_rejection_and_nothing_else_is_sent() {
    let fake = Fake {
        token: None,
        sent: RefCell::default(),
    };
    match run(&fake) {
        Outcome::Rejected {
            status, snippet, ..
        } => {
            assert_eq!(status, 401);
            assert!(!snippet.contains("mdb_sa_sk_secret"), "{snippet}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.sent.borrow().len(), 1);
}

/// Tool requests count as credential-carrying URLs, whatever their arguments.
#[test]
fn tool_requests_are_credential_hosts() {
    let mut config = Map::new();
    config.insert("base_url".into(), json!("https://ghe.example.com/api/v3"));
    let raw = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/catalog/github.json"))
        .unwrap();
    let mut m: Value = serde_json::from_str(&raw).unwrap();
    let hosts = credential_hosts(&Listing::parse(&m.to_string()).unwrap(), &config);
    assert_eq!(
        hosts.into_iter().collect::<Vec<_>>(),
        ["https://ghe.example.com:443"]
    );
    m["allowed_hosts"] = json!([
        "api.github.com",
        "uploads.github.com",
        "{{config.base_url}}"
    ]);
    m["tools"][3]["request"]["url"] = json!("https://uploads.github.com/repos/{{args.owner}}/x");
    let hosts = credential_hosts(&Listing::parse(&m.to_string()).unwrap(), &config);
    assert!(
        hosts.contains("https://uploads.github.com:443"),
        "{hosts:?}"
    );
}

/// A tool's request goes the same way: exchanged first, the token as a Bearer.
#[test]
fn a_tool_request_carries_the_exchanged_token() {
    let fake = Fake {
        token: Some("atlas-access-token-2"),
        sent: RefCell::default(),
    };
    let listing = atlas();
    let allow = AllowList::default();
    let net = Net {
        client: Guarded::new(&fake, &allow),
        clock: &|| 1_000,
        now_ms: 1_000,
        db: &crate::db::NoDatabases,
    };
    let Value::Object(config) =
        json!({"base_url": "https://cloud.mongodb.com", "project_id": "0123456789abcdef01234567"})
    else {
        unreachable!()
    };
    let fields: BTreeMap<String, String> = [
        ("username".to_string(), "mdb_sa_id_abc".to_string()),
        ("password".to_string(), "mdb_sa_sk_secret".to_string()),
    ]
    .into();
    let session = Session::new(
        &listing,
        crate::domain::connector::AuthMode::Basic,
        &config,
        fields,
    );
    let tool = listing
        .tools
        .iter()
        .find(|t| !t.side_effect && t.request.is_some())
        .unwrap();
    let args = tool.test_arguments.clone().unwrap_or_default();
    let answer = pollster::block_on(session.send_tool(&net, tool.request.as_ref().unwrap(), &args));
    assert!(answer.is_ok_and(|a| a.status == 200));
    let sent = fake.sent.borrow();
    assert!(sent[0].url.ends_with("/api/oauth/token"));
    assert!(sent[1]
        .headers
        .iter()
        .any(|(k, v)| k == "Authorization" && v == "Bearer atlas-access-token-2"));
}
