//! A tool call on the one credential path (API §10, §13): the tool's
//! request is rendered with the instance's config, its credential and the
//! call's arguments (`domain::tool::render`), and sent through the guarded
//! client bound to the listing version's `allowed_hosts` on every hop (an
//! AWS-signed request is signed last, `probe::signing`). What comes back is
//! scrubbed of the credential by the caller (`redact`).

use super::client::{OutboundRequest, ProbeError};
use super::credential::{allowed_hosts, Net, Session};
use super::run::{base_value, bound_hosts, Outcome};
use crate::domain::template::Scope;
use crate::domain::tool::{self, Rendered};
use crate::domain::Error;
use serde_json::{Map, Value};

/// The provider's answer to one tool request.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    /// The request's own success rule held (status, expected JSON).
    pub succeeded: bool,
    pub latency_ms: u64,
}

/// Why a tool request got no answer.
pub enum NotSent {
    /// The request is refused before anything is sent: a bad argument
    /// (`InvalidParameter` naming `arguments.<field>`), or a target the
    /// guard or `allowed_hosts` refuse (`TargetRefused`).
    Refused(Error),
    /// Sent, but no HTTP answer (DNS, refused, TLS, timeout, redirects):
    /// the provider may or may not have acted on it.
    Unreachable { message: String, latency_ms: u64 },
}

impl Session<'_> {
    /// Renders and sends one tool request. OAuth listings, and listings with
    /// a `token_exchange` (exchanged first, as for a probe), carry the access
    /// token as a Bearer unless the request sets `Authorization` itself.
    pub async fn send_tool(
        &self,
        net: &Net<'_>,
        request: &tool::Request,
        args: &Map<String, Value>,
    ) -> Result<Answer, NotSent> {
        let mut request = request.clone();
        let (exchanged, bearer) = self.bearer(net, self.oauth()).await.map_err(|o| match o {
            Outcome::Unreachable { message } | Outcome::NotJson { message, .. } => {
                NotSent::Unreachable {
                    message,
                    latency_ms: 0,
                }
            }
            Outcome::Rejected { snippet, .. } => NotSent::Refused(Error::AuthRejected(snippet)),
            Outcome::Refused { message } | Outcome::Unsupported { message } => {
                NotSent::Refused(Error::TargetRefused(message))
            }
            Outcome::Accepted { .. } => NotSent::Refused(Error::TargetRefused(
                "The token exchange gave no token.".into(),
            )),
        })?;
        if bearer
            && !request
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            request.headers.push((
                "Authorization".into(),
                "Bearer {{auth.access_token}}".into(),
            ));
        }
        // A base URL from config is checked as written: rendering normalises
        // it, which would turn a disguise (`http://2130706433:…`) into a
        // listed development host.
        if let Some(base) = base_value(&request.url, self.config) {
            if let Err(r) = super::guard::check(&base, net.client.allow) {
                return Err(NotSent::Refused(Error::TargetRefused(r.0)));
            }
        }
        let scope = Scope {
            config: self.config,
            auth: exchanged.as_ref().unwrap_or(&self.fields),
            args: Some(args),
        };
        let rendered = tool::render(&request, &scope).map_err(NotSent::Refused)?;
        let success = rendered.clone();
        let signing = rendered.signing.clone();
        let mut out = outbound(rendered);
        // Signed last, as sent: the signature covers the final URL and headers.
        if let Some((service, region)) = &signing {
            super::signing::apply(&mut out, service, region, scope.auth, (net.clock)())
                .map_err(|m| NotSent::Refused(Error::TargetRefused(m)))?;
        }
        if out.carries_credential() {
            let target = url::Url::parse(&out.url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default();
            let hosts = allowed_hosts(self.listing, self.config);
            out.hosts = Some(bound_hosts(hosts.as_deref(), &target));
        }
        let started = (net.clock)();
        let elapsed = || ((net.clock)() - started).max(0) as u64;
        match net.client.send(out).await {
            Ok(resp) => Ok(Answer {
                status: resp.status,
                succeeded: success.succeeded(resp.status, &resp.body),
                body: resp.body,
                latency_ms: elapsed(),
            }),
            Err(ProbeError::Refused(r)) => Err(NotSent::Refused(Error::TargetRefused(r.0))),
            Err(e) => Err(NotSent::Unreachable {
                message: e.to_string(),
                latency_ms: elapsed(),
            }),
        }
    }
}

fn outbound(r: Rendered) -> OutboundRequest {
    OutboundRequest {
        method: r.method,
        url: r.url,
        headers: r.headers,
        body: r.body,
        credential_headers: r.credential_headers,
        body_has_credential: r.body_has_credential,
        no_redirects: false,
        signed: false,
        hosts: None,
    }
}
