//! The agent gateway's use cases (API §14): a consumer's tools assembled from
//! its bindings — for each binding, the serving instance's tools for the
//! bound capability, named `{alias}_{tool}` — and the checks that keep those
//! names unique and unchanging. Only the consumer's own bindings and the
//! instances serving them are read.

use super::App;
use crate::domain::connector::Status;
use crate::domain::gateway::tool_name;
use crate::domain::ids::{slug_of, TenantId};
use crate::domain::manifest::{Listing, Tool};
use crate::domain::Error;
use crate::store::{BindingRecord, ConnectorRecord, Fail};
use std::collections::BTreeMap;
use std::rc::Rc;

/// One tool a consumer may call, under the name it sees.
#[derive(Clone)]
pub struct Granted {
    pub name: String,
    pub binding: BindingRecord,
    pub connector: ConnectorRecord,
    pub listing: Rc<Listing>,
    pub tool: Tool,
}

/// A tool a binding would grant but the consumer does not see, and why.
pub struct Withheld {
    pub name: String,
    pub binding: String,
    pub connector: String,
    pub tool: String,
    pub reason: String,
}

/// A consumer's assembled set: tools by name (deterministic order), what is
/// withheld, and the bindings no instance serves now.
#[derive(Default)]
pub struct Assembled {
    pub tools: Vec<Granted>,
    pub withheld: Vec<Withheld>,
    pub unserved: Vec<BindingRecord>,
    /// Every binding of the consumer, oldest first.
    pub bindings: Vec<BindingRecord>,
}

impl Assembled {
    pub fn find(&self, name: &str) -> Option<&Granted> {
        self.tools
            .binary_search_by(|g| g.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.tools[i])
    }
}

/// The instance serving a binding among `all`: the pinned one, or for an
/// unpinned binding the oldest `connected` instance fulfilling its
/// capability (API §7).
pub fn serving<'a>(b: &BindingRecord, all: &'a [ConnectorRecord]) -> Option<&'a ConnectorRecord> {
    match &b.connector_id {
        Some(id) => all.iter().find(|c| &c.id == id),
        None => all
            .iter()
            .filter(|c| c.status == Status::Connected && c.capabilities.contains(&b.capability))
            .min_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id))),
    }
}

/// The instances that may serve `bindings`: each pinned one, and, when any
/// binding is unpinned, every instance of the tenant.
pub async fn candidates(
    app: &App,
    tenant: &TenantId,
    bindings: &[BindingRecord],
) -> Result<Vec<ConnectorRecord>, Fail> {
    if bindings.iter().any(|b| b.connector_id.is_none()) {
        return Ok(app.connectors.all_connectors(tenant).await?);
    }
    let mut out: Vec<ConnectorRecord> = vec![];
    for b in bindings {
        let Some(id) = &b.connector_id else { continue };
        if out.iter().any(|c| &c.id == id) {
            continue;
        }
        if let Some(c) = app.connectors.connector(tenant, id).await? {
            out.push(c);
        }
    }
    Ok(out)
}

/// `consumer`'s tool set. Bindings take precedence by age: when two would
/// give the same name (possible only when the instance serving an unpinned
/// binding changes listing), the older binding's tool is shown and the other
/// is withheld, never renamed.
pub async fn assemble(app: &App, tenant: &TenantId, consumer: &str) -> Result<Assembled, Fail> {
    let bindings = app.connectors.consumer_bindings(tenant, consumer).await?;
    let all = candidates(app, tenant, &bindings).await?;
    let mut out = Assembled::default();
    let mut named: BTreeMap<String, Granted> = BTreeMap::new();
    out.bindings = bindings.clone();
    for b in bindings {
        let Some(c) = serving(&b, &all) else {
            out.unserved.push(b);
            continue;
        };
        let listing = super::listings::of_instance(app, c).await?;
        for t in listing
            .tools
            .iter()
            .filter(|t| t.capability == b.capability)
        {
            let withhold = |name: String, reason: String| Withheld {
                name,
                binding: b.id.to_string(),
                connector: c.id.to_string(),
                tool: t.name.clone(),
                reason,
            };
            if c.status == Status::PendingAuth {
                let name = tool_name(&b.alias, &t.name).unwrap_or_default();
                out.withheld.push(withhold(
                    name,
                    format!("{} is waiting for OAuth consent.", c.id),
                ));
                continue;
            }
            let Some(name) = tool_name(&b.alias, &t.name) else {
                out.withheld.push(withhold(
                    format!("{}_{}", b.alias, t.name),
                    "The name would be longer than 64 characters.".into(),
                ));
                continue;
            };
            if let Some(first) = named.get(&name) {
                let reason = format!("The binding {} already gives this name.", first.binding.id);
                out.withheld.push(withhold(name, reason));
                continue;
            }
            named.insert(
                name.clone(),
                Granted {
                    name,
                    binding: b.clone(),
                    connector: c.clone(),
                    listing: listing.clone(),
                    tool: t.clone(),
                },
            );
        }
    }
    out.tools = named.into_values().collect();
    Ok(out)
}

/// Refuses a new binding whose names its consumer already sees from another
/// binding (`ToolNameTaken`, naming both), or that repeats another binding's
/// alias and capability (they would clash as soon as both are served), or
/// whose names would be too long. `serving` is the instance that would serve
/// it now, if any.
pub async fn check_names(
    app: &App,
    tenant: &TenantId,
    new: &BindingRecord,
    serving: Option<&ConnectorRecord>,
) -> Result<(), Fail> {
    let current = assemble(app, tenant, &new.consumer).await?;
    if let Some(twin) = current
        .bindings
        .iter()
        .find(|b| b.id != new.id && b.alias == new.alias && b.capability == new.capability)
    {
        return Err(Error::ToolNameTaken {
            message: format!(
                "The consumer '{}' already has the binding {} for '{}' under the alias '{}': a second one would give the same tool names. Choose another alias.",
                new.consumer, twin.id, new.capability, new.alias
            ),
            name: format!("{}_*", new.alias),
            binding: twin.id.to_string(),
        }
        .into());
    }
    let Some(c) = serving else { return Ok(()) };
    let listing = super::listings::of_instance(app, c).await?;
    for t in listing
        .tools
        .iter()
        .filter(|t| t.capability == new.capability)
    {
        let Some(name) = tool_name(&new.alias, &t.name) else {
            return Err(Error::invalid(
                "alias",
                format!(
                    "The tool name '{}_{}' would be longer than 64 characters; choose a shorter alias.",
                    new.alias, t.name
                ),
            )
            .into());
        };
        if let Some(g) = current.find(&name) {
            return Err(Error::ToolNameTaken {
                message: format!(
                    "The consumer '{}' already sees '{name}' through the binding {} ({} on {}); this binding would give the same name. Choose another alias.",
                    new.consumer, g.binding.id, g.tool.name, g.connector.id
                ),
                name,
                binding: g.binding.id.to_string(),
            }
            .into());
        }
    }
    Ok(())
}

/// The listing slug of an instance (the default alias of a binding it serves).
pub fn listing_slug(c: &ConnectorRecord) -> &str {
    slug_of(&c.listing)
}
