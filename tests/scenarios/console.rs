//! The web console and the connect page in a real browser: headless Debian
//! chromium (scripts/browser-tools.sh) driven by `tests/browser/console.mjs`
//! (playwright-core). This side makes the state the pages need — a tenant
//! and its keys, a Magento connector on the fake provider, a consumer bound
//! to it under the `approve` policy with one call waiting for a person, a
//! connect session whose return page is served here — runs the script, then
//! reads back through the API what the browser did: the connector it
//! installed with the config it typed, the approval approved and its call
//! run exactly once, the agent key it minted, the webhook endpoint and its
//! test delivery, the connect session completed on the connector it made;
//! and that no key or token it handled is in any persisted D1/KV file or the
//! log.

use crate::connectors::{keep, Seen, BAD, GOOD};
use crate::gateway::{agent, post};
use crate::support::fake::Provider;
use crate::support::{self, call, Server};
use crate::{key, tenant};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

const ORDER: u64 = 4711;

/// The app an end user returns to after the connect page: a page on
/// 127.0.0.1 that records each request line it is asked for.
struct ReturnPage {
    port: u16,
    hits: Arc<Mutex<Vec<String>>>,
}

impl ReturnPage {
    fn start() -> ReturnPage {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(Mutex::new(vec![]));
        let h = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut stream = stream;
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                // The rest of the head, unread, would only be discarded.
                loop {
                    let mut l = String::new();
                    if reader.read_line(&mut l).unwrap_or(0) == 0 || l == "\r\n" {
                        break;
                    }
                }
                h.lock().unwrap().push(line.trim().to_string());
                let body = "<!doctype html><title>Back in the app</title><h1>Back in the app</h1>";
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        ReturnPage { port, hits }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/back?from=app", self.port)
    }
}

fn get(s: &Server, auth: &str, path: &str) -> Value {
    let a = call("GET", &s.url(path)).auth(auth).send();
    assert_eq!(a.status, 200, "{path}: {}", a.text());
    a.json()
}

fn holds(p: &Provider) -> usize {
    let path = format!("/rest/V1/orders/{ORDER}/hold");
    p.seen()
        .iter()
        .filter(|x| x.method == "POST" && x.path == path)
        .count()
}

pub fn console(s: &Server, p: &Provider, seen: &Seen) {
    let (_, admin, _) = tenant(s, "console");
    let (_, m) = key(s, &admin, "manager");
    // A connector and a consumer whose side effects a person approves.
    let pre = post(s, &m, "/v1/connectors", json!({"listing": "magento", "name": "store-pre", "auth": {"type": "api_key", "key": GOOD}, "config": {"base_url": p.base()}}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let bot = agent(s, &admin, "console-bot");
    for capability in ["order.hold", "order.read"] {
        post(
            s,
            &m,
            "/v1/bindings",
            json!({"consumer": "console-bot", "capability": capability, "policy": "approve"}),
        );
    }
    p.clear();
    let a = call(
        "POST",
        &s.url(&format!("/v1/connectors/{pre}/tools/hold_order/call")),
    )
    .auth(&bot)
    .header("idempotency-key", "console-hold-4711")
    .json(&json!({"arguments": {"order_id": ORDER}}));
    assert_eq!(a.status, 200, "{}", a.text());
    let pending = a.json();
    assert_eq!(pending["status"], "pending_approval", "{pending}");
    let approval = pending["approval_id"].as_str().unwrap().to_string();
    let receipt = pending["id"].as_str().unwrap().to_string();
    assert_eq!(holds(p), 0, "nothing sent before a decision");
    // A connect link for an end user, back to a page served here.
    let back = ReturnPage::start();
    let a = call("POST", &s.url("/v1/connect-sessions"))
        .auth(&m)
        .json(&json!({"listing": "magento", "consumer": "console-end-user", "return_url": back.url(), "expires_in": 600}));
    assert_eq!(a.status, 201, "{}", a.text());
    let session = a.json();
    let session_id = session["id"].as_str().unwrap().to_string();
    let link = session["url"].as_str().unwrap().to_string();
    let token = link.rsplit_once('#').unwrap().1.to_string();

    // The browser.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shots = root.join(".state/screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    let run = Command::new("node")
        .current_dir(root)
        .arg(root.join("tests/browser/console.mjs"))
        .env("CONSOLE_BASE", &s.base)
        .env("CONSOLE_KEY", &admin)
        .env("CONSOLE_PROVIDER", p.base())
        .env("CONSOLE_GOOD_TOKEN", GOOD)
        .env("CONSOLE_BAD_TOKEN", BAD)
        .env("CONSOLE_APPROVAL", &approval)
        .env("CONSOLE_CONSUMER", "console-bot")
        .env("CONSOLE_CONNECT_URL", &link)
        .env("CONSOLE_CONNECT_RETURN", back.url())
        .env("SCREENSHOT_DIR", &shots)
        .output()
        .unwrap_or_else(|e| {
            panic!("node tests/browser/console.mjs: {e} (make e2e installs chromium: scripts/browser-tools.sh)")
        });
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "the browser script failed:\n{stderr}");
    let out: Value = serde_json::from_slice(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "browser output ({e}): {}",
            String::from_utf8_lossy(&run.stdout)
        )
    });
    seen.lock().unwrap().push(run.stdout.clone());
    for shot in out["screenshots"].as_array().unwrap() {
        let path = shot.as_str().unwrap();
        assert!(
            std::fs::metadata(path).is_ok_and(|m| m.len() > 1000),
            "{path}"
        );
        eprintln!("[e2e console] screenshot {path}");
    }
    assert!(out["screenshots"].as_array().unwrap().len() >= 15, "{out}");

    // The install: the refused attempts stored nothing; the accepted one has
    // exactly the config typed in the form.
    let cn = out["connector_id"].as_str().unwrap();
    let c = keep(
        seen,
        call("GET", &s.url(&format!("/v1/connectors/{cn}")))
            .auth(&m)
            .send(),
    )
    .json();
    assert_eq!(
        (
            c["name"].as_str(),
            c["listing"].as_str(),
            c["status"].as_str()
        ),
        (Some("console-store"), Some("magento"), Some("connected")),
        "{c}"
    );
    assert_eq!(c["config"], json!({"base_url": p.base()}), "{c}");
    assert_eq!(c["auth"]["type"], "api_key");
    assert!(out["name_error"].as_str().unwrap().contains("Invalid name"));
    assert!(out["auth_error"]
        .as_str()
        .unwrap()
        .contains("rejected the credentials"));
    let names: Vec<String> = get(s, &m, "/v1/connectors?listing=magento&limit=100")["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["connected-by-link", "console-store", "store-pre"],
        "one connector per accepted install"
    );
    // Its test ran (per-tool results were shown) and was recorded.
    let tested = get(
        s,
        &m,
        &format!("/v1/events?type=connector.tested&connector_id={cn}"),
    );
    assert_eq!(tested["data"].as_array().unwrap().len(), 1, "{tested}");
    assert_eq!(
        tested["data"][0]["data"]["tools"], out["test_rows"],
        "{tested}"
    );

    // The latency chart drew the API's health history: one point per check.
    let checks = get(
        s,
        &m,
        &format!("/v1/connectors/{cn}/health-checks?limit=100"),
    );
    assert_eq!(
        json!(checks["data"].as_array().unwrap().len()),
        out["health_checks"],
        "{checks}"
    );

    // The approval: approved in the inbox, its call run exactly once.
    let ap = get(s, &m, &format!("/v1/approvals/{approval}"));
    assert_eq!(ap["status"], "approved", "{ap}");
    assert!(ap["decided_by"].is_string(), "{ap}");
    assert_eq!(out["approved_tool_call"], receipt.as_str());
    let r = get(s, &m, &format!("/v1/tool-calls/{receipt}"));
    assert_eq!(
        (r["status"].as_str(), r["approval_id"].as_str()),
        (Some("succeeded"), Some(approval.as_str())),
        "{r}"
    );
    assert_eq!(holds(p), 1, "the approved call reached the provider once");
    let calls = get(
        s,
        &m,
        &format!("/v1/tool-calls?connector_id={pre}&tool=hold_order"),
    );
    assert_eq!(calls["data"].as_array().unwrap().len(), 1, "{calls}");

    // The agent key minted on the consumer's page.
    let minted = out["minted_key_id"].as_str().unwrap();
    let keys = get(s, &admin, "/v1/api-keys?limit=100");
    let k = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == minted)
        .unwrap_or_else(|| panic!("{minted} not among {keys}"));
    assert_eq!(
        (k["role"].as_str(), k["consumer"].as_str()),
        (Some("agent"), Some("console-bot"))
    );

    // The webhook endpoint and its test delivery; removed again so that its
    // retries do not outlive the scenario.
    let we = out["webhook_endpoint_id"].as_str().unwrap();
    let e = get(s, &admin, &format!("/v1/webhook-endpoints/{we}"));
    assert_eq!(
        (e["url"].as_str(), e["description"].as_str()),
        (
            Some(format!("{}/console-hook", p.base()).as_str()),
            Some("from the console test")
        )
    );
    let d = get(s, &admin, &format!("/v1/webhook-endpoints/{we}/deliveries"));
    assert!(
        d["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["event_type"] == "webhook.test"),
        "{d}"
    );
    assert_eq!(
        call("DELETE", &s.url(&format!("/v1/webhook-endpoints/{we}")))
            .auth(&admin)
            .send()
            .status,
        200
    );

    // The connect page: completed on the connector it installed, and the end
    // user's app was reached with it (its own query kept).
    let v = get(s, &m, &format!("/v1/connect-sessions/{session_id}"));
    let linked = out["connect"]["connector_id"].as_str().unwrap();
    assert_eq!(
        (v["status"].as_str(), v["connector_id"].as_str()),
        (Some("completed"), Some(linked)),
        "{v}"
    );
    let c = get(s, &m, &format!("/v1/connectors/{linked}"));
    assert_eq!(
        (
            c["name"].as_str(),
            c["status"].as_str(),
            c["config"]["base_url"].as_str()
        ),
        (
            Some("connected-by-link"),
            Some("connected"),
            Some(p.base().as_str())
        ),
        "{c}"
    );
    assert_eq!(out["connect"]["status"], "connected");
    let hits = back.hits.lock().unwrap().clone();
    assert!(
        hits.iter().any(|h| h.starts_with("GET /back?from=app&")
            && h.contains(&format!("connector_id={linked}"))
            && h.contains("status=connected")),
        "{hits:?}"
    );
    assert!(
        out["connect"]["reused"]
            .as_str()
            .unwrap()
            .contains("already been used"),
        "{out}"
    );

    // Nothing the browser handled is stored or logged in clear.
    let token_secret = token.rsplit_once('_').unwrap().1.to_string();
    let secrets = [
        admin.as_str(),
        m.as_str(),
        bot.as_str(),
        GOOD,
        BAD,
        token_secret.as_str(),
    ];
    for f in support::files_under(&s.state.join("persist")) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        for x in secrets {
            assert!(
                !bytes.windows(x.len()).any(|w| w == x.as_bytes()),
                "a secret of the console scenario in clear in {}",
                f.display()
            );
        }
    }
    // The link's token rides in the URL's fragment, which the browser never
    // sends: the page was served (`GET /connect/cs_…`), and no log line
    // carries the token or any other secret.
    let log = s.log_text();
    assert!(
        log.lines()
            .any(|l| l.contains(&format!("GET /connect/{}", session["id"].as_str().unwrap()))),
        "the connect page was served"
    );
    for x in secrets {
        assert!(
            !log.contains(x),
            "the log carried a secret of the console scenario"
        );
    }
    // And the script's own output names ids, never secrets.
    let text = String::from_utf8_lossy(&run.stdout);
    for x in secrets {
        assert!(!text.contains(x), "the browser script printed a secret");
    }
}
