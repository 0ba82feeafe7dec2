//! Amazon Connect end to end (API §3, §4, §13): every request the worker
//! sends is signed with AWS Signature Version 4 and checked by a fake
//! Connect endpoint on 127.0.0.1 with botocore's own signer
//! (tests/aws/connect.py, PyPI `botocore`, installed by
//! scripts/aws-tools.sh), not with our code. Verify with good keys and with
//! a wrong secret, install, health, the connector test (read tools live, side
//! effects dry-run), a read tool call, and a side effect with an
//! Idempotency-Key whose retry is replayed (the fake sees one call); the
//! secret access key and the signatures appear in no answer and no log line.

use crate::connectors::Seen;
use crate::support::{call, Answer, Server};
use crate::{key, tenant};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub const KEY_ID: &str = "AKIAE2ECONNECTTEST01";
/// The secret access key: never in an answer, a log line or the local state.
pub const SECRET: &str = "e2eConnect/Secret+Key0123456789abcdefghij";
const WRONG: &str = "e2eConnect/Secret+Key0123456789WRONGWRONG";
const INSTANCE: &str = "4f1c2d3e-5a6b-4c7d-8e9f-a0b1c2d3e4f5";
const FLOW: &str = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b";
const QUEUE: &str = "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";

/// The fake Amazon Connect endpoint (a Python process on 127.0.0.1).
pub struct Connect {
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

impl Connect {
    pub fn start() -> Connect {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let dir = std::env::temp_dir().join(format!("cm-e2e-aws-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = json!({"access_key_id": KEY_ID, "secret_access_key": SECRET,
                            "region": "us-east-1", "instance_id": INSTANCE});
        std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut child = Command::new(root.join(".state/venv/bin/python"))
            .arg(root.join("tests/aws/connect.py"))
            .arg(port.to_string())
            .arg(dir.join("config.json"))
            .arg(dir.join("received.jsonl"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the fake Connect endpoint (scripts/aws-tools.sh installs botocore)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line.trim(),
            "READY",
            "the fake Connect endpoint did not start"
        );
        Connect { port, dir, child }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request received so far, in order.
    fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.join("received.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn of(&self, method: &str, path: &str) -> Vec<Value> {
        self.received()
            .into_iter()
            .filter(|r| r["method"] == method && r["path"] == path)
            .collect()
    }
}

impl Drop for Connect {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn keep(seen: &Seen, a: Answer) -> Answer {
    seen.lock().unwrap().push(a.body.clone());
    a
}

fn post(s: &Server, auth: &str, path: &str, body: &Value, key: Option<&str>) -> Answer {
    let mut c = call("POST", &s.url(path)).auth(auth);
    if let Some(k) = key {
        c = c.header("idempotency-key", k);
    }
    c.json(body)
}

pub fn amazon_connect(s: &Server, c: &Connect, seen: &Seen) {
    let (_, admin, _) = tenant(s, "contact-center");
    let (_, m) = key(s, &admin, "manager");
    let auth = |secret: &str| json!({"type": "basic", "username": KEY_ID, "password": secret});
    let config = json!({"instance_id": INSTANCE, "region": "us-east-1", "endpoint": c.endpoint()});
    // Verify: DescribeInstance, signed; botocore agrees.
    let verify = |secret: &str| {
        let body = json!({"auth": auth(secret), "config": config});
        keep(
            seen,
            post(s, &m, "/v1/catalog/amazon-connect/verify", &body, None),
        )
    };
    let a = verify(SECRET);
    assert_eq!(
        (a.status, a.json()["ok"].clone()),
        (200, json!(true)),
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    let describe = format!("/instance/{INSTANCE}");
    let hits = c.of("GET", &describe);
    assert!(
        hits.len() == 1 && hits[0]["verified"] == true,
        "botocore verified the signature: {hits:?}"
    );
    let a = verify(WRONG);
    let v = a.json();
    assert_eq!((a.status, v["ok"].clone()), (200, json!(false)), "{v}");
    let message = v["message"].as_str().unwrap();
    assert!(
        message.contains("signature we calculated does not match") && message.contains("403"),
        "the fake's answer, quoted: {message}"
    );
    assert!(!message.contains(WRONG) && !message.contains(SECRET));
    // Install (verified), health.
    let a = keep(
        seen,
        post(
            s,
            &m,
            "/v1/connectors",
            &json!({"listing": "amazon-connect", "name": "support", "auth": auth(SECRET), "config": config}),
            None,
        ),
    );
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    let cn = a.json();
    assert_eq!(cn["health"]["healthy"], true, "{cn}");
    assert_eq!(cn["listing_version"], "1.0.0");
    let id = cn["id"].as_str().unwrap().to_string();
    let h = keep(
        seen,
        call("GET", &s.url(&format!("/v1/connectors/{id}/health")))
            .auth(&m)
            .send(),
    );
    assert_eq!(
        h.json()["healthy"],
        true,
        "{}",
        String::from_utf8_lossy(&h.body)
    );
    // The connector test: read tools live, side effects dry-run.
    let t = keep(
        seen,
        post(
            s,
            &m,
            &format!("/v1/connectors/{id}/test"),
            &json!({}),
            None,
        ),
    );
    let t = t.json();
    assert_eq!(t["status"], "passed", "{t}");
    for r in t["results"].as_array().unwrap() {
        let live = [
            "list_instances",
            "describe_instance",
            "list_queues",
            "list_users",
        ]
        .contains(&r["tool"].as_str().unwrap());
        let side = r["tool"].as_str().unwrap().contains("contact");
        assert_eq!(r["ok"], true, "{r}");
        if live {
            assert_eq!(r["mode"], "live", "{r}");
        }
        if side {
            assert_eq!(r["mode"], "dry_run", "{r}");
        }
    }
    assert!(!c
        .of("GET", &format!("/queues-summary/{INSTANCE}"))
        .is_empty());
    let tool = |name: &str, body: Value, key: Option<&str>| {
        keep(
            seen,
            post(
                s,
                &m,
                &format!("/v1/connectors/{id}/tools/{name}/call"),
                &body,
                key,
            ),
        )
    };
    // A read: the query as sent is the query as signed.
    let a = tool(
        "list_queues",
        json!({"arguments": {"queue_types": "STANDARD", "max_results": 1, "next_token": "page 2/+="}}),
        None,
    );
    let r = a.json();
    assert_eq!(
        (r["status"].as_str(), r["upstream_status"].as_u64()),
        (Some("succeeded"), Some(200)),
        "{r}"
    );
    assert_eq!(r["result"]["QueueSummaryList"][0]["Name"], "BasicQueue");
    assert_eq!(r["result"]["NextToken"], "page-2 of queues/==");
    let sent = c.of("GET", &format!("/queues-summary/{INSTANCE}"));
    let last = sent.last().unwrap();
    assert_eq!(last["verified"], true, "{last}");
    assert_eq!(
        last["query"],
        "maxResults=1&nextToken=page%202%2F%2B%3D&queueTypes=STANDARD"
    );
    // A read with a JSON body (POST): the payload is signed too.
    let a = tool(
        "get_current_metric_data",
        json!({"arguments": {"queues": [QUEUE], "metrics": [{"Name": "CONTACTS_IN_QUEUE", "Unit": "COUNT"}], "channels": ["VOICE"]}}),
        None,
    );
    let r = a.json();
    assert_eq!(r["status"], "succeeded", "{r}");
    assert_eq!(
        r["result"]["MetricResults"][0]["Collections"][0]["Value"],
        3.0
    );
    // A side effect: its dry run reads the flow; live it needs a key, and a
    // retry with the same key is the first receipt (the fake saw one call).
    let call_args = json!({"destination_phone_number": "+15555550100", "contact_flow_id": FLOW, "queue_id": QUEUE});
    let a = tool(
        "start_outbound_voice_contact",
        json!({"arguments": call_args, "dry_run": true}),
        None,
    );
    let r = a.json();
    assert_eq!(
        (r["mode"].as_str(), r["status"].as_str()),
        (Some("dry_run"), Some("succeeded")),
        "{r}"
    );
    assert_eq!(r["result"]["ContactFlow"]["Id"], FLOW);
    assert!(
        c.of("PUT", "/contact/outbound-voice").is_empty(),
        "a dry run dials nothing"
    );
    let live = json!({"arguments": call_args});
    let first = tool("start_outbound_voice_contact", live.clone(), Some("call-1"));
    let r = first.json();
    assert_eq!(
        (r["mode"].as_str(), r["status"].as_str()),
        (Some("live"), Some("succeeded")),
        "{r}"
    );
    let contact = r["result"]["ContactId"].as_str().unwrap().to_string();
    let again = tool("start_outbound_voice_contact", live, Some("call-1"));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json()["id"], r["id"]);
    let puts = c.of("PUT", "/contact/outbound-voice");
    assert_eq!(puts.len(), 1, "one call placed");
    assert_eq!(puts[0]["verified"], true);
    let placed: Value = serde_json::from_str(puts[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        placed,
        json!({"InstanceId": INSTANCE, "DestinationPhoneNumber": "+15555550100", "ContactFlowId": FLOW, "QueueId": QUEUE})
    );
    let a = tool(
        "stop_contact",
        json!({"arguments": {"contact_id": contact}}),
        Some("stop-1"),
    );
    assert_eq!(
        a.json()["status"],
        "succeeded",
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    keep(
        seen,
        call("GET", &s.url("/v1/tool-calls?limit=100"))
            .auth(&m)
            .send(),
    );
    keep(
        seen,
        call("GET", &s.url("/v1/events?limit=100")).auth(&m).send(),
    );
    // Every request but the wrong secret's verified; no signature anywhere.
    let all = c.received();
    let failed: Vec<&Value> = all.iter().filter(|r| r["verified"] != true).collect();
    assert_eq!(
        failed.len(),
        1,
        "only the wrong secret was refused: {failed:?}"
    );
    let signatures: Vec<String> = all
        .iter()
        .filter_map(|r| r["headers"]["authorization"].as_str())
        .map(str::to_string)
        .collect();
    assert!(signatures.len() >= 12, "{}", signatures.len());
    let log = s.log_text();
    let answers = seen.lock().unwrap().clone();
    for authz in &signatures {
        let signature = authz.rsplit("Signature=").next().unwrap();
        for body in &answers {
            let text = String::from_utf8_lossy(body);
            assert!(
                !text.contains(signature) && !text.contains("AWS4-HMAC-SHA256"),
                "an answer carried a signature: {text}"
            );
        }
        assert!(!log.contains(signature), "the log carried a signature");
    }
    for body in &answers {
        assert!(!String::from_utf8_lossy(body).contains(SECRET));
    }
    assert!(!log.contains(SECRET) && !log.contains(WRONG));
}
