use super::*;
use crate::probe::client::{OutboundResponse, Transport, TransportError};
use crate::probe::guard::AllowList;
use async_trait::async_trait;
use serde_json::{json, Map};
use std::cell::RefCell;
use std::collections::BTreeMap;

struct Fake {
    status: u16,
    body: &'static str,
    fail: Option<TransportError>,
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
        if let Some(e) = &self.fail {
            return Err(e.clone());
        }
        Ok(OutboundResponse {
            status: self.status,
            headers: vec![],
            body: self.body.as_bytes().to_vec(),
            truncated: false,
        })
    }
}

fn fake(status: u16, body: &'static str) -> Fake {
    Fake {
        status,
        body,
        fail: None,
        sent: RefCell::default(),
    }
}

fn go(probe: Value, t: &Fake, token: &str) -> Outcome {
    let allow = AllowList::parse("127.0.0.1:9911");
    let mut config = Map::new();
    config.insert("base_url".into(), json!("https://api.example.com"));
    let auth: BTreeMap<String, String> = [("token".to_string(), token.to_string())].into();
    let values = Values {
        config: &config,
        auth: &auth,
    };
    let client = Guarded::new(t, &allow);
    pollster::block_on(run(&probe, &values, &client, &|| 1000, None))
}

fn github_like() -> Value {
    json!({"method": "GET", "url": "{{config.base_url}}/user",
           "headers": {"Authorization": "Bearer {{auth.token}}"},
           "expect_status": [200], "allowed_hosts": ["api.example.com", "*.ghe.example.com"]})
}

#[test]
fn accepted_rejected_unreachable() {
    let t = fake(200, "{}");
    assert!(matches!(
        go(github_like(), &t, "ghp_good"),
        Outcome::Accepted { status: 200, .. }
    ));
    let sent = t.sent.borrow();
    assert_eq!(sent[0].url, "https://api.example.com/user");
    assert!(sent[0]
        .headers
        .contains(&("Authorization".into(), "Bearer ghp_good".into())));
    drop(sent);

    let t = fake(401, r#"{"message":"Bad credentials for ghp_wrongtoken"}"#);
    match go(github_like(), &t, "ghp_wrongtoken") {
        Outcome::Rejected {
            status, snippet, ..
        } => {
            assert_eq!(status, 401);
            assert!(
                snippet.contains("Bad credentials") && !snippet.contains("ghp_wrongtoken"),
                "{snippet}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        go(github_like(), &fake(500, "oops"), "t"),
        Outcome::Unreachable { .. }
    ));
    let down = Fake {
        fail: Some(TransportError::Timeout(10_000)),
        ..fake(0, "")
    };
    assert!(matches!(
        go(github_like(), &down, "t"),
        Outcome::Unreachable { .. }
    ));
}

#[test]
fn expect_json_and_allowed_hosts() {
    let probe = json!({"method": "POST", "url": "https://api.example.com/auth.test",
                       "headers": {"Authorization": "Bearer {{auth.token}}"},
                       "expect_status": [200], "expect_json": {"/ok": true}});
    assert!(matches!(
        go(probe.clone(), &fake(200, r#"{"ok":true}"#), "t"),
        Outcome::Accepted { .. }
    ));
    assert!(matches!(
        go(
            probe,
            &fake(200, r#"{"ok":false,"error":"invalid_auth"}"#),
            "t"
        ),
        Outcome::Rejected { .. }
    ));
    let mut p = github_like();
    p["url"] = json!("https://elsewhere.example.net/user");
    let t = fake(200, "{}");
    assert!(matches!(go(p, &t, "t"), Outcome::Refused { .. }));
    assert!(t.sent.borrow().is_empty(), "refused before sending");
    assert!(host_matches("*.ghe.example.com", "a.b.ghe.example.com"));
    assert!(!host_matches("*.ghe.example.com", "ghe.example.com"));
    assert!(!host_matches("api.example.com", "api.example.com.evil.io"));
}

#[test]
fn basic_auth_bodies_and_unsupported_kinds() {
    let probe = json!({"method": "POST", "url": "https://api.example.com/token",
                       "basic_auth": {"username": "{{auth.token}}", "password": "x"},
                       "body": "grant_type=client_credentials"});
    let t = fake(200, "{}");
    go(probe, &t, "id");
    let sent = t.sent.borrow();
    assert!(sent[0]
        .headers
        .contains(&("Authorization".into(), "Basic aWQ6eA==".into())));
    assert!(sent[0].headers.contains(&(
        "Content-Type".into(),
        "application/x-www-form-urlencoded".into()
    )));
    assert_eq!(
        sent[0].body.as_deref(),
        Some("grant_type=client_credentials")
    );
    assert!(matches!(
        go(
            json!({"kind": "database", "driver": "postgres"}),
            &fake(200, ""),
            "t"
        ),
        Outcome::Unsupported { .. }
    ));
    let missing = json!({"url": "{{config.nothing}}/x"});
    assert!(matches!(
        go(missing, &fake(200, ""), "t"),
        Outcome::Refused { .. }
    ));
}

#[test]
fn snippets_are_bounded_and_clean() {
    let long = "x".repeat(1000);
    assert_eq!(
        snippet(long.as_bytes(), &[]).chars().count(),
        SNIPPET_CHARS + 1
    );
    assert_eq!(snippet(b"a\r\n\tb  c", &[]), "a b c");
    assert_eq!(
        snippet(b"token=supersecret!", &["supersecret"]),
        "token=****!"
    );
}

#[test]
fn disguised_base_urls_are_refused_as_written() {
    let allow = AllowList::parse("127.0.0.1:9911");
    let auth: BTreeMap<String, String> = [("token".to_string(), "t".to_string())].into();
    let probe = json!({"url": "{{config.base_url}}/user", "headers": {"Authorization": "Bearer {{auth.token}}"}});
    for (base, refused) in [
        ("http://127.0.0.1:9911", false),
        ("http://2130706433:9911", true),
        ("http://0x7f.1:9911", true),
    ] {
        let mut config = Map::new();
        config.insert("base_url".into(), json!(base));
        let values = Values {
            config: &config,
            auth: &auth,
        };
        let t = fake(200, "{}");
        let client = Guarded::new(&t, &allow);
        let out = pollster::block_on(run(&probe, &values, &client, &|| 0, None));
        assert_eq!(
            matches!(out, Outcome::Refused { .. }),
            refused,
            "{base}: {out:?}"
        );
        assert_eq!(t.sent.borrow().is_empty(), refused, "{base}");
    }
}

/// Finding 5: a secret echoed base64-encoded (alone or as Basic
/// `user:pass`), URL-encoded or JSON-escaped is masked too.
#[test]
fn snippets_mask_encoded_secrets() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let secrets = ["alice@example.com", "p@ss/w\"rd+1"];
    let echoes = [
        format!(
            "Authorization: Basic {}",
            b64("alice@example.com:p@ss/w\"rd+1")
        ),
        format!("token {}", b64("p@ss/w\"rd+1")),
        "password=p%40ss%2Fw%22rd%2B1".to_string(),
        r#"{"password":"p@ss/w\"rd+1"}"#.to_string(),
    ];
    for echo in &echoes {
        let out = snippet(echo.as_bytes(), &secrets);
        assert!(
            !out.contains("p@ss")
                && !out.contains("ss%2F")
                && !out.contains(&b64("p@ss/w\"rd+1")[..12])
                && !out.contains(&b64("alice@example.com:p@ss/w\"rd+1")[..12]),
            "{echo} → {out}"
        );
    }
    // An OAuth error_description echoing what it was sent is masked the same way.
    assert_eq!(
        redact(
            "bad refresh_token 1%2F%2Frefresh-secret",
            &["1//refresh-secret"]
        ),
        "bad refresh_token ****"
    );
}
