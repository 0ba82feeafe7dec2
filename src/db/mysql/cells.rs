//! Column definitions (ColumnDefinition41) and text-protocol cells turned
//! into JSON: integers and floats as numbers, DECIMAL as an exact string,
//! binary strings as `\x…` hex (as PostgreSQL shows bytea), the rest as
//! the text the server sent.

use serde_json::{Number, Value};

use super::wire::Reader;
use crate::db::{Column, DbError};

/// The `binary` character set: the column holds bytes, not text.
const BINARY: u16 = 63;

mod flag {
    pub const UNSIGNED: u16 = 32;
    pub const ENUM: u16 = 256;
    pub const SET: u16 = 2048;
}

/// Column types (enum_field_types).
mod ty {
    pub const DECIMAL: u8 = 0x00;
    pub const TINY: u8 = 0x01;
    pub const SHORT: u8 = 0x02;
    pub const LONG: u8 = 0x03;
    pub const FLOAT: u8 = 0x04;
    pub const DOUBLE: u8 = 0x05;
    pub const NULL: u8 = 0x06;
    pub const TIMESTAMP: u8 = 0x07;
    pub const LONGLONG: u8 = 0x08;
    pub const INT24: u8 = 0x09;
    pub const DATE: u8 = 0x0a;
    pub const TIME: u8 = 0x0b;
    pub const DATETIME: u8 = 0x0c;
    pub const YEAR: u8 = 0x0d;
    pub const NEWDATE: u8 = 0x0e;
    pub const VARCHAR: u8 = 0x0f;
    pub const BIT: u8 = 0x10;
    pub const TIMESTAMP2: u8 = 0x11;
    pub const DATETIME2: u8 = 0x12;
    pub const TIME2: u8 = 0x13;
    pub const VECTOR: u8 = 0xf2;
    pub const JSON: u8 = 0xf5;
    pub const NEWDECIMAL: u8 = 0xf6;
    pub const ENUM: u8 = 0xf7;
    pub const SET: u8 = 0xf8;
    pub const TINY_BLOB: u8 = 0xf9;
    pub const MEDIUM_BLOB: u8 = 0xfa;
    pub const LONG_BLOB: u8 = 0xfb;
    pub const BLOB: u8 = 0xfc;
    pub const VAR_STRING: u8 = 0xfd;
    pub const STRING: u8 = 0xfe;
    pub const GEOMETRY: u8 = 0xff;
}

/// What a result column is, as far as turning its cells into JSON goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    pub name: String,
    pub charset: u16,
    pub kind: u8,
    pub flags: u16,
}

pub fn parse_column(p: &[u8]) -> Result<ColumnDef, DbError> {
    let mut r = Reader::new(p);
    for _ in 0..4 {
        r.lenenc_bytes()?; // catalog, schema, table, original table
    }
    let name = String::from_utf8_lossy(r.lenenc_bytes()?.unwrap_or_default()).into_owned();
    r.lenenc_bytes()?; // original name
    r.lenenc_int()?; // length of the fixed fields (0x0c)
    let charset = r.u16()?;
    r.u32()?; // display length
    let kind = r.u8()?;
    let flags = r.u16()?;
    Ok(ColumnDef {
        name,
        charset,
        kind,
        flags,
    })
}

impl ColumnDef {
    fn binary(&self) -> bool {
        self.charset == BINARY
    }

    fn unsigned(&self) -> bool {
        self.flags & flag::UNSIGNED != 0
    }

    /// The type as SQL names it ("INT UNSIGNED", "VARCHAR", "BLOB"…).
    pub fn type_name(&self) -> String {
        let text_or =
            |text: &'static str, bin: &'static str| if self.binary() { bin } else { text };
        let base = match self.kind {
            ty::DECIMAL | ty::NEWDECIMAL => "DECIMAL",
            ty::TINY => "TINYINT",
            ty::SHORT => "SMALLINT",
            ty::INT24 => "MEDIUMINT",
            ty::LONG => "INT",
            ty::LONGLONG => "BIGINT",
            ty::FLOAT => "FLOAT",
            ty::DOUBLE => "DOUBLE",
            ty::NULL => "NULL",
            ty::TIMESTAMP | ty::TIMESTAMP2 => "TIMESTAMP",
            ty::DATE | ty::NEWDATE => "DATE",
            ty::TIME | ty::TIME2 => "TIME",
            ty::DATETIME | ty::DATETIME2 => "DATETIME",
            ty::YEAR => "YEAR",
            ty::BIT => "BIT",
            ty::VECTOR => "VECTOR",
            ty::JSON => "JSON",
            ty::ENUM => "ENUM",
            ty::SET => "SET",
            ty::STRING if self.flags & flag::ENUM != 0 => "ENUM",
            ty::STRING if self.flags & flag::SET != 0 => "SET",
            ty::STRING => text_or("CHAR", "BINARY"),
            ty::VARCHAR | ty::VAR_STRING => text_or("VARCHAR", "VARBINARY"),
            ty::TINY_BLOB => text_or("TINYTEXT", "TINYBLOB"),
            ty::MEDIUM_BLOB => text_or("MEDIUMTEXT", "MEDIUMBLOB"),
            ty::LONG_BLOB => text_or("LONGTEXT", "LONGBLOB"),
            ty::BLOB => text_or("TEXT", "BLOB"),
            ty::GEOMETRY => "GEOMETRY",
            other => return format!("TYPE {other}"),
        };
        let integer = matches!(
            self.kind,
            ty::TINY | ty::SHORT | ty::INT24 | ty::LONG | ty::LONGLONG
        );
        if self.unsigned() && (integer || matches!(self.kind, ty::DECIMAL | ty::NEWDECIMAL)) {
            format!("{base} UNSIGNED")
        } else {
            base.to_string()
        }
    }

    pub fn column(&self) -> Column {
        Column {
            name: self.name.clone(),
            type_name: self.type_name(),
        }
    }

    /// One cell as the text protocol sent it (`None`: NULL).
    pub fn cell(&self, raw: Option<&[u8]>) -> Value {
        let Some(raw) = raw else {
            return Value::Null;
        };
        let text = || String::from_utf8_lossy(raw).into_owned();
        match self.kind {
            ty::TINY | ty::SHORT | ty::INT24 | ty::LONG | ty::LONGLONG | ty::YEAR => {
                let s = std::str::from_utf8(raw).unwrap_or_default();
                let n = if self.unsigned() {
                    s.parse::<u64>().ok().map(Value::from)
                } else {
                    s.parse::<i64>().ok().map(Value::from)
                };
                n.unwrap_or_else(|| Value::String(text()))
            }
            ty::FLOAT | ty::DOUBLE => std::str::from_utf8(raw)
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .and_then(Number::from_f64)
                .map_or_else(|| Value::String(text()), Value::Number),
            ty::NULL => Value::Null,
            ty::BIT | ty::GEOMETRY | ty::VECTOR => Value::String(hex(raw)),
            ty::VARCHAR
            | ty::VAR_STRING
            | ty::STRING
            | ty::TINY_BLOB
            | ty::MEDIUM_BLOB
            | ty::LONG_BLOB
            | ty::BLOB
                if self.binary() =>
            {
                Value::String(hex(raw))
            }
            _ => Value::String(text()),
        }
    }
}

fn hex(raw: &[u8]) -> String {
    format!("\\x{}", hex::encode(raw))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn col(kind: u8, charset: u16, flags: u16) -> ColumnDef {
        ColumnDef {
            name: "c".into(),
            charset,
            kind,
            flags,
        }
    }

    #[test]
    fn parses_a_column_definition() {
        // def / app / t / t / n / n, 0x0c, charset 63, length 20, BIGINT,
        // UNSIGNED|NOT NULL, 0 decimals, filler.
        let mut p = vec![];
        for s in ["def", "app", "t", "t", "n", "n"] {
            p.push(s.len() as u8);
            p.extend_from_slice(s.as_bytes());
        }
        p.extend_from_slice(&[0x0c, 63, 0, 20, 0, 0, 0, ty::LONGLONG, 0x21, 0, 0, 0, 0]);
        let c = parse_column(&p).unwrap();
        let want = ColumnDef {
            name: "n".into(),
            ..col(ty::LONGLONG, 63, 0x21)
        };
        assert_eq!(c, want);
        assert_eq!(c.type_name(), "BIGINT UNSIGNED");
        assert!(parse_column(&p[..p.len() - 8]).is_err());
    }

    #[test]
    fn cells_become_json() {
        let utf8 = 45;
        let cases: Vec<(ColumnDef, Option<&[u8]>, Value)> = vec![
            (col(ty::LONG, 63, 0), Some(b"-42"), json!(-42)),
            (
                col(ty::LONGLONG, 63, flag::UNSIGNED),
                Some(b"18446744073709551615"),
                json!(18446744073709551615u64),
            ),
            (
                col(ty::LONGLONG, 63, 0),
                Some(b"-9223372036854775808"),
                json!(-9223372036854775808i64),
            ),
            (
                col(ty::LONG, 63, 64 | flag::UNSIGNED),
                Some(b"0007"),
                json!(7),
            ),
            (
                col(ty::YEAR, 63, flag::UNSIGNED),
                Some(b"2024"),
                json!(2024),
            ),
            (col(ty::DOUBLE, 63, 0), Some(b"1.5"), json!(1.5)),
            (col(ty::FLOAT, 63, 0), Some(b"-3e-5"), json!(-3e-5)),
            (col(ty::DOUBLE, 63, 0), Some(b"inf"), json!("inf")),
            (col(ty::NEWDECIMAL, 63, 0), Some(b"12.345"), json!("12.345")),
            (
                col(ty::NEWDECIMAL, 63, 0),
                Some(b"99999999999999999999.99"),
                json!("99999999999999999999.99"),
            ),
            (
                col(ty::VAR_STRING, utf8, 0),
                Some("héllo".as_bytes()),
                json!("héllo"),
            ),
            (
                col(ty::VAR_STRING, 63, 0),
                Some(b"\x00\xff"),
                json!("\\x00ff"),
            ),
            (col(ty::STRING, 63, 0), Some(b"ab"), json!("\\x6162")),
            (col(ty::BLOB, 63, 16), Some(b"\x01\x02"), json!("\\x0102")),
            (col(ty::BLOB, utf8, 16), Some(b"text"), json!("text")),
            (col(ty::BIT, 63, 0), Some(b"\x0a"), json!("\\x0a")),
            (
                col(ty::GEOMETRY, 63, 0),
                Some(b"\x00\x00"),
                json!("\\x0000"),
            ),
            (
                col(ty::DATETIME, 63, 0),
                Some(b"2024-01-02 03:04:05"),
                json!("2024-01-02 03:04:05"),
            ),
            (
                col(ty::DATE, 63, 0),
                Some(b"2024-01-02"),
                json!("2024-01-02"),
            ),
            (
                col(ty::JSON, 63, 0),
                Some(br#"{"a": 1}"#),
                json!(r#"{"a": 1}"#),
            ),
            (col(ty::STRING, utf8, flag::ENUM), Some(b"b"), json!("b")),
            (col(ty::LONG, 63, 0), None, Value::Null),
            (col(ty::VAR_STRING, 63, 0), None, Value::Null),
            (col(ty::NULL, 63, 0), Some(b""), Value::Null),
            (col(ty::VAR_STRING, 63, 0), Some(b""), json!("\\x")),
        ];
        for (c, raw, want) in cases {
            assert_eq!(c.cell(raw), want, "{c:?} {raw:?}");
        }
    }

    #[test]
    fn type_names_read_like_sql() {
        let utf8 = 45;
        let cases = [
            (col(ty::LONG, 63, 0), "INT"),
            (col(ty::TINY, 63, flag::UNSIGNED), "TINYINT UNSIGNED"),
            (col(ty::NEWDECIMAL, 63, 0), "DECIMAL"),
            (col(ty::VAR_STRING, utf8, 0), "VARCHAR"),
            (col(ty::VAR_STRING, 63, 0), "VARBINARY"),
            (col(ty::STRING, utf8, 0), "CHAR"),
            (col(ty::STRING, 63, 0), "BINARY"),
            (col(ty::STRING, utf8, flag::SET), "SET"),
            (col(ty::BLOB, utf8, 16), "TEXT"),
            (col(ty::BLOB, 63, 16), "BLOB"),
            (col(ty::DATETIME, 63, 0), "DATETIME"),
            (col(ty::DOUBLE, 63, flag::UNSIGNED), "DOUBLE"),
            (col(ty::JSON, 63, 0), "JSON"),
            (col(0x42, 63, 0), "TYPE 66"),
        ];
        for (c, want) in cases {
            assert_eq!(c.type_name(), want, "{c:?}");
            assert_eq!(c.column().type_name, want);
        }
    }
}
