use super::*;
use serde_json::json;
use std::collections::BTreeMap;

struct Fixture {
    config: Map<String, Value>,
    auth: BTreeMap<String, String>,
}

impl Fixture {
    fn new() -> Fixture {
        let Value::Object(config) = json!({
            "base_url": "https://store.example.com",
            "api_version": "2024-01",
            "limit": 25,
        }) else {
            unreachable!()
        };
        let auth = [("key".to_string(), "mg_secret_key_123".to_string())].into();
        Fixture { config, auth }
    }

    fn render(&self, req: &Value, args: Value) -> Result<Rendered, Error> {
        let req: Request = serde_json::from_value(req.clone()).expect("a request");
        let Value::Object(args) = args else {
            panic!("args are an object")
        };
        render(
            &req,
            &Scope {
                config: &self.config,
                auth: &self.auth,
                args: Some(&args),
            },
        )
    }
}

fn get_order() -> Value {
    json!({
        "method": "GET",
        "url": "{{config.base_url}}/rest/V1/orders/{{args.order_id}}",
        "headers": {"Authorization": "Bearer {{auth.key}}", "Accept": "application/json"},
    })
}

fn header<'a>(r: &'a Rendered, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[test]
fn renders_method_url_headers() {
    let f = Fixture::new();
    let r = f.render(&get_order(), json!({"order_id": 42})).unwrap();
    assert_eq!(r.method, "GET");
    assert_eq!(r.url, "https://store.example.com/rest/V1/orders/42");
    assert_eq!(
        header(&r, "authorization"),
        Some("Bearer mg_secret_key_123")
    );
    assert_eq!(r.credential_headers, ["authorization"]);
    assert!(r.body.is_none() && !r.body_has_credential);
    assert!(r.succeeded(200, b"") && r.succeeded(204, b"") && !r.succeeded(302, b""));
}

/// The injection attempts of issue 11: none changes the target; each one
/// stays inside its one path segment, or is refused.
#[test]
fn path_arguments_never_change_the_target() {
    let f = Fixture::new();
    let hostile = [
        "../admin",
        "..",
        ".",
        "%2e%2e",
        "%2e%2e%2fadmin",
        "..%2f..%2fadmin",
        "1?x=1",
        "?x=",
        "1#frag",
        "#",
        "1\r\nX-Injected: 1",
        "@evil.example.com",
        "user@evil.example.com",
        "https://evil.example.com/x",
        "//evil.example.com",
        "1/2/3",
        "\\evil.example.com",
        "1;x=2",
        "ü/ß",
        "%00",
    ];
    for value in hostile {
        match f.render(&get_order(), json!({ "order_id": value })) {
            Ok(r) => {
                let u = url::Url::parse(&r.url).unwrap();
                assert_eq!(u.host_str(), Some("store.example.com"), "{value:?}");
                assert_eq!((u.scheme(), u.port()), ("https", None), "{value:?}");
                assert_eq!((u.username(), u.password()), ("", None), "{value:?}");
                assert_eq!((u.query(), u.fragment()), (None, None), "{value:?}");
                let segs: Vec<&str> = u.path_segments().unwrap().collect();
                assert_eq!(segs.len(), 4, "{value:?}: {segs:?}");
                assert_eq!(&segs[..3], ["rest", "V1", "orders"], "{value:?}");
                // The segment decodes back to exactly the argument.
                let back = url::form_urlencoded::parse(
                    format!("x={}", segs[3].replace('+', "%2B")).as_bytes(),
                )
                .next()
                .unwrap()
                .1
                .into_owned();
                assert_eq!(back, value, "{value:?}");
            }
            Err(e) => {
                assert!(matches!(value, "." | ".."), "{value:?} refused: {e}");
                assert_eq!(
                    e,
                    Error::invalid(
                        "arguments.order_id",
                        "arguments.order_id cannot be '.' or '..' in the URL path."
                    )
                );
            }
        }
    }
}

#[test]
fn query_values_stay_values() {
    let f = Fixture::new();
    let req = json!({
        "method": "GET",
        "url": "{{config.base_url}}/rest/V1/orders?fixed=1",
        "query": {
            "searchCriteria[pageSize]": "{{args.limit}}",
            "q": "name:{{args.name}}",
            "state": "{{args.state}}",
            "cfg": "{{config.limit}}",
        },
    });
    for value in [
        "a&admin=true",
        "x#y",
        "?x=",
        "a b+c",
        "\r\n",
        "https://evil.example.com",
    ] {
        let r = f.render(&req, json!({"limit": 5, "name": value})).unwrap();
        let u = url::Url::parse(&r.url).unwrap();
        assert_eq!(u.host_str(), Some("store.example.com"));
        assert_eq!(u.fragment(), None, "{value:?}");
        let pairs: Vec<(String, String)> = u.query_pairs().into_owned().collect();
        // An absent optional argument leaves its parameter out.
        assert_eq!(
            pairs,
            [
                ("fixed".to_string(), "1".to_string()),
                ("searchCriteria[pageSize]".into(), "5".into()),
                ("q".into(), format!("name:{value}")),
                ("cfg".into(), "25".into()),
            ],
            "{value:?}"
        );
    }
    // A missing argument inside a longer value is an error, naming it.
    assert_eq!(
        f.render(&req, json!({"limit": 5})).unwrap_err(),
        Error::missing("arguments.name")
    );
}

#[test]
fn missing_required_path_arguments_are_errors() {
    let f = Fixture::new();
    assert_eq!(
        f.render(&get_order(), json!({})).unwrap_err(),
        Error::missing("arguments.order_id")
    );
    assert_eq!(
        f.render(&get_order(), json!({"order_id": ""})).unwrap_err(),
        Error::missing("arguments.order_id")
    );
    let e = f
        .render(&get_order(), json!({"order_id": {"id": 1}}))
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidParameter { param, .. } if param == "arguments.order_id"),
        "{e:?}"
    );
}

#[test]
fn arguments_never_sit_in_the_host() {
    let f = Fixture::new();
    for url in [
        "https://{{args.shop}}.example.com/x",
        "https://api.example.com:{{args.port}}/x",
        "{{args.base}}/x",
        "https://{{args.host}}/x",
    ] {
        let req = json!({"method": "GET", "url": url});
        let e = f
            .render(&req, json!({"shop": "a", "port": "1", "base": "https://evil.example.com", "host": "evil.example.com"}))
            .unwrap_err();
        assert!(
            matches!(&e, Error::InvalidParameter { param, .. } if param.starts_with("arguments.")),
            "{url}: {e:?}"
        );
    }
}

#[test]
fn header_arguments_cannot_add_headers() {
    let f = Fixture::new();
    let req = json!({
        "method": "GET",
        "url": "https://api.example.com/x",
        "headers": {"X-Request-Id": "{{args.request_id}}", "X-Tag": "t-{{args.tag}}"},
    });
    for value in ["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\u{0}b"] {
        let e = f
            .render(&req, json!({"request_id": value, "tag": "ok"}))
            .unwrap_err();
        assert!(
            matches!(&e, Error::InvalidParameter { param, .. } if param == "arguments.request_id"),
            "{value:?}: {e:?}"
        );
    }
    let r = f.render(&req, json!({"tag": "ok"})).unwrap();
    assert_eq!(header(&r, "x-request-id"), None, "absent: left out");
    assert_eq!(header(&r, "x-tag"), Some("t-ok"));
    assert_eq!(r.headers.len(), 1);
}

#[test]
fn json_bodies_keep_types_and_escape_strings() {
    let f = Fixture::new();
    let req = json!({
        "method": "POST",
        "url": "https://api.example.com/issues",
        "body": {
            "title": "{{args.title}}",
            "labels": "{{args.labels}}",
            "assignee": "{{args.assignee}}",
            "draft": "{{args.draft}}",
            "text": "Reported: {{args.title}} (by {{auth.key}})",
            "meta": {"version": "{{config.api_version}}", "limit": "{{config.limit}}"},
            "list": ["{{args.title}}", "{{args.assignee}}", 3],
        },
    });
    let title = "a\",\"admin\":true,\"x\":\"{{auth.key}}";
    let r = f
        .render(
            &req,
            json!({"title": title, "labels": ["bug", "p1"], "draft": false}),
        )
        .unwrap();
    let body: Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({
            "title": title,
            "labels": ["bug", "p1"],
            "draft": false,
            "text": format!("Reported: {title} (by mg_secret_key_123)"),
            "meta": {"version": "2024-01", "limit": 25},
            "list": [title, 3],
        })
    );
    assert_eq!(header(&r, "content-type"), Some("application/json"));
    assert!(r.body_has_credential);
    // A JSON object where the template puts text is refused.
    let e = f.render(&req, json!({"title": {"$ne": ""}})).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidParameter { param, .. } if param == "arguments.title"),
        "{e:?}"
    );
}

#[test]
fn form_bodies_encode_each_field() {
    let f = Fixture::new();
    let req = json!({
        "method": "POST",
        "url": "https://api.example.com/v1/refunds",
        "headers": {"Authorization": "Bearer {{auth.key}}"},
        "form": {"payment_intent": "{{args.payment_intent}}", "amount": "{{args.amount}}", "reason": "{{args.reason}}"},
        "success": [200],
    });
    let r = f
        .render(
            &req,
            json!({"payment_intent": "pi_1&amount=999999", "amount": 500}),
        )
        .unwrap();
    assert_eq!(
        r.body.as_deref(),
        Some("payment_intent=pi_1%26amount%3D999999&amount=500")
    );
    assert_eq!(
        header(&r, "content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(r.succeeded(200, b"{}") && !r.succeeded(201, b"{}"));
    let mut slack = req.clone();
    slack["expect_json"] = json!({"/ok": true});
    let r = f.render(&slack, json!({"payment_intent": "pi_1"})).unwrap();
    assert!(r.succeeded(200, br#"{"ok":true}"#));
    assert!(!r.succeeded(200, br#"{"ok":false,"error":"channel_not_found"}"#));
    assert!(!r.succeeded(200, b"not json"));
}

#[test]
fn basic_auth_and_signing_render_from_the_instance() {
    let f = Fixture::new();
    let req = json!({
        "method": "GET",
        "url": "https://api.example.com/x",
        "basic_auth": {"username": "{{auth.key}}", "password": "pw"},
        "signing": {"scheme": "aws_sigv4", "service": "connect", "region": "{{config.api_version}}"},
    });
    let r = f.render(&req, json!({})).unwrap();
    assert_eq!(
        header(&r, "authorization"),
        Some("Basic bWdfc2VjcmV0X2tleV8xMjM6cHc=")
    );
    assert_eq!(r.credential_headers, ["authorization"]);
    assert_eq!(r.signing, Some(("connect".into(), "2024-01".into())));
}

#[test]
fn the_target_check_compares_scheme_host_port_and_segments() {
    let base = "https://a.example.com/x/1";
    assert!(same_target(base, "https://a.example.com/x/x").is_ok());
    for moved in [
        "http://a.example.com/x/1",
        "https://b.example.com/x/1",
        "https://a.example.com:8443/x/1",
        "https://a.example.com/x/1/2",
        "https://u@a.example.com/x/1",
    ] {
        assert!(same_target(moved, base).is_err(), "{moved}");
    }
}

#[test]
fn arguments_are_validated_against_the_input_schema() {
    let schema = json!({
        "type": "object",
        "properties": {
            "order_id": {"type": "integer", "minimum": 1},
            "comment": {"type": "string", "maxLength": 10},
            "limit": {"type": "integer", "default": 10},
        },
        "required": ["order_id"],
        "additionalProperties": false,
    });
    let ok = validate_arguments(&schema, Some(&json!({"order_id": 7}))).unwrap();
    assert_eq!(Value::Object(ok), json!({"order_id": 7, "limit": 10}));
    for (args, want) in [
        (json!({}), Error::missing("arguments.order_id")),
        (
            json!({"order_id": 7, "extra": 1}),
            Error::invalid("arguments.extra", ""),
        ),
        (
            json!({"order_id": "7"}),
            Error::invalid("arguments.order_id", ""),
        ),
        (
            json!({"order_id": 0}),
            Error::invalid("arguments.order_id", ""),
        ),
        (
            json!({"order_id": 1, "comment": {"a": 1}}),
            Error::invalid("arguments.comment", ""),
        ),
        (json!([1]), Error::invalid("arguments", "")),
    ] {
        let got = validate_arguments(&schema, Some(&args)).unwrap_err();
        match (&got, &want) {
            (Error::MissingParameter { .. }, Error::MissingParameter { .. }) => {
                assert_eq!(got, want, "{args}")
            }
            (
                Error::InvalidParameter { param: a, message },
                Error::InvalidParameter { param: b, .. },
            ) => {
                assert_eq!(a, b, "{args}: {message}");
                assert!(!message.contains("\"a\""), "no value quoted: {message}");
            }
            _ => panic!("{args}: {got:?}"),
        }
    }
    assert!(
        validate_arguments(&schema, None).is_err(),
        "order_id is required"
    );
}

#[test]
fn where_arguments_are_used() {
    let req: Request = serde_json::from_value(json!({
        "method": "POST",
        "url": "https://{{args.h}}.example.com/a/{{args.id}}?x={{args.q}}",
        "query": {"k": "{{args.k}}"},
        "headers": {"X-A": "{{args.hd}}"},
        "body": {"a": {"b/c": ["{{args.b}}"]}},
        "basic_auth": {"username": "{{args.u}}", "password": "p"},
    }))
    .unwrap();
    let uses: Vec<(String, ArgPlace, String)> = args_of(&req)
        .into_iter()
        .map(|u| (u.key, u.at, u.pointer))
        .collect();
    let want = [
        ("h", ArgPlace::Host, "/url"),
        ("id", ArgPlace::Path, "/url"),
        ("q", ArgPlace::Query, "/url"),
        ("k", ArgPlace::Query, "/query/k"),
        ("hd", ArgPlace::Header, "/headers/X-A"),
        ("u", ArgPlace::Credential, "/basic_auth/username"),
        ("b", ArgPlace::Body, "/body/a/b~1c/0"),
    ];
    let want: Vec<(String, ArgPlace, String)> = want
        .iter()
        .map(|(k, a, p)| (k.to_string(), *a, p.to_string()))
        .collect();
    assert_eq!(uses, want);
}

#[test]
fn results_are_selected_and_capped() {
    let body = br#"{"items":[{"id":1},{"id":2},{"id":3}],"total":3}"#;
    let all = ResultSpec::default().apply(body);
    assert!(!all.truncated);
    assert_eq!(all.value["total"], 3);
    let items = ResultSpec {
        pointer: Some("/items".into()),
        max_bytes: Some(20),
    }
    .apply(body);
    assert_eq!(
        (items.value, items.truncated),
        (json!([{"id": 1}, {"id": 2}]), true)
    );
    let none = ResultSpec {
        pointer: Some("/nope".into()),
        max_bytes: None,
    }
    .apply(body);
    assert_eq!(none.value, Value::Null);
    let text = ResultSpec {
        pointer: None,
        max_bytes: Some(6),
    }
    .apply("héllo wörld".as_bytes());
    assert!(text.truncated);
    assert!(text.value.as_str().unwrap().len() <= 4);
    assert_eq!(ResultSpec::default().apply(b"").value, Value::Null);
}
