//! Pinned upstream MCP tool definitions (API §13): the digest a definition
//! is pinned by, the check before a proxied call, and a manager accepting
//! changed definitions.

use super::session;
use crate::app::App;
use crate::domain::idempotency::canonical_sha256;
use crate::domain::ids::TenantId;
use crate::domain::manifest::Listing;
use crate::domain::Error;
use crate::probe::mcp::Conn;
use crate::store::{ConnectorRecord, Fail};
use serde_json::{json, Map, Value};

/// The digest an upstream MCP tool definition is pinned by: SHA-256 of its
/// canonical JSON (name, description, schemas, annotations: all of it).
pub fn definition_digest(def: &Value) -> String {
    canonical_sha256(def)
}

/// Refuses a call of an upstream tool whose definition changed since it was
/// pinned (`ToolChanged`); pins it on first use (trust on first use).
pub(super) async fn withhold_changed(
    app: &App,
    c: &ConnectorRecord,
    conn: &Conn<'_>,
    upstream: &str,
) -> Result<(), Fail> {
    let defs = conn.tool_definitions().await.map_err(Error::Upstream)?;
    let Some(def) = defs.iter().find(|d| d["name"] == upstream) else {
        return Err(Error::ToolChanged(format!(
            "The MCP server no longer offers '{upstream}'; nothing was sent."
        ))
        .into());
    };
    let digest = definition_digest(def);
    let pins = app.tool_calls.tool_pins(&c.tenant, c.id.as_str()).await?;
    match pins.get(upstream) {
        Some(pinned) if *pinned != digest => Err(Error::ToolChanged(format!(
            "The MCP server changed the definition of '{upstream}' since it was pinned; it is withheld until a manager accepts it (POST /v1/connectors/{}/tools/accept).",
            c.id
        ))
        .into()),
        Some(_) => Ok(()),
        None => Ok(app
            .tool_calls
            .pin_tools(&c.tenant, c.id.as_str(), &[(upstream.to_string(), digest)], &app.now.rfc3339())
            .await?),
    }
}

/// The current upstream definition of every (or every named) tool of an
/// MCP instance, by upstream name, with its digest; reading fails as
/// `Upstream`.
pub async fn current_definitions(
    app: &App,
    c: &ConnectorRecord,
    listing: &Listing,
) -> Result<std::collections::BTreeMap<String, String>, Fail> {
    let config: Map<String, Value> = c.config.as_object().cloned().unwrap_or_default();
    let session = session(app, c, listing, &config).await?;
    let defs = session
        .mcp_tool_definitions(&app.net())
        .await
        .map_err(Error::Upstream)?;
    Ok(defs
        .iter()
        .filter_map(|d| Some((d["name"].as_str()?.to_string(), definition_digest(d))))
        .collect())
}

/// `POST /v1/connectors/{id}/tools/accept` — pins the current upstream
/// definitions of the named tools (all of the listing's MCP tools when
/// `None`), so changed ones run again. Answers the accepted tool names.
pub async fn accept(
    app: &App,
    tenant: &TenantId,
    by: &str,
    id: &str,
    tools: Option<&Value>,
) -> Result<Vec<String>, Fail> {
    let c = crate::app::connectors::owned(app, tenant, id).await?;
    let listing = crate::app::listings::of_instance(app, &c).await?;
    if listing.transport != "mcp" {
        return Err(Error::StateConflict(
            "Only MCP connectors pin their upstream tool definitions; this one has nothing to accept."
                .into(),
        )
        .into());
    }
    let wanted = crate::app::tool_test::wanted(&listing, tools)?;
    let current = current_definitions(app, &c, &listing).await?;
    let mut pins = vec![];
    let mut accepted = vec![];
    for name in &wanted {
        let Some(upstream) = listing
            .tools
            .iter()
            .find(|t| &t.name == name)
            .and_then(|t| t.mcp_tool.clone())
        else {
            continue;
        };
        match current.get(&upstream) {
            Some(d) => {
                pins.push((upstream, d.clone()));
                accepted.push(name.clone());
            }
            None if tools.is_some() => {
                return Err(Error::invalid(
                    "tools",
                    format!("The MCP server does not offer '{upstream}' ({name}): there is no definition to accept."),
                )
                .into())
            }
            None => {}
        }
    }
    app.tool_calls
        .pin_tools(tenant, c.id.as_str(), &pins, &app.now.rfc3339())
        .await?;
    let event = app.event_for(
        tenant,
        &c.id,
        "connector.tools_accepted",
        json!({"tools": accepted, "by": by}),
    );
    app.connectors.insert_event(tenant, &event).await?;
    Ok(accepted)
}
