//! The platform transport under `client::Guarded`: the runtime's `fetch`
//! with redirects left to the caller, an abort after the timeout, and a body
//! read no further than the size cap.

use super::client::{OutboundRequest, OutboundResponse, Transport, TransportError};
use async_trait::async_trait;
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use std::time::Duration;
use worker::{
    AbortController, Delay, Fetch, Headers, Method, Request, RequestInit, RequestRedirect,
};

pub struct FetchTransport;

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
        // query string): they are never passed on.
        let bad = |_: worker::Error| {
            TransportError::Unreachable("the connection failed or the answer was not HTTP".into())
        };
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
        let controller = AbortController::default();
        let signal = controller.signal();
        let deadline = Delay::from(Duration::from_millis(timeout_ms));
        let work = async {
            let mut resp = Fetch::Request(request)
                .send_with_signal(&signal)
                .await
                .map_err(bad)?;
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
                let body = resp.bytes().await.map_err(bad)?;
                let truncated = body.len() > max_bytes;
                let mut body = body;
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
                    let chunk = chunk.map_err(bad)?;
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
        };
        futures_util::pin_mut!(work);
        match select(work, deadline).await {
            Either::Left((result, _)) => result,
            Either::Right(((), _)) => {
                controller.abort();
                Err(TransportError::Timeout(timeout_ms))
            }
        }
    }
}
