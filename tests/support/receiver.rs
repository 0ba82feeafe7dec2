//! The webhooks scenario's receiver (tests/webhooks/receiver.py): a process
//! on 127.0.0.1 that verifies every delivery with the Standard Webhooks
//! reference library, answering per path what the test sets, stopped and
//! started again on the same port.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

/// The receiver process, stopped and started again on the same port.
pub struct Receiver {
    pub port: u16,
    dir: PathBuf,
    config: Mutex<Value>,
    child: Mutex<Option<Child>>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let dir = std::env::temp_dir().join(format!("cm-e2e-hooks-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let r = Receiver {
            port,
            dir,
            config: Mutex::new(json!({"secrets": {}, "status": {}})),
            child: Mutex::new(None),
        };
        r.write_config();
        r.up();
        r
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Listening (again), on the same port.
    pub fn up(&self) {
        let mut child = self.child.lock().unwrap();
        if child.is_some() {
            return;
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut c = Command::new(root.join(".state/venv/bin/python"))
            .arg(root.join("tests/webhooks/receiver.py"))
            .arg(self.port.to_string())
            .arg(self.dir.join("config.json"))
            .arg(self.dir.join("received.jsonl"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the receiver (scripts/webhook-tools.sh installs its library)");
        let mut line = String::new();
        BufReader::new(c.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "READY", "the receiver did not start");
        *child = Some(c);
    }

    /// Not listening: connections are refused.
    pub fn down(&self) {
        if let Some(mut c) = self.child.lock().unwrap().take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// What `path` verifies with and answers (`None`: unchanged).
    pub fn set(&self, path: &str, secret: Option<&str>, status: Option<u16>) {
        {
            let mut c = self.config.lock().unwrap();
            if let Some(s) = secret {
                c["secrets"][path] = json!(s);
            }
            if let Some(s) = status {
                c["status"][path] = json!(s);
            }
        }
        self.write_config();
    }

    fn write_config(&self) {
        let tmp = self.dir.join("config.tmp");
        std::fs::write(&tmp, self.config.lock().unwrap().to_string()).unwrap();
        std::fs::rename(tmp, self.dir.join("config.json")).unwrap();
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.join("received.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The requests for one event at one path.
    pub fn of(&self, path: &str, event: &str) -> Vec<Value> {
        self.received()
            .into_iter()
            .filter(|r| r["path"] == path && r["webhook_id"] == event)
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.down();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
