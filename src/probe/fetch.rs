//! The platform transport under `client::Guarded`: the runtime's `fetch`
//! with redirects left to the caller, an abort after the timeout, and a body
//! read no further than the size cap.

use super::client::{OutboundRequest, OutboundResponse, Transport, TransportError};
use async_trait::async_trait;
use futures_util::StreamExt;
use worker::{AbortSignal, Fetch, Headers, Method, Request, RequestInit, RequestRedirect};

pub struct FetchTransport;

/// The kind of a platform fetch failure, from its text (never the text).
fn cause(text: &str) -> &'static str {
    let t = text.to_ascii_lowercase();
    if t.contains("dns") || t.contains("resolve") || t.contains("name not") {
        "DNS lookup failed"
    } else if t.contains("refused") {
        "connection refused"
    } else if t.contains("tls") || t.contains("ssl") || t.contains("certificate") {
        "TLS handshake failed"
    } else if t.contains("reset") {
        "connection reset"
    } else if t.contains("timed out") || t.contains("timeout") {
        "connection timed out"
    } else {
        "the connection failed or the answer was not HTTP"
    }
}

fn method(m: &str) -> Method {
    match m {
        "POST" => Method::Post,
        "HEAD" => Method::Head,
        "PUT" => Method::Put,
        "PATCH" => Method::Patch,
        "DELETE" => Method::Delete,
        _ => Method::Get,
    }
}

#[async_trait(?Send)]
impl Transport for FetchTransport {
    async fn send(
        &self,
        req: &OutboundRequest,
        timeout_ms: u64,
        max_bytes: usize,
    ) -> Result<OutboundResponse, TransportError> {
        // Platform error texts can quote the URL (and a credential in its
        // query string): they are never passed on, only the kind of failure.
        let bad = |e: worker::Error| TransportError::Unreachable(cause(&e.to_string()).into());
        let headers = Headers::new();
        for (k, v) in &req.headers {
            headers
                .append(k, v)
                .map_err(|_| TransportError::Unreachable("a header was refused".into()))?;
        }
        let mut init = RequestInit::new();
        init.with_method(method(&req.method))
            .with_headers(headers)
            .with_redirect(RequestRedirect::Manual);
        if let Some(b) = &req.body {
            init.with_body(Some(b.as_str().into()));
        }
        let request = Request::new_with_init(&req.url, &init).map_err(bad)?;
        // The runtime's own timer (`AbortSignal.timeout`) bounds the whole
        // exchange, body included: no timer closure crosses into Wasm.
        let signal = AbortSignal::from(web_sys::AbortSignal::timeout_with_u32(
            u32::try_from(timeout_ms).unwrap_or(u32::MAX),
        ));
        let failed = |e: worker::Error| {
            if signal.aborted() {
                TransportError::Timeout(timeout_ms)
            } else {
                bad(e)
            }
        };
        let mut resp = Fetch::Request(request)
            .send_with_signal(&signal)
            .await
            .map_err(failed)?;
        let status = resp.status_code();
        let headers: Vec<(String, String)> = resp.headers().entries().collect();
        // A declared length within the cap is read in one piece (cheaper
        // than streaming chunk by chunk through Wasm); anything else is
        // streamed and cut at the cap.
        let declared = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse::<usize>().ok());
        if declared.is_some_and(|n| n <= max_bytes) {
            let mut body = resp.bytes().await.map_err(failed)?;
            let truncated = body.len() > max_bytes;
            body.truncate(max_bytes);
            return Ok(OutboundResponse {
                status,
                headers,
                body,
                truncated,
            });
        }
        let mut body = Vec::new();
        let mut truncated = false;
        if let Ok(mut stream) = resp.stream() {
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(failed)?;
                body.extend_from_slice(&chunk);
                if body.len() > max_bytes {
                    body.truncate(max_bytes);
                    truncated = true;
                    break;
                }
            }
        }
        Ok(OutboundResponse {
            status,
            headers,
            body,
            truncated,
        })
    }
}
