//! AWS Signature Version 4 (header signing), for services other than S3:
//! the canonical request (the path normalised and each segment URI-encoded
//! again, the query sorted in RFC 3986 encoding, the signed headers trimmed
//! and joined), the string to sign over the credential scope, the derived
//! key and the `Authorization` header. Pure: the time is passed in
//! (milliseconds since the epoch, read at the edge), nothing is sent here.
//!
//! [`sign`] signs a request exactly as it will be sent: `host` (from the
//! URL), `x-amz-date`, `content-type` and every `x-amz-*` header it carries,
//! and `x-amz-security-token` when a session token is given. It also answers
//! the URL with its query rewritten in the canonical encoding, so what is
//! sent is byte for byte what was signed (the form encoding's `+` for a
//! space becomes `%20`). The AWS test-suite vectors run in `sigv4/tests.rs`.

use super::time::Millis;
use super::vault::hmac;
use sha2::{Digest, Sha256};

/// An access key pair, with the session token of temporary credentials.
/// Not `Debug`: it holds the secret.
#[derive(Clone, Copy)]
pub struct Key<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
}

/// What a signature is scoped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope<'a> {
    pub service: &'a str,
    pub region: &'a str,
}

/// A signed request: the URL to send (its query in canonical form) and the
/// headers to add to it, `Authorization` last. Every added header is a
/// credential header for the outbound client.
#[derive(Clone, PartialEq, Eq)]
pub struct Signed {
    pub url: String,
    pub headers: Vec<(String, String)>,
}

/// The names of the headers [`sign`] adds (lower case).
pub const ADDED_HEADERS: &[&str] = &["x-amz-date", "x-amz-security-token", "authorization"];

/// Signs a request as it will be sent. `headers` are the request's own;
/// those [`ADDED_HEADERS`] name are replaced by the caller. Errors are
/// user-safe and never carry a credential.
pub fn sign(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
    key: &Key,
    scope: &Scope,
    now_ms: i64,
) -> Result<Signed, &'static str> {
    if !valid_label(scope.service) || !valid_label(scope.region) {
        return Err("The request's signing service and region must be lower-case letters, digits and hyphens.");
    }
    if key.access_key_id.is_empty() || key.secret_access_key.is_empty() {
        return Err("Signing needs an access key id and a secret access key.");
    }
    if key.access_key_id.contains(['/', ',', ' '])
        || key.access_key_id.chars().any(char::is_control)
    {
        return Err("The access key id may not contain '/', ',', spaces or control characters.");
    }
    let mut parsed =
        url::Url::parse(url).map_err(|_| "The signed request's URL is not a valid URL.")?;
    let host = match (parsed.host_str(), parsed.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        (None, _) => return Err("The signed request's URL names no host."),
    };
    let query = canonical_query(parsed.query().unwrap_or_default());
    parsed.set_query((!query.is_empty()).then_some(query.as_str()));
    let amz_date = amz_date(now_ms);
    let mut signed: Vec<(String, String)> = vec![
        ("host".into(), host),
        ("x-amz-date".into(), amz_date.clone()),
    ];
    signed.extend(
        headers
            .iter()
            .filter(|(k, _)| {
                let k = k.to_ascii_lowercase();
                (k == "content-type" || k.starts_with("x-amz-"))
                    && !ADDED_HEADERS.contains(&k.as_str())
            })
            .cloned(),
    );
    if let Some(token) = key.session_token {
        signed.push(("x-amz-security-token".into(), token.to_string()));
    }
    let payload = hex::encode(Sha256::digest(body));
    let (creq, signed_names) =
        canonical_request(method, parsed.path(), &query, &signed, &payload, true);
    let (_, authorization) = authorization(key, scope, &amz_date, &creq, &signed_names);
    let mut out = vec![("X-Amz-Date".to_string(), amz_date)];
    if let Some(token) = key.session_token {
        out.push(("X-Amz-Security-Token".into(), token.to_string()));
    }
    out.push(("Authorization".into(), authorization));
    Ok(Signed {
        url: parsed.into(),
        headers: out,
    })
}

/// A service or region name: it goes into the credential scope verbatim.
fn valid_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `20150830T123600Z`.
pub(crate) fn amz_date(now_ms: i64) -> String {
    // `2015-08-30T12:36:00.000Z` without its separators and milliseconds.
    let t = Millis(now_ms).rfc3339();
    format!(
        "{}{}{}T{}{}{}Z",
        &t[0..4],
        &t[5..7],
        &t[8..10],
        &t[11..13],
        &t[14..16],
        &t[17..19]
    )
}

/// RFC 3986 percent-encoding: everything but the unreserved characters
/// (letters, digits, `-._~`), and `/` too when `keep_slash`.
fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The canonical URI of a path as sent: without `.`/`..` segments and empty
/// segments (non-S3 services normalise, as AWS's SDKs do), each byte
/// URI-encoded — so a `%` already in the path is encoded again, the double
/// encoding every service but S3 expects.
fn canonical_uri(path: &str, normalize: bool) -> String {
    let path = if path.is_empty() { "/" } else { path };
    if !normalize {
        return uri_encode(path, true);
    }
    let mut kept: Vec<&str> = vec![];
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            s => kept.push(s),
        }
    }
    let mut out = String::from(if path.starts_with('/') { "/" } else { "" });
    out.push_str(&kept.join("/"));
    if path.ends_with('/') && !kept.is_empty() {
        out.push('/');
    }
    if out.is_empty() {
        out.push('/');
    }
    uri_encode(&out, true)
}

/// The canonical query: each name and value form-decoded, then RFC 3986
/// encoded, sorted by name and then value, joined with `&`.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (uri_encode(&k, false), uri_encode(&v, false)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// A header value as signed: trimmed, each run of spaces (and tabs) one space.
fn trim_all(v: &str) -> String {
    v.split([' ', '\t'])
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The canonical request and the signed header names (`host;x-amz-date`).
/// `headers` are every header to sign, in any case; a name given more than
/// once has its values joined with `,` in the order given.
fn canonical_request(
    method: &str,
    path: &str,
    canonical_query: &str,
    headers: &[(String, String)],
    payload_sha256: &str,
    normalize: bool,
) -> (String, String) {
    let mut merged: Vec<(String, String)> = vec![];
    for (k, v) in headers {
        let k = k.to_ascii_lowercase();
        let v = trim_all(v);
        match merged.iter_mut().find(|(n, _)| *n == k) {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            None => merged.push((k, v)),
        }
    }
    merged.sort_by(|a, b| a.0.cmp(&b.0));
    let names = merged
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let mut creq = format!(
        "{}\n{}\n{canonical_query}\n",
        method.to_ascii_uppercase(),
        canonical_uri(path, normalize)
    );
    for (k, v) in &merged {
        creq.push_str(k);
        creq.push(':');
        creq.push_str(v);
        creq.push('\n');
    }
    creq.push('\n');
    creq.push_str(&names);
    creq.push('\n');
    creq.push_str(payload_sha256);
    (creq, names)
}

/// The last steps: the string to sign, and the `Authorization` header with
/// the signature made over it.
fn authorization(
    key: &Key,
    scope: &Scope,
    amz_date: &str,
    canonical_request: &str,
    signed_headers: &str,
) -> (String, String) {
    let date = &amz_date[..8];
    let credential_scope = format!("{date}/{}/{}/aws4_request", scope.region, scope.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{credential_scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let k_date = hmac(
        format!("AWS4{}", key.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    let k_region = hmac(&k_date, scope.region.as_bytes());
    let k_service = hmac(&k_region, scope.service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    let signature = hex::encode(hmac(&k_signing, string_to_sign.as_bytes()));
    let header = format!(
        "AWS4-HMAC-SHA256 Credential={}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}",
        key.access_key_id
    );
    (string_to_sign, header)
}

#[cfg(test)]
mod tests;
