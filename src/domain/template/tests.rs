use super::*;
use serde_json::json;
use url::Url;

/// Values that try to change a request's shape.
const HOSTILE: &[&str] = &[
    "../admin",
    "..%2Fadmin",
    "x/y",
    "a?b=c",
    "a#frag",
    "evil.com/",
    "a@evil.com",
    "a:b@evil.com:99",
    "%2F",
    "%2e%2e",
    "\r\nX-Injected: 1",
    "a&admin=true",
    "a b+c",
    "\\evil.com",
    "{{auth.token}}",
    "ü/ß",
];

struct Fixture {
    config: Map<String, Value>,
    auth: BTreeMap<String, String>,
}

impl Fixture {
    fn new(config: Value, auth: &[(&str, &str)]) -> Fixture {
        let Value::Object(config) = config else {
            panic!("config must be an object")
        };
        let auth = auth
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Fixture { config, auth }
    }

    fn values(&self) -> Values<'_> {
        Values {
            config: &self.config,
            auth: &self.auth,
        }
    }
}

fn fx(config: Value) -> Fixture {
    Fixture::new(config, &[("token", "tok-123"), ("key", "k")])
}

fn decode(segment: &str) -> String {
    let mut bytes = Vec::new();
    let mut rest = segment.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' && tail.len() >= 2 {
            let hex = std::str::from_utf8(&tail[..2]).unwrap();
            bytes.push(u8::from_str_radix(hex, 16).unwrap());
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    String::from_utf8(bytes).unwrap()
}

fn invalid_message(result: Result<String, TemplateError>) -> String {
    match result {
        Err(TemplateError::Invalid(message)) => message,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn url_table() {
    let f = fx(json!({
        "base_url": "https://ghe.example.com/api/v3/",
        "bare": "https://ghe.example.com",
        "site": "acme-corp",
        "owner": "octo cat",
        "limit": 50,
        "draft": false,
    }));
    let v = f.values();
    let cases: &[(&str, &str)] = &[
        (
            "{{config.base_url}}/user",
            "https://ghe.example.com/api/v3/user",
        ),
        ("{{ config.base_url }}", "https://ghe.example.com/api/v3"),
        ("{{config.bare}}/user", "https://ghe.example.com/user"),
        ("{{config.bare}}?q=1", "https://ghe.example.com/?q=1"),
        (
            "https://{{config.site}}.atlassian.net/rest/api/3/myself",
            "https://acme-corp.atlassian.net/rest/api/3/myself",
        ),
        (
            "https://api.example.com/v1/items?owner={{config.owner}}&key={{auth.key}}",
            "https://api.example.com/v1/items?owner=octo%20cat&key=k",
        ),
        (
            "https://api.example.com/repos/{{config.owner}}/x",
            "https://api.example.com/repos/octo%20cat/x",
        ),
        (
            "https://api.example.com/x?limit={{config.limit}}&draft={{config.draft}}",
            "https://api.example.com/x?limit=50&draft=false",
        ),
        (
            "https://api.example.com/x?q={{config.owner}}#{{auth.key}}",
            "https://api.example.com/x?q=octo%20cat#k",
        ),
        ("https://api.example.com", "https://api.example.com/"),
    ];
    for (template, expected) in cases {
        assert_eq!(
            render_url(template, &v).as_deref(),
            Ok(*expected),
            "{template}"
        );
    }
}

#[test]
fn url_values_cannot_change_host_path_or_query() {
    for value in HOSTILE {
        let f = fx(json!({ "owner": value }));
        let v = f.values();

        let url = render_url("https://api.example.com/repos/{{config.owner}}/issues", &v).unwrap();
        let url = Url::parse(&url).unwrap();
        assert_eq!(url.host_str(), Some("api.example.com"), "{value:?}");
        assert_eq!(url.port(), None, "{value:?}");
        assert_eq!(url.username(), "", "{value:?}");
        let segments: Vec<_> = url.path_segments().unwrap().collect();
        assert_eq!(segments.len(), 3, "{value:?}: {segments:?}");
        assert_eq!((segments[0], segments[2]), ("repos", "issues"), "{value:?}");
        assert_eq!(decode(segments[1]), *value);
        assert_eq!((url.query(), url.fragment()), (None, None), "{value:?}");

        let url = render_url(
            "https://api.example.com/v1/items?owner={{config.owner}}&key={{auth.key}}",
            &v,
        )
        .unwrap();
        let url = Url::parse(&url).unwrap();
        assert_eq!(url.host_str(), Some("api.example.com"), "{value:?}");
        assert_eq!(url.path(), "/v1/items", "{value:?}");
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(
            pairs,
            [
                ("owner".into(), (*value).into()),
                ("key".into(), "k".into())
            ],
            "{value:?}"
        );
        assert_eq!(url.fragment(), None, "{value:?}");

        let url = render_url(
            "{{config.base}}/user/{{config.owner}}",
            &{
                let mut f = fx(json!({ "owner": value }));
                f.config
                    .insert("base".into(), json!("https://ghe.example.com/api"));
                f
            }
            .values(),
        )
        .unwrap();
        let url = Url::parse(&url).unwrap();
        assert_eq!(url.host_str(), Some("ghe.example.com"), "{value:?}");
        assert_eq!(url.path_segments().unwrap().count(), 3, "{value:?}");
        assert_eq!(url.query(), None, "{value:?}");
    }
}

#[test]
fn host_placeholders_must_be_one_dns_label() {
    let template = "https://{{config.site}}.atlassian.net/rest/api/3/myself";
    for ok in ["a", "acme", "acme-corp", "A1", &"x".repeat(63)] {
        let f = fx(json!({ "site": ok }));
        let url = Url::parse(&render_url(template, &f.values()).unwrap()).unwrap();
        assert_eq!(
            url.host_str(),
            Some(format!("{}.atlassian.net", ok.to_lowercase()).as_str())
        );
    }
    let long = "x".repeat(64);
    for bad in HOSTILE
        .iter()
        .copied()
        .chain(["-a", "a-", "a.b", "a_b", "a:1", long.as_str()])
    {
        let f = fx(json!({ "site": bad }));
        let message = invalid_message(render_url(template, &f.values()));
        assert!(message.contains("config.site"), "{message}");
        if bad.len() > 2 {
            assert!(!message.contains(bad), "{message}");
        }
    }
    // Also before a port, and with the host written entirely by the value.
    let f = fx(json!({ "site": "evil.com/" }));
    assert!(render_url("https://{{config.site}}/x", &f.values()).is_err());
    assert!(render_url("https://api.example.com:{{config.site}}/x", &f.values()).is_err());
}

#[test]
fn dot_segments_are_refused_in_the_path_only() {
    for dots in [".", "..", "..."] {
        let f = fx(json!({ "owner": dots }));
        let v = f.values();
        let message = invalid_message(render_url("https://h.example.com/a/{{config.owner}}/b", &v));
        assert!(message.contains("config.owner"), "{message}");
        let url = render_url("https://h.example.com/a?o={{config.owner}}", &v).unwrap();
        assert_eq!(url, format!("https://h.example.com/a?o={dots}"));
    }
}

#[test]
fn base_urls_are_checked() {
    let secret = "s3cr3t";
    let bad_bases = [
        "ftp://files.example.com".to_owned(),
        "file:///etc/passwd".into(),
        "/relative/path".into(),
        "not a url".into(),
        format!("https://user:{secret}@api.example.com"),
        format!("https://{secret}@api.example.com"),
        format!("https://api.example.com/?token={secret}"),
        "https://api.example.com/?".into(),
        format!("https://api.example.com/#{secret}"),
        format!("mailto:{secret}@example.com"),
    ];
    for base in &bad_bases {
        let f = fx(json!({ "base_url": base }));
        let message = invalid_message(render_url("{{config.base_url}}/user", &f.values()));
        assert!(message.contains("config.base_url"), "{message}");
        assert!(!message.contains(secret), "{message}");
    }
    // Credentials as base: the message names auth.url, never the value.
    let f = Fixture::new(json!({}), &[("url", "https://x:s3cr3t@h.example.com")]);
    let message = invalid_message(render_url("{{auth.url}}/x", &f.values()));
    assert!(
        message.contains("auth.url") && !message.contains(secret),
        "{message}"
    );
    // What follows a base must start a path, query or fragment.
    let f = fx(json!({ "base_url": "https://api.example.com", "p": "x" }));
    for template in [
        "{{config.base_url}}.evil.com/x",
        "{{config.base_url}}{{config.p}}",
        "{{config.base_url}}:8080/x",
        "{{config.base_url}}@evil.com/",
    ] {
        invalid_message(render_url(template, &f.values()));
    }
}

#[test]
fn url_template_errors() {
    let f = fx(json!({ "x": "v", "obj": { "a": 1 }, "arr": [1], "nul": null, "empty": "" }));
    let v = f.values();
    let missing = |name: &str| Err(TemplateError::Missing(name.into()));
    assert_eq!(
        render_url("{{config.base_url}}/user", &v),
        missing("config.base_url")
    );
    assert_eq!(
        render_url("https://h.example.com/{{auth.nope}}", &v),
        missing("auth.nope")
    );
    assert_eq!(
        render_url("https://h.example.com/{{config.empty}}", &v),
        missing("config.empty")
    );
    for (template, names) in [
        ("https://h.example.com/{{config.obj}}", "config.obj"),
        ("https://h.example.com/{{config.arr}}", "config.arr"),
        ("https://h.example.com/{{config.nul}}", "config.nul"),
        ("https://h.example.com/{{env.SECRET}}", "env.SECRET"),
        ("https://h.example.com/{{config}}", "config"),
        ("https://h.example.com/{{config.}}", "config."),
        ("https://h.example.com/{{config.a b}}", "config.a b"),
        ("https://h.example.com/{{}}", "{{}}"),
        ("https://h.example.com/{{config.x", "unclosed"),
        ("https://h.example.com/{{config.x}", "unclosed"),
        ("/user/{{config.x}}", "scheme"),
        ("h.example.com/{{config.x}}", "scheme"),
        ("https:{{config.x}}", "scheme"),
        ("https://{{config.x}}:99999/", "valid URL"),
    ] {
        let message = invalid_message(render_url(template, &v));
        assert!(message.contains(names), "{template}: {message}");
    }
    // Errors come from the template before any value is looked up.
    let message = invalid_message(render_url("{{config.base_url}}/{{oops}}", &v));
    assert!(message.contains("oops"), "{message}");
}

#[test]
fn header_table() {
    let f = fx(json!({ "ver": 2 }));
    let v = f.values();
    let cases: &[(&str, Result<&str, &str>)] = &[
        ("Bearer {{auth.token}}", Ok("Bearer tok-123")),
        ("Bearer {{ auth.token }}", Ok("Bearer tok-123")),
        (
            "token={{auth.token}}; v={{config.ver}}",
            Ok("token=tok-123; v=2"),
        ),
        ("application/json", Ok("application/json")),
        ("{{auth.missing}}", Err("Missing")),
        ("{{secrets.token}}", Err("Invalid")),
        ("Bearer {{auth.token", Err("Invalid")),
        ("a\r\nb", Err("Invalid")),
    ];
    for (template, expected) in cases {
        let got = render_header(template, &v);
        match (expected, &got) {
            (Ok(want), Ok(have)) => assert_eq!(have, want, "{template}"),
            (Err("Missing"), Err(TemplateError::Missing(_))) => {}
            (Err("Invalid"), Err(TemplateError::Invalid(_))) => {}
            _ => panic!("{template}: expected {expected:?}, got {got:?}"),
        }
    }
}

#[test]
fn header_values_cannot_add_lines() {
    let bad = [
        "s3cr3t\r\nX-Injected: 1",
        "s3cr3t\nX-Injected: 1",
        "s3cr3t\rX",
        "s3cr3t\0",
        "s3cr3t\x7f",
        "s3cr3t\x1b[0m",
        "s3cr3t\u{85}",
    ];
    for value in bad {
        let f = Fixture::new(json!({}), &[("token", value)]);
        let message = invalid_message(render_header("Bearer {{auth.token}}", &f.values()));
        assert!(message.contains("auth.token"), "{message}");
        assert!(!message.contains("s3cr3t"), "{message}");
    }
    let f = Fixture::new(json!({}), &[("token", "a\tb ü")]);
    assert_eq!(
        render_header("{{auth.token}}", &f.values()).as_deref(),
        Ok("a\tb ü")
    );
}

#[test]
fn header_length_is_capped() {
    let exactly = "x".repeat(MAX_HEADER_LEN - "Bearer ".len());
    let f = Fixture::new(json!({}), &[("token", exactly.as_str())]);
    assert_eq!(
        render_header("Bearer {{auth.token}}", &f.values()).map(|h| h.len()),
        Ok(MAX_HEADER_LEN)
    );
    let over = format!("{exactly}y");
    let f = Fixture::new(json!({}), &[("token", over.as_str())]);
    let message = invalid_message(render_header("Bearer {{auth.token}}", &f.values()));
    assert!(message.contains("8 KiB"), "{message}");
}

#[test]
fn json_bodies_keep_values_inside_their_strings() {
    let graphql = r#"{"query":"{ viewer { id } }"}"#;
    let f = fx(json!({}));
    assert_eq!(render_body(graphql, &f.values()).as_deref(), Ok(graphql));

    let template = r#" {"query": "{{config.q}}", "token": "{{ auth.token }}", "n": {{config.n}}} "#;
    for value in [
        r#"a", "admin": true, "x": ""#,
        r#"\"}"#,
        "line\nbreak\ttab\u{1}",
        r"back\slash\",
        "{{auth.token}}",
        "ünï ✓ \u{2028}",
    ] {
        let f = fx(json!({ "q": value, "n": 7 }));
        let body = render_body(template, &f.values()).unwrap();
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            parsed,
            json!({ "query": value, "token": "tok-123", "n": 7 }),
            "{value:?}"
        );
    }
}

#[test]
fn json_values_outside_strings_must_be_scalars() {
    let template = r#"[{"limit": {{config.n}}, "draft": {{config.d}}}]"#;
    let f = fx(json!({ "n": 25, "d": true }));
    assert_eq!(
        render_body(template, &f.values()).as_deref(),
        Ok(r#"[{"limit": 25, "draft": true}]"#)
    );
    let f = fx(json!({ "n": "1.5", "d": "false" }));
    assert_eq!(
        render_body(template, &f.values()).as_deref(),
        Ok(r#"[{"limit": 1.5, "draft": false}]"#)
    );
    for n in ["1, \"admin\": true", "\"x\"", "null", "{}", "abc"] {
        let f = fx(json!({ "n": n, "d": true }));
        let message = invalid_message(render_body(template, &f.values()));
        assert!(message.contains("config.n"), "{message}");
    }
    // A template that is not JSON once filled in is refused.
    let f = fx(json!({ "n": 1 }));
    invalid_message(render_body(r#"{"a": {{config.n}}"#, &f.values()));
}

#[test]
fn form_bodies_encode_each_value() {
    let template =
        "grant_type=client_credentials&client_id={{auth.username}}&scope={{config.scope}}";
    for value in [
        "plain",
        "a&scope=admin",
        "x=y",
        "sp ace+plus",
        "%41",
        "\r\n",
        "ü",
    ] {
        let f = Fixture::new(json!({ "scope": "read" }), &[("username", value)]);
        let body = render_body(template, &f.values()).unwrap();
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(
            pairs,
            [
                ("grant_type".into(), "client_credentials".into()),
                ("client_id".into(), value.into()),
                ("scope".into(), "read".into()),
            ],
            "{value:?}"
        );
    }
    // A body opening with a placeholder is a form value, not JSON.
    let f = Fixture::new(json!({}), &[("raw", "{\"a\":1}")]);
    assert_eq!(
        render_body("{{auth.raw}}", &f.values()).as_deref(),
        Ok("%7B%22a%22%3A1%7D")
    );
    assert_eq!(
        render_body("a={{auth.missing}}", &f.values()),
        Err(TemplateError::Missing("auth.missing".into()))
    );
    invalid_message(render_body("a={{auth.raw", &f.values()));
}

#[test]
fn parsing_splits_text_and_slots() {
    assert_eq!(
        parse("a{{ config.x }}b{{auth.y}}").unwrap(),
        [
            Part::Text("a"),
            Part::Slot(Slot {
                ns: Ns::Config,
                key: "x"
            }),
            Part::Text("b"),
            Part::Slot(Slot {
                ns: Ns::Auth,
                key: "y"
            }),
        ]
    );
    assert_eq!(parse("").unwrap(), []);
    assert_eq!(parse("}} { } x").unwrap(), [Part::Text("}} { } x")]);
}
