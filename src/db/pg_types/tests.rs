use super::*;

fn enc(v: Value, ty: &Type) -> Result<Vec<u8>, String> {
    let mut b = BytesMut::new();
    match Param(&v).to_sql(ty, &mut b) {
        Ok(IsNull::No) => Ok(b.to_vec()),
        Ok(IsNull::Yes) => Ok(vec![]),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn numerics_round_trip_exactly() {
    for s in [
        "0",
        "12.3400",
        "-0.5",
        "123456789.000001",
        "0.0001",
        "10000",
        "-98765432109876543210.5",
        "1.10",
    ] {
        let mut b = BytesMut::new();
        numeric_encode(s, &mut b).unwrap();
        assert_eq!(numeric_decode(&b).unwrap(), s, "{s}");
    }
    // 12.3400: two base-10000 digits [12, 3400], weight 0, dscale 4.
    let mut b = BytesMut::new();
    numeric_encode("12.3400", &mut b).unwrap();
    assert_eq!(b.to_vec(), vec![0, 2, 0, 0, 0, 0, 0, 4, 0, 12, 0x0d, 0x48]);
    for bad in ["1e3", "", ".", "12a", "--1"] {
        assert!(numeric_encode(bad, &mut BytesMut::new()).is_err(), "{bad}");
    }
}

#[test]
fn dates_and_timestamps_use_the_2000_epoch() {
    assert_eq!(date_parse("2000-01-01").unwrap().0, 0);
    assert_eq!(date_parse("1999-12-31").unwrap().0, -1);
    assert_eq!(date_parse("2026-12-01").unwrap().0, 9831);
    assert!(date_parse("2026-02-29").is_err());
    assert!(date_parse("2024-02-29").is_ok());
    assert_eq!(date_text(9831), "2026-12-01");
    assert_eq!(date_text(-1), "1999-12-31");
    assert_eq!(
        timestamp_parse("2026-12-01T10:00:00.5+01:00", true).unwrap(),
        849_430_800_500_000
    );
    assert!(timestamp_parse("2026-12-01 10:00", true).is_err());
    assert!(timestamp_parse("2026-12-01T10:00Z", false).is_err());
    let raw = 849_430_800_500_000i64.to_be_bytes();
    assert_eq!(
        decode(&Type::TIMESTAMPTZ, &raw).unwrap(),
        json!("2026-12-01T09:00:00.5Z")
    );
    assert_eq!(
        enc(json!("2026-12-01 09:00:00.5Z"), &Type::TIMESTAMPTZ).unwrap(),
        raw.to_vec()
    );
}

#[test]
fn params_take_the_placeholders_type() {
    assert_eq!(enc(json!(7), &Type::INT4).unwrap(), 7i32.to_be_bytes());
    assert_eq!(enc(json!("7"), &Type::INT8).unwrap(), 7i64.to_be_bytes());
    assert_eq!(enc(json!(7), &Type::TEXT).unwrap(), b"7");
    assert_eq!(enc(json!(true), &Type::BOOL).unwrap(), [1]);
    assert_eq!(
        enc(json!(1.5), &Type::FLOAT8).unwrap(),
        1.5f64.to_be_bytes()
    );
    assert_eq!(enc(json!(null), &Type::INT4).unwrap(), Vec::<u8>::new());
    assert_eq!(
        enc(json!({"a": 1}), &Type::JSONB).unwrap(),
        b"\x01{\"a\":1}"
    );
    assert_eq!(enc(json!("\\x00ff"), &Type::BYTEA).unwrap(), [0, 255]);
    // A quote or a statement in a value is only ever bytes of the value.
    let evil = "x'); DROP TABLE products; --";
    assert_eq!(enc(json!(evil), &Type::TEXT).unwrap(), evil.as_bytes());
    assert!(enc(json!(70000), &Type::INT2)
        .unwrap_err()
        .contains("out of range"));
    assert!(enc(json!("seven"), &Type::INT4).is_err());
    assert!(enc(json!([1]), &Type::INT4).is_err());
    let e = enc(json!("10.0.0.1"), &Type::INET).unwrap_err();
    assert!(e.contains("$1::text::inet"), "{e}");
}

#[test]
fn cells_read_back_as_json() {
    assert_eq!(
        decode(&Type::INT8, &42i64.to_be_bytes()).unwrap(),
        json!(42)
    );
    assert_eq!(
        decode(&Type::FLOAT8, &f64::NAN.to_be_bytes()).unwrap(),
        json!("NaN")
    );
    assert_eq!(
        decode(&Type::JSONB, b"\x01[1,\"a\"]").unwrap(),
        json!([1, "a"])
    );
    let uuid = hex::decode("0b3c5d2e1a2b4c3d8e9f0a1b2c3d4e5f").unwrap();
    assert_eq!(
        decode(&Type::UUID, &uuid).unwrap(),
        json!("0b3c5d2e-1a2b-4c3d-8e9f-0a1b2c3d4e5f")
    );
    assert_eq!(decode(&Type::BYTEA, &[0, 255]).unwrap(), json!("\\x00ff"));
    assert_eq!(
        decode(&Type::TIME, &3_723_000_000i64.to_be_bytes()).unwrap(),
        json!("01:02:03")
    );
    // text[] {a,NULL,b}: ndim 1, has_null 1, oid 25, dim 3 lower 1.
    let mut raw = vec![];
    for n in [1i32, 1, 25, 3, 1] {
        raw.extend(n.to_be_bytes());
    }
    raw.extend(1i32.to_be_bytes());
    raw.push(b'a');
    raw.extend((-1i32).to_be_bytes());
    raw.extend(1i32.to_be_bytes());
    raw.push(b'b');
    assert_eq!(
        decode(&Type::TEXT_ARRAY, &raw).unwrap(),
        json!(["a", null, "b"])
    );
    assert!(decode(&Type::TEXT_ARRAY, &raw[..raw.len() - 1]).is_err());
    assert_eq!(
        decode(&Type::INET, &[4, 32, 0, 4, 10, 0, 0, 1]).unwrap(),
        Value::Null
    );
}
