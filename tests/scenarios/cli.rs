//! The command-line client (`connector`, cli/) end to end: the real binary
//! as a subprocess with its own config folder, against the worker under
//! `wrangler dev` and the fake provider. Login, the catalog, an install whose
//! answers are piped on stdin (one the server refuses, naming the field),
//! list/show/test/health, tool calls, a side effect held for approval and
//! approved from the CLI, an OAuth install that waits for consent, `mcp
//! config`, removal, exit codes; every write is read back through the API,
//! and no key or credential appears in anything the CLI prints.

use crate::connectors::{Seen, GOOD};
use crate::gateway::{agent, post};
use crate::support::fake::{Provider, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET};
use crate::support::{call, Server};
use crate::{key, tenant};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The binary: `$CONNECTOR_CLI_BIN` (`make e2e` passes the release build),
/// else built here into its own target folder (no lock shared with the
/// cargo that runs this suite).
fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("CONNECTOR_CLI_BIN") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "CONNECTOR_CLI_BIN={} is not a file",
            p.display()
        );
        return p;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = root.join("target").join("cli-e2e");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "-p", "connector-cli", "--target-dir"])
        .arg(&target)
        .current_dir(root)
        .status()
        .expect("cargo build -p connector-cli");
    assert!(status.success(), "the CLI did not build");
    target.join("debug").join("connector")
}

/// One finished run.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// The CLI with a private HOME and config folder.
struct Cli {
    bin: PathBuf,
    home: PathBuf,
    /// Every output, for the secret check at the end.
    outputs: std::sync::Mutex<Vec<String>>,
}

impl Cli {
    fn new() -> Cli {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let home = std::env::temp_dir().join(format!("cm-e2e-cli-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&home).unwrap();
        Cli {
            bin: binary(),
            home,
            outputs: Default::default(),
        }
    }

    /// Where the CLI keeps its config here: `$XDG_CONFIG_HOME/connector/config.json`.
    fn config_file(&self) -> PathBuf {
        self.home.join("xdg").join("connector").join("config.json")
    }

    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(args)
            .env_remove("CONNECTOR_CONFIG")
            .env_remove("CONNECTOR_BASE_URL")
            .env_remove("CONNECTOR_API_KEY")
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join("xdg"))
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        c
    }

    /// Runs to the end (at most 90 s) with `stdin` piped in.
    fn run_env(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
        // The suite's log never carries a key (an agent key is an argument once).
        let shown: Vec<&str> = args
            .iter()
            .map(|a| if a.starts_with("mk_") { "mk_…" } else { a })
            .collect();
        let mut child = self.command(args, env).spawn().expect("the CLI starts");
        let mut input = child.stdin.take().unwrap();
        let text = stdin.to_string();
        let feeder = std::thread::spawn(move || {
            let _ = input.write_all(text.as_bytes());
        });
        let mut out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let o = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        let e = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let deadline = Instant::now() + Duration::from_secs(90);
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            if Instant::now() > deadline {
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.wait();
                panic!("connector {shown:?} did not finish in 90 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let _ = feeder.join();
        let r = Run {
            code: status.code().unwrap_or(-1),
            stdout: o.join().unwrap(),
            stderr: e.join().unwrap(),
        };
        self.outputs.lock().unwrap().push(r.all());
        eprintln!("[cli] connector {} → {}", shown.join(" "), r.code);
        r
    }

    fn run(&self, args: &[&str], stdin: &str) -> Run {
        self.run_env(args, stdin, &[])
    }

    /// Runs and expects `code`.
    fn ok(&self, args: &[&str], stdin: &str, code: i32) -> Run {
        let r = self.run(args, stdin);
        assert_eq!(r.code, code, "connector {args:?}: {r:?}");
        r
    }
}

/// An argument as the shell reads it.
fn quoted(a: &str) -> String {
    format!("'{}'", a.replace('\'', "'\\''"))
}

impl Cli {
    /// Runs at a terminal: under `script` (util-linux), which gives the CLI
    /// a pseudo-terminal. Each step waits for its text on the terminal, then
    /// types its answer (secrets 300 ms after their question, once the CLI
    /// has turned echo off).
    fn tty(&self, args: &[&str], steps: &[(&str, &str)]) -> Run {
        let line = std::iter::once(self.bin.to_string_lossy().into_owned())
            .chain(args.iter().map(|a| a.to_string()))
            .map(|a| quoted(&a))
            .collect::<Vec<_>>()
            .join(" ");
        let mut c = Command::new("script");
        c.args(["-qfec", &line, "/dev/null"])
            .env_remove("CONNECTOR_CONFIG")
            .env_remove("CONNECTOR_BASE_URL")
            .env_remove("CONNECTOR_API_KEY")
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join("xdg"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = c.spawn().expect("script (util-linux)");
        let mut input = child.stdin.take().unwrap();
        let mut out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let _ = tx.send(buf[..n].to_vec());
            }
        });
        let mut screen = String::new();
        let mut at = 0;
        for (wait, answer) in steps {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                if let Some(i) = screen[at..].find(wait) {
                    at += i + wait.len();
                    break;
                }
                let left = deadline.saturating_duration_since(Instant::now());
                match rx.recv_timeout(left) {
                    Ok(b) => screen.push_str(&String::from_utf8_lossy(&b)),
                    Err(_) => {
                        let _ = Command::new("kill")
                            .args(["-KILL", "--", &format!("-{}", child.id())])
                            .status();
                        let _ = child.wait();
                        panic!("the terminal never showed {wait:?}:\n{screen}");
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(300));
            input.write_all(format!("{answer}\r").as_bytes()).unwrap();
            input.flush().unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            while let Ok(b) = rx.try_recv() {
                screen.push_str(&String::from_utf8_lossy(&b));
            }
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            assert!(
                Instant::now() < deadline,
                "the terminal run did not end:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        drop(input);
        let _ = reader.join();
        while let Ok(b) = rx.try_recv() {
            screen.push_str(&String::from_utf8_lossy(&b));
        }
        let r = Run {
            code: status.code().unwrap_or(-1),
            stdout: screen,
            stderr: String::new(),
        };
        self.outputs.lock().unwrap().push(r.all());
        eprintln!("[cli] (terminal) connector {} → {}", args.join(" "), r.code);
        r
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

fn get(s: &Server, auth: &str, path: &str) -> Value {
    let a = call("GET", &s.url(path)).auth(auth).send();
    assert_eq!(a.status, 200, "{path}: {}", a.text());
    a.json()
}

/// The provider's holds of `order`.
fn holds(p: &Provider, order: u64) -> usize {
    let path = format!("/rest/V1/orders/{order}/hold");
    p.seen()
        .iter()
        .filter(|x| x.method == "POST" && x.path == path)
        .count()
}

/// The word after `prefix` in `text` (ids such as `cn_…`, `ap_…`).
fn id_after(text: &str, prefix: &str) -> String {
    let at = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix}… in {text}"));
    text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

pub fn cli(s: &Server, p: &Provider, seen: &Seen) {
    let cli = Cli::new();
    let (_, admin, _) = tenant(s, "cli");
    let (_, manager) = key(s, &admin, "manager");
    let last4 = &manager[manager.len() - 4..];

    // Not logged in yet: exit 3, and it says what to do.
    let r = cli.ok(&["connectors", "list"], "", 3);
    assert!(r.stderr.contains("connector login"), "{r:?}");
    // A refused key is not stored.
    let r = cli.ok(
        &["login", "--base-url", &s.base],
        "mk_not_a_real_key_000000\n",
        3,
    );
    assert!(r.stderr.contains("unauthenticated"), "{r:?}");
    assert!(!cli.config_file().exists());
    // The key read from stdin, checked, stored 0600 in a 0700 folder.
    let r = cli.ok(
        &["login", "--base-url", &s.base],
        &format!("{manager}\n"),
        0,
    );
    assert!(r.stdout.contains(&format!("mk_…{last4}")), "{r:?}");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let file = cli.config_file();
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(file.parent().unwrap()), 0o700);
    let stored: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(
        (stored["base_url"].as_str(), stored["api_key"].as_str()),
        (Some(s.base.as_str()), Some(manager.as_str()))
    );

    // The catalog.
    let r = cli.ok(&["catalog", "search", "magento"], "", 0);
    assert!(r.stdout.lines().any(|l| l.starts_with("magento ")), "{r:?}");
    let r = cli.ok(
        &["catalog", "search", "--kind", "database", "--json"],
        "",
        0,
    );
    let listed: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        listed,
        get(s, &manager, "/v1/catalog?kind=database"),
        "--json is the API's answer"
    );
    let ids: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"postgresql") && !ids.contains(&"slack"),
        "{ids:?}"
    );
    let r = cli.ok(&["catalog", "show", "magento"], "", 0);
    for want in [
        "Auth: api_key",
        "Integration access token",
        "base_url",
        "order.hold",
        "get_order          order.read       read",
        "hold_order         order.hold       ⚠ writes",
    ] {
        assert!(r.stdout.contains(want), "{want}: {}", r.stdout);
    }
    let r = cli.ok(&["catalog", "show", "no-such-listing"], "", 4);
    assert!(r.stderr.contains("not_found"), "{r:?}");

    // Install with the answers piped: a base URL that passes the CLI's
    // courtesy check (the pattern) but not the server's (format: uri, port
    // out of range) is refused naming the field; nothing is stored.
    let r = cli.ok(
        &["connectors", "install", "magento", "--name", "shop"],
        &format!("http://127.0.0.1:99999\n{GOOD}\n"),
        2,
    );
    assert!(r.stderr.contains("param config.base_url"), "{r:?}");
    assert!(r.stderr.contains("invalid_parameter"), "{r:?}");
    assert!(
        r.stderr.contains("Fix the value of config.base_url"),
        "{r:?}"
    );
    assert_eq!(
        get(s, &manager, "/v1/connectors?listing=magento")["data"],
        json!([])
    );
    // A value the CLI itself refuses never reaches the server.
    let r = cli.ok(
        &["connectors", "install", "magento", "--name", "shop"],
        &format!("ftp://store\n{GOOD}\n"),
        2,
    );
    assert!(r.stderr.contains("config.base_url must match"), "{r:?}");
    // Then the right answers.
    let r = cli.ok(
        &["connectors", "install", "magento", "--name", "shop"],
        &format!("{}\n{GOOD}\n", p.base()),
        0,
    );
    assert!(r.stdout.contains("Installed shop (cn_"), "{r:?}");
    assert!(
        r.stderr
            .contains("Integration access token (auth.key; required; secret"),
        "the question shows label, field, required, secret: {r:?}"
    );
    let id = id_after(&r.stdout, "cn_");
    let c = get(s, &manager, &format!("/v1/connectors/{id}"));
    assert_eq!(
        (
            c["name"].as_str(),
            c["listing"].as_str(),
            c["status"].as_str(),
            c["auth"]["type"].as_str()
        ),
        (
            Some("shop"),
            Some("magento"),
            Some("connected"),
            Some("api_key")
        )
    );
    assert_eq!(c["config"], json!({"base_url": p.base()}));
    // The same name again is a conflict (exit 5).
    let r = cli.ok(
        &["connectors", "install", "magento", "--name", "shop"],
        &format!("{}\n{GOOD}\n", p.base()),
        5,
    );
    assert!(r.stderr.contains("state_conflict"), "{r:?}");

    // list, show, test, health.
    let r = cli.ok(&["connectors", "list"], "", 0);
    let row = r.stdout.lines().find(|l| l.starts_with(&id)).unwrap();
    assert!(row.contains("shop") && row.contains("connected"), "{row}");
    let r = cli.ok(&["connectors", "show", &id], "", 0);
    assert!(
        r.stdout.contains(&format!("base_url = {}", p.base())),
        "{r:?}"
    );
    assert!(r.stdout.contains("auth: api_key"), "{r:?}");
    let r = cli.ok(&["connectors", "test", &id], "", 0);
    let t = &r.stdout;
    assert!(t.starts_with("TOOL "), "{t}");
    assert!(
        t.lines()
            .any(|l| l.starts_with("search_orders ") && l.contains("live") && l.contains("✓ ok")),
        "{t}"
    );
    assert!(
        t.lines()
            .any(|l| l.starts_with("hold_order ") && l.contains("dry-run")),
        "{t}"
    );
    assert!(t.contains("✓ passed"), "{t}");
    let events = get(
        s,
        &manager,
        &format!("/v1/events?connector_id={id}&type=connector.tested"),
    );
    assert_eq!(events["data"].as_array().unwrap().len(), 1, "{events}");
    let r = cli.ok(&["connectors", "health", &id], "", 0);
    assert!(
        r.stdout.starts_with("✓ healthy · status connected"),
        "{r:?}"
    );

    // A read tool: one call reaches the provider; the receipt is stored.
    p.clear();
    let r = cli.ok(
        &["tools", "call", &id, "get_order", "--arg", "order_id=7"],
        "",
        0,
    );
    assert!(r.stdout.contains("get_order · live · succeeded"), "{r:?}");
    let tc = id_after(&r.stdout, "tc_");
    let reached = p
        .seen()
        .iter()
        .filter(|x| x.method == "GET" && x.path == "/rest/V1/orders/7")
        .count();
    assert_eq!(reached, 1);
    let receipt = get(s, &manager, &format!("/v1/tool-calls/{tc}"));
    assert_eq!(
        (
            receipt["status"].as_str(),
            receipt["arguments_sha256"].is_string()
        ),
        (Some("succeeded"), true)
    );
    // Bad arguments are the server's 400, naming the argument.
    let r = cli.ok(
        &[
            "tools",
            "call",
            &id,
            "get_order",
            "--arg",
            "order_id=\"seven\"",
        ],
        "",
        2,
    );
    assert!(r.stderr.contains("arguments.order_id"), "{r:?}");

    // A side effect an agent asks for is held by the default policy
    // (approve); a manager approves it from the CLI: it runs once.
    post(
        s,
        &manager,
        "/v1/bindings",
        json!({"consumer": "cli-bot", "capability": "order.hold"}),
    );
    let bot = agent(s, &admin, "cli-bot");
    let as_bot = [("CONNECTOR_API_KEY", bot.as_str())];
    p.clear();
    let hold = [
        "tools",
        "call",
        &id,
        "hold_order",
        "--args",
        r#"{"order_id": 77}"#,
        "--idempotency-key",
        "cli-hold-77",
    ];
    let r = cli.run_env(&hold, "", &as_bot);
    assert_eq!(r.code, 5, "{r:?}");
    assert!(r.stdout.contains("pending approval"), "{r:?}");
    let ap = id_after(&r.stdout, "ap_");
    assert!(
        r.stdout
            .contains(&format!("connector approvals approve {ap}")),
        "{r:?}"
    );
    assert_eq!(holds(p, 77), 0, "nothing is sent before a decision");
    let r = cli.ok(&["consumers", "tools", "cli-bot"], "", 0);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.contains("hold_order") && l.contains(&id) && l.contains("⚠ writes")),
        "{r:?}"
    );
    let r = cli.ok(&["approvals", "list", "--status", "pending"], "", 0);
    let row = r.stdout.lines().find(|l| l.starts_with(&ap)).unwrap();
    assert!(
        row.contains("pending") && row.contains("cli-bot") && row.contains(r#"{"order_id":77}"#),
        "{row}"
    );
    let r = cli.ok(&["approvals", "approve", &ap], "", 0);
    assert!(r.stdout.contains(&format!("Approved {ap}")), "{r:?}");
    assert!(r.stdout.contains("hold_order · live · succeeded"), "{r:?}");
    assert_eq!(holds(p, 77), 1);
    let a = get(s, &manager, &format!("/v1/approvals/{ap}"));
    assert_eq!(a["status"], "approved", "{a}");
    let calls = get(
        s,
        &manager,
        &format!("/v1/tool-calls?connector_id={id}&tool=hold_order"),
    );
    let held: Vec<&Value> = calls["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["approval_id"] == ap.as_str())
        .collect();
    assert_eq!(held.len(), 1, "{calls}");
    assert_eq!(held[0]["status"], "succeeded");
    assert_eq!(held[0]["consumer"], "cli-bot");
    // The agent's retry with the same key collects the result; no second call.
    let r = cli.run_env(&hold, "", &as_bot);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("succeeded") && r.stdout.contains("replayed"),
        "{r:?}"
    );
    assert_eq!(holds(p, 77), 1);
    // A decision is made once.
    let r = cli.ok(&["approvals", "approve", &ap], "", 5);
    assert!(r.stderr.contains("conflict"), "{r:?}");
    // Denied: never runs; the agent's retry says so (exit 3).
    let hold78 = [
        "tools",
        "call",
        &id,
        "hold_order",
        "--arg",
        "order_id=78",
        "--idempotency-key",
        "cli-hold-78",
    ];
    let r = cli.run_env(&hold78, "", &as_bot);
    assert_eq!(r.code, 5, "{r:?}");
    let ap78 = id_after(&r.stdout, "ap_");
    let r = cli.ok(
        &[
            "approvals",
            "deny",
            &ap78,
            "--reason",
            "Order 78 ships today.",
        ],
        "",
        0,
    );
    assert!(r.stdout.contains(&format!("Denied {ap78}")), "{r:?}");
    let a = get(s, &manager, &format!("/v1/approvals/{ap78}"));
    assert_eq!(
        (a["status"].as_str(), a["reason"].as_str()),
        (Some("denied"), Some("Order 78 ships today."))
    );
    let r = cli.run_env(&hold78, "", &as_bot);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.stdout.contains("denied"), "{r:?}");
    assert_eq!(holds(p, 78), 0);
    // An agent key may not decide.
    let r = cli.run_env(&["approvals", "list"], "", &as_bot);
    assert_eq!(r.code, 3, "{r:?}");

    // mcp config: a placeholder and how to mint an agent key, never the
    // CLI's own key; with the agent key (checked at the gateway), the
    // client's shape.
    let mcp_url = format!("{}/v1/mcp", s.base);
    let r = cli.ok(
        &[
            "mcp",
            "config",
            "--client",
            "cursor",
            "--consumer",
            "cli-bot",
        ],
        "",
        0,
    );
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let entry = &v["mcpServers"]["connector-cli-bot"];
    assert_eq!(
        (
            entry["url"].as_str(),
            entry["headers"]["Authorization"].as_str()
        ),
        (Some(mcp_url.as_str()), Some("Bearer <AGENT_KEY>"))
    );
    assert!(
        r.stderr
            .contains(r#"{"role":"agent","consumer":"cli-bot"}"#)
            && r.stderr.contains("/v1/api-keys"),
        "{r:?}"
    );
    let r = cli.run(
        &[
            "mcp",
            "config",
            "--client",
            "vscode",
            "--consumer",
            "cli-bot",
            "--key",
            &bot,
        ],
        "",
    );
    assert_eq!(r.code, 0, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let entry = &v["servers"]["connector-cli-bot"];
    assert_eq!(
        (
            entry["type"].as_str(),
            entry["url"].as_str(),
            entry["headers"]["Authorization"].as_str()
        ),
        (
            Some("http"),
            Some(mcp_url.as_str()),
            Some(format!("Bearer {bot}").as_str())
        )
    );
    assert!(
        r.stderr.contains("2 tool(s) for its consumer"),
        "hold_order and unhold_order: {r:?}"
    );
    // The agent key is shown here on purpose; drop it from the secret check.
    cli.outputs.lock().unwrap().pop();
    for k in [&manager, &admin] {
        let r = cli.run(
            &[
                "mcp",
                "config",
                "--client",
                "claude",
                "--consumer",
                "cli-bot",
                "--key",
                k,
            ],
            "",
        );
        assert_ne!(r.code, 0, "{r:?}");
        assert!(r.stdout.is_empty(), "{r:?}");
    }

    // OAuth: the install prints the consent URL and --wait polls until the
    // "browser" has given consent.
    crate::oauth::publish_oauth_listing(s, p, "e2e-cli-oauth", "E2E CLI OAuth provider");
    let mut child = cli
        .command(
            &[
                "connectors",
                "install",
                "e2e-cli-oauth",
                "--name",
                "drive",
                "--wait",
                "--wait-timeout",
                "60",
            ],
            &[],
        )
        .spawn()
        .unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        write!(
            input,
            "{}\n{OAUTH_CLIENT_ID}\n{OAUTH_CLIENT_SECRET}\n",
            p.base()
        )
        .unwrap();
    }
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let mut err = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let authorize = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the CLI prints the consent URL");
        if line
            .trim_start()
            .starts_with(&format!("{}/authorize", p.base()))
        {
            break line.trim().to_string();
        }
    };
    let consent = call("GET", &authorize).send_foreign();
    assert_eq!(consent.status, 302, "{}", consent.text());
    let callback = consent.header("location").unwrap().to_string();
    let done = call("GET", &callback).send();
    assert!(done.status < 400, "{}", done.text());
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "--wait did not end");
        std::thread::sleep(Duration::from_millis(50));
    };
    let (out, errs) = (reader.join().unwrap(), err_reader.join().unwrap());
    cli.outputs.lock().unwrap().push(format!("{out}\n{errs}"));
    assert_eq!(status.code(), Some(0), "{out}\n{errs}");
    assert!(out.contains("status pending_auth"), "{out}");
    assert!(out.contains("Consent done: drive is connected"), "{out}");
    let drive = id_after(&out, "cn_");
    assert_eq!(
        get(s, &manager, &format!("/v1/connectors/{drive}"))["status"],
        "connected"
    );

    // Removal: refused while a binding needs the connector (exit 5), then done.
    let r = cli.ok(&["connectors", "rm", &id], "", 5);
    assert!(r.stderr.contains("connector_in_use"), "{r:?}");
    let bindings = get(s, &manager, "/v1/bindings?limit=100");
    for b in bindings["data"].as_array().unwrap() {
        let a = call(
            "DELETE",
            &s.url(&format!("/v1/bindings/{}", b["id"].as_str().unwrap())),
        )
        .auth(&manager)
        .send();
        assert_eq!(a.status, 200, "{}", a.text());
    }
    let r = cli.ok(&["connectors", "rm", &id], "", 0);
    assert!(r.stdout.contains(&format!("Uninstalled {id}")), "{r:?}");
    let a = call("GET", &s.url(&format!("/v1/connectors/{id}")))
        .auth(&manager)
        .send();
    assert_eq!(a.status, 404);
    cli.ok(&["connectors", "show", &id], "", 4);

    // At a terminal: a value the CLI refuses and one the server refuses are
    // asked again (the server's after the rest), the token is read without
    // echo, and a taken name asks for another.
    let store = "Store URL (config.base_url; required";
    let r = cli.tty(
        &["connectors", "install", "magento", "--name", "drive"],
        &[
            (store, "ftp://store"),
            (store, "http://127.0.0.1:99999"),
            ("secret, not echoed): ", GOOD),
            (store, &p.base()),
            ("Connector name", "shop-tty"),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    for said in [
        "config.base_url must match",
        "param config.base_url",
        "asking for config.base_url again",
        "asking for another name",
    ] {
        assert!(r.stdout.contains(said), "{said}: {}", r.stdout);
    }
    assert!(r.stdout.contains("Installed shop-tty (cn_"), "{}", r.stdout);
    assert!(
        !r.stdout.contains(GOOD),
        "the token was echoed: {}",
        r.stdout
    );
    let tty_id = id_after(&r.stdout, "cn_");
    let c = get(s, &manager, &format!("/v1/connectors/{tty_id}"));
    assert_eq!(
        (c["name"].as_str(), c["status"].as_str()),
        (Some("shop-tty"), Some("connected"))
    );
    assert_eq!(c["config"], json!({"base_url": p.base()}));
    cli.ok(&["connectors", "rm", &tty_id, "--yes"], "", 0);
    cli.ok(&["connectors", "rm", &drive, "--yes", "--json"], "", 0);

    // Exit codes of the environment: an unreachable server, a refused key.
    // A port freed just now (the suite's DOWN_PORT is minutes old by here:
    // another process on the machine may have taken it since).
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = format!("http://127.0.0.1:{free}");
    let r = cli.run_env(
        &["connectors", "list"],
        "",
        &[("CONNECTOR_BASE_URL", &down)],
    );
    assert_eq!(r.code, 6, "{r:?}");
    assert!(r.stderr.contains("cannot reach"), "{r:?}");
    let r = cli.run_env(
        &["connectors", "list"],
        "",
        &[(
            "CONNECTOR_API_KEY",
            "mk_AAAAAAAAAAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
        )],
    );
    assert_eq!(r.code, 3, "{r:?}");
    // --json errors carry the API's envelope on stdout.
    let r = cli.ok(
        &["connectors", "show", "cn_AAAAAAAAAAAAAAAAAAAA", "--json"],
        "",
        4,
    );
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["error"]["code"], "not_found");
    assert!(r.stderr.contains("request id req_"), "{r:?}");
    // Usage errors are exit 2.
    cli.ok(&["connectors", "install"], "", 2);
    cli.ok(&["tools", "call", &id, "x", "--args", "[1]"], "", 2);

    // Logout forgets the key.
    let r = cli.ok(&["logout"], "", 0);
    assert!(r.stdout.contains("Logged out"), "{r:?}");
    assert!(!file.exists());
    cli.ok(&["connectors", "list"], "", 3);

    // No key or credential in anything the CLI printed.
    let outputs = cli.outputs.lock().unwrap();
    assert!(outputs.len() > 40, "{} runs", outputs.len());
    for o in outputs.iter() {
        for secret in [
            manager.as_str(),
            admin.as_str(),
            bot.as_str(),
            GOOD,
            OAUTH_CLIENT_SECRET,
        ] {
            assert!(!o.contains(secret), "the CLI printed a secret: {o}");
        }
        seen.lock().unwrap().push(o.clone().into_bytes());
    }
}
