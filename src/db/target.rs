//! Connection strings (the vault's `conn_string` value) read into a
//! [`Target`], and the SSRF guard of API §10 applied to its host and port.
//!
//! PostgreSQL takes both forms its libpq documents: the URI
//! (`postgresql://user:pass@host:5432/db?sslmode=require`) and keyword/value
//! (`host=db.example.com port=5432 dbname=app user=app password='s p'`).
//! MySQL takes its URI (`mysql://user:pass@host:3306/db?ssl-mode=REQUIRED`).
//! TLS is on unless the string turns it off (`sslmode=disable`,
//! `ssl-mode=DISABLED`); `verify-ca`/`verify-full` mean TLS too, and the
//! platform always verifies the certificate. `prefer`/`allow` (TLS if the
//! server offers it) are read as `require`: a downgrade is not offered.

use crate::probe::guard::{self, AllowList};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Mysql,
}

impl Dialect {
    /// A manifest's `verify.driver`.
    pub fn from_driver(driver: &str) -> Option<Dialect> {
        match driver {
            "postgres" | "postgresql" => Some(Dialect::Postgres),
            "mysql" | "mariadb" => Some(Dialect::Mysql),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "PostgreSQL",
            Dialect::Mysql => "MySQL",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Dialect::Postgres => 5432,
            Dialect::Mysql => 3306,
        }
    }
}

/// Where to connect and as whom. Holds the password: not `Debug` beyond the
/// host, never logged.
#[derive(Clone, PartialEq)]
pub struct Target {
    pub dialect: Dialect,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub database: Option<String>,
    /// StartTLS before authenticating (the default).
    pub tls: bool,
    pub connect_timeout_ms: u64,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("dialect", &self.dialect)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

/// Why a connection string is unusable; never quotes the string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadTarget(pub String);

fn bad<T>(m: impl Into<String>) -> Result<T, BadTarget> {
    Err(BadTarget(m.into()))
}

/// Reads a connection string of `dialect`.
pub fn parse(dialect: Dialect, s: &str) -> Result<Target, BadTarget> {
    let s = s.trim();
    let uri = match dialect {
        Dialect::Postgres => s.starts_with("postgres://") || s.starts_with("postgresql://"),
        Dialect::Mysql => s.starts_with("mysql://"),
    };
    let pairs = if uri {
        uri_pairs(dialect, s)?
    } else if dialect == Dialect::Postgres && s.contains('=') {
        keyword_pairs(s)?
    } else {
        return bad(match dialect {
            Dialect::Postgres => {
                "The connection string must be a postgresql:// URI or libpq keyword=value pairs."
            }
            Dialect::Mysql => "The connection string must be a mysql:// URI.",
        });
    };
    let mut t = Target {
        dialect,
        host: String::new(),
        port: dialect.default_port(),
        user: String::new(),
        password: String::new(),
        database: None,
        tls: true,
        connect_timeout_ms: super::CONNECT_TIMEOUT_MS,
    };
    for (k, v) in pairs {
        match k.as_str() {
            "host" | "hostaddr" => t.host = v,
            "port" => {
                t.port = v
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| BadTarget(format!("The port '{v}' is not 1–65535.")))?
            }
            "user" => t.user = v,
            "password" => t.password = v,
            "dbname" | "database" => t.database = Some(v).filter(|d| !d.is_empty()),
            "connect_timeout" => {
                let secs: u64 = v.parse().map_err(|_| {
                    BadTarget("connect_timeout must be a whole number of seconds.".into())
                })?;
                // libpq: 0 means wait forever; here the default cap holds.
                if (1..=super::CONNECT_TIMEOUT_MS / 1000).contains(&secs) {
                    t.connect_timeout_ms = secs * 1000;
                }
            }
            "sslmode" | "ssl-mode" | "ssl_mode" => {
                t.tls = match v.to_ascii_lowercase().as_str() {
                    "disable" | "disabled" => false,
                    "allow" | "prefer" | "preferred" | "require" | "required" | "verify-ca"
                    | "verify_ca" | "verify-full" | "verify_identity" => true,
                    other => return bad(format!("The sslmode '{other}' is not known.")),
                }
            }
            // Options that change nothing here (application_name, …) are
            // accepted and ignored; one that would move the connection is not.
            "service" | "passfile" | "sslcert" | "sslkey" | "sslrootcert" | "options" => {
                return bad(format!(
                    "The connection option '{k}' is not supported here."
                ))
            }
            _ => {}
        }
    }
    if t.host.is_empty() {
        return bad("The connection string names no host.");
    }
    if t.host.contains(',') {
        return bad("The connection string must name one host (no failover lists).");
    }
    if t.host.starts_with('/') {
        return bad("Unix sockets cannot be reached from the edge; name a host.");
    }
    if t.user.is_empty() {
        return bad("The connection string names no user.");
    }
    Ok(t)
}

fn uri_pairs(dialect: Dialect, s: &str) -> Result<Vec<(String, String)>, BadTarget> {
    let u = url::Url::parse(s)
        .map_err(|_| BadTarget(format!("The {} URI is not valid.", dialect.name())))?;
    let dec =
        |x: &str| percent_decode(x).ok_or_else(|| BadTarget("The URI has a bad %-escape.".into()));
    let mut out = vec![];
    if let Some(h) = u.host_str() {
        out.push((
            "host".to_string(),
            h.trim_start_matches('[').trim_end_matches(']').to_string(),
        ));
    }
    if let Some(p) = u.port() {
        out.push(("port".into(), p.to_string()));
    }
    out.push(("user".into(), dec(u.username())?));
    if let Some(p) = u.password() {
        out.push(("password".into(), dec(p)?));
    }
    let db = u.path().trim_start_matches('/');
    if !db.is_empty() {
        out.push(("dbname".into(), dec(db)?));
    }
    for (k, v) in u.query_pairs() {
        out.push((k.into_owned(), v.into_owned()));
    }
    Ok(out)
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// libpq keyword/value: `key = value` pairs separated by spaces; a value may
/// be single-quoted with `\'` and `\\` escapes.
fn keyword_pairs(s: &str) -> Result<Vec<(String, String)>, BadTarget> {
    let mut out = vec![];
    let mut it = s.chars().peekable();
    loop {
        while it.peek().is_some_and(|c| c.is_whitespace()) {
            it.next();
        }
        if it.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = it.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            it.next();
        }
        while it.peek().is_some_and(|c| c.is_whitespace()) {
            it.next();
        }
        if it.next() != Some('=') || key.is_empty() {
            return bad("The keyword/value connection string is malformed (expected key=value).");
        }
        while it.peek().is_some_and(|c| c.is_whitespace()) {
            it.next();
        }
        let mut value = String::new();
        if it.peek() == Some(&'\'') {
            it.next();
            loop {
                match it.next() {
                    Some('\\') => match it.next() {
                        Some(c) => value.push(c),
                        None => return bad("The connection string ends inside a quoted value."),
                    },
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => return bad("The connection string ends inside a quoted value."),
                }
            }
        } else {
            while let Some(&c) = it.peek() {
                if c.is_whitespace() {
                    break;
                }
                if c == '\\' {
                    it.next();
                    if let Some(n) = it.next() {
                        value.push(n);
                    }
                    continue;
                }
                value.push(c);
                it.next();
            }
        }
        out.push((key.to_ascii_lowercase(), value));
    }
    Ok(out)
}

/// The SSRF guard (API §10) for a socket: TLS targets follow the https
/// rules (a public address, or a listed development pair); plain TCP is
/// allowed only to a `PROBE_ALLOW_HOSTS` pair.
pub fn check(t: &Target, allow: &AllowList) -> Result<(), guard::Refused> {
    let host = if t.host.contains(':') {
        format!("[{}]", t.host)
    } else {
        t.host.clone()
    };
    let scheme = if t.tls { "https" } else { "http" };
    match guard::check(&format!("{scheme}://{host}:{}/", t.port), allow) {
        Ok(_) => Ok(()),
        Err(_) if !t.tls && guard::check(&format!("https://{host}:{}/", t.port), allow).is_ok() => {
            Err(guard::Refused(format!(
                "Plain TCP to {host}:{} is not allowed; use TLS (remove sslmode=disable).",
                t.port
            )))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests;
