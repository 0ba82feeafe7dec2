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
use crate::db::run::{Failure, Refusal};
use crate::db::DbError;
use crate::domain::auth::ToolCaller;
use crate::domain::connector::Status;
use crate::domain::governance::{action, Action, Policy};
use crate::domain::idempotency::canonical_sha256;
use crate::domain::ids::{TenantId, ToolCallId};
use crate::domain::manifest::{Listing, Tool};
use crate::domain::tool::validate_arguments;
use crate::domain::Error;
use crate::probe::call::NotSent;
use crate::probe::credential::Session;
use crate::probe::database;
use crate::probe::mcp::Called;
use crate::probe::run::{redact, snippet};
use crate::store::{BindingRecord, ConnectorRecord, Fail, ToolCallRecord, Written};
use serde_json::{json, Map, Value};
use std::rc::Rc;

mod pins;
use pins::withhold_changed;
pub use pins::{accept, current_definitions, definition_digest};

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
    /// The binding that grants an agent's call (its policy and rate limit
    /// govern it); `None` for a manager's call, which runs as asked.
    binding: Option<BindingRecord>,
    policy: Policy,
}

impl CallPlan {
    /// A live side-effecting call: it must be held under its key so that a
    /// retry never reaches the provider twice.
    pub fn writes(&self) -> bool {
        self.tool.side_effect && !self.dry_run
    }
}

/// Checks a call: the instance is the caller's, the tool is its listing
/// version's, an agent's bindings grant it, then [`plan_granted`]'s checks.
/// Sends nothing.
pub async fn plan(
    app: &App,
    caller: &ToolCaller<'_>,
    req: CallRequest<'_>,
) -> Result<CallPlan, Fail> {
    let c = super::connectors::owned(app, caller.tenant, req.connector).await?;
    let listing = super::listings::of_instance(app, &c).await?;
    let tool = find_tool(&listing, req.tool)?;
    let binding = match caller.consumer {
        Some(consumer) => match granted(app, caller.tenant, consumer, &c, tool).await? {
            Some(b) => Some(b),
            None => {
                return Err(Error::Forbidden(format!(
                    "The consumer '{consumer}' has no binding that grants '{}' ({}) on {}.",
                    tool.name, tool.capability, c.id
                ))
                .into())
            }
        },
        None => None,
    };
    plan_granted(app, caller, c, listing, req, binding).await
}

fn find_tool<'a>(listing: &'a Listing, name: &str) -> Result<&'a Tool, Fail> {
    Ok(listing
        .tools
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| Error::not_found("tool", name))?)
}

/// Checks a call of a tool already known to be granted (the gateway found
/// it among the consumer's tools): the instance is not waiting for consent,
/// the arguments pass the tool's `input_schema`, and a live side-effecting
/// call carries an idempotency key. Sends nothing.
pub async fn plan_granted(
    app: &App,
    caller: &ToolCaller<'_>,
    c: ConnectorRecord,
    listing: Rc<Listing>,
    req: CallRequest<'_>,
    binding: Option<BindingRecord>,
) -> Result<CallPlan, Fail> {
    let tool = find_tool(&listing, req.tool)?.clone();
    if c.status == Status::PendingAuth {
        return Err(Error::StateConflict(
            "The connector is waiting for OAuth consent; authorize it first.".into(),
        )
        .into());
    }
    let arguments = validate_arguments(&tool.input_schema, req.arguments)?;
    let policy = match &binding {
        Some(b) if tool.side_effect => super::governance::policy_of(app, b).await?,
        _ => Policy::Allow,
    };
    // Under `dry_run` or `deny` nothing can change: no key is needed.
    let writes =
        tool.side_effect && !req.dry_run && matches!(policy, Policy::Allow | Policy::Approve);
    if writes && req.idempotency_key.is_none() {
        return Err(Error::missing("Idempotency-Key")
            .reworded(format!(
                "'{}' has side effects: a live call needs an idempotency key (the Idempotency-Key header; through MCP, params._meta[\"dev.connector-marketplace/idempotency_key\"]), so that a retry never runs it twice (or ask for its dry run).",
                tool.name
            ))
            .into());
    }
    if req.dry_run && tool.side_effect && !tool.has_dry_run() {
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
        binding,
        policy,
    })
}

/// The binding of `consumer` that grants `tool` on `c`, if one does: a
/// binding of the tool's capability that `c` serves (API §7,
/// `gateway::serving`), the oldest first.
async fn granted(
    app: &App,
    tenant: &TenantId,
    consumer: &str,
    c: &ConnectorRecord,
    tool: &Tool,
) -> Result<Option<BindingRecord>, Fail> {
    let cb = app.connectors.consumer_bindings(tenant, consumer).await?;
    let serving = cb.serving;
    let bindings: Vec<_> = cb
        .bindings
        .into_iter()
        .filter(|b| b.capability == tool.capability)
        .collect();
    // Pinned to `c` first; else unpinned, with `c` the instance serving it.
    let pinned = bindings
        .iter()
        .find(|b| b.connector_id.as_ref() == Some(&c.id));
    let unpinned = || {
        bindings.iter().find(|b| {
            b.connector_id.is_none()
                && super::gateway::serving(b, &serving).is_some_and(|s| s.id == c.id)
        })
    };
    Ok(pinned.or_else(unpinned).cloned())
}

/// The SHA-256 of the arguments' canonical JSON (key order does not matter).
pub fn arguments_sha256(args: &Map<String, Value>) -> String {
    canonical_sha256(&Value::Object(args.clone()))
}

/// Runs a planned call and stores its receipt. The provider saying no is a
/// completed call (`status: failed`); no answer at all, or a 5xx, is
/// `ToolUpstream` naming the stored receipt. A request refused before it is
/// sent (a bad argument, a refused target, a changed MCP tool) leaves no
/// receipt.
pub async fn call(app: &App, plan: CallPlan) -> Result<ToolCallRecord, Fail> {
    let has_dry_run = plan.tool.has_dry_run();
    match action(
        plan.policy,
        plan.tool.side_effect,
        plan.dry_run,
        has_dry_run,
    ) {
        Action::Deny(reason) => {
            let mut receipt = new_receipt(app, &plan, plan.dry_run);
            receipt.status = "denied".into();
            receipt.error = Some(json!({"code": "policy_denied", "message": reason}));
            app.tool_calls.insert_tool_call(&receipt, None).await?;
            Ok(receipt)
        }
        Action::AwaitApproval => super::governance::request(app, &plan).await,
        Action::Run { dry_run } => {
            rate(app, &plan).await?;
            run(app, plan, dry_run, None).await
        }
    }
}

/// Takes the call from its binding's rate limit (per consumer and instance,
/// held by the tenant object): `RateLimited` when it is used up.
async fn rate(app: &App, plan: &CallPlan) -> Result<(), Fail> {
    let Some(b) = &plan.binding else {
        return Ok(());
    };
    let Some(per_minute) = b.rate_limit else {
        return Ok(());
    };
    let key = format!("{}|{}", b.consumer, plan.connector.id);
    match app
        .objects
        .rate(&plan.connector.tenant, &key, per_minute, app.now.0)
        .await?
    {
        None => Ok(()),
        Some(wait_ms) => {
            let secs = (wait_ms as u64).div_ceil(1000).max(1);
            Err(Error::RateLimited {
                message: format!(
                    "The binding {} allows {per_minute} calls a minute for '{}' on {}; the next is free in {secs} s.",
                    b.id, b.consumer, plan.connector.id
                ),
                retry_after_secs: secs,
            }
            .into())
        }
    }
}

/// A receipt for `plan`, not yet run (`failed` until it is).
pub(super) fn new_receipt(app: &App, plan: &CallPlan, dry_run: bool) -> ToolCallRecord {
    let c = &plan.connector;
    ToolCallRecord {
        id: ToolCallId::generate(app.rng.as_ref()).to_string(),
        tenant: c.tenant.clone(),
        connector_id: c.id.to_string(),
        listing: crate::domain::ids::slug_of(&c.listing).to_string(),
        listing_version: c.listing_version.clone(),
        tool: plan.tool.name.clone(),
        capability: plan.tool.capability.clone(),
        consumer: plan.consumer.clone(),
        mode: if dry_run { "dry_run" } else { "live" }.into(),
        status: "failed".into(),
        result: None,
        truncated: false,
        error: None,
        upstream_status: None,
        latency_ms: None,
        arguments_sha256: arguments_sha256(&plan.arguments),
        idempotency_key: plan.idempotency_key.clone(),
        approval_id: None,
        created_at: app.now.rfc3339(),
    }
}

impl CallPlan {
    pub(super) fn binding(&self) -> Option<&BindingRecord> {
        self.binding.as_ref()
    }
    pub(super) fn connector(&self) -> &ConnectorRecord {
        &self.connector
    }
    pub(super) fn tool(&self) -> &Tool {
        &self.tool
    }
    pub(super) fn arguments(&self) -> &Map<String, Value> {
        &self.arguments
    }
    pub(super) fn consumer(&self) -> Option<&str> {
        self.consumer.as_deref()
    }
    pub(super) fn idempotency_key(&self) -> Option<&str> {
        self.idempotency_key.as_deref()
    }
}

/// Rebuilds the plan of an approved call (the instance, its listing version
/// and the exact arguments stored with the approval): what a person approved
/// runs, live, with no policy left to apply.
pub(super) async fn approved_plan(
    app: &App,
    tenant: &TenantId,
    connector: &str,
    tool: &str,
    arguments: &Value,
    consumer: &str,
    key: &str,
) -> Result<CallPlan, Fail> {
    let c = super::connectors::owned(app, tenant, connector).await?;
    let listing = super::listings::of_instance(app, &c).await?;
    let tool = find_tool(&listing, tool)?.clone();
    Ok(CallPlan {
        arguments: arguments.as_object().cloned().unwrap_or_default(),
        connector: c,
        listing,
        tool,
        dry_run: false,
        consumer: Some(consumer.to_string()),
        idempotency_key: Some(key.to_string()),
        binding: None,
        policy: Policy::Allow,
    })
}

/// Sends a call and stores its receipt: a new one, or `pending` (an
/// approved call) completed.
pub(super) async fn run(
    app: &App,
    plan: CallPlan,
    dry_run: bool,
    pending: Option<ToolCallRecord>,
) -> Result<ToolCallRecord, Fail> {
    let mut receipt = match pending {
        Some(p) => p,
        None => new_receipt(app, &plan, dry_run),
    };
    let completing = receipt.status == "pending_approval";
    let CallPlan {
        connector: c,
        listing,
        tool,
        arguments,
        ..
    } = plan;
    let request = if dry_run && tool.side_effect {
        tool.dry_run.as_ref()
    } else {
        tool.request.as_ref()
    };
    let mcp = listing.transport == "mcp";
    let mcp_tool = tool.mcp_tool.as_deref().filter(|_| mcp);
    let mcp_method = tool.mcp_method.as_deref().filter(|_| mcp);
    let sql = tool
        .sql
        .as_ref()
        .filter(|_| listing.transport == "database");
    if request.is_none() && mcp_tool.is_none() && mcp_method.is_none() && sql.is_none() {
        return Err(Error::ToolUnsupported(format!("'{}' declares no request.", tool.name)).into());
    }
    let config: Map<String, Value> = c.config.as_object().cloned().unwrap_or_default();
    let session = session(app, &c, &listing, &config).await?;
    let net = app.net();
    let secrets: Vec<&str> = session.fields.values().map(String::as_str).collect();
    receipt.status = "failed".into();
    let shape = tool.result.clone().unwrap_or_default();
    let started = (app.clock)();
    let outcome = match (request, mcp_tool) {
        _ if sql.is_some() => {
            let kind = sql.map(|q| q.kind.as_str()).unwrap_or_default();
            sql_answer(database::tool(&session, &net, kind, &arguments, dry_run).await)?
        }
        (Some(request), _) => match session.send_tool(&net, request, &arguments).await {
            Err(NotSent::Refused(e)) => return Err(e.into()),
            Err(NotSent::Unreachable { message, .. }) => Said::Nothing(message),
            Ok(a) if a.succeeded => {
                receipt.upstream_status = Some(a.status);
                Said::Yes(a.body)
            }
            Ok(a) => {
                receipt.upstream_status = Some(a.status);
                let said = format!(
                    "The provider answered HTTP {}: {}",
                    a.status,
                    snippet(&a.body, &secrets)
                );
                if a.status >= 500 {
                    Said::Nothing(said)
                } else {
                    Said::No(said)
                }
            }
        },
        (None, mcp_tool) => {
            // One connection: the upstream definition is checked against its
            // pin, then the call goes on the same session. A generic
            // connector's request (remote-mcp) is sent as it is; its
            // `tools/call` names the upstream tool in the arguments, pinned
            // and withheld when changed like any proxied tool.
            let (method, params, upstream) = match mcp_tool {
                Some(u) => (
                    "tools/call",
                    json!({"name": u, "arguments": arguments}),
                    Some(u),
                ),
                None => {
                    let method = mcp_method.unwrap_or_default();
                    let named = arguments.get("name").and_then(Value::as_str);
                    let upstream = (method == "tools/call").then(|| named.unwrap_or_default());
                    (method, Value::Object(arguments.clone()), upstream)
                }
            };
            let conn = session.mcp_connect(&net).await.map_err(Error::Upstream)?;
            if let Some(upstream) = upstream {
                withhold_changed(app, &c, &conn, upstream).await?;
            }
            mcp_answer(conn.request(method, params).await, &secrets)
        }
    };
    receipt.latency_ms = Some(((app.clock)() - started).max(0) as u64);
    let unreachable = match outcome {
        Said::Yes(body) => {
            let shaped = shape.apply(&body);
            receipt.status = "succeeded".into();
            receipt.result = Some(scrub(shaped.value, &secrets));
            receipt.truncated = shaped.truncated;
            None
        }
        Said::No(message) => {
            receipt.error = Some(json!({"code": "provider_rejected", "message": message}));
            None
        }
        Said::Nothing(message) => {
            let message = redact(&message, &secrets);
            receipt.error = Some(json!({"code": "connector_upstream_error", "message": message}));
            Some(message)
        }
    };
    let failed = (receipt.status == "failed").then(|| {
        let mut e = app.event(
            &c.tenant,
            "tool_call.failed",
            json!({"tool_call_id": receipt.id, "tool": receipt.tool, "consumer": receipt.consumer,
                   "code": receipt.error.as_ref().map(|e| e["code"].clone())}),
        );
        e.connector_id = Some(c.id.to_string());
        e
    });
    if completing {
        app.tool_calls
            .complete_tool_call(&receipt, failed.as_ref())
            .await?;
    } else {
        app.tool_calls
            .insert_tool_call(&receipt, failed.as_ref())
            .await?;
    }
    match unreachable {
        Some(message) => Err(Error::ToolUpstream {
            message,
            tool_call: receipt.id,
        }
        .into()),
        None => Ok(receipt),
    }
}

/// What an MCP server's answer says.
fn mcp_answer(called: Result<Called, String>, secrets: &[&str]) -> Said {
    match called {
        Err(message) => Said::Nothing(message),
        Ok(Called::Refused { code, message }) => Said::No(format!(
            "The MCP server refused the call (JSON-RPC error {code}): {}",
            redact(&message, secrets)
        )),
        Ok(Called::Result(v)) if v["isError"] == true => {
            let text: String = v["content"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["text"].as_str())
                .collect::<Vec<_>>()
                .join(" ");
            Said::No(format!(
                "The tool reported an error: {}",
                snippet(text.as_bytes(), secrets)
            ))
        }
        Ok(Called::Result(v)) => Said::Yes(v.to_string().into_bytes()),
    }
}

/// What a database said to a call; a refusal before anything was sent is
/// the call's error (no receipt).
fn sql_answer(r: Result<Value, Failure>) -> Result<Said, Fail> {
    Ok(match r {
        Ok(v) => Said::Yes(v.to_string().into_bytes()),
        Err(Failure::Refused(Refusal::Argument { param, message })) => {
            return Err(Error::invalid(param, message).into())
        }
        Err(Failure::Refused(Refusal::Config(m))) => return Err(Error::StateConflict(m).into()),
        Err(Failure::Refused(Refusal::Unknown(m))) => return Err(Error::ToolUnsupported(m).into()),
        Err(Failure::Db(DbError::Refused(m))) => return Err(Error::TargetRefused(m).into()),
        Err(Failure::Db(DbError::Unreachable(m))) => Said::Nothing(m),
        Err(Failure::Db(DbError::Auth(m) | DbError::Statement(m))) => Said::No(m),
    })
}

/// What the provider said to a call.
enum Said {
    Yes(Vec<u8>),
    No(String),
    /// No answer, or a failure (5xx): the provider may or may not have acted.
    Nothing(String),
}

/// The instance's credential, opened, with a due OAuth token refreshed (and
/// the refreshed token sealed back).
pub(super) async fn session<'a>(
    app: &App,
    c: &ConnectorRecord,
    listing: &'a Listing,
    config: &'a Map<String, Value>,
) -> Result<Session<'a>, Fail> {
    let fields = open_fields(app, c)?;
    let mut session = Session::new(listing, c.auth_type, config, fields);
    if session.oauth() {
        let net = app.net();
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
    Ok(session)
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
