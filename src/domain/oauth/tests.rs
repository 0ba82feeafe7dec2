use super::*;
use crate::domain::ids::testing::SeqRandom;
use std::cell::Cell;

#[test]
fn pkce_matches_rfc7636_appendix_b() {
    assert_eq!(
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    let v = pkce_verifier(&SeqRandom(Cell::new(5)));
    assert!((43..=128).contains(&v.len()));
    assert!(v.chars().all(|c| c.is_ascii_alphanumeric()));
}

#[test]
fn states_are_random_and_stored_hashed() {
    let rng = SeqRandom(Cell::new(9));
    let (a, ha) = new_state(&rng);
    let (b, _) = new_state(&rng);
    assert_ne!(a, b);
    assert_eq!(state_hash(&a), ha);
    assert!(!ha.contains(&a));
}

#[test]
fn authorize_urls_carry_state_pkce_and_safe_extras() {
    let mut extra = Map::new();
    extra.insert("access_type".into(), json!("offline"));
    extra.insert("redirect_uri".into(), json!("https://evil.example/steal"));
    let scopes = vec![
        "https://www.googleapis.com/auth/drive.readonly".to_string(),
        "openid".to_string(),
    ];
    let req = Authorize {
        endpoint: "https://accounts.google.com/o/oauth2/v2/auth",
        client_id: "cid.apps.googleusercontent.com",
        redirect_uri: "https://api.example.com/v1/oauth/callback",
        scopes: &scopes,
        scope_separator: " ",
        state: "st_abc",
        challenge: Some("chal"),
        extra: &extra,
    };
    let u = req.url().unwrap();
    let parsed = url::Url::parse(&u).unwrap();
    let q: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["state"], "st_abc");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(
        q["scope"],
        "https://www.googleapis.com/auth/drive.readonly openid"
    );
    assert_eq!(q["access_type"], "offline");
    assert_eq!(
        q["redirect_uri"], "https://api.example.com/v1/oauth/callback",
        "extras cannot override"
    );
    let bad = Authorize {
        endpoint: "javascript:alert(1)",
        ..req
    };
    assert!(bad.url().is_err());
}

#[test]
fn token_bodies_are_form_encoded() {
    let b = code_exchange_body("c&d=1", "https://x/cb", "id", Some("sec"), Some("ver"));
    assert_eq!(b, "grant_type=authorization_code&code=c%26d%3D1&redirect_uri=https%3A%2F%2Fx%2Fcb&client_id=id&client_secret=sec&code_verifier=ver");
    assert_eq!(
        refresh_body("r", "id", None),
        "grant_type=refresh_token&refresh_token=r&client_id=id"
    );
}

#[test]
fn token_answers_and_refusals() {
    let t = parse_token_response(
        200,
        br#"{"access_token":"at","refresh_token":"rt","expires_in":3600,"token_type":"Bearer"}"#,
        1_000,
    )
    .unwrap();
    assert_eq!(
        (
            t.access_token.as_str(),
            t.refresh_token.as_deref(),
            t.expires_at_ms
        ),
        ("at", Some("rt"), Some(3_601_000))
    );
    assert!(!format!("{t:?}").contains("at\""), "Debug hides tokens");
    let slack = parse_token_response(
        200,
        br#"{"ok":true,"access_token":"xoxb-1","scope":"chat:write"}"#,
        0,
    )
    .unwrap();
    assert_eq!(slack.expires_at_ms, None);
    for (status, body, want) in [
        (
            400,
            &br#"{"error":"invalid_grant","error_description":"Code expired"}"#[..],
            "invalid_grant",
        ),
        (
            200,
            &br#"{"ok":false,"error":"invalid_code"}"#[..],
            "invalid_code",
        ),
        (500, &b"<html>oops</html>"[..], "without JSON"),
        (
            200,
            &br#"{"token_type":"Bearer"}"#[..],
            "without an access_token",
        ),
    ] {
        let e = parse_token_response(status, body, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{e}");
    }
    assert!(needs_refresh(Some(10 * 60_000), 5 * 60_000));
    assert!(!needs_refresh(Some(10 * 60_000), 5 * 60_000 - 1));
    assert!(!needs_refresh(None, i64::MAX));
}

#[test]
fn discovery_documents() {
    assert_eq!(
        resource_metadata_url("https://mcp.example.com/mcp").unwrap(),
        "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
    );
    assert_eq!(
        resource_metadata_url("http://127.0.0.1:9000/").unwrap(),
        "http://127.0.0.1:9000/.well-known/oauth-protected-resource"
    );
    assert_eq!(
        server_metadata_url("https://as.example.com/tenant1").unwrap(),
        "https://as.example.com/.well-known/oauth-authorization-server/tenant1"
    );
    assert_eq!(
        resource_metadata_from_challenge(r#"Bearer error="invalid_token", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource""#).as_deref(),
        Some("https://mcp.example.com/.well-known/oauth-protected-resource")
    );
    assert_eq!(resource_metadata_from_challenge("Bearer realm=x"), None);
    let rm = json!({"resource": "https://mcp.example.com/mcp", "authorization_servers": ["https://as.example.com"]});
    assert_eq!(authorization_server(&rm).unwrap(), "https://as.example.com");
    assert!(authorization_server(&json!({})).is_err());
    let md = json!({"issuer": "https://as.example.com", "authorization_endpoint": "https://as.example.com/authorize",
                    "token_endpoint": "https://as.example.com/token", "registration_endpoint": "https://as.example.com/register",
                    "code_challenge_methods_supported": ["S256"]});
    let m = server_metadata(&md, "https://as.example.com/").unwrap();
    assert_eq!(
        m.registration_endpoint.as_deref(),
        Some("https://as.example.com/register")
    );
    let mut plain_only = md.clone();
    plain_only["code_challenge_methods_supported"] = json!(["plain"]);
    assert!(server_metadata(&plain_only, "https://as.example.com").is_err());
    assert!(server_metadata(&md, "https://other.example.com").is_err());
    let reg = registration_request(
        "Connector marketplace",
        "https://api.example.com/v1/oauth/callback",
    );
    assert_eq!(reg["token_endpoint_auth_method"], "none");
    assert_eq!(
        registered_client(&json!({"client_id": "abc"})).unwrap(),
        ("abc".into(), None)
    );
    assert!(registered_client(&json!({"error": "invalid_redirect_uri"})).is_err());
}
