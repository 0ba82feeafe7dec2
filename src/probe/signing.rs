//! AWS Signature Version 4 on the one credential path (API §10): a probe's
//! or a tool request's `signing` (`{scheme: aws_sigv4, service, region}`) is
//! applied as the last step before sending, to the request exactly as the
//! guarded client will send it (URL, method, headers, body), so the host
//! that is signed is the host that is reached. The key pair is the
//! instance's: `auth.username` (access key id) and `auth.password` (secret
//! access key), with `auth.session_token` when a listing declares one. The
//! headers it adds (`Authorization`, `X-Amz-Date`, `X-Amz-Security-Token`)
//! count as credential headers, and a signed request never follows a
//! redirect (`OutboundRequest::signed`).

use super::client::OutboundRequest;
use crate::domain::sigv4::{self, Key, Scope, ADDED_HEADERS};
use std::collections::BTreeMap;

/// Signs `req` for `service` in `region` at `now_ms` (milliseconds since the
/// epoch). `Err` is a user-safe reason, free of any credential.
pub fn apply(
    req: &mut OutboundRequest,
    service: &str,
    region: &str,
    auth: &BTreeMap<String, String>,
    now_ms: i64,
) -> Result<(), String> {
    let field = |k: &str| auth.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let (Some(access_key_id), Some(secret_access_key)) = (field("username"), field("password"))
    else {
        return Err(
            "Signing needs the access key id (auth.username) and the secret access key (auth.password)."
                .into(),
        );
    };
    let key = Key {
        access_key_id,
        secret_access_key,
        session_token: field("session_token"),
    };
    let signed = sigv4::sign(
        &req.method,
        &req.url,
        &req.headers,
        req.body.as_deref().unwrap_or_default().as_bytes(),
        &key,
        &Scope { service, region },
        now_ms,
    )
    .map_err(str::to_string)?;
    req.url = signed.url;
    req.headers
        .retain(|(k, _)| !ADDED_HEADERS.iter().any(|a| k.eq_ignore_ascii_case(a)));
    for (k, v) in signed.headers {
        req.credential_headers.push(k.to_ascii_lowercase());
        req.headers.push((k, v));
    }
    req.signed = true;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_sent_and_marks_every_added_header_a_credential() {
        let auth: BTreeMap<String, String> = [
            ("username".to_string(), "AKIDEXAMPLE".to_string()),
            (
                "password".to_string(),
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_string(),
            ),
        ]
        .into();
        let mut req = OutboundRequest {
            method: "GET".into(),
            url: "https://example.amazonaws.com/?Param2=value2&Param1=value1".into(),
            headers: vec![("X-Amz-Date".into(), "stale".into())],
            ..Default::default()
        };
        apply(&mut req, "service", "us-east-1", &auth, 1_440_938_160_000).unwrap();
        assert_eq!(
            req.url,
            "https://example.amazonaws.com/?Param1=value1&Param2=value2"
        );
        // get-vanilla-query-order-key-case of the AWS suite.
        assert_eq!(
            req.headers,
            vec![
                ("X-Amz-Date".to_string(), "20150830T123600Z".to_string()),
                ("Authorization".to_string(), "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500".to_string()),
            ]
        );
        assert!(req.signed && req.carries_credential());
        assert_eq!(req.credential_headers, ["x-amz-date", "authorization"]);
        let mut req = OutboundRequest {
            method: "GET".into(),
            url: "https://example.amazonaws.com/".into(),
            ..Default::default()
        };
        let none = BTreeMap::new();
        let e = apply(&mut req, "service", "us-east-1", &none, 0).unwrap_err();
        assert!(e.contains("auth.username"), "{e}");
        assert!(!req.signed && req.headers.is_empty());
    }
}
