//! The agent gateway over HTTP (API §14): `POST /v1/mcp`, one Model Context
//! Protocol server per consumer, Streamable HTTP. It speaks the stateless
//! revision 2026-07-28 (`server/discover`; protocol version and client
//! capabilities in every request's `_meta`, mirrored in the
//! `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` headers) and the
//! earlier revisions' `initialize` handshake, without sessions. This file
//! dispatches the methods and turns a tool call's receipt (or refusal) into
//! an MCP result; the JSON-RPC wire is `wire.rs`. What a
//! consumer sees and may call is `app::gateway`; calls are `app::tool_call`.

use super::error::ApiError;
use super::http::{HttpRequest, HttpResponse};
use super::write::guarded;
use super::App;
use crate::app::gateway::{self, Granted};
use crate::app::tool_call::{self, CallRequest};
use crate::domain::auth::ToolCaller;
use crate::domain::gateway::{annotations, title};
use crate::domain::idempotency::{self, canonical_json};
use crate::domain::page::{decode_cursor, encode_cursor};
use crate::domain::Error;
use crate::tenant::protocol::Idem;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

mod wire;
pub use wire::{header_value, negotiate, parse, Era, Message, RpcError};
use wire::{rpc_error, rpc_result};

/// The stateless revision.
pub const MODERN: &str = "2026-07-28";
/// The `initialize` revisions served (newest first).
pub const LEGACY: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26"];
pub(crate) const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
pub(crate) const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
pub(crate) const META_SERVER: &str = "io.modelcontextprotocol/serverInfo";
/// `params._meta` of a `tools/call`: the idempotency key of a side effect
/// (MCP clients send no `Idempotency-Key` header; the header is honoured too).
pub const META_IDEMPOTENCY_KEY: &str = "dev.connector-marketplace/idempotency_key";
/// `params._meta` of a `tools/call`: `true` runs the tool's dry run.
pub const META_DRY_RUN: &str = "dev.connector-marketplace/dry_run";
/// A result's `_meta`: the receipt (API §13) of the call.
pub const META_TOOL_CALL: &str = "dev.connector-marketplace/tool_call_id";
/// Tools per `tools/list` page.
pub const PAGE: usize = 100;
const INSTRUCTIONS: &str = "Tools of the systems this agent's bindings grant. Credentials are injected by the service. A tool with side effects (readOnlyHint false) needs a unique idempotency key per intended action in params._meta[\"dev.connector-marketplace/idempotency_key\"]: a retry with the same key returns the first call's result and never runs it twice.";

/// Where a browser may call the gateway from: the service's own origin,
/// `PUBLIC_BASE_URL`'s and `MCP_ALLOWED_ORIGINS`. A request without
/// `Origin` (every non-browser client) passes.
pub fn origin_allowed(app: &App, req: &HttpRequest) -> bool {
    let Some(origin) = req.header("origin") else {
        return true;
    };
    let origin = origin.trim_end_matches('/');
    origin.eq_ignore_ascii_case(&req.origin)
        || app
            .config
            .public_base_url
            .as_deref()
            .is_some_and(|u| u.trim_end_matches('/').eq_ignore_ascii_case(origin))
        || app
            .config
            .mcp_origins
            .iter()
            .any(|o| o.eq_ignore_ascii_case(origin))
}

/// `POST /v1/mcp`.
pub async fn mcp(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    if !origin_allowed(app, req) {
        return Err(Error::Forbidden(format!(
            "The Origin '{}' may not call the MCP gateway (allowed: this service's own origin and MCP_ALLOWED_ORIGINS).",
            req.header("origin").unwrap_or_default()
        ))
        .into());
    }
    let principal = app.any_principal(req).await?;
    let caller = principal.require_agent()?;
    let (id, method, params) = match parse(&req.body) {
        Ok(Message::Request { id, method, params }) => (id, method, params),
        Ok(Message::Accepted) => return Ok(HttpResponse::empty(202)),
        Err(e) => return Ok(rpc_error(req, &Value::Null, e)),
    };
    let era = match negotiate(req, &method, &params) {
        Ok(era) => era,
        Err(e) => return Ok(rpc_error(req, &id, e)),
    };
    let answer = match method.as_str() {
        "initialize" => Ok(initialize(&era)),
        "ping" if era != Era::Modern => Ok(json!({})),
        "server/discover" => Ok(discover()),
        "tools/list" => list(app, &caller, &params).await,
        "tools/call" => call(app, req, &caller, &params).await,
        m => Err(RpcError::new(
            if era == Era::Modern { 404 } else { 200 },
            -32601,
            format!("Method not found: '{m}' (this server offers tools: tools/list, tools/call)."),
        )),
    };
    Ok(match answer {
        Ok(result) => rpc_result(req, &id, &era, result),
        Err(e) => rpc_error(req, &id, e),
    })
}

pub(crate) fn server_info() -> Value {
    json!({"name": "connector-marketplace", "title": "Connector marketplace gateway", "version": env!("CARGO_PKG_VERSION")})
}

fn initialize(era: &Era) -> Value {
    let version = match era {
        Era::Legacy(v) => v.as_str(),
        Era::Modern => LEGACY[0],
    };
    json!({
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": false}},
        "serverInfo": server_info(),
        "instructions": INSTRUCTIONS,
    })
}

fn discover() -> Value {
    let mut supported = vec![MODERN];
    supported.extend(LEGACY);
    json!({
        "supportedVersions": supported,
        "capabilities": {"tools": {}},
        "instructions": INSTRUCTIONS,
        "ttlMs": 0,
        "cacheScope": "private",
    })
}

/// The consumer of an agent key.
fn consumer<'a>(caller: &'a ToolCaller<'_>) -> &'a str {
    caller.consumer.unwrap_or_default()
}

/// One tool as `tools/list` shows it: from the manifest only, never from an
/// upstream server.
pub fn tool_view(g: &Granted) -> Value {
    json!({
        "name": g.name,
        "title": title(g.tool()),
        "description": g.tool().description,
        "inputSchema": g.tool().input_schema,
        "annotations": annotations(g.tool()),
    })
}

async fn list(
    app: &App,
    caller: &ToolCaller<'_>,
    params: &Map<String, Value>,
) -> Result<Value, RpcError> {
    let after = match params.get("cursor") {
        None | Some(Value::Null) => None,
        Some(Value::String(c)) => Some(decode_cursor(c).map_err(|_| {
            RpcError::new(
                200,
                -32602,
                "Invalid params: pass the nextCursor of a previous tools/list unchanged.",
            )
        })?),
        Some(_) => {
            return Err(RpcError::new(
                200,
                -32602,
                "Invalid params: cursor must be a string.",
            ))
        }
    };
    let set = gateway::assemble(app, caller.tenant, consumer(caller))
        .await
        .map_err(internal)?;
    let rest: Vec<&Granted> = set
        .tools
        .iter()
        .filter(|g| after.as_deref().is_none_or(|a| g.name.as_str() > a))
        .collect();
    let page: Vec<Value> = rest.iter().take(PAGE).map(|g| tool_view(g)).collect();
    let mut result = json!({"tools": page, "ttlMs": 0, "cacheScope": "private"});
    if rest.len() > PAGE {
        result["nextCursor"] = json!(encode_cursor(&rest[PAGE - 1].name));
    }
    Ok(result)
}

/// A store failure inside a JSON-RPC exchange: logged by the caller's error
/// path is not available here, so it is a JSON-RPC internal error.
fn internal(e: crate::store::Fail) -> RpcError {
    match e {
        crate::store::Fail::Domain(d) => RpcError::new(200, -32603, d.to_string()),
        crate::store::Fail::Store(_) => RpcError::new(
            500,
            -32603,
            "Internal error: the request could not be completed; retry it.",
        ),
    }
}

async fn call(
    app: &App,
    req: &HttpRequest,
    caller: &ToolCaller<'_>,
    params: &Map<String, Value>,
) -> Result<Value, RpcError> {
    let Some(name) = params.get("name").and_then(Value::as_str) else {
        return Err(RpcError::new(
            200,
            -32602,
            "Invalid params: \"name\" (the tool's name) is required.",
        ));
    };
    let arguments = match params.get("arguments") {
        None | Some(Value::Null) => json!({}),
        Some(a @ Value::Object(_)) => a.clone(),
        Some(_) => {
            return Err(RpcError::new(
                200,
                -32602,
                "Invalid params: \"arguments\" must be an object.",
            ))
        }
    };
    let meta = params.get("_meta").and_then(Value::as_object);
    let found = gateway::find(app, caller.tenant, consumer(caller), name)
        .await
        .map_err(internal)?;
    let Some(g) = found.as_ref() else {
        return Err(RpcError::new(
            200,
            -32602,
            format!("Unknown tool: '{name}' is not among this agent's tools (tools/list)."),
        ));
    };
    let dry_run = meta.and_then(|m| m.get(META_DRY_RUN)) == Some(&Value::Bool(true));
    let key = match idempotency_key(req, meta) {
        Ok(k) => k,
        Err(message) => return Ok(tool_error(&message, None)),
    };
    let answer = run(app, caller, g, &arguments, dry_run, key.as_deref()).await;
    Ok(as_result(answer))
}

/// The side effect's key: `_meta`'s, or the `Idempotency-Key` header (the
/// two must agree when both are sent).
fn idempotency_key(
    req: &HttpRequest,
    meta: Option<&Map<String, Value>>,
) -> Result<Option<String>, String> {
    let from_meta = match meta.and_then(|m| m.get(META_IDEMPOTENCY_KEY)) {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => {
            return Err(format!(
                "_meta[\"{META_IDEMPOTENCY_KEY}\"] must be a string."
            ))
        }
    };
    let from_header = req.header("idempotency-key").map(str::to_string);
    let key = match (from_meta, from_header) {
        (Some(a), Some(b)) if a != b => {
            return Err(
                "The Idempotency-Key header and _meta's idempotency key differ; send one.".into(),
            )
        }
        (a, b) => a.or(b),
    };
    match key {
        Some(k) if !idempotency::valid_key(&k) => {
            Err("Invalid idempotency key: use 1 to 255 visible ASCII characters.".into())
        }
        k => Ok(k),
    }
}

/// Runs one granted tool as the REST tool call does (plan, then the call
/// held under its idempotency key), answering the HTTP response the REST
/// route would: a receipt, or an error envelope.
async fn run(
    app: &App,
    caller: &ToolCaller<'_>,
    g: &Granted,
    arguments: &Value,
    dry_run: bool,
    key: Option<&str>,
) -> HttpResponse {
    let request = CallRequest {
        connector: g.connector.id.as_str(),
        tool: &g.tool().name,
        arguments: Some(arguments),
        dry_run,
        idempotency_key: key,
    };
    let result = async {
        let plan = tool_call::plan_granted(
            app,
            caller,
            (*g.connector).clone(),
            g.listing.clone(),
            request,
            Some(g.binding.clone()),
        )
        .await?;
        let run = || async {
            let receipt = tool_call::call(app, plan).await?;
            Ok(HttpResponse::json(
                200,
                &super::tool_calls::tool_call_json(&receipt),
            ))
        };
        let answer = match key {
            Some(k) => {
                let idem = Idem {
                    key: k.to_string(),
                    fingerprint: fingerprint(consumer(caller), &g.name, arguments, dry_run),
                };
                guarded(app, caller.tenant, Some(idem), Default::default(), run).await?
            }
            None => run().await?,
        };
        super::tool_calls::current(app, caller.tenant, answer).await
    }
    .await;
    result.unwrap_or_else(|e: ApiError| e.into_response(app.request_id.as_str()))
}

/// What an MCP call's idempotency key covers: the consumer, the name it
/// called (not the instance: a binding re-pointed meanwhile still replays),
/// the arguments (canonical JSON) and the mode.
pub fn fingerprint(consumer: &str, name: &str, arguments: &Value, dry_run: bool) -> String {
    let mut h = Sha256::new();
    h.update(b"MCP tools/call\n");
    h.update(consumer.as_bytes());
    h.update(b"\n");
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update(canonical_json(arguments).as_bytes());
    h.update(if dry_run {
        &b"\ndry_run"[..]
    } else {
        &b"\nlive"[..]
    });
    hex::encode(h.finalize())
}

/// The receipt (or refusal) as an MCP tool result: a succeeded call is its
/// result (text and, for an object, `structuredContent`); every failure —
/// the provider saying no, an argument refused, no answer — is `isError`
/// with the reason. The receipt id is in `_meta` whenever there is one.
pub fn as_result(resp: HttpResponse) -> Value {
    let body: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    if resp.status == 200 && body["object"] == "tool_call" {
        let id = body["id"].as_str();
        if body["status"] == "succeeded" {
            let result = &body["result"];
            let text = match result {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            let mut out = json!({
                "content": [{"type": "text", "text": text}],
                "isError": false,
                "_meta": {META_TOOL_CALL: id, "dev.connector-marketplace/truncated": body["truncated"]},
            });
            if result.is_object() {
                out["structuredContent"] = result.clone();
            }
            return out;
        }
        if body["status"] == "pending_approval" {
            let text = format!(
                "Not run yet: this call awaits a person's approval ({}). Nothing was sent. To collect the outcome, make the same call again with the same arguments and the same _meta[\"{META_IDEMPOTENCY_KEY}\"]: it answers this until someone decides, then the call's result (it runs once, when approved) or why it was denied.",
                body["approval_id"].as_str().unwrap_or_default()
            );
            return json!({
                "content": [{"type": "text", "text": text}],
                "structuredContent": {"status": "pending_approval", "approval_id": body["approval_id"], "tool_call_id": id},
                "isError": false,
                "_meta": {META_TOOL_CALL: id, "dev.connector-marketplace/status": "pending_approval"},
            });
        }
        let message = body["error"]["message"]
            .as_str()
            .unwrap_or("The call failed.");
        return tool_error(message, id);
    }
    let e = &body["error"];
    let mut message = format!(
        "{} ({})",
        e["message"].as_str().unwrap_or("The call was refused."),
        e["code"].as_str().unwrap_or("error")
    );
    if let Some(wait) = e["retry_after"].as_u64() {
        message.push_str(&format!(" Retry after {wait} s."));
    }
    tool_error(&message, e["tool_call_id"].as_str())
}

/// A tool error (`isError: true`) with a bounded message.
pub fn tool_error(message: &str, tool_call: Option<&str>) -> Value {
    let message: String = message.chars().take(2000).collect();
    let mut out = json!({"content": [{"type": "text", "text": message}], "isError": true});
    if let Some(id) = tool_call {
        out["_meta"] = json!({META_TOOL_CALL: id});
    }
    out
}
