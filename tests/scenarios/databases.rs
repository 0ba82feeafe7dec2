//! The suite's real database servers (tests/support/db.rs), seen from the
//! test side only, with the engines' own clients: TLS that verifies the test
//! CA and the host name on both, the seeded rows, every login (SCRAM and md5
//! on PostgreSQL, mysql_native_password on MariaDB), plain TCP still
//! accepted, a reader that cannot write and a wrong password refused.

use crate::support::db::{Databases, DbServer, Engine, Login, DATABASE, PRODUCTS};

pub fn servers(d: &Databases) {
    for s in [&d.pg, &d.maria] {
        seeded_over_verified_tls(s);
        logins(s);
    }
    md5_login(&d.pg);
    // What the worker is given: its trust store plus the test CA.
    let bundle = std::fs::read_to_string(&d.ca_bundle).unwrap();
    let ca = std::fs::read_to_string(&d.ca_cert).unwrap();
    assert!(bundle.ends_with(&ca) && bundle.len() > ca.len());
}

/// `SELECT` of the session's TLS version ("" when plain).
fn tls_version(s: &DbServer, login: &Login, tls: bool) -> String {
    let sql = match s.engine {
        Engine::Postgres => {
            "SELECT coalesce(max(version), '') FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl"
        }
        Engine::MariaDb => "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_version'",
    };
    s.sql_as(login, tls, sql)
        .unwrap_or_else(|e| panic!("{:?} as {}: {e}", s.engine, login.user))
}

fn seeded_over_verified_tls(s: &DbServer) {
    let app = s.app();
    let ids = s
        .sql_as(&app, true, "SELECT id FROM products ORDER BY id")
        .unwrap_or_else(|e| panic!("{:?}: {e}\n{}", s.engine, s.log_text()));
    let want: Vec<String> = PRODUCTS.iter().map(|p| p.id.to_string()).collect();
    assert_eq!(ids.lines().collect::<Vec<_>>(), want, "{:?}", s.engine);
    assert!(PRODUCTS.len() >= 12);
    let cafe = s
        .sql_as(&app, true, "SELECT name, price FROM products WHERE id = 4")
        .unwrap();
    assert_eq!(cafe, format!("{}\t{}", PRODUCTS[3].name, PRODUCTS[3].price));
    assert!(
        tls_version(s, &app, true).starts_with("TLSv1."),
        "{:?}",
        s.engine
    );
    // The DNS SAN verifies as well as the IP SAN.
    s.tcp("localhost", &app, true, DATABASE, "SELECT 1")
        .unwrap_or_else(|e| panic!("{:?} via localhost: {e}", s.engine));
    // The admin helper sees the same rows.
    assert_eq!(
        s.admin_sql("SELECT count(*) FROM products"),
        PRODUCTS.len().to_string()
    );
    let (scheme, mode) = match s.engine {
        Engine::Postgres => ("postgresql", "sslmode=require"),
        Engine::MariaDb => ("mysql", "ssl-mode=REQUIRED"),
    };
    assert_eq!(
        s.url(true),
        format!(
            "{scheme}://app:{}@127.0.0.1:{}/shop?{mode}",
            s.password, s.port
        )
    );
}

fn logins(s: &DbServer) {
    // Plain TCP is accepted: whether a pair may skip TLS is the worker's call.
    assert_eq!(tls_version(s, &s.app(), false), "", "{:?}", s.engine);
    let n = s
        .sql_as(&s.reader, true, "SELECT count(*) FROM products")
        .unwrap();
    assert_eq!(n, PRODUCTS.len().to_string());
    let write = s.sql_as(&s.reader, true, "DELETE FROM products WHERE id = 1");
    assert!(
        write.as_ref().is_err_and(|e| e.contains("denied")),
        "{:?}: {write:?}",
        s.engine
    );
    s.sql_as(&s.superuser, true, "SELECT 1")
        .unwrap_or_else(|e| panic!("{:?} superuser: {e}", s.engine));
    let wrong = Login::new(&s.user, "not-the-password");
    let refused = s.sql_as(&wrong, true, "SELECT 1").unwrap_err();
    let why = match s.engine {
        Engine::Postgres => "password authentication failed",
        Engine::MariaDb => "Access denied",
    };
    assert!(refused.contains(why), "{:?}: {refused}", s.engine);
}

fn md5_login(pg: &DbServer) {
    let md5 = pg.md5.as_ref().expect("PostgreSQL has an md5 login");
    // Stored as md5 (app as SCRAM), so the `md5` pg_hba line really runs md5.
    assert_eq!(
        pg.admin_sql(
            "SELECT rolname, rolpassword LIKE 'md5%', rolpassword LIKE 'SCRAM-SHA-256$%' \
             FROM pg_authid WHERE rolname IN ('app', 'md5user') ORDER BY 1"
        ),
        "app\tf\tt\nmd5user\tt\tf"
    );
    for tls in [true, false] {
        let n = pg
            .sql_as(md5, tls, "SELECT count(*) FROM products")
            .unwrap_or_else(|e| panic!("md5user (tls {tls}): {e}"));
        assert_eq!(n, PRODUCTS.len().to_string());
    }
    // The server's log names the method each login used.
    let log = pg.log_text();
    assert!(
        log.contains("identity=\"md5user\" method=md5"),
        "no md5 login in the log:\n{log}"
    );
    assert!(log.contains("identity=\"app\" method=scram-sha-256"));
}
