//! Writes that go through the tenant's Durable Object: the `Idempotency-Key`
//! check (API §2) and locks on names and instances, taken before the write
//! and released after it, with the answer recorded for replays.

use super::error::ApiError;
use super::http::{HttpRequest, HttpResponse};
use super::App;
pub use crate::app::locks::Locks;
use crate::domain::idempotency::{self, Stored};
use crate::domain::ids::TenantId;
use crate::domain::Error;
use crate::tenant::protocol::{Answer, Idem};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::future::Future;

/// The request's `Idempotency-Key` with a fingerprint of route and body
/// (canonical JSON, so key order and whitespace do not matter).
pub fn idempotency(req: &HttpRequest) -> Result<Option<Idem>, ApiError> {
    let Some(key) = req.header("idempotency-key") else {
        return Ok(None);
    };
    if !idempotency::valid_key(key) {
        return Err(Error::invalid(
            "Idempotency-Key",
            "Invalid Idempotency-Key: use 1 to 255 visible ASCII characters.",
        )
        .into());
    }
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let mut h = Sha256::new();
    h.update(req.method.as_str());
    h.update(b" ");
    h.update(req.path.as_bytes());
    h.update(b"\n");
    h.update(idempotency::canonical_json(&body).as_bytes());
    Ok(Some(Idem {
        key: key.to_string(),
        fingerprint: hex::encode(h.finalize()),
    }))
}

/// The fingerprint is kept 48 h and the body it covers may hold
/// credentials: it is stored as HMAC-SHA256 under a key derived from
/// `VAULT_KEY` (label `idempotency-fingerprint`), so a guessed secret cannot
/// be checked against it. Without a vault key no credential can be stored.
fn keyed(app: &App, mut idem: Idem) -> Idem {
    if let Some(k) = &app.config.vault {
        idem.fingerprint = k.fingerprint(idem.fingerprint.as_bytes());
    }
    idem
}

/// Runs `work` under the tenant object's idempotency check and `locks`.
/// Answers below 500 are recorded for the key; 5xx and upstream failures
/// are not, so the request may be retried with the same key — except a 5xx
/// that is the request's final answer (`ApiError::final_answer`: a tool call
/// that was sent), which a retry gets back instead of running the call again.
pub async fn guarded<F, Fut>(
    app: &App,
    tenant: &TenantId,
    idem: Option<Idem>,
    locks: Locks,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<HttpResponse, ApiError>>,
{
    let key = idem.as_ref().map(|i| i.key.clone());
    let idem = idem.map(|i| keyed(app, i));
    match app
        .objects
        .begin(tenant, idem, locks.take.clone(), app.now.0)
        .await?
    {
        Answer::Proceed => {}
        Answer::Replay(s) => {
            return Ok(HttpResponse::raw_json(s.status, s.body.into_bytes())
                .header("idempotent-replayed", "true"))
        }
        Answer::InProgress => return Err(Error::IdempotencyInProgress.into()),
        Answer::KeyReused => return Err(Error::IdempotencyKeyReused.into()),
        Answer::Busy { lock } => {
            // A name held after a successful install (`keep_on_success`) is
            // simply taken: say so rather than "retry shortly".
            if let Some(("name", n)) = lock.split_once(':') {
                if app.connectors.name_taken(tenant, n).await? {
                    return Err(Error::name_taken(n).into());
                }
            }
            let what = match lock.split_once(':') {
                Some(("name", n)) => format!("the name '{n}' is being claimed by another request"),
                Some(("cn", id)) => {
                    format!("the connector '{id}' is being changed by another request")
                }
                _ => "another request is changing the same objects".to_string(),
            };
            return Err(Error::StateConflict(format!("Conflict: {what}; retry shortly.")).into());
        }
        other => {
            return Err(ApiError::internal(format!(
                "tenant object answered {} to begin",
                other.name()
            )))
        }
    }
    let result = work().await;
    // Events of a write reach the tenant's webhooks through its object.
    app.poke.note(tenant);
    let stored = match &result {
        Ok(r) if r.status < 500 => Some(Stored {
            status: r.status,
            body: String::from_utf8_lossy(&r.body).into_owned(),
        }),
        // A rate limit's 429 is not the request's answer: retried with the
        // same key once the wait is over, it runs.
        Err(e) if (e.status < 500 && e.status != 429) || e.final_answer => Some(Stored {
            status: e.status,
            body: String::from_utf8_lossy(&e.clone().into_response(app.request_id.as_str()).body)
                .into_owned(),
        }),
        _ => None,
    };
    let stored = if key.is_some() { stored } else { None };
    let succeeded = matches!(&result, Ok(r) if r.status < 300);
    if key.is_none() && locks.keep_on_success && succeeded {
        return result;
    }
    let Locks {
        take: mut locks,
        free,
        ..
    } = locks;
    locks.extend(free);
    // Recording the answer and releasing the locks happens after the answer
    // is sent. A repeat of the key meanwhile waits in the object for it.
    let (objects, tenant, log) = (app.objects.clone(), tenant.clone(), app.log.clone());
    (app.background)(Box::pin(async move {
        if let Err(e) = objects.finish(&tenant, key, stored, locks).await {
            // The write happened; the replay record or a lock may be lost
            // (locks expire by themselves).
            log(&format!("tenant object finish failed: {}", e.0));
        }
    }));
    result
}
