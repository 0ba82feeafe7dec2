//! PostgreSQL values ↔ JSON. A tool's `params` are JSON (string, number,
//! boolean, null); [`Param`] sends each in the binary form of the type the
//! server inferred for its placeholder, so a value is always bound, never
//! spliced into the SQL. [`Cell`] reads any result column back as JSON.
//!
//! Sent: bool, int2/4/8, oid, float4/8, numeric, the text types (and enums,
//! domains over them), json/jsonb, uuid, bytea (`\x…` hex or text), date,
//! timestamp, timestamptz. A placeholder of another type asks for a cast
//! (`$1::text::inet`). Read: those, arrays of them, `"char"`, time; a type
//! without a reader here comes back as `null` and its column's type name
//! says which (cast it to text in the SQL to see it).

use bytes::{BufMut, BytesMut};
use postgres_types::{FromSql, IsNull, Kind, ToSql, Type};
use serde_json::{json, Value};
use std::error::Error;

type BoxError = Box<dyn Error + Sync + Send>;

fn err(m: String) -> BoxError {
    m.into()
}

/// One JSON argument, bound as whatever type its placeholder has.
#[derive(Debug)]
pub struct Param<'a>(pub &'a Value);

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        if self.0.is_null() {
            return Ok(IsNull::Yes);
        }
        encode(self.0, ty, out)?;
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres_types::to_sql_checked!();
}

/// The value as text: a string as it is, anything else as JSON.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn int_of(v: &Value, ty: &Type) -> Result<i64, BoxError> {
    let n = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    n.ok_or_else(|| err(format!("{v} is not an integer for {}", ty.name())))
}

fn float_of(v: &Value, ty: &Type) -> Result<f64, BoxError> {
    let n = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    n.ok_or_else(|| err(format!("{v} is not a number for {}", ty.name())))
}

fn encode(v: &Value, ty: &Type, out: &mut BytesMut) -> Result<(), BoxError> {
    if let Kind::Domain(inner) = ty.kind() {
        return encode(v, inner, out);
    }
    if let Kind::Enum(_) = ty.kind() {
        out.put_slice(text_of(v).as_bytes());
        return Ok(());
    }
    if v.is_array() || v.is_object() {
        if *ty == Type::JSON || *ty == Type::JSONB {
            if *ty == Type::JSONB {
                out.put_u8(1);
            }
            out.put_slice(v.to_string().as_bytes());
            return Ok(());
        }
        return Err(err(format!(
            "an array or object cannot be sent as {}",
            ty.name()
        )));
    }
    let range = |n: i64, lo: i64, hi: i64| {
        (lo..=hi)
            .contains(&n)
            .then_some(n)
            .ok_or_else(|| err(format!("{n} is out of range for {}", ty.name())))
    };
    match *ty {
        Type::BOOL => {
            let b = match v {
                Value::Bool(b) => *b,
                Value::String(s) if s.eq_ignore_ascii_case("true") => true,
                Value::String(s) if s.eq_ignore_ascii_case("false") => false,
                _ => return Err(err(format!("{v} is not a boolean"))),
            };
            out.put_u8(u8::from(b));
        }
        Type::INT2 => out.put_i16(range(int_of(v, ty)?, i16::MIN.into(), i16::MAX.into())? as i16),
        Type::INT4 => out.put_i32(range(int_of(v, ty)?, i32::MIN.into(), i32::MAX.into())? as i32),
        Type::OID => out.put_u32(range(int_of(v, ty)?, 0, u32::MAX.into())? as u32),
        Type::INT8 => out.put_i64(int_of(v, ty)?),
        Type::FLOAT4 => out.put_f32(float_of(v, ty)? as f32),
        Type::FLOAT8 => out.put_f64(float_of(v, ty)?),
        Type::NUMERIC => numeric_encode(&text_of(v), out)?,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
            out.put_slice(text_of(v).as_bytes())
        }
        Type::CHAR => match text_of(v).as_bytes() {
            [b] => out.put_u8(*b),
            _ => return Err(err("a \"char\" takes one ASCII character".into())),
        },
        Type::JSON => out.put_slice(text_of(v).as_bytes()),
        Type::JSONB => {
            out.put_u8(1);
            out.put_slice(text_of(v).as_bytes());
        }
        Type::UUID => out.put_slice(&uuid_parse(&text_of(v))?),
        Type::BYTEA => {
            let s = text_of(v);
            match s.strip_prefix("\\x") {
                Some(h) => out.put_slice(&hex::decode(h).map_err(|_| err("bad \\x hex".into()))?),
                None => out.put_slice(s.as_bytes()),
            }
        }
        Type::DATE => {
            let t = text_of(v);
            let (days, rest) = date_parse(&t)?;
            if !rest.is_empty() {
                return Err(err(format!("'{t}' is not a date (YYYY-MM-DD)")));
            }
            out.put_i32(days as i32);
        }
        Type::TIMESTAMP | Type::TIMESTAMPTZ => {
            out.put_i64(timestamp_parse(&text_of(v), *ty == Type::TIMESTAMPTZ)?)
        }
        _ if ty.name().eq_ignore_ascii_case("citext") => out.put_slice(text_of(v).as_bytes()),
        _ => {
            return Err(err(format!(
                "a JSON value cannot be sent as {}; cast the placeholder, e.g. $1::text::{}",
                ty.name(),
                ty.name()
            )))
        }
    }
    Ok(())
}

/// One result cell as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell(pub Value);

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Cell, BoxError> {
        decode(ty, raw).map(Cell)
    }

    fn from_sql_null(_: &Type) -> Result<Cell, BoxError> {
        Ok(Cell(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

fn be<const N: usize>(raw: &[u8], ty: &Type) -> Result<[u8; N], BoxError> {
    raw.try_into()
        .map_err(|_| err(format!("a {} value of {} bytes", ty.name(), raw.len())))
}

fn float(f: f64) -> Value {
    if f.is_finite() {
        json!(f)
    } else {
        json!(f.to_string())
    }
}

fn text(raw: &[u8]) -> Value {
    Value::String(String::from_utf8_lossy(raw).into_owned())
}

/// Decodes one binary value of `ty`.
pub fn decode(ty: &Type, raw: &[u8]) -> Result<Value, BoxError> {
    match ty.kind() {
        Kind::Domain(inner) => return decode(inner, raw),
        Kind::Enum(_) => return Ok(text(raw)),
        Kind::Array(inner) => return array_decode(inner, raw),
        _ => {}
    }
    Ok(match *ty {
        Type::BOOL => json!(raw.first().is_some_and(|b| *b != 0)),
        Type::INT2 => json!(i16::from_be_bytes(be(raw, ty)?)),
        Type::INT4 => json!(i32::from_be_bytes(be(raw, ty)?)),
        Type::OID | Type::XID | Type::CID | Type::REGCLASS | Type::REGPROC | Type::REGTYPE => {
            json!(u32::from_be_bytes(be(raw, ty)?))
        }
        Type::INT8 => json!(i64::from_be_bytes(be(raw, ty)?)),
        Type::FLOAT4 => float(f32::from_be_bytes(be(raw, ty)?).into()),
        Type::FLOAT8 => float(f64::from_be_bytes(be(raw, ty)?)),
        Type::NUMERIC => Value::String(numeric_decode(raw)?),
        Type::TEXT
        | Type::VARCHAR
        | Type::BPCHAR
        | Type::NAME
        | Type::UNKNOWN
        | Type::JSONPATH
        | Type::XML => text(raw),
        Type::CHAR => text(raw),
        Type::JSON => serde_json::from_slice(raw).unwrap_or_else(|_| text(raw)),
        Type::JSONB => match raw.split_first() {
            Some((1, rest)) => serde_json::from_slice(rest).unwrap_or_else(|_| text(rest)),
            _ => return Err(err("an unknown jsonb version".into())),
        },
        Type::UUID => {
            let h = hex::encode(raw);
            if h.len() != 32 {
                return Err(err("a uuid of the wrong length".into()));
            }
            json!(format!(
                "{}-{}-{}-{}-{}",
                &h[..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..]
            ))
        }
        Type::BYTEA => json!(format!("\\x{}", hex::encode(raw))),
        Type::DATE => match i32::from_be_bytes(be(raw, ty)?) {
            i32::MAX => json!("infinity"),
            i32::MIN => json!("-infinity"),
            d => json!(date_text(d.into())),
        },
        Type::TIMESTAMP | Type::TIMESTAMPTZ => match i64::from_be_bytes(be(raw, ty)?) {
            i64::MAX => json!("infinity"),
            i64::MIN => json!("-infinity"),
            us => {
                let days = us.div_euclid(86_400_000_000);
                let tod = us.rem_euclid(86_400_000_000);
                let zone = if *ty == Type::TIMESTAMPTZ { "Z" } else { "" };
                json!(format!("{}T{}{zone}", date_text(days), time_text(tod)))
            }
        },
        Type::TIME => json!(time_text(i64::from_be_bytes(be(raw, ty)?))),
        _ if ty.name().eq_ignore_ascii_case("citext") => text(raw),
        _ => Value::Null,
    })
}

fn array_decode(elem: &Type, raw: &[u8]) -> Result<Value, BoxError> {
    let mut r = Reader(raw);
    let ndim = r.i32()?;
    let _has_null = r.i32()?;
    let _oid = r.i32()?;
    if ndim == 0 {
        return Ok(json!([]));
    }
    if !(1..=6).contains(&ndim) {
        return Err(err(format!("an array of {ndim} dimensions")));
    }
    let mut dims = vec![];
    for _ in 0..ndim {
        dims.push(r.i32()?.max(0) as usize);
        r.i32()?; // lower bound
    }
    fn nest(elem: &Type, dims: &[usize], r: &mut Reader) -> Result<Value, BoxError> {
        let mut out = vec![];
        for _ in 0..dims[0] {
            out.push(if dims.len() > 1 {
                nest(elem, &dims[1..], r)?
            } else {
                match r.i32()? {
                    -1 => Value::Null,
                    n => decode(elem, r.take(n.max(0) as usize)?)?,
                }
            });
        }
        Ok(Value::Array(out))
    }
    nest(elem, &dims, &mut r)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], BoxError> {
        if self.0.len() < n {
            return Err(err("a value shorter than its header says".into()));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }

    fn i32(&mut self) -> Result<i32, BoxError> {
        Ok(i32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn i16(&mut self) -> Result<i16, BoxError> {
        Ok(i16::from_be_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }
}

const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_PINF: u16 = 0xD000;
const NUMERIC_NINF: u16 = 0xF000;

/// PostgreSQL's binary numeric (base-10000 digits) as exact decimal text.
pub fn numeric_decode(raw: &[u8]) -> Result<String, BoxError> {
    let mut r = Reader(raw);
    let ndigits = r.i16()?.max(0) as usize;
    let weight = i32::from(r.i16()?);
    let sign = r.i16()? as u16;
    let dscale = r.i16()?.max(0) as usize;
    match sign {
        NUMERIC_NAN => return Ok("NaN".into()),
        NUMERIC_PINF => return Ok("Infinity".into()),
        NUMERIC_NINF => return Ok("-Infinity".into()),
        _ => {}
    }
    let digits: Vec<i16> = (0..ndigits).map(|_| r.i16()).collect::<Result<_, _>>()?;
    let digit = |i: i32| -> i16 {
        usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i))
            .copied()
            .unwrap_or(0)
    };
    let mut int = String::new();
    if weight >= 0 {
        for i in 0..=weight {
            let d = digit(i);
            if int.is_empty() {
                int = d.to_string();
            } else {
                int.push_str(&format!("{d:04}"));
            }
        }
    } else {
        int.push('0');
    }
    let mut frac = String::new();
    let mut i = weight + 1;
    while frac.len() < dscale {
        frac.push_str(&format!("{:04}", digit(i)));
        i += 1;
    }
    frac.truncate(dscale);
    let neg = if sign == NUMERIC_NEG { "-" } else { "" };
    Ok(if dscale > 0 {
        format!("{neg}{int}.{frac}")
    } else {
        format!("{neg}{int}")
    })
}

/// Decimal text (`-12.3400`, `1e3` is refused) as PostgreSQL's binary numeric.
pub fn numeric_encode(s: &str, out: &mut BytesMut) -> Result<(), BoxError> {
    let s = s.trim();
    let bad = || err(format!("'{s}' is not a decimal number"));
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if body.eq_ignore_ascii_case("nan") {
        out.put_slice(&[0, 0, 0, 0, 0xC0, 0, 0, 0]);
        return Ok(());
    }
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let int = int.trim_start_matches('0');
    let dscale = frac.len();
    // Pad the integer part on the left and the fraction on the right to
    // whole groups of four digits.
    let ipad = (4 - int.len() % 4) % 4;
    let fpad = (4 - frac.len() % 4) % 4;
    let all = format!("{}{int}{frac}{}", "0".repeat(ipad), "0".repeat(fpad));
    let mut groups: Vec<i16> = all
        .as_bytes()
        .chunks(4)
        .map(|c| {
            std::str::from_utf8(c)
                .expect("digits")
                .parse()
                .expect("4 digits")
        })
        .collect();
    let mut weight = ((ipad + int.len()) / 4) as i32 - 1;
    while groups.first() == Some(&0) {
        groups.remove(0);
        weight -= 1;
    }
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    let sign: u16 = if neg && !groups.is_empty() {
        NUMERIC_NEG
    } else {
        0
    };
    out.put_i16(groups.len() as i16);
    out.put_i16(weight as i16);
    out.put_u16(sign);
    out.put_u16(dscale as u16);
    for g in groups {
        out.put_i16(g);
    }
    Ok(())
}

fn uuid_parse(s: &str) -> Result<Vec<u8>, BoxError> {
    let h: String = s.chars().filter(|c| *c != '-').collect();
    let b = hex::decode(&h).map_err(|_| err(format!("'{s}' is not a uuid")))?;
    if b.len() != 16 {
        return Err(err(format!("'{s}' is not a uuid")));
    }
    Ok(b)
}

/// Days since 2000-01-01 (PostgreSQL's epoch) of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 - 10_957
}

fn date_text(days: i64) -> String {
    let z = days + 10_957 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn time_text(us: i64) -> String {
    let (s, frac) = (us / 1_000_000, us % 1_000_000);
    let hms = format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    if frac == 0 {
        hms
    } else {
        format!("{hms}.{}", format!("{frac:06}").trim_end_matches('0'))
    }
}

/// `YYYY-MM-DD` at the start of `s`: (days since 2000-01-01, the rest).
fn date_parse(s: &str) -> Result<(i64, &str), BoxError> {
    let bad = || err(format!("'{s}' is not a date (YYYY-MM-DD)"));
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().map_err(|_| bad());
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let len = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > len[(m - 1) as usize] {
        return Err(bad());
    }
    Ok((days_from_civil(y, m, d), &s[10..]))
}

/// An ISO 8601 timestamp (`2026-12-01T10:00:00.5+01:00`, a space for `T`,
/// seconds and zone optional) as microseconds since 2000-01-01 UTC. A zone
/// is required for timestamptz and refused for timestamp.
fn timestamp_parse(s: &str, tz: bool) -> Result<i64, BoxError> {
    let bad = || err(format!("'{s}' is not an ISO 8601 timestamp"));
    let (days, rest) = date_parse(s)?;
    let rest = rest.strip_prefix(['T', 't', ' ']).ok_or_else(bad)?;
    let split = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(split);
    let mut parts = clock.split(':');
    let h: i64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let mi: i64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let sec = parts.next().unwrap_or("0");
    if parts.next().is_some() || h > 23 || mi > 59 {
        return Err(bad());
    }
    let (whole, frac) = sec.split_once('.').unwrap_or((sec, ""));
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    if whole > 59 || frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let micros: i64 = format!("{frac:0<6}").parse().map_err(|_| bad())?;
    let offset_s = match zone {
        "" if tz => {
            return Err(err(format!(
                "'{s}' needs a zone (Z or ±HH:MM) for timestamptz"
            )))
        }
        "" => 0,
        _ if !tz => return Err(err(format!("'{s}' has a zone; timestamp takes none"))),
        "Z" | "z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let (zh, zm) = z[1..].split_once(':').unwrap_or((&z[1..], "00"));
            let zh: i64 = zh.parse().map_err(|_| bad())?;
            let zm: i64 = zm.parse().map_err(|_| bad())?;
            sign * (zh * 3600 + zm * 60)
        }
    };
    let secs = days * 86_400 + h * 3600 + mi * 60 + whole - offset_s;
    Ok(secs * 1_000_000 + micros)
}

#[cfg(test)]
mod tests;
