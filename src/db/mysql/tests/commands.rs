//! Commands against scripted servers: old-style EOF result sets and
//! prepares, truncation that leaves the connection usable, errors in the
//! middle of rows, CALL's extra results, NO_BACKSLASH_ESCAPES, packets over
//! 16 MiB both ways, LOCAL INFILE refused, and a connection that dies.

use serde_json::json;

use super::login::{counting, greeting, MYSQL8_CAPS};
use super::{pkt, run, session, target, Peer};
use crate::db::mysql::wire::{caps, status, MAX_CHUNK};
use crate::db::mysql::MysqlSession;
use crate::db::{DbError, Session};

const VARCHAR: u8 = 0xfd;
const LONG: u8 = 0x03;
const NEWDECIMAL: u8 = 0xf6;
const BLOB: u8 = 0xfc;

/// Logs a client in; `eof` chooses the old-style EOF packets (a server
/// without CLIENT_DEPRECATE_EOF, as MySQL 5.6).
async fn accept(peer: &mut Peer, eof: bool) {
    let offered = if eof {
        MYSQL8_CAPS & !caps::DEPRECATE_EOF
    } else {
        MYSQL8_CAPS
    };
    let version = if eof { "5.6.51" } else { "8.0.36" };
    peer.send(
        0,
        &greeting(version, offered, &counting(), "mysql_native_password"),
    )
    .await;
    let r = peer.expect_seq(1).await;
    let flags = u32::from_le_bytes(r[..4].try_into().unwrap());
    assert_eq!(
        flags & caps::DEPRECATE_EOF != 0,
        !eof,
        "DEPRECATE_EOF only when offered"
    );
    peer.send(2, &pkt::ok(0, 2)).await;
}

async fn query(peer: &mut Peer, sql: &str) {
    peer.expect(0, &[&[0x03][..], sql.as_bytes()].concat())
        .await;
}

async fn quit(peer: &mut Peer) {
    peer.expect(0, &[0x01]).await;
    peer.expect_closed().await;
}

/// Sends column definitions, then (old style) an EOF; returns the next id.
async fn columns(peer: &mut Peer, mut seq: u8, defs: &[Vec<u8>], eof: bool) -> u8 {
    for d in defs {
        peer.send(seq, d).await;
        seq += 1;
    }
    if eof {
        peer.send(seq, &pkt::eof(2)).await;
        seq += 1;
    }
    seq
}

fn end(eof: bool, status: u16) -> Vec<u8> {
    if eof {
        pkt::eof(status)
    } else {
        pkt::ok_end(status)
    }
}

type S = MysqlSession<super::Fake>;

#[test]
fn old_style_eof_result_sets_and_prepares() {
    let t = target("app", "secret", None, false);
    let (out, _, _) = run(
        |stream| {
            session(stream, &t, |mut s: S| async move {
                let rows = s
                    .query("SELECT id, d, b FROM t WHERE id > ?", &[json!(0)], 1)
                    .await;
                let dry = s.prepare("UPDATE t SET d = ? WHERE id = ?").await;
                let dry2 = s.prepare("SELECT id, d FROM t WHERE id = ?").await;
                let again = s.batch("SELECT 1").await;
                ((rows, dry, dry2, again), s)
            })
        },
        |mut peer| async move {
            accept(&mut peer, true).await;
            query(&mut peer, "SELECT id, d, b FROM t WHERE id > 0").await;
            peer.send(1, &[3]).await;
            let defs = [
                pkt::column("id", 63, LONG, 0),
                pkt::column("d", 63, NEWDECIMAL, 0),
                pkt::column("b", 63, BLOB, 144),
            ];
            let mut seq = columns(&mut peer, 2, &defs, true).await;
            for row in [
                pkt::row(&[Some(b"7"), Some(b"0.10"), Some(b"\xde\xad")]),
                pkt::row(&[Some(b"8"), None, None]),
            ] {
                peer.send(seq, &row).await;
                seq += 1;
            }
            peer.send(seq, &pkt::eof(2)).await;

            // PREPARE_OK: id 5, 0 columns, 2 parameters (then their
            // definitions and an EOF), and COM_STMT_CLOSE 5.
            peer.expect(0, b"\x16UPDATE t SET d = ? WHERE id = ?").await;
            peer.send(1, &[0, 5, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0]).await;
            let params = [pkt::column("?", 63, 0xfd, 0), pkt::column("?", 63, 0xfd, 0)];
            columns(&mut peer, 2, &params, true).await;
            peer.expect(0, &[0x19, 5, 0, 0, 0]).await;

            // id 6: 2 columns, 1 parameter.
            peer.expect(0, b"\x16SELECT id, d FROM t WHERE id = ?")
                .await;
            peer.send(1, &[0, 6, 0, 0, 0, 2, 0, 1, 0, 0, 0, 0]).await;
            let seq = columns(&mut peer, 2, &[pkt::column("?", 63, 0xfd, 0)], true).await;
            columns(&mut peer, seq, &defs[..2], true).await;
            peer.expect(0, &[0x19, 6, 0, 0, 0]).await;

            query(&mut peer, "SELECT 1").await;
            peer.send(1, &[1]).await;
            let seq = columns(&mut peer, 2, &[pkt::column("1", 63, LONG, 0)], true).await;
            peer.send(seq, &pkt::row(&[Some(b"1")])).await;
            peer.send(seq + 1, &pkt::eof(2)).await;
            quit(&mut peer).await;
        },
    );
    let (rows, dry, dry2, again) = out.unwrap();
    let rows = rows.unwrap();
    let names: Vec<_> = rows.columns.iter().map(|c| c.type_name.as_str()).collect();
    assert_eq!(names, ["INT", "DECIMAL", "BLOB"]);
    assert_eq!(
        rows.rows,
        vec![vec![json!(7), json!("0.10"), json!("\\xdead")]]
    );
    assert!(rows.truncated);
    assert_eq!(rows.affected, None);
    assert_eq!((dry, dry2, again), (Ok(()), Ok(()), Ok(())));
}

#[test]
fn errors_mid_rows_extra_call_results_and_prepare_errors_leave_it_usable() {
    let t = target("app", "secret", None, false);
    let (out, _, _) = run(
        |stream| {
            session(stream, &t, |mut s: S| async move {
                let failed = s.query("SELECT slow()", &[], 10).await;
                let call = s.query("CALL p()", &[], 10).await;
                let bad = s.prepare("SELEC 1").await;
                let update = s.query("UPDATE t SET a = 1", &[], 10).await;
                ((failed, call, bad, update), s)
            })
        },
        |mut peer| async move {
            accept(&mut peer, false).await;
            query(&mut peer, "SELECT slow()").await;
            peer.send(1, &[1]).await;
            peer.send(2, &pkt::column("slow()", 45, VARCHAR, 0)).await;
            peer.send(3, &pkt::row(&[Some(b"a")])).await;
            let msg = "Query execution was interrupted (max_statement_time exceeded)";
            peer.send(4, &pkt::err(1969, "70100", msg)).await;

            // CALL: a result set, a second one, then the CALL's own OK.
            query(&mut peer, "CALL p()").await;
            let more = 2 | status::MORE_RESULTS_EXISTS;
            peer.send(1, &[1]).await;
            peer.send(2, &pkt::column("a", 63, LONG, 0)).await;
            peer.send(3, &pkt::row(&[Some(b"1")])).await;
            peer.send(4, &end(false, more)).await;
            peer.send(5, &[1]).await;
            peer.send(6, &pkt::column("b", 63, LONG, 0)).await;
            peer.send(7, &pkt::row(&[Some(b"2")])).await;
            peer.send(8, &end(false, more)).await;
            peer.send(9, &pkt::ok(0, 2)).await;

            peer.expect(0, b"\x16SELEC 1").await;
            peer.send(
                1,
                &pkt::err(1064, "42000", "You have an error in your SQL syntax"),
            )
            .await;
            query(&mut peer, "UPDATE t SET a = 1").await;
            peer.send(1, &pkt::ok(3, 2)).await;
            quit(&mut peer).await;
        },
    );
    let (failed, call, bad, update) = out.unwrap();
    assert_eq!(
        failed,
        Err(DbError::Statement(
            "Query execution was interrupted (max_statement_time exceeded) \
             (MySQL error 1969, SQLSTATE 70100)"
                .into()
        ))
    );
    let call = call.unwrap();
    assert_eq!(
        (call.columns[0].name.as_str(), call.rows.clone()),
        ("a", vec![vec![json!(1)]])
    );
    assert!(matches!(bad, Err(DbError::Statement(m)) if m.contains("(MySQL error 1064")));
    let update = update.unwrap();
    assert_eq!((update.affected, update.columns.len()), (Some(3), 0));
}

#[test]
fn no_backslash_escapes_in_the_session_status_changes_the_scan() {
    let t = target("app", "secret", None, false);
    let sql = "SELECT 'a\\', ?";
    let (out, _, _) = run(
        |stream| {
            session(stream, &t, |mut s: S| async move {
                let set = s.batch("SET sql_mode = 'NO_BACKSLASH_ESCAPES'").await;
                let q = s.query(sql, &[json!("it's")], 10).await;
                ((set, q.map(|r| r.affected)), s)
            })
        },
        |mut peer| async move {
            accept(&mut peer, false).await;
            query(&mut peer, "SET sql_mode = 'NO_BACKSLASH_ESCAPES'").await;
            peer.send(1, &pkt::ok(0, 2 | status::NO_BACKSLASH_ESCAPES))
                .await;
            query(&mut peer, "SELECT 'a\\', _utf8mb4 X'69742773'").await;
            peer.send(1, &pkt::ok(0, 2 | status::NO_BACKSLASH_ESCAPES))
                .await;
            quit(&mut peer).await;
        },
    );
    assert_eq!(out.unwrap(), (Ok(()), Ok(Some(0))));
}

#[test]
fn packets_over_16_mib_are_split_and_joined() {
    let t = target("app", "secret", None, false);
    let big = "x".repeat(MAX_CHUNK / 2 + 10); // 16 MiB + 20 bytes as hex
    let long_cell = vec![b'y'; MAX_CHUNK + 100];
    // A row of exactly one chunk's size: an empty packet must follow it.
    let exact_cell = vec![b'z'; MAX_CHUNK - 4];
    let (out, _, _) = run(
        |stream| {
            session(stream, &t, |mut s: S| async move {
                let q = s.query("SELECT ?", &[json!(big)], 10).await;
                let next = s.query("SELECT 2", &[], 10).await;
                ((q, next), s)
            })
        },
        |mut peer| async move {
            accept(&mut peer, false).await;
            let got = peer.recv().await; // chunks joined, their ids checked
            assert_eq!(got.seq, 0);
            let sql = format!("\x03SELECT _utf8mb4 X'{}'", "78".repeat(MAX_CHUNK / 2 + 10));
            assert_eq!(got.payload.len(), sql.len());
            assert!(got.payload == sql.as_bytes());
            // The query took ids 0 and 1: the answer goes on from 2.
            peer.send(2, &[1]).await;
            peer.send(3, &pkt::column("v", 45, 0xfb, 16)).await;
            // This row starts with 0xFE (an 8-byte length), and is no EOF.
            let row = pkt::row(&[Some(&long_cell)]);
            assert_eq!(row[0], 0xFE);
            peer.send(4, &row).await; // ids 4 and 5
            let row = pkt::row(&[Some(&exact_cell)]);
            assert_eq!(row.len(), MAX_CHUNK);
            peer.send(6, &row).await; // ids 6 and 7 (empty)
            peer.send(8, &pkt::ok_end(2)).await;
            query(&mut peer, "SELECT 2").await;
            peer.send(1, &pkt::ok(0, 2)).await;
            quit(&mut peer).await;
        },
    );
    let (q, next) = out.unwrap();
    let rows = q.unwrap().rows;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][0].as_str().map(str::len), Some(MAX_CHUNK + 100));
    assert_eq!(rows[1][0].as_str().map(str::len), Some(MAX_CHUNK - 4));
    assert!(next.is_ok());
}

#[test]
fn local_infile_requests_are_refused() {
    let t = target("app", "secret", None, false);
    let (out, _, _) = run(
        |stream| {
            session(stream, &t, |mut s: S| async move {
                let q = s.query("LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t", &[], 1);
                (q.await, s)
            })
        },
        |mut peer| async move {
            accept(&mut peer, false).await;
            peer.recv().await;
            peer.send(1, b"\xfb/etc/passwd").await;
            peer.expect(2, b"").await; // no file: an empty packet
            peer.send(
                3,
                &pkt::err(1148, "42000", "The used command is not allowed"),
            )
            .await;
            quit(&mut peer).await;
        },
    );
    assert!(matches!(out.unwrap(), Err(DbError::Statement(m)) if m.contains("LOCAL INFILE")));
}

#[test]
fn binding_errors_send_nothing_and_a_lost_connection_stays_lost() {
    let t = target("app", "secret", None, false);
    let (out, log, _) = run(
        |stream| {
            session(stream, &t, |mut s: S| async move {
                let mismatch = s.query("SELECT ?, ?", &[json!(1)], 10).await;
                let object = s.query("SELECT ?", &[json!({"a": 1})], 10).await;
                let lost = s.query("SELECT 1", &[], 10).await;
                let after = s.query("SELECT 2", &[], 10).await;
                let dry = s.prepare("SELECT 3").await;
                ((mismatch, object, lost, after, dry), s)
            })
        },
        |mut peer| async move {
            accept(&mut peer, false).await;
            query(&mut peer, "SELECT 1").await;
            peer.send(1, &[1]).await;
            // The server goes away mid-result; close sends no COM_QUIT.
            peer.hang_up().await;
            peer.expect_closed().await;
        },
    );
    let (mismatch, object, lost, after, dry) = out.unwrap();
    assert_eq!(
        mismatch,
        Err(DbError::Statement(
            "The statement has 2 placeholders but 1 parameters were given.".into()
        ))
    );
    assert!(matches!(object, Err(DbError::Statement(m)) if m.contains("Parameter 1 is an object")));
    assert!(matches!(lost, Err(DbError::Unreachable(_))));
    assert!(matches!(after, Err(DbError::Unreachable(m)) if m.contains("earlier error")));
    assert!(matches!(dry, Err(DbError::Unreachable(_))));
    assert_eq!(log.len(), 2, "the login and SELECT 1 only");
}
