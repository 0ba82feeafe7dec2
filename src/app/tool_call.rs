//! Tool calls (API §13) as use cases: one tool of an instance runs through
//! its stored credential — injected on the one credential path, refreshed
//! first when an OAuth token is due, never shown to the caller — and every
//! call that reaches the provider leaves a receipt. An agent key may only
//! call what its consumer's bindings grant (API §7: the serving instance's
//! tools for the bound capability). A call is planned first (everything the
//! request says is checked; nothing is sent) so the HTTP side can hold a
//! side-effecting call's `Idempotency-Key` around it.

use super::vault::{open_fields, seal_fields};
use super::App;
use crate::domain::auth::ToolCaller;
use crate::domain::connector::Status;
use crate::domain::idempotency::canonical_json;
use crate::domain::ids::{TenantId, ToolCallId};
use crate::domain::manifest::{Listing, Tool};
use crate::domain::tool::validate_arguments;
use crate::domain::Error;
use crate::probe::call::NotSent;
use crate::probe::credential::Session;
use crate::probe::run::{redact, snippet};
use crate::store::{ConnectorRecord, Fail, ToolCallRecord, Written};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::rc::Rc;

/// A call as the caller sent it.
pub struct CallRequest<'a> {
    pub connector: &'a str,
    pub tool: &'a str,
    pub arguments: Option<&'a Value>,
    pub dry_run: bool,
    pub idempotency_key: Option<&'a str>,
}

/// A checked call, ready to run.
pub struct CallPlan {
    connector: ConnectorRecord,
    listing: Rc<Listing>,
    tool: Tool,
    arguments: Map<String, Value>,
    dry_run: bool,
    consumer: Option<String>,
    idempotency_key: Option<String>,
}

impl CallPlan {
    /// A live side-effecting call: it must be held under its key so that a
    /// retry never reaches the provider twice.
    pub fn writes(&self) -> bool {
        self.tool.side_effect && !self.dry_run
    }
}

/// Checks a call: the instance is the caller's, the tool is its listing
/// version's, an agent's bindings grant it, the instance is not waiting for
/// consent, the arguments pass the tool's `input_schema`, and a live
/// side-effecting call carries an `Idempotency-Key`. Sends nothing.
pub async fn plan(
    app: &App,
    caller: &ToolCaller<'_>,
    req: CallRequest<'_>,
) -> Result<CallPlan, Fail> {
    let c = super::connectors::owned(app, caller.tenant, req.connector).await?;
    let listing = super::listings::of_instance(app, &c).await?;
    let tool = listing
        .tools
        .iter()
        .find(|t| t.name == req.tool)
        .cloned()
        .ok_or_else(|| Error::not_found("tool", req.tool))?;
    if let Some(consumer) = caller.consumer {
        if !granted(app, caller.tenant, consumer, &c, &tool).await? {
            return Err(Error::Forbidden(format!(
                "The consumer '{consumer}' has no binding that grants '{}' ({}) on {}.",
                tool.name, tool.capability, c.id
            ))
            .into());
        }
    }
    if c.status == Status::PendingAuth {
        return Err(Error::StateConflict(
            "The connector is waiting for OAuth consent; authorize it first.".into(),
        )
        .into());
    }
    let arguments = validate_arguments(&tool.input_schema, req.arguments)?;
    let writes = tool.side_effect && !req.dry_run;
    if writes && req.idempotency_key.is_none() {
        return Err(Error::missing("Idempotency-Key")
            .reworded(format!(
                "'{}' has side effects: a live call needs an Idempotency-Key header, so that a retry never runs it twice (or send dry_run: true).",
                tool.name
            ))
            .into());
    }
    if req.dry_run && tool.side_effect && tool.dry_run.is_none() {
        return Err(Error::ToolUnsupported(format!(
            "'{}' declares no dry run: it can only be called live.",
            tool.name
        ))
        .into());
    }
    Ok(CallPlan {
        connector: c,
        listing,
        tool,
        arguments,
        dry_run: req.dry_run,
        consumer: caller.consumer.map(str::to_string),
        idempotency_key: req.idempotency_key.map(str::to_string),
    })
}

/// Whether `consumer`'s bindings grant `tool` on `c`: a binding of the
/// tool's capability that `c` serves (pinned to it, or unpinned and `c` the
/// oldest connected instance fulfilling the capability).
async fn granted(
    app: &App,
    tenant: &TenantId,
    consumer: &str,
    c: &ConnectorRecord,
    tool: &Tool,
) -> Result<bool, Fail> {
    let bindings: Vec<_> = app
        .connectors
        .all_bindings(tenant)
        .await?
        .into_iter()
        .filter(|b| b.consumer == consumer && b.capability == tool.capability)
        .collect();
    if bindings
        .iter()
        .any(|b| b.connector_id.as_ref() == Some(&c.id))
    {
        return Ok(true);
    }
    if !bindings.iter().any(|b| b.connector_id.is_none()) {
        return Ok(false);
    }
    let serving = app
        .connectors
        .all_connectors(tenant)
        .await?
        .into_iter()
        .filter(|o| o.status == Status::Connected && o.capabilities.contains(&tool.capability))
        .min_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
    Ok(serving.is_some_and(|s| s.id == c.id))
}

/// The SHA-256 of the arguments' canonical JSON (key order does not matter).
pub fn arguments_sha256(args: &Map<String, Value>) -> String {
    hex::encode(Sha256::digest(
        canonical_json(&Value::Object(args.clone())).as_bytes(),
    ))
}

/// Runs a planned call and stores its receipt. The provider saying no is a
/// completed call (`status: failed`); no answer at all, or a 5xx, is
/// `ToolUpstream` naming the stored receipt. A request refused before it is
/// sent (a bad argument, a refused target) leaves no receipt.
pub async fn call(app: &App, plan: CallPlan) -> Result<ToolCallRecord, Fail> {
    let CallPlan {
        connector: c,
        listing,
        tool,
        arguments,
        dry_run,
        consumer,
        idempotency_key,
    } = plan;
    let request = if dry_run && tool.side_effect {
        tool.dry_run.as_ref()
    } else {
        tool.request.as_ref()
    };
    let Some(request) = request else {
        return Err(Error::ToolUnsupported(match listing.transport.as_str() {
            "database" => "Database tools cannot run from the edge yet.".to_string(),
            "mcp" => "Tools of MCP servers are not proxied yet.".to_string(),
            _ => format!("'{}' declares no request.", tool.name),
        })
        .into());
    };
    let fields = open_fields(app, &c)?;
    let config: Map<String, Value> = c.config.as_object().cloned().unwrap_or_default();
    let mut session = Session::new(&listing, c.auth_type, &config, fields);
    let net = app.net();
    if session.oauth() {
        if let Err(message) = session.refresh_if_due(&net).await {
            return Err(Error::StateConflict(format!(
                "The connector's token could not be refreshed: {message}"
            ))
            .into());
        }
        if session.refreshed {
            let mut next = c.clone();
            next.secret = Some(seal_fields(app, &c.tenant, &c.id, &session.fields)?);
            next.updated_at = app.now.rfc3339();
            if app
                .connectors
                .update_connector(&c.tenant, &next, None)
                .await?
                == Written::Gone
            {
                return Err(Error::not_found("connector", c.id.as_str()).into());
            }
        }
    }
    let secrets: Vec<String> = session.fields.values().cloned().collect();
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let sent = session.send_tool(&net, request, &arguments).await;
    let mut receipt = ToolCallRecord {
        id: ToolCallId::generate(app.rng.as_ref()).to_string(),
        tenant: c.tenant.clone(),
        connector_id: c.id.to_string(),
        listing: crate::domain::ids::slug_of(&c.listing).to_string(),
        listing_version: c.listing_version.clone(),
        tool: tool.name.clone(),
        capability: tool.capability.clone(),
        consumer,
        mode: if dry_run { "dry_run" } else { "live" }.into(),
        status: "failed".into(),
        result: None,
        truncated: false,
        error: None,
        upstream_status: None,
        latency_ms: None,
        arguments_sha256: arguments_sha256(&arguments),
        idempotency_key,
        approval_id: None,
        created_at: app.now.rfc3339(),
    };
    let unreachable = match sent {
        Err(NotSent::Refused(e)) => return Err(e.into()),
        Err(NotSent::Unreachable {
            message,
            latency_ms,
        }) => {
            receipt.latency_ms = Some(latency_ms);
            Some(redact(&message, &secrets))
        }
        Ok(answer) => {
            receipt.upstream_status = Some(answer.status);
            receipt.latency_ms = Some(answer.latency_ms);
            if answer.succeeded {
                let shaped = tool.result.clone().unwrap_or_default().apply(&answer.body);
                receipt.status = "succeeded".into();
                receipt.result = Some(scrub(shaped.value, &secrets));
                receipt.truncated = shaped.truncated;
                None
            } else if answer.status >= 500 {
                Some(format!(
                    "The provider answered HTTP {}: {}",
                    answer.status,
                    snippet(&answer.body, &secrets)
                ))
            } else {
                receipt.error = Some(json!({
                    "code": "provider_rejected",
                    "message": format!("The provider answered HTTP {}: {}", answer.status, snippet(&answer.body, &secrets)),
                }));
                None
            }
        }
    };
    if let Some(message) = &unreachable {
        receipt.error = Some(json!({"code": "connector_upstream_error", "message": message}));
    }
    app.tool_calls.insert_tool_call(&receipt).await?;
    match unreachable {
        Some(message) => Err(Error::ToolUpstream {
            message,
            tool_call: receipt.id,
        }
        .into()),
        None => Ok(receipt),
    }
}

/// A provider's answer with every form of the instance's secrets masked:
/// scrubbed as JSON text, and kept as text if masking broke the JSON.
fn scrub(v: Value, secrets: &[&str]) -> Value {
    let text = v.to_string();
    let masked = redact(&text, secrets);
    if masked == text {
        return v;
    }
    serde_json::from_str(&masked).unwrap_or(Value::String(masked))
}

/// One receipt of the caller's tenant.
pub async fn receipt(app: &App, tenant: &TenantId, id: &str) -> Result<ToolCallRecord, Fail> {
    let id = ToolCallId::parse(id)?;
    app.tool_calls
        .tool_call(tenant, id.as_str())
        .await?
        .ok_or_else(|| Error::not_found("tool_call", id.as_str()).into())
}
