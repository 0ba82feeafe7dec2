//! `POST /v1/connectors/{id}/test` (API §4): each requested tool is run —
//! read tools with a probe live, everything else as a dry run that checks
//! auth and reachability through the health probe without writing anything.
//! For `transport: mcp` listings the test speaks MCP instead (initialize,
//! tools/list) and checks that every requested tool is offered.

use super::connectors::{instance_listing, owned};
use super::error::ApiError;
use super::extract::JsonBody;
use super::health::{check, record};
use super::http::{HttpRequest, HttpResponse};
use super::install::upstream;
use super::oauth::open_fields;
use super::App;
use crate::domain::auth::Role;
use crate::domain::Error;
use crate::probe::credential::Session;
use crate::probe::run::Outcome;
use serde_json::{json, Map, Value};

/// `POST /v1/connectors/{id}/test` — `{tools?: [names]}`; all tools when absent.
pub async fn test_connector(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Manager)?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&["tools"])?;
    let c = owned(app, tenant, id).await?;
    let listing = instance_listing(app, &c).await?;
    let wanted: Vec<String> = match body.get("tools") {
        None | Some(Value::Null) => listing.tools.iter().map(|t| t.name.clone()).collect(),
        Some(Value::Array(a)) if !a.is_empty() && a.len() <= 100 => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| Error::invalid("tools", "Invalid tools: expected tool names."))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(Error::invalid(
                "tools",
                "Invalid tools: expected a non-empty array of tool names.",
            )
            .into())
        }
    };
    if let Some(unknown) = wanted
        .iter()
        .find(|w| !listing.tools.iter().any(|t| &t.name == *w))
    {
        return Err(Error::invalid(
            "tools",
            format!("Unknown tool '{unknown}' for the listing '{}'.", listing.id),
        )
        .into());
    }
    if c.status == "pending_auth" {
        return Err(Error::StateConflict(
            "The connector is waiting for OAuth consent; authorize it first.".into(),
        )
        .into());
    }
    // The dry run: auth and reachability, once for every tool that needs it.
    let mut k = check(app, &c, &listing).await?;
    if !k.reachable {
        // API §4: an unreachable source fails the test and marks the instance.
        k.next.status = "error".into();
        record(app, &c, &k).await?;
        return Err(upstream(&k.message));
    }
    if k.changed {
        record(app, &c, &k).await?;
    }
    let fields = open_fields(app, &k.next)?;
    let config: Map<String, Value> = c.config.as_object().cloned().unwrap_or_default();
    // Fresh from the check: a due token was refreshed (and sealed) there.
    let session = Session::new(&listing, &c.auth_type, &config, fields);
    let net = app.net();
    if listing.transport == "mcp" {
        let offered = session.mcp_tools(&net).await;
        let results: Vec<Value> = wanted
            .iter()
            .map(|name| match &offered {
                Ok(names) if names.contains(name) => json!({"tool": name, "mode": "dry_run", "ok": true, "latency_ms": k.latency_ms}),
                Ok(_) => json!({"tool": name, "mode": "dry_run", "ok": false, "latency_ms": k.latency_ms, "error": "The MCP server does not offer this tool."}),
                Err(e) => json!({"tool": name, "mode": "dry_run", "ok": false, "latency_ms": null, "error": e}),
            })
            .collect();
        return answer(app, tenant, &c, by.as_str(), &wanted, results).await;
    }
    let mut results = vec![];
    for name in &wanted {
        let tool = listing
            .tools
            .iter()
            .find(|t| &t.name == name)
            .expect("checked above");
        let live = !tool.side_effect && tool.probe.is_some();
        let (ok, latency, error) = if live {
            let probe = tool.probe.as_ref().expect("live tools have a probe");
            match session.probe(&net, probe, false).await {
                Outcome::Accepted { latency_ms, .. } => (Some(true), Some(latency_ms), None),
                Outcome::Rejected {
                    status,
                    snippet,
                    latency_ms,
                } => (
                    Some(false),
                    Some(latency_ms),
                    Some(format!("HTTP {status}: {snippet}")),
                ),
                Outcome::Unreachable { message }
                | Outcome::Refused { message }
                | Outcome::NotJson { message, .. } => (Some(false), None, Some(message)),
                // Not run is not passed: `ok: null`, and the test is `unverified`.
                Outcome::Unsupported { message } => (None, None, Some(message)),
            }
        } else {
            // The dry run is the health check: `null` when it could not run.
            let ok = k.healthy;
            (
                ok,
                k.latency_ms,
                (ok != Some(true)).then(|| k.message.clone()),
            )
        };
        let mut r = json!({"tool": name, "mode": if live { "live" } else { "dry_run" }, "ok": ok, "latency_ms": latency});
        if let Some(e) = error {
            r["error"] = json!(e);
        }
        results.push(r);
    }
    answer(app, tenant, &c, by.as_str(), &wanted, results).await
}

/// Records the test and answers it.
async fn answer(
    app: &App,
    tenant: &crate::domain::ids::TenantId,
    c: &crate::store::ConnectorRecord,
    by: &str,
    wanted: &[String],
    results: Vec<Value>,
) -> Result<HttpResponse, ApiError> {
    // A check that could not run is not a pass: `unverified` unless one failed.
    let status = if results.iter().any(|r| r["ok"] == false) {
        "failed"
    } else if results.iter().all(|r| r["ok"] == true) {
        "passed"
    } else {
        "unverified"
    };
    let event = app.event_for(
        tenant,
        &c.id,
        "connector.tested",
        json!({"status": status, "tools": wanted.len(), "by": by}),
    );
    app.connectors.insert_event(tenant, &event).await?;
    Ok(HttpResponse::json(
        200,
        &json!({"object": "connector_test", "connector_id": c.id.as_str(), "status": status, "results": results}),
    ))
}
