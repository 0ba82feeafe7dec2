//! A minimal MCP client over streamable HTTP (MCP 2025-06-18): `initialize`,
//! `notifications/initialized`, then `tools/list` (following `nextCursor`),
//! through the guarded client. Answers may be JSON or an SSE stream.

use super::client::{Guarded, OutboundRequest, OutboundResponse};
use serde_json::{json, Value};

pub const PROTOCOL_VERSION: &str = "2025-06-18";
const MAX_PAGES: usize = 10;

/// The JSON-RPC message with `id` in an answer (a JSON body or SSE `data:` lines).
pub fn message_with_id(resp: &OutboundResponse, id: u64) -> Option<Value> {
    let text = String::from_utf8_lossy(&resp.body);
    let sse = resp
        .header("content-type")
        .is_some_and(|c| c.contains("text/event-stream"));
    let candidates: Vec<Value> = if sse {
        text.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str(d.trim()).ok())
            .collect()
    } else {
        serde_json::from_str(&text).into_iter().collect()
    };
    candidates.into_iter().find(|m| m["id"] == json!(id))
}

/// `headers` are the credential headers; `hosts` binds them (every hop).
async fn rpc(
    client: &Guarded<'_>,
    url: &str,
    headers: &[(String, String)],
    hosts: Option<&[String]>,
    session: &Option<String>,
    body: Value,
) -> Result<OutboundResponse, String> {
    let credential_headers: Vec<String> = headers.iter().map(|(k, _)| k.clone()).collect();
    let bound = (!headers.is_empty()).then(|| {
        let first = url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        super::run::bound_hosts(hosts, &first)
    });
    let mut h = headers.to_vec();
    h.push(("Content-Type".into(), "application/json".into()));
    h.push((
        "Accept".into(),
        "application/json, text/event-stream".into(),
    ));
    h.push(("MCP-Protocol-Version".into(), PROTOCOL_VERSION.into()));
    if let Some(s) = session {
        h.push(("Mcp-Session-Id".into(), s.clone()));
    }
    client
        .send(OutboundRequest {
            method: "POST".into(),
            url: url.to_string(),
            headers: h,
            body: Some(body.to_string()),
            credential_headers,
            hosts: bound,
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())
}

fn result_of(resp: &OutboundResponse, id: u64, what: &str) -> Result<Value, String> {
    if resp.status >= 400 {
        return Err(format!(
            "The MCP server answered HTTP {} to {what}.",
            resp.status
        ));
    }
    let m = message_with_id(resp, id)
        .ok_or_else(|| format!("The MCP server gave no JSON-RPC answer to {what}."))?;
    if let Some(e) = m.get("error") {
        let code = e["code"].as_i64().unwrap_or(0);
        return Err(format!(
            "The MCP server refused {what} (JSON-RPC error {code})."
        ));
    }
    Ok(m["result"].clone())
}

/// A health check for MCP servers whose listing declares no probe: the
/// `initialize` handshake, classified like a probe (401/403 → rejected,
/// 5xx or no answer → unreachable).
pub async fn handshake(
    client: &Guarded<'_>,
    url: &str,
    headers: &[(String, String)],
    hosts: Option<&[String]>,
    clock: &dyn Fn() -> i64,
) -> super::run::Outcome {
    use super::run::Outcome;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": PROTOCOL_VERSION, "capabilities": {},
        "clientInfo": {"name": "connector-marketplace", "version": env!("CARGO_PKG_VERSION")}}});
    let started = clock();
    let resp = match rpc(client, url, headers, hosts, &None, init).await {
        Ok(r) => r,
        Err(message) => return Outcome::Unreachable { message },
    };
    let latency_ms = (clock() - started).max(0) as u64;
    match resp.status {
        s if s >= 500 => Outcome::Unreachable {
            message: format!("The MCP server answered HTTP {s}."),
        },
        s if s >= 400 => Outcome::Rejected {
            status: s,
            snippet: format!("The MCP server refused the credentials (HTTP {s})."),
            latency_ms,
            reason: None,
        },
        s => match result_of(&resp, 1, "initialize") {
            Ok(_) => Outcome::Accepted {
                status: s,
                latency_ms,
            },
            Err(message) => Outcome::Unreachable { message },
        },
    }
}

/// One MCP connection: `initialize` and `notifications/initialized` done,
/// the session id (if the server keeps sessions) carried by every request
/// after them, each with a fresh JSON-RPC id.
pub struct Conn<'c> {
    client: &'c Guarded<'c>,
    url: String,
    headers: Vec<(String, String)>,
    hosts: Option<Vec<String>>,
    session: Option<String>,
    next_id: std::cell::Cell<u64>,
}

impl<'c> Conn<'c> {
    /// The handshake. `headers` are the credential headers; `hosts` binds them.
    pub async fn open(
        client: &'c Guarded<'c>,
        url: &str,
        headers: &[(String, String)],
        hosts: Option<&[String]>,
    ) -> Result<Conn<'c>, String> {
        let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": PROTOCOL_VERSION, "capabilities": {},
            "clientInfo": {"name": "connector-marketplace", "version": env!("CARGO_PKG_VERSION")}}});
        let resp = rpc(client, url, headers, hosts, &None, init).await?;
        result_of(&resp, 1, "initialize")?;
        let session = resp.header("mcp-session-id").map(str::to_string);
        rpc(
            client,
            url,
            headers,
            hosts,
            &session,
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        )
        .await?;
        Ok(Conn {
            client,
            url: url.to_string(),
            headers: headers.to_vec(),
            hosts: hosts.map(<[String]>::to_vec),
            session,
            next_id: std::cell::Cell::new(2),
        })
    }

    async fn send(&self, method: &str, params: Value) -> Result<(u64, OutboundResponse), String> {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let resp = rpc(
            self.client,
            &self.url,
            &self.headers,
            self.hosts.as_deref(),
            &self.session,
            body,
        )
        .await?;
        Ok((id, resp))
    }

    /// The definitions (`name`, `description`, `inputSchema`, …) of the tools
    /// the server offers, as it sends them (following `nextCursor`).
    pub async fn tool_definitions(&self) -> Result<Vec<Value>, String> {
        let mut tools = vec![];
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut params = json!({});
            if let Some(c) = &cursor {
                params["cursor"] = json!(c);
            }
            let (id, resp) = self.send("tools/list", params).await?;
            let result = result_of(&resp, id, "tools/list")?;
            tools.extend(result["tools"].as_array().into_iter().flatten().cloned());
            cursor = result["nextCursor"].as_str().map(str::to_string);
            if cursor.is_none() {
                break;
            }
        }
        Ok(tools)
    }

    /// One MCP request (`tools/call`, `resources/read`, `prompts/get`, …).
    pub async fn request(&self, method: &str, params: Value) -> Result<Called, String> {
        let (id, resp) = self.send(method, params).await?;
        if resp.status >= 400 {
            return Err(format!(
                "The MCP server answered HTTP {} to {method}.",
                resp.status
            ));
        }
        let m = message_with_id(&resp, id)
            .ok_or_else(|| format!("The MCP server gave no JSON-RPC answer to {method}."))?;
        if let Some(e) = m.get("error") {
            return Ok(Called::Refused {
                code: e["code"].as_i64().unwrap_or(0),
                message: e["message"]
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect(),
            });
        }
        Ok(Called::Result(m["result"].clone()))
    }
}

/// What an MCP request answered.
pub enum Called {
    /// The request's result (for `tools/call`: `content`, `structuredContent`, `isError`).
    Result(Value),
    /// A JSON-RPC error (an unknown tool, invalid arguments): the server said no.
    Refused { code: i64, message: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(ct: &str, body: &str) -> OutboundResponse {
        OutboundResponse {
            status: 200,
            headers: vec![("content-type".into(), ct.into())],
            body: body.as_bytes().to_vec(),
            truncated: false,
        }
    }

    #[test]
    fn answers_in_json_or_sse() {
        let j = resp(
            "application/json",
            r#"{"jsonrpc":"2.0","id":2,"result":{"tools":[]}}"#,
        );
        assert!(message_with_id(&j, 2).is_some());
        assert!(message_with_id(&j, 3).is_none());
        let sse = resp(
            "text/event-stream",
            "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"tools\":[{\"name\":\"get_me\"}]}}\n\n",
        );
        assert_eq!(
            message_with_id(&sse, 2).unwrap()["result"]["tools"][0]["name"],
            "get_me"
        );
        let err = resp(
            "application/json",
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"nope"}}"#,
        );
        assert!(result_of(&err, 1, "initialize")
            .unwrap_err()
            .contains("-32601"));
    }
}
