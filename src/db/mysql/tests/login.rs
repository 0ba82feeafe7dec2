//! Logins against scripted servers: MySQL 8-style greetings
//! (caching_sha2_password, TLS offered, DEPRECATE_EOF), fast and full
//! authentication, auth switches, refusals, and MariaDB with TLS.

use super::{assert_never_in_clear, pkt, run, session, target, unhex, Peer, Sent};
use crate::db::mysql::connect;
use crate::db::mysql::wire::caps;
use crate::db::{DbError, Session, Target};

/// What MySQL 8.0 offers (every capability but SSL_VERIFY_SERVER_CERT).
pub const MYSQL8_CAPS: u32 = 0xDFFF_FFFF;
/// The nonce of these scripts: bytes 1 to 20.
pub fn counting() -> Vec<u8> {
    (1..=20).collect()
}
/// The scramble vectors of `auth`'s tests, for "secret".
const SHA2_SECRET_COUNTING: &str =
    "746ebe205d56a0707acb3e796e834e0dd7b1d61743b26bd5202c7a623230c7c9";
const NATIVE_SECRET_MARIADB: &str = "f5ba3b450781ead4ca80ac721c4d44da33981d89";
const MARIADB_NONCE: &str = "22337a2e737c352f2b2b356728315d5f457b5e45";

/// A HandshakeV10 laid out as MySQL 8.0 sends it.
pub fn greeting(version: &str, caps: u32, nonce: &[u8], plugin: &str) -> Vec<u8> {
    let mut p = vec![10];
    p.extend_from_slice(version.as_bytes());
    p.push(0);
    p.extend_from_slice(&12u32.to_le_bytes()); // connection id
    p.extend_from_slice(&nonce[..8]);
    p.push(0);
    p.extend_from_slice(&(caps as u16).to_le_bytes());
    p.push(255); // utf8mb4_0900_ai_ci
    p.extend_from_slice(&2u16.to_le_bytes()); // autocommit
    p.extend_from_slice(&((caps >> 16) as u16).to_le_bytes());
    p.push(21);
    p.extend_from_slice(&[0; 10]);
    p.extend_from_slice(&nonce[8..]);
    p.push(0);
    p.extend_from_slice(plugin.as_bytes());
    p.push(0);
    p
}

fn mysql8(plugin: &str) -> Vec<u8> {
    greeting("8.0.36", MYSQL8_CAPS, &counting(), plugin)
}

/// The parts of a HandshakeResponse41: flags, user, auth data, database
/// (when CONNECT_WITH_DB), plugin.
struct Response {
    flags: u32,
    charset: u8,
    user: Vec<u8>,
    auth: Vec<u8>,
    database: Option<Vec<u8>>,
    plugin: Vec<u8>,
}

fn response(p: &[u8]) -> Response {
    let flags = u32::from_le_bytes(p[..4].try_into().unwrap());
    assert!(p[9..32].iter().all(|&b| b == 0), "filler");
    let mut rest = &p[32..];
    let mut nul = || {
        let i = rest.iter().position(|&b| b == 0).unwrap();
        let s = rest[..i].to_vec();
        rest = &rest[i + 1..];
        s
    };
    let user = nul();
    assert!(flags & caps::PLUGIN_AUTH_LENENC_DATA != 0);
    let n = usize::from(rest[0]);
    let auth = rest[1..1 + n].to_vec();
    rest = &rest[1 + n..];
    let mut nul = || {
        let i = rest.iter().position(|&b| b == 0).unwrap();
        let s = rest[..i].to_vec();
        rest = &rest[i + 1..];
        s
    };
    let database = (flags & caps::CONNECT_WITH_DB != 0).then(&mut nul);
    let plugin = nul();
    Response {
        flags,
        charset: p[8],
        user,
        auth,
        database,
        plugin,
    }
}

/// Connects and closes; the server script runs alongside.
fn login<G, F>(t: &Target, server: G) -> (Result<(), DbError>, Vec<Sent>, bool)
where
    G: FnOnce(Peer) -> F,
    F: std::future::Future<Output = ()>,
{
    run(|stream| session(stream, t, |s| async { ((), s) }), server)
}

#[test]
fn mysql8_over_tls_with_full_caching_sha2_authentication() {
    let t = target("app", "secret", Some("shop"), true);
    let (out, log, tls) = login(&t, |mut peer| async move {
        peer.send(0, &mysql8("caching_sha2_password")).await;
        let ssl = peer.expect_seq(1).await;
        assert_eq!(ssl.len(), 32, "SSLRequest");
        let r = peer.expect_seq(2).await;
        assert_eq!(
            &r[..32],
            &ssl[..],
            "the response begins as the SSLRequest did"
        );
        let r = response(&r);
        assert!(r.flags & caps::SSL != 0);
        assert_eq!(r.user, b"app");
        assert_eq!(r.database.as_deref(), Some(&b"shop"[..]));
        assert_eq!(r.plugin, b"caching_sha2_password");
        assert_eq!(hex::encode(&r.auth), SHA2_SECRET_COUNTING);
        peer.send(3, &[0x01, 0x04]).await; // perform full authentication
        peer.expect(4, b"secret\0").await;
        peer.send(5, &pkt::ok(0, 2)).await;
        peer.expect(0, &[0x01]).await; // COM_QUIT
        peer.expect_closed().await;
    });
    assert_eq!(out, Ok(()));
    assert!(tls, "start_tls was called");
    assert!(
        !log[0].tls && log[1].tls,
        "TLS began right after the SSLRequest"
    );
    assert_never_in_clear(&log, b"secret");
}

#[test]
fn mysql8_fast_authentication_without_tls() {
    let t = target("app", "secret", None, false);
    let (out, log, tls) = login(&t, |mut peer| async move {
        peer.send(0, &mysql8("caching_sha2_password")).await;
        let r = response(&peer.expect_seq(1).await);
        assert_eq!(r.flags & (caps::SSL | caps::CONNECT_WITH_DB), 0);
        assert!(r.database.is_none());
        assert_eq!(r.charset, 45);
        assert_eq!(hex::encode(&r.auth), SHA2_SECRET_COUNTING);
        peer.send(2, &[0x01, 0x03]).await; // fast auth success
        peer.send(3, &pkt::ok(0, 2)).await;
        peer.expect(0, &[0x01]).await;
        peer.expect_closed().await;
    });
    assert_eq!(out, Ok(()));
    assert!(!tls);
    assert_never_in_clear(&log, b"secret");
}

#[test]
fn full_authentication_without_tls_is_refused_and_sends_nothing() {
    let t = target("app", "secret", None, false);
    let (out, log, _) = login(&t, |mut peer| async move {
        peer.send(0, &mysql8("caching_sha2_password")).await;
        peer.expect_seq(1).await;
        peer.send(2, &[0x01, 0x04]).await;
        peer.expect_closed().await;
    });
    match out {
        Err(DbError::Auth(m)) => {
            assert!(
                m.contains("TLS") && m.contains("caching_sha2_password"),
                "{m}"
            );
            assert!(!m.contains("secret"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(log.len(), 1);
    assert_never_in_clear(&log, b"secret");
}

#[test]
fn an_auth_switch_to_native_password_answers_the_new_nonce() {
    let t = target("legacy", "secret", None, false);
    let (out, log, _) = login(&t, |mut peer| async move {
        peer.send(0, &mysql8("caching_sha2_password")).await;
        peer.expect_seq(1).await;
        let mut switch = b"\xfemysql_native_password\0".to_vec();
        switch.extend_from_slice(&unhex(MARIADB_NONCE));
        switch.push(0);
        peer.send(2, &switch).await;
        peer.expect(3, &unhex(NATIVE_SECRET_MARIADB)).await;
        peer.send(4, &pkt::ok(0, 2)).await;
        peer.expect(0, &[0x01]).await;
        peer.expect_closed().await;
    });
    assert_eq!(out, Ok(()));
    assert_eq!(log.len(), 3);
}

#[test]
fn an_auth_switch_to_an_unknown_plugin_names_it() {
    let t = target("ed", "secret", None, false);
    let (out, _, _) = login(&t, |mut peer| async move {
        let nonce = unhex(MARIADB_NONCE);
        let g = greeting(
            "5.5.5-10.11.6-MariaDB",
            MYSQL8_CAPS,
            &nonce,
            "mysql_native_password",
        );
        peer.send(0, &g).await;
        peer.expect_seq(1).await;
        peer.send(2, b"\xfeclient_ed25519\0abcdefghijklmnopqrstuvwxyzabcdef")
            .await;
        peer.expect_closed().await;
    });
    match out {
        Err(DbError::Auth(m)) => assert!(m.contains("'client_ed25519'"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_err_during_login_is_an_auth_failure_in_the_servers_words() {
    let t = target("app", "wrong", Some("shop"), false);
    let message = "Access denied for user 'app'@'10.0.0.1' (using password: YES)";
    let (out, _, _) = login(&t, |mut peer| async move {
        peer.send(0, &mysql8("caching_sha2_password")).await;
        peer.expect_seq(1).await;
        peer.send(2, &pkt::err(1045, "28000", message)).await;
        peer.expect_closed().await;
    });
    assert_eq!(out, Err(DbError::Auth(message.into())));
}

#[test]
fn tls_is_required_when_asked_for_and_nothing_is_sent_without_it() {
    let t = target("app", "secret", None, true);
    let (out, log, tls) = login(&t, |mut peer| async move {
        peer.send(
            0,
            &greeting("8.0.36", MYSQL8_CAPS & !caps::SSL, &counting(), "x"),
        )
        .await;
        peer.expect_closed().await;
    });
    assert!(matches!(out, Err(DbError::Unreachable(m)) if m.contains("TLS")));
    assert!(log.is_empty() && !tls);
}

#[test]
fn mariadb_over_tls_with_native_password_and_an_empty_one() {
    // The recorded MariaDB greeting, had the server a certificate.
    let mut g = unhex(concat!(
        "0a352e352e352d31302e31312e31392d4d6172696144422d302b64656231327531000500000022337a",
        "2e737c352f00fef7080200ff81150000000000001d0000002b2b356728315d5f457b5e45006d797371",
        "6c5f6e61746976655f70617373776f726400"
    ));
    let caps_at = 1 + "5.5.5-10.11.19-MariaDB-0+deb12u1".len() + 1 + 4 + 8 + 1;
    g[caps_at + 1] |= (caps::SSL >> 8) as u8;
    for (password, auth) in [("secret", unhex(NATIVE_SECRET_MARIADB)), ("", vec![])] {
        let t = target("app", password, None, true);
        let g = g.clone();
        let (out, log, tls) = login(&t, |mut peer| async move {
            peer.send(0, &g).await;
            assert_eq!(peer.expect_seq(1).await.len(), 32);
            let r = response(&peer.expect_seq(2).await);
            assert_eq!(
                r.flags & caps::LONG_PASSWORD,
                1,
                "CLIENT_MYSQL set by the client"
            );
            assert_eq!(r.auth, auth);
            assert_eq!(r.plugin, b"mysql_native_password");
            peer.send(3, &pkt::ok(0, 2)).await;
            peer.expect(0, &[0x01]).await;
            peer.expect_closed().await;
        });
        assert_eq!(out, Ok(()));
        assert!(tls && log[1].tls);
    }
}

#[test]
fn old_passwords_silence_and_strangers_are_refused() {
    let t = target("app", "secret", None, false);
    let (out, _, _) = login(&t, |mut peer| async move {
        peer.send(0, &mysql8("mysql_native_password")).await;
        peer.expect_seq(1).await;
        peer.send(2, &[0xFE]).await;
        peer.expect_closed().await;
    });
    assert!(matches!(out, Err(DbError::Auth(m)) if m.contains("mysql_old_password")));

    let (out, _, _) = login(&t, |peer| async move { drop(peer) });
    assert!(matches!(out, Err(DbError::Unreachable(m)) if m.contains("closed")));

    let (out, _, _) = login(&t, |mut peer| async move {
        peer.send(0, b"\x09not mysql\0").await;
        peer.expect_closed().await;
    });
    assert!(matches!(out, Err(DbError::Unreachable(m)) if m.contains("protocol version 9")));

    let (out, _, _) = login(&t, |mut peer| async move {
        peer.send(1, &mysql8("mysql_native_password")).await;
        peer.expect_closed().await;
    });
    assert!(matches!(out, Err(DbError::Unreachable(m)) if m.contains("out of order")));

    // A NUL in the user name would end it early: refused before a byte.
    let (out, _, _) = run(
        |stream| async move {
            connect(stream, &target("a\0b", "x", None, false))
                .await
                .map(|_| ())
        },
        |mut peer| async move { peer.expect_closed().await },
    );
    assert!(matches!(out, Err(DbError::Refused(_))));
}

#[test]
fn the_server_info_says_what_the_greeting_said() {
    let t = target("app", "", None, false);
    let (out, _, _) = run(
        |stream| session(stream, &t, |s| async { (s.server(), s) }),
        |mut peer| async move {
            peer.send(0, &mysql8("caching_sha2_password")).await;
            let r = response(&peer.expect_seq(1).await);
            assert!(r.auth.is_empty(), "an empty password is an empty answer");
            peer.send(2, &pkt::ok(0, 2)).await;
            peer.expect(0, &[0x01]).await;
            peer.expect_closed().await;
        },
    );
    let info = out.unwrap();
    assert_eq!(info.version, "8.0.36");
    assert!(!info.mariadb);
}
