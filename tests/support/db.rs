//! Real database servers for the end-to-end suite: a PostgreSQL 15 and a
//! MariaDB that [`Databases::start`] runs on free ports of 127.0.0.1 with
//! fresh data in a temporary folder, both serving TLS with a leaf certificate
//! (IP 127.0.0.1, DNS localhost) signed by a test CA made at start with
//! openssl; no key is ever committed. workerd verifies server certificates
//! (fetch and `connect()`'s StartTLS alike) and trusts that CA through
//! `NODE_EXTRA_CA_CERTS` = [`Databases::ca_bundle`] in `wrangler dev`'s
//! environment: miniflare reads the file and hands its certificates to
//! workerd's outbound network (`tlsOptions.trustedCertificates`, next to the
//! browser CAs it keeps). scripts/db-servers.sh installs the servers
//! (`make e2e` runs it).
//!
//! Each server runs as its own Unix user (`postgres`, `mysql`; initdb refuses
//! root) under `setpriv --pdeathsig`: should the suite die without unwinding
//! (SIGKILL, abort, Ctrl-C) the servers stop too. The signal fires when the
//! thread that started them ends, so start them on one that outlives them
//! (the e2e `main`). Dropping [`Databases`], on a panic's unwind too, stops
//! both (each by its pid, then its process group) and removes the folder.

use launch::{Proc, TempDir};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tls::Tls;

mod launch;
pub mod seed;
mod tls;
pub use seed::PRODUCTS;

/// Where both servers listen (and the leaf certificate's IP SAN).
pub const HOST: &str = "127.0.0.1";
/// The seeded database on both servers.
pub const DATABASE: &str = "shop";

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
const READY_WITHIN: Duration = Duration::from_secs(60);
const APP_PASSWORD: &str = "app-pw-3b9e51c7";
const READER_PASSWORD: &str = "reader-pw-a62f0d14";
const MD5_PASSWORD: &str = "md5-pw-e81c4a95";
const SUPER_PASSWORD: &str = "super-pw-7d41c0b2";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    MariaDb,
}

/// A user name and its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub user: String,
    pub password: String,
}

impl Login {
    pub fn new(user: &str, password: &str) -> Login {
        Login {
            user: user.into(),
            password: password.into(),
        }
    }
}

/// One running server. `user`/`password` are the owner of [`DATABASE`]
/// (`app`: all privileges on it); `reader` may only SELECT; `superuser` is
/// PostgreSQL's `postgres` or MariaDB's `admin` (all privileges, over TCP).
pub struct DbServer {
    pub engine: Engine,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub database: String,
    pub reader: Login,
    /// PostgreSQL only: `md5user`, whose password is stored as md5 and whose
    /// pg_hba line says `md5` (everyone else authenticates with SCRAM-SHA-256).
    pub md5: Option<Login>,
    pub superuser: Login,
    /// `SHOW server_version` / `SELECT VERSION()`, e.g. `15.18 (Debian …)`.
    pub version: String,
    /// The test CA alone (psql's `sslrootcert`, mariadb's `--ssl-ca`).
    pub ca_cert: PathBuf,
    /// The server's own log (PostgreSQL logs every connection, with its TLS).
    pub log: PathBuf,
    /// PostgreSQL: the socket folder; MariaDB: the socket file.
    socket: PathBuf,
    proc: Proc,
}

impl DbServer {
    /// `127.0.0.1:<port>`, as PROBE_ALLOW_HOSTS lists it.
    pub fn addr(&self) -> String {
        format!("{HOST}:{}", self.port)
    }

    /// The owner's (`app`) login.
    pub fn app(&self) -> Login {
        Login::new(&self.user, &self.password)
    }

    /// The owner's connection string: `postgresql://app:…@127.0.0.1:N/shop?sslmode=require`
    /// or `mysql://app:…@127.0.0.1:N/shop?ssl-mode=REQUIRED`; without TLS
    /// `sslmode=disable` / `ssl-mode=DISABLED`.
    pub fn url(&self, tls: bool) -> String {
        self.url_for(&self.app(), tls)
    }

    /// [`DbServer::url`] for another login (user and password percent-encoded).
    pub fn url_for(&self, login: &Login, tls: bool) -> String {
        let (scheme, mode) = match (self.engine, tls) {
            (Engine::Postgres, true) => ("postgresql", "sslmode=require"),
            (Engine::Postgres, false) => ("postgresql", "sslmode=disable"),
            (Engine::MariaDb, true) => ("mysql", "ssl-mode=REQUIRED"),
            (Engine::MariaDb, false) => ("mysql", "ssl-mode=DISABLED"),
        };
        format!(
            "{scheme}://{}:{}@{}/{}?{mode}",
            encode(&login.user),
            encode(&login.password),
            self.addr(),
            self.database
        )
    }

    /// Runs `sql` (any number of statements) on [`DATABASE`] as the
    /// superuser over the local socket and answers what it printed: one line
    /// per row, columns tab-separated, no header (psql shows NULL as an empty
    /// field, mariadb as `NULL`). Panics with the client's error on failure:
    /// for setup and assertions.
    pub fn admin_sql(&self, sql: &str) -> String {
        self.admin_on(&self.database, sql)
            .unwrap_or_else(|e| panic!("{:?} admin SQL failed: {e}\nSQL: {sql}", self.engine))
    }

    /// Runs `sql` on [`DATABASE`] as `login` over TCP with the engine's own
    /// client, as an outside client would: with `tls`, TLS verifying the
    /// certificate against the test CA and the host name (psql
    /// `sslmode=verify-full`, mariadb `--ssl-verify-server-cert`); without,
    /// plain TCP. Output as [`DbServer::admin_sql`]; `Err` is the client's
    /// error text (a refused login, a TLS failure, an SQL error).
    pub fn sql_as(&self, login: &Login, tls: bool, sql: &str) -> Result<String, String> {
        self.tcp(HOST, login, tls, &self.database, sql)
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `sql_as` with the host name and database chosen (`localhost` checks
    /// the DNS SAN).
    pub fn tcp(
        &self,
        host: &str,
        login: &Login,
        tls: bool,
        db: &str,
        sql: &str,
    ) -> Result<String, String> {
        let ca = self.ca_cert.display();
        match self.engine {
            Engine::Postgres => {
                let ssl = if tls {
                    format!("sslmode=verify-full sslrootcert='{ca}'")
                } else {
                    "sslmode=disable".into()
                };
                let conninfo = format!(
                    "host={host} port={} dbname='{db}' user='{}' connect_timeout=5 {ssl}",
                    self.port, login.user
                );
                let mut c = psql();
                c.arg("-d").arg(conninfo).env("PGPASSWORD", &login.password);
                feed(c, sql)
            }
            Engine::MariaDb => {
                let mut c = mariadb();
                c.args(["--protocol=TCP", "--connect-timeout=5", "-h", host])
                    .arg(format!("--port={}", self.port))
                    .arg(format!("--user={}", login.user))
                    .env("MYSQL_PWD", &login.password);
                if tls {
                    c.arg("--ssl")
                        .arg(format!("--ssl-ca={ca}"))
                        .arg("--ssl-verify-server-cert");
                } else {
                    c.arg("--skip-ssl");
                }
                c.arg(db);
                feed(c, sql)
            }
        }
    }

    /// The superuser over the socket (trust / unix_socket authentication).
    fn admin_on(&self, db: &str, sql: &str) -> Result<String, String> {
        match self.engine {
            Engine::Postgres => {
                let mut c = psql();
                c.arg("-h")
                    .arg(&self.socket)
                    .arg(format!("--port={}", self.port))
                    .args(["-U", "postgres", "-d", db]);
                feed(c, sql)
            }
            Engine::MariaDb => {
                let mut c = mariadb();
                c.arg(format!("--socket={}", self.socket.display()))
                    .args(["--user=root", db]);
                feed(c, sql)
            }
        }
    }

    /// Polls `probe` until it succeeds; panics with the last error and the
    /// server's log when the server exits or [`READY_WITHIN`] passes.
    fn wait_for(&mut self, what: &str, probe: impl Fn(&DbServer) -> Result<String, String>) {
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            let err = match probe(self) {
                Ok(_) => return,
                Err(e) => e,
            };
            let exited = self.proc.child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                panic!(
                    "{:?} on port {}: {what} failed ({}); last error: {err}\n--- its log ---\n{}",
                    self.engine,
                    self.port,
                    exited.map_or("timed out".into(), |s| format!("exited: {s}")),
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Both servers, seeded, and the TLS files. Fields drop in order: the servers
/// stop before the folder goes.
pub struct Databases {
    pub pg: DbServer,
    pub maria: DbServer,
    /// For `NODE_EXTRA_CA_CERTS`: the system bundle followed by the test CA
    /// (wrangler's own Node reads the variable too: it must stay a full set).
    pub ca_bundle: PathBuf,
    /// The test CA alone.
    pub ca_cert: PathBuf,
    /// The leaf certificate (IP 127.0.0.1, DNS localhost) and its key, for
    /// any other TLS server a test runs (root-readable only).
    pub leaf_cert: PathBuf,
    pub leaf_key: PathBuf,
    /// How long [`Databases::start`] took.
    pub started_in: Duration,
    _dir: TempDir,
}

impl Databases {
    /// Makes the CA and leaf, initialises both data folders (in parallel),
    /// starts both servers, waits until each accepts a TLS connection that
    /// verifies against the CA, and seeds [`DATABASE`] with [`PRODUCTS`] and
    /// the logins. Panics (with the server's log) if either cannot start;
    /// whatever had started is stopped again. About 2 s.
    pub fn start() -> Databases {
        let started = Instant::now();
        let dir = launch::temp_dir();
        let tls = Tls::make(&dir.0.join("tls"));
        let (pg_home, maria_home) = launch::init_data(&dir.0);
        let mut pg = launch::postgres(&pg_home, &tls);
        let mut maria = launch::mariadb(&maria_home, &tls);

        pg.wait_for("a TLS login as postgres (verify-full)", |s| {
            s.tcp(HOST, &s.superuser, true, "postgres", "SELECT 1")
        });
        let (roles, shop) = seed::postgres(APP_PASSWORD, READER_PASSWORD, MD5_PASSWORD);
        pg.admin_on("postgres", &roles)
            .unwrap_or_else(|e| panic!("PostgreSQL roles: {e}"));
        pg.admin_sql(&shop);
        pg.version = pg.admin_sql("SHOW server_version");

        maria.wait_for("a login as root over the socket", |s| {
            s.admin_on("mysql", "SELECT 1")
        });
        maria
            .admin_on(
                "mysql",
                &seed::mariadb(APP_PASSWORD, READER_PASSWORD, SUPER_PASSWORD),
            )
            .unwrap_or_else(|e| panic!("MariaDB seed: {e}"));
        maria.version = maria.admin_sql("SELECT VERSION()");
        maria.wait_for("a TLS login as app (verify server cert)", |s| {
            s.sql_as(&s.app(), true, "SELECT 1")
        });

        let started_in = started.elapsed();
        eprintln!(
            "[e2e] databases ready in {started_in:?}: PostgreSQL {} on {}, MariaDB {} on {}",
            pg.version, pg.port, maria.version, maria.port
        );
        Databases {
            pg,
            maria,
            ca_bundle: tls.bundle,
            ca_cert: tls.ca_cert,
            leaf_cert: tls.leaf_cert,
            leaf_key: tls.leaf_key,
            started_in,
            _dir: dir,
        }
    }

    /// `127.0.0.1:<pg>,127.0.0.1:<maria>`, for PROBE_ALLOW_HOSTS.
    pub fn allow_hosts(&self) -> String {
        format!("{},{}", self.pg.addr(), self.maria.addr())
    }

    /// `("NODE_EXTRA_CA_CERTS", <ca_bundle>)`, for `Server::start`.
    pub fn wrangler_env(&self) -> (&'static str, &str) {
        (
            "NODE_EXTRA_CA_CERTS",
            self.ca_bundle.to_str().expect("a UTF-8 temp path"),
        )
    }
}

fn psql() -> Command {
    let mut c = Command::new(format!("{PG_BIN}/psql"));
    // No psqlrc, unaligned, rows only, tab-separated; stop at the first error.
    c.args([
        "-X",
        "-A",
        "-t",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-F",
        "\t",
        "-f",
        "-",
    ]);
    c
}

fn mariadb() -> Command {
    let mut c = Command::new("/usr/bin/mariadb");
    // Rows only, tab-separated; stops at the first error.
    c.args(["--no-defaults", "--batch", "--skip-column-names"]);
    c
}

/// Runs a client with `sql` on its stdin (written from a thread: a long
/// answer cannot stall it); `Ok(stdout)` without its last newline.
fn feed(mut c: Command, sql: &str) -> Result<String, String> {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {c:?}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let sql = sql.to_string();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(sql.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() {
        Ok(stdout.strip_suffix('\n').unwrap_or(&stdout).to_string())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stderr).trim_end(),
            if stdout.is_empty() {
                String::new()
            } else {
                format!("\n(stdout: {stdout})")
            }
        ))
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
