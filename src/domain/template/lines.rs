//! Header blocks (seed 001's custom headers): a credential field, by
//! convention `auth.headers`, holding extra request headers, one
//! `Name: value` per line, that a probe or tool request adds through its
//! `header_lines` template (exactly `{{auth.<key>}}`). Each name is an HTTP
//! token and none of the headers the runtime owns; each value stays on its
//! line. The whole block is a credential: errors name the line, never its
//! text, and every header it adds counts as a credential header (bound to
//! the listing's hosts, dropped on a cross-origin redirect).

use super::{Ns, Scope, TemplateError};

/// The most headers one block may add.
pub const MAX_LINES: usize = 32;

/// Headers a block may not set: framing, hop-by-hop and the body's type,
/// which belong to the runtime and the manifest.
pub const RESERVED: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "expect",
    "proxy-authorization",
    "proxy-connection",
];

/// The headers of a block: blank lines are skipped, `\r\n` ends a line like
/// `\n`, a value is trimmed of surrounding spaces and tabs. The message
/// (for `auth.<field>`) names the line and never quotes it.
pub fn parse_header_lines(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = vec![];
    for (i, line) in text.split('\n').enumerate() {
        let n = i + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("line {n} is not 'Name: value'."));
        };
        let name = name.trim_matches([' ', '\t']);
        if name.is_empty() || name.len() > 64 || !name.bytes().all(is_tchar) {
            return Err(format!(
                "line {n} does not start with a header name (1 to 64 letters, digits or !#$%&'*+.^_`|~- before the ':')."
            ));
        }
        let value = value.trim_matches([' ', '\t']);
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(format!(
                "line {n} has a control character in its value, which a header cannot carry."
            ));
        }
        if let Some(r) = RESERVED.iter().find(|r| name.eq_ignore_ascii_case(r)) {
            return Err(format!(
                "line {n} sets {r}, which the runtime or the listing sets itself."
            ));
        }
        if let Some(first) = out.iter().position(|(k, _)| k.eq_ignore_ascii_case(name)) {
            return Err(format!(
                "line {n} sets the same header as header {} of the block.",
                first + 1
            ));
        }
        out.push((name.to_string(), value.to_string()));
    }
    if out.len() > MAX_LINES {
        return Err(format!(
            "it has {} headers; at most {MAX_LINES} are allowed.",
            out.len()
        ));
    }
    Ok(out)
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A request's `header_lines` rendered: the headers of the block it names,
/// none when that optional field was not given. A block header that the
/// request already has (`taken`: the manifest's own headers, an OAuth
/// Bearer) is refused, so a block never overrides the listing.
pub fn header_lines_in(
    template: &str,
    v: &Scope,
    taken: &[(String, String)],
) -> Result<Vec<(String, String)>, TemplateError> {
    let slot = match super::whole_slot(template) {
        Some(slot) if slot.ns == Ns::Auth => slot,
        _ => {
            return Err(TemplateError::Invalid(
                "header_lines must be exactly one {{auth.<field>}} placeholder.".into(),
            ))
        }
    };
    let Some(text) = v.auth.get(slot.key).filter(|t| !t.is_empty()) else {
        return Ok(vec![]);
    };
    let lines = parse_header_lines(text)
        .map_err(|m| TemplateError::Invalid(format!("{}: {m}", slot.name())))?;
    if let Some((name, _)) = taken
        .iter()
        .find(|(k, _)| lines.iter().any(|(l, _)| l.eq_ignore_ascii_case(k)))
    {
        return Err(TemplateError::Invalid(format!(
            "{} sets {name}, which this request sets itself.",
            slot.name()
        )));
    }
    Ok(lines)
}

/// Whether a template is exactly one `{{auth.x}}` whose field was not given
/// (an optional credential): a header made only of it is left out.
pub fn absent_credential(
    template: &str,
    auth: &std::collections::BTreeMap<String, String>,
) -> bool {
    super::whole_slot(template)
        .is_some_and(|s| s.ns == Ns::Auth && auth.get(s.key).is_none_or(String::is_empty))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;
    use std::collections::BTreeMap;

    #[test]
    fn blocks_parse_into_headers() {
        let got = parse_header_lines("X-Tenant: acme\r\n\n  Authorization:Bearer a:b \nX-Empty:\n")
            .unwrap();
        assert_eq!(
            got,
            vec![
                ("X-Tenant".into(), "acme".into()),
                ("Authorization".into(), "Bearer a:b".into()),
                ("X-Empty".into(), String::new()),
            ]
        );
        assert_eq!(parse_header_lines("\n \n").unwrap(), vec![]);
    }

    #[test]
    fn bad_lines_are_named_by_number_and_never_quoted() {
        for (block, want) in [
            ("X-A: 1\nsk_live_secret", "line 2 is not 'Name: value'."),
            (
                "Bad Name: sk_live_secret",
                "line 1 does not start with a header name",
            ),
            (
                ": sk_live_secret",
                "line 1 does not start with a header name",
            ),
            ("X-A: sk_live\u{0}secret", "line 1 has a control character"),
            ("X-A: 1\nHost: evil.example", "line 2 sets host"),
            ("content-length: 5", "line 1 sets content-length"),
            ("Content-Type: text/plain", "line 1 sets content-type"),
            (
                "X-A: 1\nx-a: sk_live_secret",
                "line 2 sets the same header as header 1",
            ),
        ] {
            let e = parse_header_lines(block).unwrap_err();
            assert!(e.starts_with(want), "{block:?}: {e}");
            assert!(!e.contains("sk_live"), "{e}");
        }
        let many: String = (0..=MAX_LINES).map(|i| format!("X-{i}: v\n")).collect();
        assert!(parse_header_lines(&many)
            .unwrap_err()
            .contains("at most 32"));
    }

    #[test]
    fn a_block_renders_from_its_field_and_never_overrides_the_request() {
        let config = Map::new();
        let mut auth = BTreeMap::new();
        let scope = |auth: &BTreeMap<String, String>| {
            header_lines_in(
                "{{ auth.headers }}",
                &Scope {
                    config: &config,
                    auth,
                    args: None,
                },
                &[("X-Api-Key".into(), "k".into())],
            )
        };
        // Absent: nothing added.
        assert_eq!(scope(&auth).unwrap(), vec![]);
        auth.insert("headers".into(), "X-Tenant: acme".into());
        assert_eq!(
            scope(&auth).unwrap(),
            vec![("X-Tenant".into(), "acme".into())]
        );
        auth.insert("headers".into(), "x-api-key: other-secret".into());
        let e = scope(&auth).unwrap_err().to_string();
        assert_eq!(
            e,
            "auth.headers sets X-Api-Key, which this request sets itself."
        );
        auth.insert("headers".into(), "nonsense-secret".into());
        let e = scope(&auth).unwrap_err().to_string();
        assert!(
            e.starts_with("auth.headers: line 1") && !e.contains("nonsense"),
            "{e}"
        );
        for t in ["X: {{auth.headers}}", "{{config.headers}}", "{{args.h}}"] {
            let s = Scope {
                config: &config,
                auth: &auth,
                args: None,
            };
            assert!(matches!(
                header_lines_in(t, &s, &[]),
                Err(TemplateError::Invalid(_))
            ));
        }
    }

    #[test]
    fn only_a_missing_credential_alone_is_absent() {
        let mut auth = BTreeMap::new();
        assert!(absent_credential("{{auth.key}}", &auth));
        assert!(!absent_credential("Bearer {{auth.key}}", &auth));
        assert!(!absent_credential("{{config.key}}", &auth));
        auth.insert("key".into(), String::new());
        assert!(absent_credential("{{ auth.key }}", &auth));
        auth.insert("key".into(), "k".into());
        assert!(!absent_credential("{{auth.key}}", &auth));
    }
}
