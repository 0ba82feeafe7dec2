//! A real conversation with MariaDB 10.11.19 (recorded through a logging
//! proxy, user `app`, password `s3cr'et-pw`, database `app`), replayed: the
//! server's packets are sent as they were, and the client must send, byte
//! for byte, what it sent then (its scramble is a function of the
//! server's, so the login replays too).

use serde_json::json;

use super::{assert_never_in_clear, run, session, target, unhex};
use crate::db::mysql::wire::caps;
use crate::db::{Column, DbError, Rows, Session};

/// (who sent it: Server or Client, sequence id, payload)
const TRANSCRIPT: &[(char, u8, &str)] = &[
    // HandshakeV10: "5.5.5-10.11.19-MariaDB-0+deb12u1", mysql_native_password
    (
        'S',
        0,
        concat!(
            "0a352e352e352d31302e31312e31392d4d6172696144422d302b646562313275310019000000",
            "6e3764743c6d2f4000fef7080200ff81150000000000001d00000037323348513f294c246b70",
            "71006d7973716c5f6e61746976655f70617373776f726400",
        ),
    ),
    // HandshakeResponse41: user app, native scramble, CONNECT_WITH_DB app
    (
        'C',
        1,
        concat!(
            "0da22a01000000042d000000000000000000000000000000000000000000000061707000148d",
            "05d641d34ffc37c84fee74d846f7615b98e0eb617070006d7973716c5f6e61746976655f7061",
            "7373776f726400",
        ),
    ),
    // OK
    ('S', 2, "00000002000000"),
    // COM_QUERY SELECT id, n, d, b, s FROM t ORDER BY id
    (
        'C',
        0,
        concat!(
            "0353454c4543542069642c206e2c20642c20622c20732046524f4d2074204f52444552204259",
            "206964",
        ),
    ),
    // 5 columns: INT, BIGINT UNSIGNED, DECIMAL, VARBINARY, VARCHAR
    ('S', 1, "05"),
    (
        'S',
        2,
        "0364656603617070017401740269640269640c3f000b000000030350000000",
    ),
    (
        'S',
        3,
        "036465660361707001740174016e016e0c3f0014000000082000000000",
    ),
    (
        'S',
        4,
        "036465660361707001740174016401640c3f000c000000f60000030000",
    ),
    (
        'S',
        5,
        "036465660361707001740174016201620c3f000a000000fd8000000000",
    ),
    (
        'S',
        6,
        "036465660361707001740174017301730c2d0050000000fd0000000000",
    ),
    // rows: 1, 18446744073709551615, 12.345, 00ff, héllo / 2, NULL × 4
    (
        'S',
        7,
        concat!(
            "01311431383434363734343037333730393535313631350631322e3334350200ff0668c3a96c",
            "6c6f",
        ),
    ),
    ('S', 8, "0132fbfbfbfb"),
    // OK (0xFE): the end of the rows
    ('S', 9, "fe000022000000"),
    // COM_QUERY SELECT seq FROM seq_1_to_5
    (
        'C',
        0,
        "0353454c454354207365712046524f4d207365715f315f746f5f35",
    ),
    ('S', 1, "01"),
    (
        'S',
        2,
        concat!(
            "03646566036170700a7365715f315f746f5f350a7365715f315f746f5f350373657103736571",
            "0c3f0014000000082350000000",
        ),
    ),
    ('S', 3, "0131"),
    ('S', 4, "0132"),
    ('S', 5, "0133"),
    ('S', 6, "0134"),
    ('S', 7, "0135"),
    ('S', 8, "fe000022000000"),
    // COM_STMT_PREPARE SELECT id, s FROM t WHERE id = ?: id 9, 2 columns, 1 parameter
    (
        'C',
        0,
        "1653454c4543542069642c20732046524f4d2074205748455245206964203d203f",
    ),
    ('S', 1, "000900000002000100000000"),
    ('S', 2, "03646566000000013f000c3f0000000000068000000000"),
    (
        'S',
        3,
        "0364656603617070017401740269640269640c3f000b000000030350000000",
    ),
    (
        'S',
        4,
        "036465660361707001740174017301730c2d0050000000fd0000000000",
    ),
    // COM_STMT_CLOSE 9
    ('C', 0, "1909000000"),
    // COM_QUERY DELETE FROM t WHERE id = 42 (bound): OK, 0 rows
    (
        'C',
        0,
        "0344454c4554452046524f4d2074205748455245206964203d203432",
    ),
    ('S', 1, "00000002000000"),
    // COM_QUERY SELECT * FROM nosuch: ERR 1146
    ('C', 0, "0353454c454354202a2046524f4d206e6f73756368"),
    (
        'S',
        1,
        concat!(
            "ff7a042334325330325461626c6520276170702e6e6f737563682720646f65736e2774206578",
            "697374",
        ),
    ),
    // COM_QUIT
    ('C', 0, "01"),
];

fn col(name: &str, type_name: &str) -> Column {
    Column {
        name: name.into(),
        type_name: type_name.into(),
    }
}

#[test]
fn replays_a_mariadb_conversation() {
    let t = target("app", "s3cr'et-pw", Some("app"), false);
    let (out, log, tls) = run(
        |stream| {
            session(stream, &t, |mut s| async move {
                let info = s.server();
                let rows = s
                    .query("SELECT id, n, d, b, s FROM t ORDER BY id", &[], 10)
                    .await;
                let capped = s.query("SELECT seq FROM seq_1_to_5", &[], 2).await;
                let dry = s.prepare("SELECT id, s FROM t WHERE id = ?").await;
                let delete = s.query("DELETE FROM t WHERE id = ?", &[json!(42)], 2).await;
                let missing = s.query("SELECT * FROM nosuch", &[], 2).await;
                ((info, rows, capped, dry, delete, missing), s)
            })
        },
        |mut peer| async move {
            for &(who, seq, payload) in TRANSCRIPT {
                match who {
                    'S' => peer.send_hex(seq, payload).await,
                    _ => peer.expect(seq, &unhex(payload)).await,
                }
            }
            peer.expect_closed().await;
        },
    );
    let (info, rows, capped, dry, delete, missing) = out.unwrap();
    assert!(!tls);
    assert_eq!(info.version, "10.11.19-MariaDB-0+deb12u1");
    assert!(info.mariadb);
    assert_eq!(
        rows.unwrap(),
        Rows {
            columns: vec![
                col("id", "INT"),
                col("n", "BIGINT UNSIGNED"),
                col("d", "DECIMAL"),
                col("b", "VARBINARY"),
                col("s", "VARCHAR"),
            ],
            rows: vec![
                vec![
                    json!(1),
                    json!(18446744073709551615u64),
                    json!("12.345"),
                    json!("\\x00ff"),
                    json!("héllo")
                ],
                vec![json!(2), json!(null), json!(null), json!(null), json!(null)],
            ],
            truncated: false,
            affected: None,
        }
    );
    let capped = capped.unwrap();
    assert_eq!(capped.rows, vec![vec![json!(1)], vec![json!(2)]]);
    assert!(capped.truncated);
    assert_eq!(dry, Ok(()));
    assert_eq!(delete.unwrap().affected, Some(0));
    assert_eq!(
        missing,
        Err(DbError::Statement(
            "Table 'app.nosuch' doesn't exist (MariaDB error 1146, SQLSTATE 42S02)".into()
        ))
    );

    // What the login said: protocol 4.1, the database, utf8mb4, and no
    // multi-statements, LOCAL INFILE or SSL; never the password.
    let response = &log[0];
    assert_eq!(response.seq, 1);
    let flags = u32::from_le_bytes(response.payload[..4].try_into().unwrap());
    for (bit, want) in [
        (caps::PROTOCOL_41, true),
        (caps::SECURE_CONNECTION, true),
        (caps::PLUGIN_AUTH, true),
        (caps::CONNECT_WITH_DB, true),
        (caps::TRANSACTIONS, true),
        (caps::DEPRECATE_EOF, true),
        (1 << 16, false), // CLIENT_MULTI_STATEMENTS
        (1 << 7, false),  // CLIENT_LOCAL_FILES
        (caps::SSL, false),
    ] {
        assert_eq!(flags & bit != 0, want, "capability {bit:#x}");
    }
    assert_eq!(response.payload[8], 45, "utf8mb4_general_ci");
    assert!(response.payload.ends_with(b"app\0mysql_native_password\0"));
    assert_never_in_clear(&log, b"s3cr'et-pw");
    // Every command starts again at sequence 0.
    assert!(log[1..].iter().all(|s| s.seq == 0));
}
