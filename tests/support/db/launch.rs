//! Starting the servers: each data folder initialised and each server run
//! as its own Unix user, in its own process group, with a parent-death
//! signal; the temporary folder and its clean-up.

use super::tls::Tls;
use super::{
    DbServer, Engine, Login, APP_PASSWORD, DATABASE, HOST, MD5_PASSWORD, PG_BIN, READER_PASSWORD,
    SUPER_PASSWORD,
};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Checks the tools are installed, clears what killed runs left, and makes
/// this run's folder (mode 755: the servers' users reach their own inside).
pub(super) fn temp_dir() -> TempDir {
    let pg = ["initdb", "postgres", "psql"].map(|t| format!("{PG_BIN}/{t}"));
    let others = [
        "/usr/sbin/mariadbd",
        "/usr/bin/mariadb-install-db",
        "/usr/bin/mariadb",
        "/usr/bin/openssl",
        "/usr/bin/setpriv",
    ];
    for tool in pg.iter().map(String::as_str).chain(others) {
        require(Path::new(tool));
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    sweep_stale();
    TempDir::new(std::env::temp_dir().join(format!("{PREFIX}{}-{nanos}", std::process::id())))
}

/// Runs initdb and mariadb-install-db side by side; answers the two
/// servers' folders (`pg/`, `maria/`), each owned by its server's user.
pub(super) fn init_data(root: &Path) -> (PathBuf, PathBuf) {
    let pg_home = owned_dir(&root.join("pg"), "postgres");
    let maria_home = owned_dir(&root.join("maria"), "mysql");
    let pwfile = pg_home.join("pwfile");
    std::fs::write(&pwfile, SUPER_PASSWORD).unwrap();
    chown(&pwfile, "postgres");
    let initdb = spawn_logged(
        as_user("postgres", None, &format!("{PG_BIN}/initdb"))
            .arg("-D")
            .arg(pg_home.join("data"))
            .arg(format!("--pwfile={}", pwfile.display()))
            .args([
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ])
            .args([
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
                "--no-instructions",
            ]),
        &pg_home.join("initdb.log"),
    );
    let install = spawn_logged(
        as_user("mysql", None, "/usr/bin/mariadb-install-db")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", maria_home.join("data").display()))
            .args(["--skip-test-db", "--skip-name-resolve"]),
        &maria_home.join("install.log"),
    );
    finish(initdb, "initdb", &pg_home.join("initdb.log"));
    finish(
        install,
        "mariadb-install-db",
        &maria_home.join("install.log"),
    );

    (pg_home, maria_home)
}

pub(super) fn postgres(home: &Path, tls: &Tls) -> DbServer {
    let data = home.join("data");
    let run = owned_dir(&home.join("run"), "postgres");
    for (from, to) in [
        (&tls.leaf_cert, "server.crt"),
        (&tls.leaf_key, "server.key"),
    ] {
        std::fs::copy(from, data.join(to)).unwrap();
        chown(&data.join(to), "postgres");
    }
    let port = free_port();
    let conf = format!(
        "\n# cm e2e\nlisten_addresses = '{HOST}'\nport = {port}\nunix_socket_directories = '{}'\n\
         ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n\
         password_encryption = 'scram-sha-256'\nlog_connections = on\n\
         fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n",
        run.display()
    );
    append(&data.join("postgresql.conf"), &conf);
    // md5user first: the first matching line decides.
    std::fs::write(
        data.join("pg_hba.conf"),
        format!(
            "local all all trust\n\
             hostssl all md5user {HOST}/32 md5\n\
             host all md5user {HOST}/32 md5\n\
             hostssl all all {HOST}/32 scram-sha-256\n\
             host all all {HOST}/32 scram-sha-256\n"
        ),
    )
    .unwrap();
    let log = home.join("postgres.log");
    let mut cmd = as_user("postgres", Some("INT"), &format!("{PG_BIN}/postgres"));
    cmd.arg("-D").arg(&data);
    DbServer {
        engine: Engine::Postgres,
        port,
        user: "app".into(),
        password: APP_PASSWORD.into(),
        database: DATABASE.into(),
        reader: Login::new("reader", READER_PASSWORD),
        md5: Some(Login::new("md5user", MD5_PASSWORD)),
        superuser: Login::new("postgres", SUPER_PASSWORD),
        version: String::new(),
        ca_cert: tls.ca_cert.clone(),
        // SIGINT: PostgreSQL's fast shutdown (SIGTERM waits for clients).
        proc: Proc::spawn(cmd, &log, "INT"),
        log,
        socket: run,
    }
}

pub(super) fn mariadb(home: &Path, tls: &Tls) -> DbServer {
    for (from, to) in [
        (&tls.leaf_cert, "server.crt"),
        (&tls.leaf_key, "server.key"),
        (&tls.ca_cert, "ca.crt"),
    ] {
        std::fs::copy(from, home.join(to)).unwrap();
        chown(&home.join(to), "mysql");
    }
    let port = free_port();
    let socket = home.join("mariadb.sock");
    let log = home.join("mariadb.log");
    let path = |name: &str| home.join(name).display().to_string();
    let mut cmd = as_user("mysql", Some("TERM"), "/usr/sbin/mariadbd");
    cmd.arg("--no-defaults")
        .arg(format!("--datadir={}", path("data")))
        .arg(format!("--port={port}"))
        .arg(format!("--bind-address={HOST}"))
        .arg(format!("--socket={}", socket.display()))
        .arg(format!("--pid-file={}", path("mariadb.pid")))
        .arg(format!("--tmpdir={}", home.display()))
        .arg(format!("--ssl-cert={}", path("server.crt")))
        .arg(format!("--ssl-key={}", path("server.key")))
        .arg(format!("--ssl-ca={}", path("ca.crt")))
        .args(["--skip-name-resolve", "--character-set-server=utf8mb4"])
        .args([
            "--collation-server=utf8mb4_unicode_ci",
            "--innodb-buffer-pool-size=32M",
        ])
        .args([
            "--innodb-flush-log-at-trx-commit=0",
            "--innodb-doublewrite=0",
        ]);
    DbServer {
        engine: Engine::MariaDb,
        port,
        user: "app".into(),
        password: APP_PASSWORD.into(),
        database: DATABASE.into(),
        reader: Login::new("reader", READER_PASSWORD),
        md5: None,
        superuser: Login::new("admin", SUPER_PASSWORD),
        version: String::new(),
        ca_cert: tls.ca_cert.clone(),
        proc: Proc::spawn(cmd, &log, "TERM"),
        log,
        socket,
    }
}

/// A server process: its own process group; stopped by its pid with the
/// engine's shutdown signal, then its whole group killed if it lingers.
pub(super) struct Proc {
    pub(super) child: Child,
    stop: &'static str,
}

impl Proc {
    fn spawn(mut cmd: Command, log: &Path, stop: &'static str) -> Proc {
        let child = spawn_logged(cmd.process_group(0), log);
        Proc { child, stop }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return;
        }
        let pid = self.child.id().to_string();
        let _ = Command::new("kill")
            .args([&format!("-{}", self.stop), &pid])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .status();
        let _ = self.child.wait();
    }
}

/// The temp folders' names: `cm-e2e-db-<pid>-<nanos>`.
const PREFIX: &str = "cm-e2e-db-";

/// Removes the folders of runs whose process is gone (killed: its servers
/// stopped on their parent-death signal, but nothing removed the folder).
fn sweep_stale() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix(PREFIX)
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|p| !Path::new(&format!("/proc/{p}")).exists()) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// A folder removed when dropped (the servers' own files included: root
/// removes them whoever owns them).
pub(super) struct TempDir(pub(super) PathBuf);

impl TempDir {
    fn new(path: PathBuf) -> TempDir {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(&path).expect("the databases' temp folder");
        // The servers' users must reach their folders inside.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `setpriv` runs `program` as `user` (no supplementary groups), in place:
/// the child's pid is the program's. `pdeathsig` is sent to it if the thread
/// that spawned it ends first.
fn as_user(user: &str, pdeathsig: Option<&str>, program: &str) -> Command {
    let mut c = Command::new("/usr/bin/setpriv");
    c.arg(format!("--reuid={user}"))
        .arg(format!("--regid={user}"))
        .arg("--clear-groups");
    if let Some(sig) = pdeathsig {
        c.arg(format!("--pdeathsig={sig}"));
    }
    c.arg("--")
        .arg(program)
        .current_dir("/")
        .env("HOME", "/tmp");
    c
}

fn spawn_logged(cmd: &mut Command, log: &Path) -> Child {
    let out = std::fs::File::create(log).expect("a log file");
    let err = out.try_clone().unwrap();
    cmd.stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"))
}

fn finish(mut child: Child, what: &str, log: &Path) {
    let status = child.wait().unwrap();
    if !status.success() {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        panic!("{what} failed ({status}):\n{text}");
    }
}

pub(super) fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    if !out.status.success() {
        panic!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn require(path: &Path) {
    assert!(
        path.exists(),
        "{} is missing: run scripts/db-servers.sh (make e2e does)",
        path.display()
    );
}

/// A folder owned by `user` (mode 755).
fn owned_dir(path: &Path, user: &str) -> PathBuf {
    std::fs::create_dir_all(path).unwrap();
    chown(path, user);
    path.to_path_buf()
}

/// Gives `path` to `user` (and its group); a key stays mode 600.
fn chown(path: &Path, user: &str) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let (uid, gid) = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 3 && f[0] == user)
        .map(|f| (f[2].parse().unwrap(), f[3].parse().unwrap()))
        .unwrap_or_else(|| panic!("no user {user}: run scripts/db-servers.sh"));
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    if path.extension().is_some_and(|e| e == "key") {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

fn append(path: &Path, text: &str) {
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .unwrap();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind((HOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}
