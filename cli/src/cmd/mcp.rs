//! `mcp config`: the snippet an MCP client needs to reach the agent gateway
//! (`<base>/v1/mcp`, streamable HTTP) with a consumer's agent key as a
//! Bearer header. The CLI's own key never goes into it.

use super::Out;
use crate::api::{Api, Req};
use crate::args::{Client, McpConfig};
use crate::config;
use crate::error::{Failure, Result};
use serde_json::{json, Value};

pub const PLACEHOLDER: &str = "<AGENT_KEY>";
const VSCODE_INPUT: &str = "connector-agent-key";

/// A server name clients accept: letters, digits, `-` and `_`.
pub fn server_name(consumer: &str, name: Option<&str>) -> String {
    let raw = name
        .map(str::to_string)
        .unwrap_or_else(|| format!("connector-{consumer}"));
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The snippet for `client`; `key` is the agent key, or `None` for a
/// placeholder (VS Code: an input it asks for and keeps in its secret store).
pub fn snippet(client: Client, base: &str, name: &str, consumer: &str, key: Option<&str>) -> Value {
    let url = format!("{}/v1/mcp", config::trim_base(base));
    let bearer = format!("Bearer {}", key.unwrap_or(PLACEHOLDER));
    match client {
        Client::Claude => json!({"mcpServers": {name: {
            "type": "http", "url": url, "headers": {"Authorization": bearer}}}}),
        Client::ClaudeDesktop => {
            // Claude Desktop's config file starts local (stdio) servers: the
            // mcp-remote bridge speaks streamable HTTP for it.
            let mut args = vec![json!("-y"), json!("mcp-remote"), json!(url)];
            if url.starts_with("http://") {
                args.push(json!("--allow-http"));
            }
            args.extend([
                json!("--transport"),
                json!("http-only"),
                json!("--header"),
                json!("Authorization:${AUTH_HEADER}"),
            ]);
            json!({"mcpServers": {name: {"command": "npx", "args": args, "env": {"AUTH_HEADER": bearer}}}})
        }
        Client::Cursor => json!({"mcpServers": {name: {
            "url": url, "headers": {"Authorization": bearer}}}}),
        Client::Vscode => match key {
            Some(_) => json!({"servers": {name: {
                "type": "http", "url": url, "headers": {"Authorization": bearer}}}}),
            None => json!({
                "inputs": [{"type": "promptString", "id": VSCODE_INPUT, "password": true,
                            "description": format!("Agent key of consumer {consumer} (mk_…)")}],
                "servers": {name: {"type": "http", "url": url,
                    "headers": {"Authorization": format!("Bearer ${{input:{VSCODE_INPUT}}}")}}}
            }),
        },
    }
}

/// Where the snippet goes, for people.
pub fn where_it_goes(client: Client) -> &'static str {
    match client {
        Client::Claude => "Claude Code: merge into .mcp.json at the project root (or add the entry with `claude mcp add-json <name> '<entry>'`).",
        Client::ClaudeDesktop => "Claude Desktop: merge into claude_desktop_config.json (Settings → Developer → Edit Config); needs Node.js for npx mcp-remote; restart Claude Desktop.",
        Client::Cursor => "Cursor: merge into .cursor/mcp.json in the project (or ~/.cursor/mcp.json for every project).",
        Client::Vscode => "VS Code: merge into .vscode/mcp.json in the workspace.",
    }
}

pub fn config(m: McpConfig, out: Out) -> Result<()> {
    let path = config::path()?;
    let stored = config::load(&path)?;
    let base = config::base_from(&stored, &config::env);
    let own = config::session_from(&stored, &config::env)
        .ok()
        .map(|s| s.api_key);
    let key = m.key.as_deref().map(str::trim).filter(|k| !k.is_empty());
    if let (Some(k), Some(own)) = (key, own.as_deref()) {
        if k == own {
            return Err(Failure::Usage(format!(
                "that is the key this CLI is logged in with; an MCP client needs an agent key bound to consumer '{}' (mint one as shown by `connector mcp config` without --key)",
                m.consumer
            )));
        }
    }
    if let (Some(k), false) = (key, m.no_check) {
        check_agent_key(&base, k)?;
    }
    let name = server_name(&m.consumer, m.name.as_deref());
    let v = snippet(m.client, &base, &name, &m.consumer, key);
    let text = serde_json::to_string_pretty(&v).expect("JSON");
    println!("{text}");
    if !out.json {
        eprintln!("{}", where_it_goes(m.client));
    }
    if key.is_none() {
        eprintln!(
            "No --key: the snippet has a placeholder{}. Mint an agent key for '{}' with an admin key (its secret is shown once):\n  curl -X POST {base}/v1/api-keys -H \"Authorization: Bearer $ADMIN_KEY\" -H 'Content-Type: application/json' -d '{}'\nthen run this again with --key mk_….",
            if m.client == Client::Vscode {
                " (VS Code asks for the key once and keeps it in its secret storage)"
            } else {
                ""
            },
            m.consumer,
            json!({"role": "agent", "consumer": m.consumer})
        );
    }
    Ok(())
}

/// The gateway must accept `key` (an agent key: any other role is `403`
/// there), so that no admin or manager key ends up in a client's config.
fn check_agent_key(base: &str, key: &str) -> Result<()> {
    let api = Api::new(base, key);
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}});
    let r = api.send(
        Req::post("/v1/mcp", list)
            .header("accept", Some("application/json, text/event-stream"))
            .header("mcp-protocol-version", Some("2025-06-18"))
            .doing("checking the agent key at the gateway"),
    );
    match r {
        Ok(reply) => {
            let n = reply.json()["result"]["tools"]
                .as_array()
                .map(Vec::len)
                .unwrap_or(0);
            eprintln!(
                "The gateway accepts this agent key ({}): {n} tool(s) for its consumer.",
                config::mask(key)
            );
            Ok(())
        }
        Err(Failure::Api(e)) if e.status == 401 || e.status == 403 => {
            Err(Failure::Auth(format!(
                "the gateway refuses this key ({}, HTTP {}): {}\n  → Give the agent key of the consumer (role agent), never an admin or manager key.",
                config::mask(key),
                e.status,
                e.message
            )))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_client_gets_its_shape() {
        let base = "https://api.example.com/";
        let v = snippet(
            Client::Claude,
            base,
            "connector-bot",
            "bot",
            Some("mk_agent"),
        );
        assert_eq!(
            v,
            json!({"mcpServers": {"connector-bot": {"type": "http", "url": "https://api.example.com/v1/mcp",
                   "headers": {"Authorization": "Bearer mk_agent"}}}})
        );
        let v = snippet(Client::Cursor, base, "n", "bot", Some("mk_agent"));
        assert_eq!(
            v,
            json!({"mcpServers": {"n": {"url": "https://api.example.com/v1/mcp",
                   "headers": {"Authorization": "Bearer mk_agent"}}}})
        );
        let v = snippet(Client::Vscode, base, "n", "bot", Some("mk_agent"));
        assert_eq!(
            v,
            json!({"servers": {"n": {"type": "http", "url": "https://api.example.com/v1/mcp",
                   "headers": {"Authorization": "Bearer mk_agent"}}}})
        );
        let v = snippet(
            Client::ClaudeDesktop,
            "http://127.0.0.1:8787",
            "n",
            "bot",
            Some("mk_a"),
        );
        let e = &v["mcpServers"]["n"];
        assert_eq!(e["command"], "npx");
        assert_eq!(e["args"][2], "http://127.0.0.1:8787/v1/mcp");
        assert!(e["args"]
            .as_array()
            .unwrap()
            .contains(&json!("--allow-http")));
        assert_eq!(e["env"]["AUTH_HEADER"], "Bearer mk_a");
    }

    #[test]
    fn without_a_key_there_is_a_placeholder_never_a_key() {
        for c in [Client::Claude, Client::ClaudeDesktop, Client::Cursor] {
            let t = snippet(c, "https://a.example", "n", "bot", None).to_string();
            assert!(t.contains("Bearer <AGENT_KEY>"), "{t}");
        }
        let v = snippet(Client::Vscode, "https://a.example", "n", "bot", None);
        assert_eq!(
            v["servers"]["n"]["headers"]["Authorization"],
            "Bearer ${input:connector-agent-key}"
        );
        assert_eq!(v["inputs"][0]["password"], true);
    }

    #[test]
    fn server_names_are_safe() {
        assert_eq!(server_name("ops bot", None), "connector-ops-bot");
        assert_eq!(server_name("x", Some("my.server")), "my-server");
    }
}
