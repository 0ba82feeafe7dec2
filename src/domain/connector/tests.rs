use super::*;
use serde_json::json;

fn listing(mode: &str) -> Listing {
    let fields = match mode {
        "pat" => {
            json!([{"key": "token", "label": "Personal access token", "secret": true, "required": true, "pattern": "^(ghp_|github_pat_)[A-Za-z0-9_]+$"}])
        }
        "basic" => json!([{"key": "username", "label": "Email", "secret": false, "required": true},
                          {"key": "password", "label": "API token", "secret": true, "required": true}]),
        _ => json!([]),
    };
    let raw = json!({
        "id": "demo", "name": "Demo", "version": "1.0.0", "kind": "saas", "transport": "http",
        "availability": "live", "pricing": {"model": "free"},
        "auth": {"mode": mode, "fields": fields},
        "config_schema": {
            "type": "object", "additionalProperties": false,
            "properties": {
                "base_url": {"type": "string", "format": "uri", "pattern": "^https?://", "default": "https://api.demo.test"},
                "site": {"type": "string", "pattern": "^[a-z0-9-]+$"}
            }
        },
        "capabilities": ["issue.read"],
        "tools": [{"name": "list_issues", "capability": "issue.read", "side_effect": false}]
    });
    Listing::parse(&raw.to_string()).unwrap()
}

fn param(e: Error) -> String {
    match e {
        Error::MissingParameter { param, .. } | Error::InvalidParameter { param, .. } => param,
        other => panic!("{other:?}"),
    }
}

#[test]
fn auth_must_match_the_listing() {
    let l = listing("pat");
    let ok = AuthInput::parse(
        Some(&json!({"type": "pat", "token": "ghp_abcdefghijklmnop"})),
        &l,
    )
    .unwrap();
    assert_eq!(ok.fields["token"], "ghp_abcdefghijklmnop");
    for (body, want) in [
        (None, "auth"),
        (Some(json!("ghp_x")), "auth"),
        (Some(json!({})), "auth.type"),
        (Some(json!({"type": "api_key", "key": "x"})), "auth.type"),
        (Some(json!({"type": "magic"})), "auth.type"),
        (Some(json!({"type": "pat"})), "auth.token"),
        (Some(json!({"type": "pat", "token": "nope"})), "auth.token"),
        (Some(json!({"type": "pat", "token": 5})), "auth.token"),
        (
            Some(json!({"type": "pat", "token": "ghp_abc", "extra": "x"})),
            "auth.extra",
        ),
    ] {
        assert_eq!(
            param(AuthInput::parse(body.as_ref(), &l).unwrap_err()),
            want,
            "{body:?}"
        );
    }
    // Messages never echo the submitted secret.
    let e =
        AuthInput::parse(Some(&json!({"type": "pat", "token": "sekrit-value"})), &l).unwrap_err();
    assert!(!e.to_string().contains("sekrit"));
    let b = listing("basic");
    assert_eq!(
        param(
            AuthInput::parse(Some(&json!({"type": "basic", "username": "a@b.c"})), &b).unwrap_err()
        ),
        "auth.password"
    );
    let none = listing("none");
    assert!(AuthInput::parse(Some(&json!({"type": "none"})), &none)
        .unwrap()
        .fields
        .is_empty());
}

#[test]
fn hints_mask_secrets() {
    assert_eq!(mask("ghp_abcdefghijklmnop12"), "ghp_****12");
    assert_eq!(mask("sk_live_abcdefghijklmnopqr"), "sk_live_****qr");
    assert_eq!(mask("short"), "****");
    assert_eq!(mask("abcdefghijklmnop"), "****op");
    let l = listing("basic");
    let a = AuthInput::parse(
        Some(
            &json!({"type": "basic", "username": "me@x.io", "password": "abcdefghijklmnopqrstuv"}),
        ),
        &l,
    )
    .unwrap();
    assert_eq!(a.hint(&l).unwrap(), "****uv");
}

#[test]
fn config_gets_defaults_and_names_the_failing_field() {
    let l = listing("pat");
    let c = validate_config(None, &l).unwrap();
    assert_eq!(c["base_url"], "https://api.demo.test");
    let c = validate_config(
        Some(&json!({"base_url": "https://ghe.example.com/api/v3"})),
        &l,
    )
    .unwrap();
    assert_eq!(c["base_url"], "https://ghe.example.com/api/v3");
    assert_eq!(
        param(validate_config(Some(&json!({"site": "Not Valid!"})), &l).unwrap_err()),
        "config.site"
    );
    assert_eq!(
        param(validate_config(Some(&json!({"base_url": 5})), &l).unwrap_err()),
        "config.base_url"
    );
    assert_eq!(
        param(validate_config(Some(&json!({"bogus": 1})), &l).unwrap_err()),
        "config.bogus"
    );
    assert_eq!(
        param(validate_config(Some(&json!([1])), &l).unwrap_err()),
        "config"
    );
}

#[test]
fn names_and_return_urls() {
    assert!(validate_name("magento-us-store").is_ok());
    assert!(validate_name("a.b_c").is_ok());
    for bad in ["", "-x", "a b", "ä", &"x".repeat(101)] {
        assert!(validate_name(bad).is_err(), "{bad}");
    }
    let origins = parse_origins("https://app.example.com, https://x.example:8443/ignored-path");
    let ok = |u: &str, dev: bool| validate_return_url(u, &origins, dev).is_ok();
    assert!(ok("https://app.example.com/done", false));
    assert!(ok("https://x.example:8443/cb?x=1", false));
    assert!(
        !ok("https://evil.example.org/done", false),
        "not an allowed origin"
    );
    assert!(!ok("http://app.example.com/done", false), "not https");
    assert!(
        !ok("https://app.example.com:444/done", false),
        "another port"
    );
    assert!(!ok("https://user@app.example.com/done", false));
    assert!(
        !ok("http://127.0.0.1:9000/done", false),
        "loopback only in development"
    );
    assert!(ok("http://127.0.0.1:9000/done", true));
    assert!(ok("http://localhost:3000/done", true));
    assert!(!ok("http://evil.example.org/done", true));
    assert!(!ok("javascript:alert(1)", true));
    assert!(!ok("/relative", true));
}
