//! The fake Amazon Connect endpoint of the native tests, behind
//! `https://connect.us-east-1.amazonaws.com/`: it signs each request again
//! with the good key pair (at the world's clock, 0) and answers like Connect
//! when the `Authorization` matches, `403 InvalidSignatureException`
//! otherwise. It re-signs with the worker's own signer, so it checks the
//! wiring (what is signed is what is sent, with the stored key pair); the
//! end-to-end scenario checks the signature with botocore.

use crate::domain::sigv4::{self, Key, Scope, ADDED_HEADERS};
use crate::probe::client::{OutboundRequest, OutboundResponse};
use serde_json::json;

pub(crate) const CONNECT: &str = "https://connect.us-east-1.amazonaws.com/";
/// AWS's documentation example key pair.
pub(crate) const AWS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
pub(crate) const AWS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
pub(crate) const INSTANCE: &str = "0b3c5d2e-1a2b-4c3d-8e9f-0a1b2c3d4e5f";

fn header<'a>(req: &'a OutboundRequest, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Connect's answer to a request for [`CONNECT`].
pub(crate) fn answer(req: &OutboundRequest) -> OutboundResponse {
    let own: Vec<(String, String)> = req
        .headers
        .iter()
        .filter(|(k, _)| !ADDED_HEADERS.iter().any(|a| k.eq_ignore_ascii_case(a)))
        .cloned()
        .collect();
    let key = Key {
        access_key_id: AWS_KEY_ID,
        secret_access_key: AWS_SECRET,
        session_token: None,
    };
    let scope = Scope {
        service: "connect",
        region: "us-east-1",
    };
    let body = req.body.as_deref().unwrap_or_default().as_bytes();
    let want = sigv4::sign(&req.method, &req.url, &own, body, &key, &scope, 0)
        .ok()
        .filter(|s| s.url == req.url)
        .and_then(|s| {
            s.headers
                .into_iter()
                .find(|(k, _)| k == "Authorization")
                .map(|(_, v)| v)
        });
    let reply = |status: u16, body: serde_json::Value| OutboundResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
        truncated: false,
    };
    if want.is_none() || header(req, "authorization") != want.as_deref() {
        return reply(
            403,
            json!({"message": "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."}),
        );
    }
    let path = req.url[CONNECT.len() - 1..]
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string();
    let instance = format!("/instance/{INSTANCE}");
    match (req.method.as_str(), path.as_str()) {
        ("GET", p) if p == instance => reply(
            200,
            json!({"Instance": {"Id": INSTANCE, "InstanceAlias": "acme-support", "InstanceStatus": "ACTIVE", "OutboundCallsEnabled": true}}),
        ),
        ("GET", "/instance") => reply(200, json!({"InstanceSummaryList": []})),
        ("GET", p) if p.starts_with("/queues-summary/") => {
            reply(200, json!({"QueueSummaryList": []}))
        }
        ("GET", p) if p.starts_with("/users-summary/") => {
            reply(200, json!({"UserSummaryList": []}))
        }
        ("GET", p) if p.starts_with("/contacts/") => {
            reply(200, json!({"Contact": {"Id": p.rsplit('/').next()}}))
        }
        ("POST", "/contact/stop") => reply(200, json!({})),
        _ => reply(404, json!({"message": "not found"})),
    }
}
