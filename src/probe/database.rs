//! The credential path of a `transport: database` listing (API §3, §10):
//! the vault's connection string is read into a target, the SSRF guard
//! checks its host and port, and one connection runs the verify probe
//! (`SELECT 1` after the login) or one `sql` tool, and is closed. Messages
//! that leave carry neither the connection string nor the password.

use super::credential::{Net, Session};
use super::run::{redact, Outcome};
use crate::db::run::{self as sql, Call, Failure};
use crate::db::{target, DbError, Dialect, Target};
use serde_json::{Map, Value};

/// The dialect a listing's verify probe names (`verify.driver`).
pub fn dialect(session: &Session) -> Option<Dialect> {
    let driver = session.listing.verify.as_ref()?["driver"].as_str()?;
    Dialect::from_driver(driver)
}

/// The instance's target, checked; `Err` names why nothing is sent.
fn checked(session: &Session, net: &Net<'_>, d: Dialect) -> Result<Target, DbError> {
    let conn = session
        .fields
        .get("value")
        .ok_or_else(|| DbError::Refused("The connector holds no connection string.".into()))?;
    let t = target::parse(d, conn).map_err(|e| DbError::Refused(e.0))?;
    target::check(&t, net.client.allow).map_err(|r| DbError::Refused(r.0))?;
    Ok(t)
}

fn secrets<'s>(session: &'s Session, t: Option<&'s Target>) -> Vec<&'s str> {
    let mut s: Vec<&str> = session.fields.values().map(String::as_str).collect();
    if let Some(t) = t {
        s.push(&t.password);
    }
    s
}

/// Verify and health: connect, authenticate, `SELECT 1`.
pub async fn verify(session: &Session<'_>, net: &Net<'_>) -> Outcome {
    let Some(d) = dialect(session) else {
        return Outcome::Unsupported {
            message: "The listing names no database driver this worker speaks.".into(),
        };
    };
    let t = match checked(session, net, d) {
        Ok(t) => t,
        Err(e) => {
            return Outcome::Refused {
                message: redact(&e.to_string(), &secrets(session, None)),
            }
        }
    };
    let started = (net.clock)();
    let r = match net.db.connect(&t).await {
        Ok(mut s) => {
            let r = sql::ping(&mut *s).await;
            s.close().await;
            r
        }
        Err(e) => Err(e),
    };
    let latency_ms = ((net.clock)() - started).max(0) as u64;
    let said = |e: &DbError| redact(&e.to_string(), &secrets(session, Some(&t)));
    match r {
        // Status 0: the answer was not HTTP.
        Ok(()) => Outcome::Accepted {
            status: 0,
            latency_ms,
        },
        Err(e @ (DbError::Auth(_) | DbError::Statement(_))) => Outcome::Rejected {
            status: 0,
            snippet: format!("{} refused the login: {}", d.name(), said(&e)),
            latency_ms,
            reason: None,
        },
        Err(e @ DbError::Refused(_)) => Outcome::Refused { message: said(&e) },
        Err(e @ DbError::Unreachable(_)) => Outcome::Unreachable { message: said(&e) },
    }
}

/// One `sql` tool call on a fresh connection.
pub async fn tool(
    session: &Session<'_>,
    net: &Net<'_>,
    kind: &str,
    arguments: &Map<String, Value>,
    dry_run: bool,
) -> Result<Value, Failure> {
    let d = dialect(session).ok_or_else(|| {
        Failure::Refused(sql::Refusal::Unknown(
            "The listing names no database driver this worker speaks.".into(),
        ))
    })?;
    let call = Call {
        dialect: d,
        kind,
        arguments,
        config: session.config,
        dry_run,
    };
    sql::check(&call).map_err(Failure::Refused)?;
    let scrub = |e: DbError, t: Option<&Target>| {
        let m = redact(&e.to_string(), &secrets(session, t));
        Failure::Db(match e {
            DbError::Refused(_) => DbError::Refused(m),
            DbError::Unreachable(_) => DbError::Unreachable(m),
            DbError::Auth(_) => DbError::Auth(format!("{} refused the login: {m}", d.name())),
            DbError::Statement(_) => DbError::Statement(m),
        })
    };
    let t = checked(session, net, d).map_err(|e| scrub(e, None))?;
    let mut s = net.db.connect(&t).await.map_err(|e| scrub(e, Some(&t)))?;
    let r = sql::tool(&mut *s, &call).await;
    s.close().await;
    r.map_err(|f| match f {
        Failure::Db(e) => scrub(e, Some(&t)),
        refused => refused,
    })
}
