//! Connect sessions end to end: a manager mints a link; its token alone
//! installs one connector (against the fake provider), is spent by it, and
//! is stored nowhere in clear.

use crate::connectors::{keep, Seen, BAD, GOOD};
use crate::support::fake::Provider;
use crate::support::{self, call, Server};
use crate::{key, tenant};
use serde_json::json;

pub fn connect_sessions(s: &Server, p: &Provider, seen: &Seen) {
    let (_, admin, _) = tenant(s, "connect");
    let (_, m) = key(s, &admin, "manager");
    let back = "http://127.0.0.1:9/back?from=app";
    let a = call("POST", &s.url("/v1/connect-sessions"))
        .auth(&m)
        .json(&json!({"listing": "github", "consumer": "end-user-7", "return_url": back, "expires_in": 600}));
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    let v = a.json();
    let id = v["id"].as_str().unwrap().to_string();
    let url = v["url"].as_str().unwrap();
    assert!(
        url.starts_with(&s.url(&format!("/connect/{id}#cst_"))),
        "{url}"
    );
    let token = url.rsplit_once('#').unwrap().1.to_string();
    let link = token.clone();

    let a = call("GET", &s.url("/v1/connect/session"))
        .auth(&link)
        .send();
    assert_eq!(
        (a.status, a.json()["listing"].clone()),
        (200, json!("github"))
    );
    let a = call("GET", &s.url("/v1/connectors")).auth(&link).send();
    assert_eq!(
        (a.status, a.json()["error"]["code"].clone()),
        (403, json!("forbidden"))
    );
    let install = |token: &str| {
        keep(
            seen,
            call("POST", &s.url("/v1/connectors"))
                .auth(&link)
                .json(&json!({
                    "listing": "github", "name": "gh-end-user-7",
                    "auth": {"type": "pat", "token": token},
                    "config": {"base_url": p.base()},
                })),
        )
    };
    let a = install(BAD);
    assert_eq!(
        (a.status, a.json()["error"]["code"].clone()),
        (422, json!("auth_failed"))
    );
    let a = install(GOOD);
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    let cn = a.json()["id"].as_str().unwrap().to_string();

    // Read back as the manager: the session is spent on that connector.
    let v = call("GET", &s.url(&format!("/v1/connect-sessions/{id}")))
        .auth(&m)
        .send()
        .json();
    assert_eq!(
        (v["status"].clone(), v["connector_id"].clone()),
        (json!("completed"), json!(cn)),
        "{v}"
    );
    let v = call("GET", &s.url(&format!("/v1/connectors/{cn}")))
        .auth(&m)
        .send()
        .json();
    assert_eq!(v["status"], json!("connected"), "{v}");
    let a = install(GOOD);
    assert_eq!(
        (a.status, a.json()["error"]["code"].clone()),
        (401, json!("connect_session_used"))
    );
    let list = call("GET", &s.url("/v1/connectors")).auth(&m).send().json();
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "{list}");
    let events = call("GET", &s.url("/v1/events?type=connect_session.completed"))
        .auth(&m)
        .send()
        .json();
    assert_eq!(
        events["data"][0]["data"]["consumer"],
        json!("end-user-7"),
        "{events}"
    );

    // Its health history, as a console charts it: each check, newest first.
    for _ in 0..2 {
        let a = call("GET", &s.url(&format!("/v1/connectors/{cn}/health")))
            .auth(&m)
            .send();
        assert_eq!(a.status, 200);
    }
    let h = call("GET", &s.url(&format!("/v1/connectors/{cn}/health-checks")))
        .auth(&m)
        .send()
        .json();
    let checks = h["data"].as_array().unwrap();
    assert_eq!(checks.len(), 2, "{h}");
    assert!(
        checks
            .iter()
            .all(|c| c["healthy"] == json!(true) && c["latency_ms"].is_u64()),
        "{h}"
    );

    // The token's random part is in no persisted D1/KV file.
    let secret = token.rsplit_once('_').unwrap().1.as_bytes().to_vec();
    for f in support::files_under(&s.state.join("persist")) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_slice()),
            "the connect token in clear in {}",
            f.display()
        );
    }
}
