//! The health sweep (API §6): store → probe → store. The cron asks every
//! tenant object to sweep; each object runs `run_once` from its alarm until
//! its instances are done, at most `MAX_OUTBOUND_PER_RUN` outbound requests
//! per run. D1 is written only when an instance's health or status moves;
//! each check's details (last check, latency) stay in the object's storage.

use super::health::{check, record};
use super::App;
use crate::domain::ids::TenantId;
use crate::domain::sweep::{next_backoff, plan, Backoff, Candidate, BATCH};
use crate::store::Fail;
use futures_util::future::join_all;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;

/// A tenant object's sweep progress, kept in its storage between alarms.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SweepState {
    /// The tenant this object belongs to (objects are named by tenant id).
    #[serde(default)]
    pub tenant: String,
    pub active: bool,
    pub cursor: Option<String>,
    pub backoff: HashMap<String, Backoff>,
    pub started_ms: i64,
}

#[derive(Debug, Default, PartialEq)]
pub struct RunReport {
    pub probed: usize,
    pub changed: usize,
    pub skipped: usize,
    pub outbound_budget: usize,
    pub done: bool,
    /// Per-instance details to keep in the object's storage.
    pub details: Vec<(String, Value)>,
}

/// One run over the next batch of a tenant's instances.
pub async fn run_once(
    app: &App,
    tenant: &TenantId,
    state: &mut SweepState,
    jitter: f64,
) -> Result<RunReport, Fail> {
    let batch = app
        .sweep
        .sweep_batch(tenant, state.cursor.as_deref(), BATCH)
        .await?;
    let candidates: Vec<Candidate> = batch
        .iter()
        .map(|c| Candidate {
            id: c.id.to_string(),
            provider: c.listing.clone(),
            oauth: c.auth_type.is_oauth(),
            pending_auth: c.status == crate::domain::connector::Status::PendingAuth,
        })
        .collect();
    let p = plan(&candidates, &state.backoff, app.now.0, state.started_ms);
    let chosen: Vec<_> = batch
        .iter()
        .filter(|c| p.probe.iter().any(|id| id == c.id.as_str()))
        .collect();
    let checks = join_all(chosen.iter().map(|c| async move {
        let listing = super::listings::of_instance(app, c).await?;
        Ok::<_, Fail>(check(app, c, &listing).await?)
    }))
    .await;
    let mut report = RunReport {
        skipped: p.skipped.len(),
        outbound_budget: p.outbound,
        ..Default::default()
    };
    let mut reachable: HashMap<String, bool> = HashMap::new();
    for (c, k) in chosen.iter().zip(checks) {
        let k = match k {
            Ok(k) => k,
            Err(e) => {
                (app.log)(&format!("sweep {}: {}", c.id, fail_text(&e)));
                continue;
            }
        };
        report.probed += 1;
        *reachable.entry(c.listing.clone()).or_insert(false) |= k.reachable;
        if k.changed {
            record(app, c, &k).await?;
            report.changed += 1;
        }
        report.details.push((
            c.id.to_string(),
            crate::domain::health::Health::checked(app.now, k.healthy, k.latency_ms, &k.message)
                .to_json(),
        ));
    }
    for (provider, up) in reachable {
        match next_backoff(state.backoff.get(&provider), up, app.now.0, jitter) {
            Some(b) => state.backoff.insert(provider, b),
            None => state.backoff.remove(&provider),
        };
    }
    let finished_batch =
        batch.len() < BATCH && p.cursor.as_deref() == batch.last().map(|c| c.id.as_str());
    state.cursor = p.cursor;
    if finished_batch || batch.is_empty() {
        state.cursor = None;
        state.active = false;
        report.done = true;
    }
    Ok(report)
}

/// Overlays the object's latest check details on an instance's view: D1
/// keeps health as of the last change, the object the last check.
pub fn overlay(view: &mut Value, details: Option<&Value>) {
    let Some(d) = details else { return };
    let newer = match (
        d["last_check"].as_str(),
        view["health"]["last_check"].as_str(),
    ) {
        (Some(a), Some(b)) => a > b,
        (Some(_), None) => true,
        _ => false,
    };
    if newer {
        view["health"] = d.clone();
    }
}

/// A failure's text for the log (the sweep has no caller to answer).
pub fn fail_text(e: &Fail) -> String {
    match e {
        Fail::Domain(d) => d.to_string(),
        Fail::Store(s) => s.0.clone(),
    }
}
