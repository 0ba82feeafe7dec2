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
use crate::store::{BindingRecord, ConnectorRecord, ConsumerBindings, Fail};
use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::rc::Rc;

/// One tool a consumer may call, under the name it sees.
#[derive(Clone)]
pub struct Granted {
    pub name: String,
    pub binding: BindingRecord,
    pub connector: Rc<ConnectorRecord>,
    pub listing: Rc<Listing>,
    /// The tool's index in `listing.tools`.
    at: usize,
}

impl Granted {
    pub fn tool(&self) -> &Tool {
        &self.listing.tools[self.at]
    }
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
/// capability (API §7). `all` holds records or shared records.
pub fn serving<'a, C: Borrow<ConnectorRecord>>(b: &BindingRecord, all: &'a [C]) -> Option<&'a C> {
    match &b.connector_id {
        Some(id) => all
            .iter()
            .find(|c| &Borrow::<ConnectorRecord>::borrow(*c).id == id),
        None => all
            .iter()
            .filter(|c| {
                let c: &ConnectorRecord = (*c).borrow();
                c.status == Status::Connected && c.capabilities.contains(&b.capability)
            })
            .min_by(|x, y| {
                let (x, y): (&ConnectorRecord, &ConnectorRecord) = ((*x).borrow(), (*y).borrow());
                (&x.created_at, &x.id).cmp(&(&y.created_at, &y.id))
            }),
    }
}

/// The instances that may serve the consumer's bindings: those they pin and
/// those serving its unpinned capabilities, each once.
pub fn instances(cb: ConsumerBindings) -> Vec<Rc<ConnectorRecord>> {
    let mut seen = std::collections::BTreeSet::new();
    cb.pinned
        .into_iter()
        .chain(cb.serving)
        .filter(|c| seen.insert(c.id.clone()))
        .map(Rc::new)
        .collect()
}

/// `consumer`'s tool set. Bindings take precedence by age: when two would
/// give the same name (possible only when the instance serving an unpinned
/// binding changes listing), the older binding's tool is shown and the other
/// is withheld, never renamed. One D1 round trip that reads only the
/// consumer's bindings and the instances serving them; listings come from
/// the isolate's cache.
pub async fn assemble(app: &App, tenant: &TenantId, consumer: &str) -> Result<Assembled, Fail> {
    let cb = app.connectors.consumer_bindings(tenant, consumer).await?;
    let bindings = cb.bindings.clone();
    let all = instances(cb);
    let mut out = Assembled::default();
    let mut named: BTreeMap<String, Granted> = BTreeMap::new();
    for b in &bindings {
        let Some(c) = serving(b, &all) else {
            out.unserved.push(b.clone());
            continue;
        };
        let listing = super::listings::of_instance(app, c).await?;
        for (at, t) in listing.tools.iter().enumerate() {
            if t.capability != b.capability {
                continue;
            }
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
                    at,
                },
            );
        }
    }
    out.bindings = bindings;
    out.tools = named.into_values().collect();
    Ok(out)
}

/// The one tool `name` gives `consumer`, as [`assemble`] would show it, read
/// more cheaply: only the bindings of the name's alias (the text before its
/// first `_`) can give it, the oldest first.
pub async fn find(
    app: &App,
    tenant: &TenantId,
    consumer: &str,
    name: &str,
) -> Result<Option<Granted>, Fail> {
    let Some((alias, tool)) = name.split_once('_') else {
        return Ok(None);
    };
    let cb = app.connectors.consumer_bindings(tenant, consumer).await?;
    let bindings = cb.bindings.clone();
    let mine: Vec<&BindingRecord> = bindings.iter().filter(|b| b.alias == alias).collect();
    if mine.is_empty() {
        return Ok(None);
    }
    let all = instances(cb);
    for b in mine {
        let Some(c) = serving(b, &all) else {
            continue;
        };
        if c.status == Status::PendingAuth {
            continue;
        }
        let listing = super::listings::of_instance(app, c).await?;
        let at = listing
            .tools
            .iter()
            .position(|t| t.name == tool && t.capability == b.capability);
        if let Some(at) = at {
            return Ok(Some(Granted {
                name: name.to_string(),
                binding: b.clone(),
                connector: c.clone(),
                listing: listing.clone(),
                at,
            }));
        }
    }
    Ok(None)
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
                    new.consumer, g.binding.id, g.tool().name, g.connector.id
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
