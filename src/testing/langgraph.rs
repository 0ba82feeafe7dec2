//! A LangGraph server for the route tests, following the Agent Server API
//! the `langgraph` listing uses: `GET /assistants/{assistant_id}` and
//! `POST /runs/wait` (a stateless run answering the final state). At
//! `https://agents.example.com` every request needs `X-Api-Key: LG_KEY`
//! (LangGraph Platform); `https://open-agents.example.com` checks no key
//! (a local `langgraph dev`). The one assistant echoes the last message.
//! The end-to-end suite runs the real `langgraph dev` instead.

use crate::probe::client::{OutboundRequest, OutboundResponse};
use serde_json::{json, Value};

pub(crate) const LG_KEY: &str = "lsv2_pt_AgentKey0123456789abcdefghij";
pub(crate) const LG_ASSISTANT: &str = "fe096781-5601-53d2-b2f6-0d3403f7e9ca";
pub(crate) const LG_SECURED: &str = "https://agents.example.com";
pub(crate) const LG_OPEN: &str = "https://open-agents.example.com";

/// The fake's answer, or `None` for a URL that is not its.
pub(crate) fn answer(req: &OutboundRequest) -> Option<OutboundResponse> {
    let path = req
        .url
        .strip_prefix(LG_SECURED)
        .or_else(|| req.url.strip_prefix(LG_OPEN))?;
    let reply = |status: u16, body: Value| {
        Some(OutboundResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
            truncated: false,
        })
    };
    let header = |name: &str| {
        req.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    if req.url.starts_with(LG_SECURED) && header("x-api-key") != Some(LG_KEY) {
        return reply(401, json!({"detail": "Invalid API key"}));
    }
    match (req.method.as_str(), path) {
        ("GET", "/ok") => reply(200, json!({"ok": true})),
        ("GET", p) if p.starts_with("/assistants/") => {
            if p == format!("/assistants/{LG_ASSISTANT}") {
                reply(
                    200,
                    json!({"assistant_id": LG_ASSISTANT, "graph_id": "agent", "name": "agent", "config": {}, "metadata": {"created_by": "system"}, "version": 1}),
                )
            } else {
                reply(404, json!({"detail": "Not Found"}))
            }
        }
        ("POST", "/runs/wait") => {
            let body: Value =
                serde_json::from_str(req.body.as_deref().unwrap_or("{}")).unwrap_or_default();
            if body["assistant_id"] != LG_ASSISTANT {
                return reply(404, json!({"detail": "Thread or assistant not found."}));
            }
            let text = body["input"]["messages"][0]["content"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if text == "fail" {
                return reply(
                    200,
                    json!({"__error__": {"error": "ValueError", "message": "the graph failed"}}),
                );
            }
            // A careless graph that repeats its request headers back.
            let mut answer = format!("echo: {text}");
            if body["config"]["configurable"]["repeat_headers"] == true {
                for (k, v) in &req.headers {
                    answer.push_str(&format!(" {k}={v}"));
                }
            }
            reply(
                200,
                json!({"messages": [
                    {"type": "human", "content": text, "id": "m1"},
                    {"type": "ai", "content": answer, "id": "m2", "tool_calls": []}
                ]}),
            )
        }
        _ => reply(404, json!({"detail": "Not Found"})),
    }
}
