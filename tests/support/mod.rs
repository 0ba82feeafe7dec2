//! The end-to-end harness: starts the built worker under `wrangler dev`
//! (scripts/serve.sh) on a free port with a fresh state folder, talks to it
//! over HTTP, and ends its process group and removes its state when done.

#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const OPERATOR: &str = "e2e-operator-token-1f4c";

pub struct Server {
    pub base: String,
    pub state: PathBuf,
    pub log: PathBuf,
    child: Option<Child>,
    port: u16,
    env: Vec<(String, String)>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

impl Server {
    /// Starts a fresh server; `env` adds variables such as PROBE_ALLOW_HOSTS.
    pub fn start(env: &[(&str, &str)]) -> Server {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let state = std::env::temp_dir().join(format!("cm-e2e-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&state).expect("state folder");
        let port = free_port();
        let mut s = Server {
            base: format!("http://127.0.0.1:{port}"),
            log: state.join("serve.log"),
            state,
            child: None,
            port,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let mut cmd = Command::new("bash");
        cmd.arg(root.join("scripts/serve.sh"))
            .current_dir(root)
            .env("PORT", self.port.to_string())
            .env("PERSIST_DIR", self.state.join("persist"))
            .env("OPERATOR_TOKEN", OPERATOR)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            // Its own process group: stopping it ends every process it started.
            .process_group(0);
        let mut child = cmd.spawn().expect("bash scripts/serve.sh");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("READY") {
                    let _ = tx.send(());
                }
            }
        });
        let started = Instant::now();
        self.child = Some(child);
        if rx.recv_timeout(Duration::from_secs(120)).is_err() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            self.stop();
            panic!("wrangler dev did not become ready in 120 s; its log:\n{log}");
        }
        eprintln!(
            "[e2e] wrangler dev ready on {} in {:?}",
            self.base,
            started.elapsed()
        );
    }

    /// Stops the server and starts it again on the same state folder.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{}", child.id())])
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

/// One answer: status, headers (lower-cased names) and body.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as text, for assertion messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("<none>")
            .to_string()
    }
}

/// A request builder over ureq that never turns a status into an error.
pub struct Call {
    req: ureq::Request,
    /// Answered by wrangler itself (`/cdn-cgi/…`), not by the worker.
    platform: bool,
    /// The one place a 5xx is the expected answer (the panic probe).
    allow_5xx: bool,
}

pub fn call(method: &str, url: &str) -> Call {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .redirects(0)
        .build();
    Call {
        req: agent.request(method, url),
        platform: url.contains("/cdn-cgi/"),
        allow_5xx: false,
    }
}

impl Call {
    pub fn auth(mut self, bearer: &str) -> Self {
        self.req = self.req.set("authorization", &format!("Bearer {bearer}"));
        self
    }

    pub fn allow_5xx(mut self) -> Self {
        self.allow_5xx = true;
        self
    }

    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.req = self.req.set(k, v);
        self
    }

    /// A request to a fake provider: none of the worker's invariants apply.
    pub fn send_foreign(mut self) -> Answer {
        self.platform = true;
        self.send()
    }

    pub fn send(self) -> Answer {
        Self::answer(self.req.call(), self.platform, self.allow_5xx)
    }

    pub fn json(self, body: &Value) -> Answer {
        self.raw(body.to_string().as_bytes())
    }

    pub fn raw(self, body: &[u8]) -> Answer {
        Self::answer(
            self.req
                .set("content-type", "application/json")
                .send_bytes(body),
            self.platform,
            self.allow_5xx,
        )
    }

    fn answer(r: Result<ureq::Response, ureq::Error>, platform: bool, allow_5xx: bool) -> Answer {
        let resp = match r {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("transport error: {e}"),
        };
        let status = resp.status();
        let headers = resp
            .headers_names()
            .into_iter()
            .map(|k| {
                let v = resp.header(&k).unwrap_or_default().to_string();
                (k.to_ascii_lowercase(), v)
            })
            .collect();
        let mut body = vec![];
        std::io::Read::read_to_end(&mut resp.into_reader(), &mut body).expect("body");
        let a = Answer {
            status,
            headers,
            body,
        };
        // A 502 about a third party (`upstream_error`) is an answer, not a fault.
        let upstream =
            a.status == 502 && String::from_utf8_lossy(&a.body).contains("\"upstream_error\"");
        assert!(
            allow_5xx || upstream || a.status < 500,
            "a 5xx answer: {} {}",
            a.status,
            String::from_utf8_lossy(&a.body)
        );
        assert!(
            platform
                || a.header("request-id")
                    .is_some_and(|id| id.starts_with("req_")),
            "no Request-Id on a {} answer",
            a.status
        );
        a
    }
}

/// Every file below `dir` (the local D1, KV and Durable Object state).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Runs named scenarios, each isolated against panics, and reports like libtest.
pub fn run(scenarios: &[(&str, &dyn Fn())]) -> bool {
    let mut failed = vec![];
    // A developer's shortcut: E2E_ONLY=a,b runs only those scenarios (and
    // their parts, named `a:…`).
    let only = std::env::var("E2E_ONLY").ok();
    let mut ran = 0;
    for (name, f) in scenarios {
        if only.as_deref().is_some_and(|o| {
            !o.split(',')
                .any(|n| n == *name || name.strip_prefix(n).is_some_and(|r| r.starts_with(':')))
        }) {
            continue;
        }
        ran += 1;
        let started = Instant::now();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(()) => eprintln!("test e2e::{name} ... ok ({:?})", started.elapsed()),
            Err(_) => {
                eprintln!("test e2e::{name} ... FAILED");
                failed.push(*name);
            }
        }
    }
    eprintln!(
        "\ne2e: {} passed; {} failed{}",
        ran - failed.len(),
        failed.len(),
        if failed.is_empty() {
            String::new()
        } else {
            format!(": {}", failed.join(", "))
        }
    );
    failed.is_empty()
}
pub mod db;
pub mod fake;
pub mod receiver;

/// POSTs `body` chunked (`Transfer-Encoding: chunked`, no Content-Length) in
/// 4 KiB pieces over a raw connection. The worker may answer before the
/// body ends (a 413): write errors after that are expected and ignored, and
/// the answer is read from what arrived.
pub fn post_chunked(url: &str, bearer: &str, body: &[u8]) -> Answer {
    use std::io::{Read, Write};
    let u = url::Url::parse(url).expect("a URL");
    let mut conn =
        std::net::TcpStream::connect((u.host_str().unwrap(), u.port_or_known_default().unwrap()))
            .expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {bearer}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        u.path(),
        u.authority()
    );
    let mut sent = conn.write_all(head.as_bytes());
    for piece in body.chunks(4096) {
        if sent.is_err() {
            break;
        }
        sent = conn
            .write_all(format!("{:x}\r\n", piece.len()).as_bytes())
            .and_then(|_| conn.write_all(piece))
            .and_then(|_| conn.write_all(b"\r\n"));
    }
    if sent.is_ok() {
        let _ = conn.write_all(b"0\r\n\r\n");
    }
    let mut raw = vec![];
    // A reset after the answer arrived still leaves the answer read.
    let _ = conn.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP answer: {}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut rest = &raw[split + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        let mut out = vec![];
        while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
            let n = usize::from_str_radix(String::from_utf8_lossy(&rest[..end]).trim(), 16)
                .unwrap_or(0);
            if n == 0 || rest.len() < end + 2 + n {
                break;
            }
            out.extend_from_slice(&rest[end + 2..end + 2 + n]);
            rest = &rest[(end + 4 + n).min(rest.len())..];
        }
        out
    } else {
        rest.to_vec()
    };
    Answer {
        status,
        headers,
        body,
    }
}
