//! A connector's tool test (API §4) as a use case: each requested tool is
//! run — a read tool live with its `test_arguments`, a side-effecting tool
//! only its `dry_run` (with its `test_arguments`), on the tool call's own
//! credential path; anything else as a dry run that checks auth and
//! reachability through the health check, writing nothing. For `transport: mcp` listings the test speaks MCP instead
//! (initialize, tools/list) and checks that every requested tool is offered.

use super::health::{check, record};
use super::vault::open_fields;
use super::App;
use crate::domain::connector::Status;
use crate::domain::ids::TenantId;
use crate::domain::Error;
use crate::probe::call::NotSent;
use crate::probe::credential::Session;
use crate::probe::database;
use crate::probe::run::{redact, snippet};
use crate::store::Fail;
use serde_json::{json, Map, Value};

/// One tool's result.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    pub tool: String,
    /// `live` or `dry_run`.
    pub mode: &'static str,
    /// `None`: the check could not run here.
    pub ok: Option<bool>,
    pub latency_ms: Option<u64>,
    pub error: Option<String>,
    /// A short, redacted quote of a live read tool's answer text, where its
    /// manifest says (`test_output`): an agent's reply to "hello".
    pub output: Option<String>,
}

/// The test's answer: `passed`, `failed`, or `unverified` when a check could
/// not run (not run is not passed).
pub struct Report {
    pub connector_id: String,
    pub status: &'static str,
    pub results: Vec<ToolResult>,
}

/// Which tools to test: all when `None`.
pub fn wanted(
    listing: &crate::domain::manifest::Listing,
    tools: Option<&Value>,
) -> Result<Vec<String>, Error> {
    let names: Vec<String> = match tools {
        None | Some(Value::Null) => {
            return Ok(listing.tools.iter().map(|t| t.name.clone()).collect())
        }
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
            ))
        }
    };
    if let Some(unknown) = names
        .iter()
        .find(|w| !listing.tools.iter().any(|t| &t.name == *w))
    {
        return Err(Error::invalid(
            "tools",
            format!("Unknown tool '{unknown}' for the listing '{}'.", listing.id),
        ));
    }
    Ok(names)
}

/// Tests the instance's tools and records a `connector.tested` event. An
/// unreachable source fails the test (`Upstream`) and marks the instance
/// `error` (API §4).
pub async fn test(
    app: &App,
    tenant: &TenantId,
    by: &str,
    id: &str,
    tools: Option<&Value>,
) -> Result<Report, Fail> {
    let c = super::connectors::owned(app, tenant, id).await?;
    let listing = super::listings::of_instance(app, &c).await?;
    let wanted = wanted(&listing, tools)?;
    if c.status == Status::PendingAuth {
        return Err(Error::StateConflict(
            "The connector is waiting for OAuth consent; authorize it first.".into(),
        )
        .into());
    }
    // The dry run: auth and reachability, once for every tool that needs it.
    let mut k = check(app, &c, &listing).await?;
    if !k.reachable {
        k.next.status = Status::Error;
        record(app, &c, &k).await?;
        return Err(Error::Upstream(k.message).into());
    }
    if k.changed {
        record(app, &c, &k).await?;
    }
    let fields = open_fields(app, &k.next)?;
    let config: Map<String, Value> = c.config.as_object().cloned().unwrap_or_default();
    // Fresh from the check: a due token was refreshed (and sealed) there.
    let session = Session::new(&listing, c.auth_type, &config, fields);
    let secrets: Vec<&str> = session.fields.values().map(String::as_str).collect();
    let net = app.net();
    let dry =
        |tool: &str, ok: Option<bool>, latency_ms: Option<u64>, error: Option<String>| ToolResult {
            tool: tool.to_string(),
            mode: "dry_run",
            ok,
            latency_ms,
            error,
            output: None,
        };
    let mut results = vec![];
    if listing.transport == "mcp" {
        // Each upstream definition is read and compared with its pin: a
        // changed one is reported (`tool_changed`) until a manager accepts
        // it; one never pinned is pinned now.
        let offered = session.mcp_tool_definitions(&net).await;
        let pins = app.tool_calls.tool_pins(tenant, c.id.as_str()).await?;
        let mut new_pins = vec![];
        for name in &wanted {
            let upstream = listing
                .tools
                .iter()
                .find(|t| &t.name == name)
                .and_then(|t| t.mcp_tool.clone())
                .unwrap_or_else(|| name.clone());
            let defs = match &offered {
                Ok(defs) => defs,
                Err(e) => {
                    results.push(dry(name, Some(false), None, Some(e.clone())));
                    continue;
                }
            };
            let Some(def) = defs.iter().find(|d| d["name"] == upstream.as_str()) else {
                results.push(dry(
                    name,
                    Some(false),
                    k.latency_ms,
                    Some("The MCP server does not offer this tool.".into()),
                ));
                continue;
            };
            let digest = super::tool_call::definition_digest(def);
            match pins.get(&upstream) {
                Some(p) if *p != digest => results.push(dry(
                    name,
                    Some(false),
                    k.latency_ms,
                    Some(format!("tool_changed: the MCP server changed the definition of '{upstream}' since it was pinned; calls are withheld until a manager accepts it (POST /v1/connectors/{}/tools/accept).", c.id)),
                )),
                pinned => {
                    if pinned.is_none() {
                        new_pins.push((upstream.clone(), digest));
                    }
                    results.push(dry(name, Some(true), k.latency_ms, None));
                }
            }
        }
        app.tool_calls
            .pin_tools(tenant, c.id.as_str(), &new_pins, &app.now.rfc3339())
            .await?;
    } else {
        for name in &wanted {
            let Some(tool) = listing.tools.iter().find(|t| &t.name == name) else {
                continue;
            };
            // Executable tools run on the tool call's own path: a read tool
            // live with its test_arguments, a side-effecting one only its
            // dry run. Versions stored before tools were executable keep
            // their `probe`; anything else is dry-run by the health check.
            let sql = tool
                .sql
                .as_ref()
                .filter(|_| listing.transport == "database");
            if let (Some(q), Some(args)) = (sql, tool.test_arguments.as_ref()) {
                let started = (app.clock)();
                let r = database::tool(&session, &net, &q.kind, args, tool.side_effect).await;
                results.push(ToolResult {
                    tool: name.clone(),
                    mode: if tool.side_effect { "dry_run" } else { "live" },
                    ok: Some(r.is_ok()),
                    latency_ms: Some(((app.clock)() - started).max(0) as u64),
                    error: r.err().map(|f| f.message()),
                    output: None,
                });
                continue;
            }
            let (request, mode) = if tool.side_effect {
                (tool.dry_run.as_ref(), "dry_run")
            } else {
                (tool.request.as_ref(), "live")
            };
            if let (Some(request), Some(args)) = (request, tool.test_arguments.as_ref()) {
                let mut output = None;
                let (ok, latency_ms, error) = match session.send_tool(&net, request, args).await {
                    Ok(a) if a.succeeded => {
                        // Only a live read: a dry run's answer is not the tool's.
                        output = tool
                            .test_output
                            .as_ref()
                            .filter(|_| !tool.side_effect)
                            .and_then(|o| o.excerpt(&a.body))
                            .map(|text| snippet(text.as_bytes(), &secrets));
                        (Some(true), Some(a.latency_ms), None)
                    }
                    Ok(a) => (
                        Some(false),
                        Some(a.latency_ms),
                        Some(format!(
                            "The provider answered HTTP {}: {}",
                            a.status,
                            snippet(&a.body, &secrets)
                        )),
                    ),
                    Err(NotSent::Unreachable { message, .. }) => {
                        (Some(false), None, Some(redact(&message, &secrets)))
                    }
                    Err(NotSent::Refused(e)) => (Some(false), None, Some(e.to_string())),
                };
                results.push(ToolResult {
                    tool: name.clone(),
                    mode,
                    ok,
                    latency_ms,
                    error,
                    output,
                });
                continue;
            }
            match tool.probe.as_ref().filter(|_| !tool.side_effect) {
                Some(probe) => {
                    let v = session
                        .probe(&net, probe, false)
                        .await
                        .verdict(c.auth_type, "The provider");
                    results.push(ToolResult {
                        tool: name.clone(),
                        mode: "live",
                        ok: v.ok,
                        latency_ms: v.latency_ms,
                        error: (v.ok != Some(true)).then_some(v.message),
                        output: None,
                    });
                }
                // The dry run is the health check: `null` when it could not run.
                None => results.push(dry(
                    name,
                    k.healthy,
                    k.latency_ms,
                    (k.healthy != Some(true)).then(|| k.message.clone()),
                )),
            }
        }
    }
    let status = if results.iter().any(|r| r.ok == Some(false)) {
        "failed"
    } else if results.iter().all(|r| r.ok == Some(true)) {
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
    Ok(Report {
        connector_id: c.id.to_string(),
        status,
        results,
    })
}
