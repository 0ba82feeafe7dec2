//! AWS-signed requests (amazon-connect) on SQLite and the fake Connect
//! endpoint (`testing/aws.rs`): verify, install, health, test and tool
//! calls are signed with the stored key pair as the last step before
//! sending; the secret and the signature appear in no answer, receipt or
//! event; a signed request follows no redirect; the endpoint is the region's
//! unless set, and only an Amazon Connect endpoint may be set.

use super::*;
use crate::routes::http::{HttpRequest, Method};
use serde_json::{json, Value};

fn auth(secret: &str) -> Value {
    json!({"type": "basic", "username": AWS_KEY_ID, "password": secret})
}

fn body(secret: &str, name: &str) -> Value {
    json!({"listing": "amazon-connect", "name": name, "auth": auth(secret),
           "config": {"instance_id": AWS_INSTANCE}})
}

fn setup() -> (World, String) {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    let (_, m) = w.key(&admin, "manager");
    (w, format!("Bearer {m}"))
}

fn header<'a>(r: &'a crate::probe::client::OutboundRequest, name: &str) -> &'a str {
    r.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map_or("", |(_, v)| v.as_str())
}

#[test]
fn verify_and_install_sign_with_the_stored_key_pair() {
    let (w, m) = setup();
    let verify = |secret: &str| {
        w.call(
            Method::Post,
            "/v1/catalog/amazon-connect/verify",
            Some(&m),
            Some(json!({"auth": auth(secret), "config": {"instance_id": AWS_INSTANCE}})),
        )
    };
    let (s, v) = verify(AWS_SECRET);
    assert_eq!((s, v["ok"].clone()), (200, json!(true)), "{v}");
    let sent = w.provider.sent.borrow().last().cloned().unwrap();
    assert_eq!(
        sent.url,
        format!("https://connect.us-east-1.amazonaws.com/instance/{AWS_INSTANCE}"),
        "DescribeInstance on the region's endpoint"
    );
    assert!(header(&sent, "authorization").starts_with(&format!(
        "AWS4-HMAC-SHA256 Credential={AWS_KEY_ID}/19700101/us-east-1/connect/aws4_request, SignedHeaders=host;x-amz-date, Signature="
    )));
    assert_eq!(header(&sent, "x-amz-date"), "19700101T000000Z");
    assert!(sent.signed && sent.credential_headers.contains(&"x-amz-date".to_string()));
    let (s, v) = verify("wJalrXUtnFEMI/K7MDENG/bPxRfiCYWRONGKEY");
    assert_eq!((s, v["ok"].clone()), (200, json!(false)), "{v}");
    let message = v["message"].as_str().unwrap();
    assert!(message.contains("signature we calculated"), "{message}");
    let (s, v) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&m),
        Some(body("wJalrXUtnFEMI/K7MDENG/bPxRfiCYWRONGKEY", "bad")),
    );
    assert_eq!((s, err_code(&v)), (422, "auth_failed"), "{v}");
    let (s, c) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&m),
        Some(body(AWS_SECRET, "support")),
    );
    assert_eq!(s, 201, "{c}");
    assert_eq!(
        c["health"]["healthy"], true,
        "verified, not stored unchecked: {c}"
    );
    assert_eq!(
        c["config"]["endpoint"], "https://connect.us-east-1.amazonaws.com",
        "the endpoint defaults to the region's"
    );
    let id = c["id"].as_str().unwrap();
    let (s, h) = w.call(
        Method::Get,
        &format!("/v1/connectors/{id}/health"),
        Some(&m),
        None,
    );
    assert_eq!((s, h["healthy"].clone()), (200, json!(true)), "{h}");
    // Only an Amazon Connect endpoint may be set.
    let mut evil = body(AWS_SECRET, "evil");
    evil["config"]["endpoint"] = json!("https://attacker.example.com");
    let (s, v) = w.call(Method::Post, "/v1/connectors", Some(&m), Some(evil));
    assert_eq!(
        (s, v["error"]["param"].as_str()),
        (400, Some("config.endpoint")),
        "{v}"
    );
}

#[test]
fn tests_and_tool_calls_are_signed_and_show_no_credential() {
    let (w, m) = setup();
    let (s, c) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&m),
        Some(body(AWS_SECRET, "support")),
    );
    assert_eq!(s, 201, "{c}");
    let id = c["id"].as_str().unwrap().to_string();
    let mut answers = vec![c.clone()];
    let (s, t) = w.call(
        Method::Post,
        &format!("/v1/connectors/{id}/test"),
        Some(&m),
        None,
    );
    assert_eq!((s, t["status"].as_str()), (200, Some("passed")), "{t}");
    let live: Vec<&str> = t["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["mode"] == "live")
        .map(|r| r["tool"].as_str().unwrap())
        .collect();
    assert_eq!(
        live,
        [
            "list_instances",
            "describe_instance",
            "list_queues",
            "list_users"
        ]
    );
    answers.push(t);
    let tool = |name: &str, body: Value, key: Option<&str>| {
        let mut req = HttpRequest::new(
            Method::Post,
            &format!("/v1/connectors/{id}/tools/{name}/call"),
        )
        .with_header("authorization", &m)
        .with_body(body.to_string());
        if let Some(k) = key {
            req = req.with_header("idempotency-key", k);
        }
        let r = w.send(req);
        (r.status, serde_json::from_slice::<Value>(&r.body).unwrap())
    };
    let (s, r) = tool("describe_instance", json!({}), None);
    assert_eq!((s, r["status"].as_str()), (200, Some("succeeded")), "{r}");
    assert_eq!(r["result"]["Instance"]["InstanceAlias"], "acme-support");
    answers.push(r);
    let contact = json!({"arguments": {"contact_id": "11111111-2222-4333-8444-555555555555"}});
    let (s, r) = tool(
        "stop_contact",
        json!({"arguments": contact["arguments"], "dry_run": true}),
        None,
    );
    assert_eq!(
        (s, r["mode"].as_str(), r["status"].as_str()),
        (200, Some("dry_run"), Some("succeeded")),
        "{r}"
    );
    let sent = w.provider.sent.borrow().last().cloned().unwrap();
    assert_eq!((sent.method.as_str(), sent.url.ends_with("/contacts/0b3c5d2e-1a2b-4c3d-8e9f-0a1b2c3d4e5f/11111111-2222-4333-8444-555555555555")), ("GET", true));
    answers.push(r);
    let (s, r) = tool("stop_contact", contact.clone(), Some("stop-1"));
    assert_eq!((s, r["status"].as_str()), (200, Some("succeeded")), "{r}");
    let sent = w.provider.sent.borrow().last().cloned().unwrap();
    assert!(header(&sent, "authorization").contains("SignedHeaders=content-type;host;x-amz-date,"));
    assert_eq!(
        sent.body.as_deref(),
        Some(
            r#"{"ContactId":"11111111-2222-4333-8444-555555555555","InstanceId":"0b3c5d2e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"}"#
        )
    );
    answers.push(r);
    // A signed request never follows a redirect, not even on its own host.
    let describe = format!("https://connect.us-east-1.amazonaws.com/instance/{AWS_INSTANCE}");
    w.provider
        .redirects
        .borrow_mut()
        .push((describe.clone(), 307, format!("{describe}x")));
    let before = w.provider.sent.borrow().len();
    let (s, r) = tool("describe_instance", json!({}), None);
    assert_eq!((s, err_code(&r)), (502, "connector_upstream_error"), "{r}");
    assert!(r["error"]["message"]
        .as_str()
        .unwrap()
        .contains("a signed request is never sent on to another URL"));
    assert_eq!(
        w.provider.sent.borrow().len(),
        before + 1,
        "the hop is never sent"
    );
    answers.push(r);
    let (_, receipts) = w.call(Method::Get, "/v1/tool-calls?limit=100", Some(&m), None);
    let (_, events) = w.call(Method::Get, "/v1/events?limit=100", Some(&m), None);
    answers.extend([receipts, events]);
    let signatures: Vec<String> = w
        .provider
        .sent
        .borrow()
        .iter()
        .map(|r| {
            header(r, "authorization")
                .rsplit('=')
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .filter(|s| s.len() == 64)
        .collect();
    assert!(!signatures.is_empty());
    for a in &answers {
        let text = a.to_string();
        assert!(
            !text.contains(AWS_SECRET) && !text.contains("AWS4-HMAC-SHA256"),
            "{text}"
        );
        assert!(
            !signatures.iter().any(|s| text.contains(s.as_str())),
            "{text}"
        );
    }
}
