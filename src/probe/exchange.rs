//! A listing's `token_exchange` (MongoDB Atlas service accounts): the
//! instance's client id and secret are exchanged (RFC 6749 §4.4, client
//! credentials) for a short-lived access token before each credential-bearing
//! request, which then carries it as a Bearer. The exchange carries the
//! secret: bound to the listing version's hosts, redirects never followed.

use super::client::ProbeError;
use super::credential::Net;
use super::run::{self, Outcome};
use super::template::Values;
use crate::domain::manifest::Listing;
use crate::domain::oauth;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The access token, or `None` for a listing without a `token_exchange`.
/// `Err` is the outcome to report instead of the request it was for: a
/// refused exchange is a rejection of the credential (`ok: false`).
pub async fn access_token(
    net: &Net<'_>,
    listing: &Listing,
    config: &Map<String, Value>,
    fields: &BTreeMap<String, String>,
    hosts: Option<&[String]>,
) -> Result<Option<String>, Outcome> {
    let Some(x) = &listing.token_exchange else {
        return Ok(None);
    };
    let values = Values {
        config,
        auth: fields,
    };
    let mut req = run::build(x, &values).map_err(|e| Outcome::Refused {
        message: e.to_string(),
    })?;
    let first = url::Url::parse(&req.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    req.hosts = Some(run::bound_hosts(hosts, &first));
    req.no_redirects = true;
    req.body_has_credential = true;
    let started = (net.clock)();
    let resp = match net.client.send(req).await {
        Ok(r) => r,
        Err(ProbeError::Refused(r)) => return Err(Outcome::Refused { message: r.0 }),
        Err(e) => {
            return Err(Outcome::Unreachable {
                message: format!("The token exchange failed: {e}"),
            })
        }
    };
    if resp.status >= 500 {
        return Err(Outcome::Unreachable {
            message: format!("The token endpoint answered HTTP {}.", resp.status),
        });
    }
    match oauth::parse_token_response(resp.status, &resp.body, net.now_ms) {
        Ok(tokens) => Ok(Some(tokens.access_token)),
        Err(_) => {
            let secrets: Vec<&str> = fields.values().map(String::as_str).collect();
            Err(Outcome::Rejected {
                status: resp.status,
                snippet: run::snippet(&resp.body, &secrets),
                latency_ms: ((net.clock)() - started).max(0) as u64,
                reason: None,
            })
        }
    }
}

#[cfg(test)]
mod tests;
