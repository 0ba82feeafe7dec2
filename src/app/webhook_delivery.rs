//! Webhook delivery (API §16): the outbox (`events`) fanned out to the
//! endpoints subscribed, and each delivery sent the Standard Webhooks way
//! through the guarded client, retried on its schedule. The tenant's object
//! runs `run_once` from its alarm (bounded: at most `MAX_SENDS_PER_RUN`
//! outbound requests); `send_test` sends one test event from a request.
//! A delivery is sent only under a lease, so never twice at once.

use super::App;
use crate::domain::ids::{KeyId, TenantId, WebhookDeliveryId};
use crate::domain::time::Millis;
use crate::domain::webhook::{self, Verdict, TEST_EVENT};
use crate::domain::Error;
use crate::probe::client::{OutboundRequest, ProbeError};
use crate::store::webhooks::{Attempted, DeliveryRecord, Disable, Due, Lease, NewDelivery, Outbox};
use crate::store::Fail;
use futures_util::future::join_all;
use serde_json::json;

/// Outbound requests of one alarm run, like the sweep's.
pub const MAX_SENDS_PER_RUN: usize = 50;
/// Events read from the outbox per run.
pub const FANOUT_EVENTS: usize = 100;
/// Deliveries created per run (an event is fanned out whole or not yet).
pub const MAX_NEW_PER_RUN: usize = 200;
/// How long a sender holds what it claimed: well past the 10 s timeout.
pub const LEASE_MS: i64 = 60_000;
/// A receiver's answer is not kept: only this much is read of it.
pub const MAX_ANSWER_BYTES: usize = 4 * 1024;

/// What one run did.
#[derive(Debug, Default, PartialEq)]
pub struct HooksReport {
    pub created: usize,
    pub sent: usize,
    pub delivered: usize,
    /// When the next run is due (now: more is waiting); `None`: nothing pending.
    pub next_ms: Option<i64>,
    /// The tenant has no enabled endpoint (and so nothing pending).
    pub idle: bool,
}

/// The deliveries the outbox's events make, and how far that got.
struct Plan {
    new: Vec<NewDelivery>,
    cursor: Option<i64>,
    more: bool,
}

fn plan(app: &App, outbox: &Outbox) -> Plan {
    let mut p = Plan {
        new: vec![],
        cursor: None,
        more: outbox.events.len() >= FANOUT_EVENTS,
    };
    for e in &outbox.events {
        let targets: Vec<_> = outbox
            .endpoints
            .iter()
            .filter(|w| w.since_seq < e.seq && webhook::subscribed(&w.events, &e.kind))
            .collect();
        if !p.new.is_empty() && p.new.len() + targets.len() > MAX_NEW_PER_RUN {
            p.more = true;
            break;
        }
        p.new.extend(targets.into_iter().map(|w| NewDelivery {
            id: WebhookDeliveryId::generate(app.rng.as_ref()),
            endpoint_id: w.id.to_string(),
            event_id: e.id.clone(),
            event_type: e.kind.clone(),
        }));
        p.cursor = Some(e.seq);
    }
    p
}

fn lease(app: &App) -> Lease {
    Lease {
        token: crate::domain::ids::random_base62(app.rng.as_ref(), 20),
        now_ms: app.now.0,
        until_ms: app.now.0 + LEASE_MS,
        now: app.now.rfc3339(),
    }
}

/// One run: fan out what the outbox holds, send what is due, record it.
pub async fn run_once(app: &App, tenant: &TenantId) -> Result<HooksReport, Fail> {
    let outbox = app.webhooks.outbox(tenant, FANOUT_EVENTS).await?;
    if outbox.endpoints.is_empty() {
        // Disabling cancels and deleting removes: nothing can be pending.
        return Ok(HooksReport {
            idle: true,
            ..Default::default()
        });
    }
    let plan = plan(app, &outbox);
    let lease = lease(app);
    let due = app
        .webhooks
        .fan_out_and_claim(tenant, &plan.new, plan.cursor, &lease, MAX_SENDS_PER_RUN)
        .await?;
    let results = join_all(due.iter().map(|d| attempt(app, d))).await;
    let delivered = results
        .iter()
        .filter(|(a, _)| a.status == "succeeded")
        .count();
    let (attempts, disable): (Vec<_>, Vec<_>) = results.into_iter().unzip();
    let disable: Vec<Disable> = disable.into_iter().flatten().collect();
    let next = app
        .webhooks
        .record(tenant, &attempts, &disable, &lease)
        .await?;
    // A disabled endpoint wrote an event: fan it out next.
    let more = plan.more || due.len() >= MAX_SENDS_PER_RUN || !disable.is_empty();
    Ok(HooksReport {
        created: plan.new.len(),
        sent: due.len(),
        delivered,
        next_ms: if more { Some(app.now.0) } else { next },
        idle: false,
    })
}

/// `POST /v1/webhook-endpoints/{id}/test`: a `webhook.test` event to this
/// endpoint only, sent now; retried like any delivery if it fails.
pub async fn send_test(
    app: &App,
    tenant: &TenantId,
    by: &KeyId,
    id: &str,
) -> Result<DeliveryRecord, Fail> {
    let endpoint = super::webhooks::get(app, tenant, id).await?;
    if endpoint.status != "enabled" {
        return Err(Error::StateConflict(format!(
            "The webhook endpoint {} is disabled ({}); create a new one.",
            endpoint.id,
            endpoint
                .disabled_reason
                .as_deref()
                .unwrap_or("no reason kept")
        ))
        .into());
    }
    let event = app.event(
        tenant,
        TEST_EVENT,
        json!({"webhook_endpoint_id": endpoint.id.as_str(), "by": by.as_str()}),
    );
    let delivery = NewDelivery {
        id: WebhookDeliveryId::generate(app.rng.as_ref()),
        endpoint_id: endpoint.id.to_string(),
        event_id: event.id.clone(),
        event_type: TEST_EVENT.into(),
    };
    let lease = lease(app);
    let gone = || Error::not_found(crate::domain::ids::WebhookEndpointId::KIND, id);
    let due = app
        .webhooks
        .insert_test(tenant, &event, &delivery, &lease)
        .await?
        .ok_or_else(gone)?;
    let (attempted, disable) = attempt(app, &due).await;
    app.webhooks
        .record(tenant, &[attempted], disable.as_slice(), &lease)
        .await?;
    // A failed test is retried by the object's alarm.
    app.poke.arm(tenant);
    Ok(app
        .webhooks
        .delivery(tenant, &delivery.id)
        .await?
        .ok_or_else(gone)?)
}

/// Sends one delivery once; answers the attempt to record and, for a
/// `410 Gone`, the endpoint to disable.
async fn attempt(app: &App, d: &Due) -> (Attempted, Option<Disable>) {
    let started = (app.clock)();
    let (status_code, error) = match send(app, d).await {
        Ok(status) => (Some(status), None),
        Err(e) => e,
    };
    let latency_ms = ((app.clock)() - started).max(0);
    let now = app.now.0;
    let verdict = webhook::verdict(status_code);
    let (status, next) = match verdict {
        Verdict::Delivered => ("succeeded", None),
        Verdict::Gone => ("failed", None),
        Verdict::Retry => {
            let mut jitter = [0u8; 1];
            app.rng.fill(&mut jitter);
            let failed = d.attempt_count + 1;
            let first = d.first_attempt_ms.unwrap_or(now);
            match webhook::next_attempt(
                failed,
                first,
                now,
                app.config.webhook_retry_scale,
                f64::from(jitter[0]) / 256.0,
            ) {
                Some(t) => ("pending", Some(t)),
                None => ("failed", None),
            }
        }
    };
    let attempt = json!({
        "attempted_at": app.now.rfc3339(),
        "status_code": status_code,
        "error": error,
        "latency_ms": latency_ms,
        "next_attempt_at": next.map(|t| Millis(t).rfc3339()),
    });
    let disable = (verdict == Verdict::Gone).then(|| {
        let reason = "The endpoint answered 410 Gone.".to_string();
        Disable {
            event: app.event(
                &d.event.tenant,
                "webhook_endpoint.disabled",
                json!({"webhook_endpoint_id": d.endpoint_id.as_str(), "host": webhook::host_of(&d.url), "reason": reason}),
            ),
            endpoint_id: d.endpoint_id.clone(),
            reason,
        }
    });
    (
        Attempted {
            id: d.id.clone(),
            attempt,
            status: status.into(),
            next_attempt_ms: next,
            attempted_ms: now,
        },
        disable,
    )
}

/// One POST, signed; answers the status, or what stood in for an answer.
async fn send(app: &App, d: &Due) -> Result<u16, (Option<u16>, Option<String>)> {
    let fail = |m: String| (None, Some(m));
    let secret = super::vault::open_secret(app, &d.event.tenant, d.endpoint_id.as_str(), &d.secret)
        .map_err(|e| {
            (app.log)(&format!("webhooks: endpoint {}: {}", d.endpoint_id, e.0));
            fail("The endpoint's signing secret could not be opened.".into())
        })?;
    let key = webhook::signing_key(&secret)
        .ok_or_else(|| fail("The endpoint's signing secret is malformed.".into()))?;
    let body = d.event.view().to_string();
    let timestamp = app.now.0.div_euclid(1000);
    let signature = webhook::sign(&key, &d.event.id, timestamp, &body);
    let req = OutboundRequest {
        method: "POST".into(),
        url: d.url.clone(),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            (
                "user-agent".into(),
                "connector-marketplace-webhooks/1".into(),
            ),
            ("webhook-id".into(), d.event.id.clone()),
            ("webhook-timestamp".into(), timestamp.to_string()),
            ("webhook-signature".into(), signature),
        ],
        body: Some(body),
        // A receiver's redirect is its answer, never followed.
        no_redirects: true,
        ..Default::default()
    };
    let mut client = app.outbound();
    client.max_bytes = MAX_ANSWER_BYTES;
    match client.send(req).await {
        Ok(r) => Ok(r.status),
        Err(ProbeError::TokenRedirect(_, status)) => Err((
            Some(status),
            Some("A redirect: webhooks never follow redirects.".into()),
        )),
        Err(ProbeError::Transport { host, error }) => Err(fail(format!("{host} {error}."))),
        Err(e) => Err(fail(e.to_string())),
    }
}
