//! Client-side parameter binding for the text protocol (COM_QUERY has no
//! parameters). Each `?` outside string literals, quoted identifiers and
//! comments becomes a literal; a string goes in as `_utf8mb4 X'…'`, so no
//! byte of any value is ever read by the server's SQL parser as anything
//! but a hex digit, whatever `sql_mode` says about backslashes and quotes.

use serde_json::Value;

use crate::db::DbError;

/// The byte offsets of the `?` placeholders in `sql`. Backslashes escape
/// inside quotes unless the session runs with NO_BACKSLASH_ESCAPES.
pub fn placeholders(sql: &str, backslash_escapes: bool) -> Vec<usize> {
    let b = sql.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut out = vec![];
    // Inside `/*! … */` (MySQL) or `/*M! … */` (MariaDB): the text is SQL
    // the server runs, so it is scanned; only its closing `*/` is skipped.
    let mut versioned = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'\\' && q != b'`' && backslash_escapes {
                        i += 2;
                    } else if b[i] == q && at(i + 1) == q {
                        i += 2; // a doubled quote stands for itself
                    } else if b[i] == q {
                        break;
                    } else {
                        i += 1;
                    }
                }
                i += 1;
            }
            b'#' => i = line_end(b, i),
            // `--` starts a comment only when a space or control character
            // follows it (`1--1` is arithmetic).
            b'-' if at(i + 1) == b'-' && (i + 2 == b.len() || at(i + 2) <= b' ') => {
                i = line_end(b, i)
            }
            b'/' if at(i + 1) == b'*' && !versioned && at(i + 2) == b'!' => {
                versioned = true;
                i += 3;
            }
            b'/' if at(i + 1) == b'*' && !versioned && at(i + 2) == b'M' && at(i + 3) == b'!' => {
                versioned = true;
                i += 4;
            }
            b'/' if at(i + 1) == b'*' => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && at(i + 1) == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b'*' if versioned && at(i + 1) == b'/' => {
                versioned = false;
                i += 2;
            }
            b'?' => {
                out.push(i);
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

fn line_end(b: &[u8], from: usize) -> usize {
    b[from..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |n| from + n + 1)
}

/// The SQL literal for one parameter (1-based `n` names it in errors).
pub fn literal(n: usize, v: &Value) -> Result<String, DbError> {
    Ok(match v {
        Value::Null => "NULL".into(),
        Value::Bool(true) => "TRUE".into(),
        Value::Bool(false) => "FALSE".into(),
        // serde_json numbers are finite; this is the number as written
        // (integers exactly, floats in their shortest round-trip form).
        Value::Number(x) => x.to_string(),
        Value::String(s) => format!("_utf8mb4 X'{}'", hex::encode_upper(s)),
        Value::Array(_) | Value::Object(_) => {
            return Err(DbError::Statement(format!(
                "Parameter {n} is {}; only strings, numbers, booleans and null can be bound \
                 (pass JSON as a string).",
                if v.is_array() {
                    "an array"
                } else {
                    "an object"
                }
            )))
        }
    })
}

fn word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// `sql` with each placeholder replaced by its parameter's literal.
pub fn bind(sql: &str, params: &[Value], backslash_escapes: bool) -> Result<String, DbError> {
    let at = placeholders(sql, backslash_escapes);
    if at.len() != params.len() {
        return Err(DbError::Statement(format!(
            "The statement has {} placeholders but {} parameters were given.",
            at.len(),
            params.len()
        )));
    }
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + params.len() * 16);
    let mut from = 0;
    for (k, (&i, v)) in at.iter().zip(params).enumerate() {
        let lit = literal(k + 1, v)?;
        out.push_str(&sql[from..i]);
        // Keep the literal a token of its own: `LIKE?` must not become
        // `LIKE_utf8mb4…`, nor `1-?` with -5 the comment-looking `1--5`.
        if i > 0 && (word_byte(b[i - 1]) || b[i - 1] == b'-') {
            out.push(' ');
        }
        out.push_str(&lit);
        if b.get(i + 1).is_some_and(|&c| word_byte(c)) {
            out.push(' ');
        }
        from = i + 1;
    }
    out.push_str(&sql[from..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b(sql: &str, params: Value) -> String {
        bind(sql, params.as_array().unwrap(), true).unwrap()
    }

    #[test]
    fn replaces_placeholders_with_literals() {
        assert_eq!(
            b(
                "SELECT ?, ?, ?, ?, ?, ?",
                json!([null, true, false, 42, -1.5, "ab"])
            ),
            "SELECT NULL, TRUE, FALSE, 42, -1.5, _utf8mb4 X'6162'"
        );
        assert_eq!(b("SELECT ?", json!([""])), "SELECT _utf8mb4 X''");
        assert_eq!(
            b("SELECT ?", json!([18446744073709551615u64])),
            "SELECT 18446744073709551615"
        );
        assert_eq!(b("SELECT ?", json!([1e300])), "SELECT 1e+300");
        assert_eq!(
            b("SELECT ?", json!([-9223372036854775808i64])),
            "SELECT -9223372036854775808"
        );
    }

    #[test]
    fn keeps_literals_apart_from_neighbouring_tokens() {
        assert_eq!(b("SELECT 1-?", json!([-5])), "SELECT 1- -5");
        assert_eq!(
            b("WHERE a LIKE?", json!(["x"])),
            "WHERE a LIKE _utf8mb4 X'78'"
        );
        assert_eq!(b("LIMIT ?OFFSET 1", json!([3])), "LIMIT 3 OFFSET 1");
        assert_eq!(
            b("VALUES(?,?)", json!([1, "é"])),
            "VALUES(1,_utf8mb4 X'C3A9')"
        );
    }

    #[test]
    fn question_marks_in_strings_identifiers_and_comments_stay() {
        let cases = [
            ("SELECT '?', ?", 1),
            ("SELECT \"?\", ?", 1),
            ("SELECT `a?b`, ?", 1),
            ("SELECT `a``?`, ?", 1),
            ("SELECT 'it''s ?', ?", 1),
            ("SELECT 'a\\'?', ?", 1),
            ("SELECT \"a\\\"?\", ?", 1),
            ("SELECT ? -- what?\n, ?", 2),
            ("SELECT ? # what?\n, ?", 2),
            ("SELECT ? /* what? */, ?", 2),
            ("SELECT ? /* a? */ /* b? */ + ?", 2),
            ("SELECT 1--?", 1),
            ("SELECT ? --", 1),
            ("SELECT ? --\t?", 1),
            ("SELECT ? /*!50000 + ? */, ?", 3),
            ("SELECT ? /*M!100000 + ? */, ?", 3),
            ("SELECT ? /*+ hint? */", 1),
            ("SELECT 'unterminated ?", 0),
            ("SELECT /* unterminated ?", 0),
            ("SELECT ?", 1),
            ("", 0),
        ];
        for (sql, n) in cases {
            assert_eq!(placeholders(sql, true).len(), n, "{sql}");
        }
    }

    #[test]
    fn no_backslash_escapes_ends_a_string_at_its_quote() {
        // With NO_BACKSLASH_ESCAPES, 'a\' is a whole string.
        assert_eq!(placeholders("SELECT 'a\\', ?", false).len(), 1);
        assert_eq!(placeholders("SELECT 'a\\', ?", true).len(), 0);
        assert_eq!(
            bind("SELECT 'a\\', ?", &[json!("x")], false).unwrap(),
            "SELECT 'a\\', _utf8mb4 X'78'"
        );
    }

    #[test]
    fn hostile_values_become_hex_digits_only() {
        let hostile = [
            "'; DROP TABLE x; --",
            "\\' OR 1=1 -- ",
            "\" OR \"\"=\"",
            "a\0b",
            "\u{0}'\u{1a}\\",
            "`x`",
            "*/ SELECT 1 /*",
            "?",
            "日本語 ✓ 🦀",
            "\u{ff07}", // a fullwidth apostrophe
        ];
        for v in hostile {
            let sql = b("SELECT * FROM t WHERE a = ? AND b = 'lit?'", json!([v]));
            let expected = format!(
                "SELECT * FROM t WHERE a = _utf8mb4 X'{}' AND b = 'lit?'",
                hex::encode_upper(v.as_bytes())
            );
            assert_eq!(sql, expected, "{v:?}");
            let inside = &sql["SELECT * FROM t WHERE a = _utf8mb4 X'".len()..];
            let hexpart = &inside[..inside.find('\'').unwrap()];
            assert!(hexpart.bytes().all(|c| c.is_ascii_hexdigit()), "{v:?}");
        }
        // A value with a `?` is not scanned again.
        assert_eq!(
            b("SELECT ?, ?", json!(["?", 1])),
            "SELECT _utf8mb4 X'3F', 1"
        );
    }

    #[test]
    fn counts_and_kinds_are_checked() {
        assert_eq!(
            bind("SELECT ?, ?", &[json!(1)], true),
            Err(DbError::Statement(
                "The statement has 2 placeholders but 1 parameters were given.".into()
            ))
        );
        assert_eq!(
            bind("SELECT '?'", &[json!(1)], true),
            Err(DbError::Statement(
                "The statement has 0 placeholders but 1 parameters were given.".into()
            ))
        );
        match bind("SELECT ?, ?", &[json!(1), json!([1, 2])], true) {
            Err(DbError::Statement(m)) => assert!(m.starts_with("Parameter 2 is an array"), "{m}"),
            other => panic!("{other:?}"),
        }
        match bind("SELECT ?", &[json!({"a": 1})], true) {
            Err(DbError::Statement(m)) => assert!(m.starts_with("Parameter 1 is an object"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(bind("SELECT 1", &[], true).unwrap(), "SELECT 1");
    }
}
