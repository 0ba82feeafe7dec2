//! The `langgraph` listing end to end against a real LangGraph server:
//! `langgraph dev` (PyPI `langgraph-cli[inmem]`, every package pinned in
//! tests/langgraph/requirements.txt, installed by scripts/langgraph-tools.sh
//! into .state/langgraph-venv) serving tests/langgraph's echo graph on
//! 127.0.0.1, with LangGraph's custom authentication (tests/langgraph/auth.py)
//! requiring the API key as `X-Api-Key` and a custom header. It runs from a
//! copy of tests/langgraph in a fresh folder (its in-memory state is flushed
//! there), with LangGraph's version check, CLI analytics and LangSmith
//! tracing off and every proxy-aware client pointed at a dead local port,
//! so it makes no outbound call.

use crate::connectors::Seen;
use crate::support::{call, Answer, Server};
use crate::{key, tenant};
use serde_json::{json, Value};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The deployment's API key and the value of the custom header
/// (`X-Tenant`); `no_secret_anywhere` looks for both.
pub const API_KEY: &str = "lsv2_pt_e2eLangGraphKey0123456789abcdef";
pub const HEADER_VALUE: &str = "e2e-lg-tenant-7f3a9c5d";

pub struct LangGraph {
    pub port: u16,
    /// The echo graph's default assistant.
    pub assistant: String,
    dir: PathBuf,
    child: Option<Child>,
}

impl LangGraph {
    pub fn start() -> LangGraph {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let bin = root.join(".state/langgraph-venv/bin/langgraph");
        assert!(
            bin.exists(),
            "{} is missing: run scripts/langgraph-tools.sh (make e2e does)",
            bin.display()
        );
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!("cm-e2e-langgraph-{nanos}"));
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["langgraph.json", "echo_graph.py", "auth.py"] {
            std::fs::copy(root.join("tests/langgraph").join(f), dir.join(f)).unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let log = std::fs::File::create(dir.join("langgraph.log")).unwrap();
        let child = Command::new(&bin)
            .args(["dev", "--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--no-browser", "--no-reload", "--config", "langgraph.json"])
            .current_dir(&dir)
            .env("LANGGRAPH_E2E_API_KEY", API_KEY)
            .env("LANGGRAPH_E2E_HEADER", format!("X-Tenant: {HEADER_VALUE}"))
            .env("LANGGRAPH_NO_VERSION_CHECK", "true")
            .env("LANGGRAPH_CLI_NO_ANALYTICS", "1")
            .env("LANGSMITH_TRACING", "false")
            .env("LANGCHAIN_TRACING_V2", "false")
            .env_remove("LANGSMITH_API_KEY")
            .env_remove("LANGCHAIN_API_KEY")
            .env_remove("LANGGRAPH_CLOUD_LICENSE_KEY")
            .env("HTTP_PROXY", "http://127.0.0.1:9")
            .env("HTTPS_PROXY", "http://127.0.0.1:9")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("langgraph dev");
        let mut lg = LangGraph {
            port,
            assistant: String::new(),
            dir,
            child: Some(child),
        };
        let started = Instant::now();
        while direct("GET", &lg.url("/ok"), None).is_none_or(|(status, _)| status != 200) {
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "langgraph dev did not answer /ok in 90 s; its log:\n{}",
                lg.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        let (status, found) = direct(
            "POST",
            &lg.url("/assistants/search"),
            Some(&json!({"graph_id": "echo"})),
        )
        .expect("langgraph dev answers");
        assert_eq!(status, 200, "{found}");
        lg.assistant = found[0]["assistant_id"].as_str().unwrap().to_string();
        eprintln!(
            "[e2e] langgraph dev ready on 127.0.0.1:{port} in {:?} (assistant {})",
            started.elapsed(),
            lg.assistant
        );
        lg
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("langgraph.log")).unwrap_or_default()
    }
}

impl Drop for LangGraph {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let group = format!("-{}", child.id());
            let kill = |signal: &str| {
                let _ = Command::new("kill")
                    .args([signal, "--", &group])
                    .stderr(Stdio::null())
                    .status();
            };
            kill("-TERM");
            let deadline = Instant::now() + Duration::from_secs(10);
            while !matches!(child.try_wait(), Ok(Some(_))) {
                if Instant::now() > deadline {
                    kill("-KILL");
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A request straight to the LangGraph server with the key and the custom
/// header: (status, JSON body), or `None` when nothing answers yet.
fn direct(method: &str, url: &str, body: Option<&Value>) -> Option<(u16, Value)> {
    let req = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build()
        .request(method, url)
        .set("x-api-key", API_KEY)
        .set("x-tenant", HEADER_VALUE);
    let r = match body {
        Some(b) => req.send_json(b.clone()),
        None => req.call(),
    };
    let resp = match r {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(_) => return None,
    };
    let status = resp.status();
    Some((status, resp.into_json().unwrap_or(Value::Null)))
}

fn keep(seen: &Seen, a: Answer) -> Answer {
    seen.lock().unwrap().push(a.body.clone());
    a
}

fn text(a: &Answer) -> String {
    String::from_utf8_lossy(&a.body).into_owned()
}

pub fn langgraph(s: &Server, lg: &LangGraph, seen: &Seen) {
    let (_, admin, _) = tenant(s, "langgraph");
    let (_, m) = key(s, &admin, "manager");
    let post =
        |path: &str, body: &Value| keep(seen, call("POST", &s.url(path)).auth(&m).json(body));
    let auth = |key: &str, header: &str| json!({"type": "api_key", "key": key, "headers": format!("X-Tenant: {header}")});
    let config = |assistant: &str| json!({"base_url": lg.base(), "assistant_id": assistant, "configurable": {"suffix": "via configurable"}});
    let verify = |auth: Value, config: Value| {
        post(
            "/v1/catalog/langgraph/verify",
            &json!({"auth": auth, "config": config}),
        )
    };

    // Verify: the assistant GET proves the server, the key, the header and the assistant.
    let a = verify(auth(API_KEY, HEADER_VALUE), config(&lg.assistant));
    assert_eq!(
        (a.status, a.json()["ok"].as_bool()),
        (200, Some(true)),
        "{}",
        text(&a)
    );
    let a = verify(
        auth(API_KEY, HEADER_VALUE),
        config("00000000-0000-4000-8000-000000000000"),
    );
    let message = a.json()["message"].as_str().unwrap().to_string();
    assert_eq!(a.json()["ok"], false);
    assert!(
        message.contains("answered HTTP 404: the server has no assistant with this assistant_id"),
        "{message}"
    );
    let a = verify(
        auth("lsv2_pt_wrongKey0000000000000000", HEADER_VALUE),
        config(&lg.assistant),
    );
    assert_eq!(a.json()["ok"], false);
    assert!(
        text(&a).contains("rejected the credentials (HTTP 401)"),
        "{}",
        text(&a)
    );
    let a = verify(auth(API_KEY, "another-tenant"), config(&lg.assistant));
    assert!(
        text(&a).contains("(HTTP 403)") && text(&a).contains("X-Tenant"),
        "{}",
        text(&a)
    );
    let a = verify(
        json!({"type": "api_key", "key": API_KEY}),
        config(&lg.assistant),
    );
    assert_eq!(
        a.json()["ok"],
        false,
        "the custom header is what the server also checks"
    );

    // Install, health.
    let a = post(
        "/v1/connectors",
        &json!({"listing": "langgraph", "name": "echo-agent", "auth": auth(API_KEY, HEADER_VALUE), "config": config(&lg.assistant)}),
    );
    assert_eq!(a.status, 201, "{}", text(&a));
    let c = a.json();
    assert_eq!(
        (c["status"].as_str(), c["kind"].as_str()),
        (Some("connected"), Some("agent"))
    );
    let id = c["id"].as_str().unwrap().to_string();
    let a = keep(
        seen,
        call("GET", &s.url(&format!("/v1/connectors/{id}/health")))
            .auth(&m)
            .send(),
    );
    assert_eq!(a.json()["healthy"], true, "{}", text(&a));

    // The test says hello to the agent and quotes its answer.
    let a = post(&format!("/v1/connectors/{id}/test"), &json!({}));
    let v = a.json();
    assert_eq!(
        (a.status, v["status"].as_str()),
        (200, Some("passed")),
        "{v}"
    );
    let result = |tool: &str| {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["tool"] == tool)
            .cloned()
            .unwrap_or_else(|| panic!("{tool}: {v}"))
    };
    let hello = result("say_hello");
    assert_eq!(
        (hello["mode"].as_str(), hello["ok"].as_bool()),
        (Some("live"), Some(true)),
        "{v}"
    );
    assert!(hello["latency_ms"].is_u64(), "{v}");
    assert_eq!(hello["output"], "echo: hello [via configurable]", "{v}");
    assert_eq!(result("get_assistant")["ok"], true, "{v}");
    assert_eq!(
        (
            result("invoke")["mode"].as_str(),
            result("invoke")["ok"].as_bool()
        ),
        (Some("dry_run"), Some(true)),
        "{v}"
    );

    // invoke: a side effect, once per Idempotency-Key, answering the final messages.
    let invoke = |k: &str| {
        keep(
            seen,
            call(
                "POST",
                &s.url(&format!("/v1/connectors/{id}/tools/invoke/call")),
            )
            .auth(&m)
            .header("idempotency-key", k)
            .json(&json!({"arguments": {"message": "what is 2+2?"}})),
        )
    };
    let first = invoke("lg-e2e-1");
    let r = first.json();
    assert_eq!(
        (first.status, r["status"].as_str()),
        (200, Some("succeeded")),
        "{r}"
    );
    let messages = r["result"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "{r}");
    assert_eq!(messages[0]["type"], "human");
    assert_eq!(messages[0]["content"], "what is 2+2?");
    assert_eq!(
        (
            messages[1]["type"].as_str(),
            messages[1]["content"].as_str()
        ),
        (Some("ai"), Some("echo: what is 2+2? [via configurable]")),
        "{r}"
    );
    let again = invoke("lg-e2e-1");
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json()["id"], r["id"]);
    let a = keep(
        seen,
        call(
            "POST",
            &s.url(&format!("/v1/connectors/{id}/tools/invoke/call")),
        )
        .auth(&m)
        .json(&json!({"arguments": {"message": "no key"}})),
    );
    assert_eq!(
        a.status,
        400,
        "a live run needs an Idempotency-Key: {}",
        text(&a)
    );

    // What the connector shows never carries the key or the header.
    let a = keep(
        seen,
        call("GET", &s.url(&format!("/v1/connectors/{id}")))
            .auth(&m)
            .send(),
    );
    for x in [API_KEY, HEADER_VALUE] {
        assert!(!text(&a).contains(x), "{}", text(&a));
    }
}
