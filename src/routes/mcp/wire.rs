//! The gateway's JSON-RPC wire: framing, version negotiation and the
//! 2026-07-28 header checks, and writing answers (JSON or one SSE event).
//! Pure over the request; no use case here.

use super::{server_info, LEGACY, META_CAPABILITIES, META_SERVER, META_VERSION, MODERN};
use crate::routes::http::{HttpRequest, HttpResponse};
use base64::Engine;
use serde_json::{json, Map, Value};

/// A JSON-RPC error and the HTTP status it travels with.
#[derive(Debug, PartialEq)]
pub struct RpcError {
    pub http: u16,
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub(super) fn new(http: u16, code: i64, message: impl Into<String>) -> Self {
        RpcError {
            http,
            code,
            message: message.into(),
            data: None,
        }
    }
    fn invalid_request(m: impl Into<String>) -> Self {
        Self::new(400, -32600, m)
    }
    fn invalid_params(m: impl Into<String>) -> Self {
        Self::new(400, -32602, m)
    }
    fn header_mismatch(m: impl Into<String>) -> Self {
        Self::new(400, -32020, format!("Header mismatch: {}", m.into()))
    }
    fn unsupported_version(requested: &str) -> Self {
        let mut supported = vec![MODERN];
        supported.extend(LEGACY);
        RpcError {
            data: Some(json!({"supported": supported, "requested": requested})),
            ..Self::new(400, -32022, "Unsupported protocol version")
        }
    }
}

/// Which revision a request is served by.
#[derive(Debug, Clone, PartialEq)]
pub enum Era {
    Modern,
    /// An `initialize` revision (the negotiated or assumed version).
    Legacy(String),
}

/// One JSON-RPC message as posted.
#[derive(Debug)]
pub enum Message {
    Request {
        id: Value,
        method: String,
        params: Map<String, Value>,
    },
    /// A notification, or a response the client sent back: accepted, no answer.
    Accepted,
}

/// Parses the body: one JSON-RPC request or notification (batches refused).
pub fn parse(body: &[u8]) -> Result<Message, RpcError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| RpcError::new(400, -32700, format!("Parse error: {e}")))?;
    let o =
        match v {
            Value::Array(_) => return Err(RpcError::invalid_request(
                "Invalid Request: JSON-RPC batches are not supported; send one message per POST.",
            )),
            Value::Object(o) => o,
            _ => {
                return Err(RpcError::invalid_request(
                    "Invalid Request: expected a JSON-RPC object.",
                ))
            }
        };
    if o.get("jsonrpc") != Some(&json!("2.0")) {
        return Err(RpcError::invalid_request(
            "Invalid Request: \"jsonrpc\" must be \"2.0\".",
        ));
    }
    let Some(method) = o.get("method").and_then(Value::as_str) else {
        if o.contains_key("result") || o.contains_key("error") {
            return Ok(Message::Accepted);
        }
        return Err(RpcError::invalid_request(
            "Invalid Request: \"method\" must be a string.",
        ));
    };
    let params = match o.get("params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(_) => {
            return Err(RpcError::invalid_request(
                "Invalid Request: \"params\" must be an object.",
            ))
        }
    };
    match o.get("id") {
        None => Ok(Message::Accepted),
        Some(id @ (Value::String(_) | Value::Number(_))) => Ok(Message::Request {
            id: id.clone(),
            method: method.to_string(),
            params,
        }),
        Some(_) => Err(RpcError::invalid_request(
            "Invalid Request: \"id\" must be a string or an integer (never null).",
        )),
    }
}

/// Decodes a header value that may use the `=?base64?…?=` sentinel.
pub fn header_value(v: &str) -> Option<String> {
    match v
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
    {
        Some(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .ok()
            .and_then(|b| String::from_utf8(b).ok()),
        None => Some(v.to_string()),
    }
}

/// The revision serving a request, with the 2026-07-28 header checks: the
/// protocol version header equals `_meta`'s, `Mcp-Method` the method and,
/// for `tools/call`, `Mcp-Name` the tool's name. A request without the
/// `_meta` version is an `initialize`-era request (no header: 2025-03-26).
pub fn negotiate(
    req: &HttpRequest,
    method: &str,
    params: &Map<String, Value>,
) -> Result<Era, RpcError> {
    let header = req.header("mcp-protocol-version");
    if method == "initialize" {
        let asked = params.get("protocolVersion").and_then(Value::as_str);
        let v = asked.filter(|v| LEGACY.contains(v)).unwrap_or(LEGACY[0]);
        return Ok(Era::Legacy(v.to_string()));
    }
    let meta = params.get("_meta").and_then(Value::as_object);
    let Some(version) = meta.and_then(|m| m.get(META_VERSION)) else {
        return match header {
            None => Ok(Era::Legacy("2025-03-26".into())),
            Some(h) if LEGACY.contains(&h) => Ok(Era::Legacy(h.to_string())),
            Some(MODERN) => Err(RpcError::invalid_params(format!(
                "Invalid params: a {MODERN} request carries _meta[\"{META_VERSION}\"] and _meta[\"{META_CAPABILITIES}\"]."
            ))),
            Some(h) => Err(RpcError::unsupported_version(h)),
        };
    };
    let Some(version) = version.as_str() else {
        return Err(RpcError::invalid_params(format!(
            "Invalid params: _meta[\"{META_VERSION}\"] must be a string."
        )));
    };
    if header != Some(version) {
        return Err(RpcError::header_mismatch(format!(
            "MCP-Protocol-Version header {} does not match _meta protocol version '{version}'",
            header.map_or("missing".to_string(), |h| format!("'{h}'"))
        )));
    }
    if LEGACY.contains(&version) {
        return Ok(Era::Legacy(version.to_string()));
    }
    if version != MODERN {
        return Err(RpcError::unsupported_version(version));
    }
    if !meta
        .and_then(|m| m.get(META_CAPABILITIES))
        .is_some_and(Value::is_object)
    {
        return Err(RpcError::invalid_params(format!(
            "Invalid params: _meta[\"{META_CAPABILITIES}\"] (an object) is required."
        )));
    }
    if req.header("mcp-method") != Some(method) {
        return Err(RpcError::header_mismatch(format!(
            "Mcp-Method header must be '{method}'"
        )));
    }
    if method == "tools/call" {
        let name = params.get("name").and_then(Value::as_str);
        let sent = req.header("mcp-name").and_then(header_value);
        if name.is_some() && sent.as_deref() != name {
            return Err(RpcError::header_mismatch(format!(
                "Mcp-Name header must be the tool's name '{}'",
                name.unwrap_or_default()
            )));
        }
    }
    Ok(Era::Modern)
}

/// Whether the client takes only an SSE stream (it accepts
/// `text/event-stream` but neither `application/json` nor `*/*`).
pub(super) fn wants_sse(req: &HttpRequest) -> bool {
    let accept = req
        .header("accept")
        .unwrap_or_default()
        .to_ascii_lowercase();
    accept.contains("text/event-stream")
        && !accept.contains("application/json")
        && !accept.contains("*/*")
}

pub(super) fn respond(req: &HttpRequest, status: u16, message: Value) -> HttpResponse {
    let body = serde_json::to_vec(&message).expect("JSON-RPC messages serialise");
    if status == 200 && wants_sse(req) {
        let mut sse = b"event: message\ndata: ".to_vec();
        sse.extend(body);
        sse.extend(b"\n\n");
        return HttpResponse {
            status,
            headers: vec![
                ("content-type".into(), "text/event-stream".into()),
                ("x-accel-buffering".into(), "no".into()),
            ],
            body: sse,
        };
    }
    HttpResponse::raw_json(status, body)
}

pub(super) fn rpc_result(
    req: &HttpRequest,
    id: &Value,
    era: &Era,
    mut result: Value,
) -> HttpResponse {
    if *era == Era::Modern {
        result["resultType"] = json!("complete");
        let meta = result
            .as_object_mut()
            .map(|o| o.entry("_meta").or_insert_with(|| json!({})));
        if let Some(m) = meta {
            m[META_SERVER] = server_info();
        }
    } else if let Some(o) = result.as_object_mut() {
        // Caching hints are a 2026-07-28 field.
        o.remove("ttlMs");
        o.remove("cacheScope");
    }
    respond(
        req,
        200,
        json!({"jsonrpc": "2.0", "id": id, "result": result}),
    )
}

pub(super) fn rpc_error(req: &HttpRequest, id: &Value, e: RpcError) -> HttpResponse {
    let mut error = json!({"code": e.code, "message": e.message});
    if let Some(d) = e.data {
        error["data"] = d;
    }
    respond(
        req,
        e.http,
        json!({"jsonrpc": "2.0", "id": id, "error": error}),
    )
}
