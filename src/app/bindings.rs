//! Capabilities and bindings (API §7) as use cases: consumers depend on
//! capabilities, optionally pinned to one instance; an uninstall may not
//! break them (`dependents`). Binding changes and uninstalls of one tenant
//! are serialised by the tenant object's `bindings` lock, which the callers
//! take around these writes.

use super::{gateway, App};
use crate::domain::error::Dependent;
use crate::domain::governance::Policy;
use crate::domain::ids::{slug_of, BindingId, ConnectorId, TenantId};
use crate::domain::Error;
use crate::store::{
    BindingRecord, CapabilitySummary, ConnectorRecord, EventRecord, Fail, StoreError, Written,
};
use serde_json::json;

/// The tenant-object lock every binding change and uninstall holds.
pub const LOCK: &str = super::locks::BINDINGS;

/// `noun.verb`, as in manifests.
pub fn valid_capability(c: &str) -> bool {
    let part = |s: &str| {
        s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    c.len() <= 100 && c.split_once('.').is_some_and(|(n, v)| part(n) && part(v))
}

/// The bindings that would break if `c` went away: those pinned to it, and
/// those whose capability no other instance fulfils.
pub async fn dependents(
    app: &App,
    tenant: &TenantId,
    c: &ConnectorRecord,
) -> Result<Vec<Dependent>, StoreError> {
    Ok(app
        .connectors
        .dependents(tenant, &c.id)
        .await?
        .into_iter()
        .map(|b| Dependent {
            binding: b.id.to_string(),
            consumer: b.consumer,
            capability: b.capability,
            pinned: b.connector_id.is_some(),
        })
        .collect())
}

/// The instance serving `b` now: the one it pins, else the oldest
/// `connected` instance fulfilling its capability.
async fn serving_of(
    app: &App,
    tenant: &TenantId,
    b: &BindingRecord,
) -> Result<Option<ConnectorRecord>, StoreError> {
    match &b.connector_id {
        Some(id) => app.connectors.connector(tenant, id).await,
        None => app.connectors.serving(tenant, &b.capability).await,
    }
}

fn binding_event(app: &App, b: &BindingRecord, kind: &str, by: &str) -> EventRecord {
    let data = match kind {
        "binding.created" => {
            json!({"binding_id": b.id.as_str(), "consumer": b.consumer, "capability": b.capability, "alias": b.alias, "by": by})
        }
        "binding.updated" => {
            json!({"binding_id": b.id.as_str(), "consumer": b.consumer, "capability": b.capability, "connector_id": b.connector_id.as_ref().map(|c| c.as_str()),
                   "policy": b.policy.map(|p| p.as_str()), "rate_limit": b.rate_limit.map(|n| json!({"per_minute": n})), "by": by})
        }
        _ => json!({"binding_id": b.id.as_str(), "capability": b.capability, "by": by}),
    };
    let mut event = app.event(&b.tenant, kind, data);
    event.connector_id = b.connector_id.as_ref().map(|c| c.to_string());
    event
}

/// What a new binding says.
pub struct NewBinding {
    pub consumer: String,
    pub capability: String,
    pub pinned: Option<ConnectorId>,
    /// `None`: [`gateway::default_alias`].
    pub alias: Option<String>,
    /// `None`: the tenant's default.
    pub policy: Option<Policy>,
    pub rate_limit: Option<u32>,
}

/// What a `PATCH` changes (`None`: left as it is; `Some(None)`: cleared).
#[derive(Default)]
pub struct Change {
    pub connector_id: Option<Option<ConnectorId>>,
    pub policy: Option<Option<Policy>>,
    pub rate_limit: Option<Option<u32>>,
}

/// Binds a consumer to a capability, pinned to an instance that fulfils it
/// when `pinned` is given, under an alias whose tool names the consumer does
/// not see yet (API §14). Call under [`LOCK`].
pub async fn create(
    app: &App,
    tenant: &TenantId,
    by: &str,
    new: NewBinding,
) -> Result<BindingRecord, Fail> {
    let NewBinding {
        consumer,
        capability,
        pinned,
        alias,
        policy,
        rate_limit,
    } = new;
    let pinned_instance = match &pinned {
        Some(id) => {
            let c = app
                .connectors
                .connector(tenant, id)
                .await?
                .ok_or_else(|| Error::not_found("connector", id.as_str()))?;
            if !c.capabilities.contains(&capability) {
                return Err(Error::invalid(
                    "connector_id",
                    format!("The connector '{id}' does not fulfil '{capability}'."),
                )
                .into());
            }
            Some(c)
        }
        None => None,
    };
    let mut b = BindingRecord {
        id: BindingId::generate(app.rng.as_ref()),
        tenant: tenant.clone(),
        consumer,
        capability,
        connector_id: pinned,
        alias: String::new(),
        policy,
        rate_limit,
        created_at: app.now.rfc3339(),
    };
    let serving = match pinned_instance {
        Some(c) => Some(c),
        None => app.connectors.serving(tenant, &b.capability).await?,
    };
    let serving = serving.as_ref();
    b.alias = alias.unwrap_or_else(|| {
        crate::domain::gateway::default_alias(serving.map(gateway::listing_slug), &b.capability)
    });
    gateway::check_names(app, tenant, &b, serving).await?;
    let event = binding_event(app, &b, "binding.created", by);
    app.connectors.insert_binding(tenant, &b, &event).await?;
    Ok(b)
}

/// Changes a binding: re-points it to another instance of the listing
/// serving it now (`Some(None)`: unpins it), so its consumer's tool names
/// stay the same; sets or clears its policy and rate limit. Call under
/// [`LOCK`].
pub async fn update(
    app: &App,
    tenant: &TenantId,
    by: &str,
    id: &BindingId,
    change: Change,
) -> Result<BindingRecord, Fail> {
    let gone = || Error::not_found("binding", id.as_str());
    let b = app.connectors.binding(tenant, id).await?.ok_or_else(gone)?;
    let mut next = b.clone();
    if let Some(p) = change.policy {
        next.policy = p;
    }
    if let Some(r) = change.rate_limit {
        next.rate_limit = r;
    }
    let mut changed: Vec<&str> = vec![];
    if next.policy != b.policy {
        changed.push("policy");
    }
    if next.rate_limit != b.rate_limit {
        changed.push("rate_limit");
    }
    if let Some(to) = change.connector_id {
        let now = serving_of(app, tenant, &b).await?.map(|c| c.listing);
        next.connector_id = to;
        // The instance that would serve it: the one named (read once), or
        // for an unpinned binding the oldest connected one.
        let then = match &next.connector_id {
            Some(to) => {
                let c = app
                    .connectors
                    .connector(tenant, to)
                    .await?
                    .ok_or_else(|| Fail::from(Error::not_found("connector", to.as_str())))?;
                if !c.capabilities.contains(&b.capability) {
                    return Err(Error::invalid(
                        "connector_id",
                        format!("The connector '{to}' does not fulfil '{}'.", b.capability),
                    )
                    .into());
                }
                Some(c.listing)
            }
            None => serving_of(app, tenant, &next).await?.map(|c| c.listing),
        };
        if let (Some(now), Some(then)) = (&now, &then) {
            if now != then {
                return Err(Error::invalid(
                    "connector_id",
                    format!(
                        "The binding is served by a '{}' instance; it can only be re-pointed to another instance of that listing (not '{}'), so that its consumer's tool names stay the same. Make a new binding for another listing.",
                        slug_of(now),
                        slug_of(then)
                    ),
                )
                .into());
            }
        }
        if next.connector_id != b.connector_id {
            changed.push("connector_id");
        }
    }
    let mut event = binding_event(app, &next, "binding.updated", by);
    event.data["changed"] = json!(changed);
    event.data["previous_connector_id"] = json!(b.connector_id.as_ref().map(|c| c.as_str()));
    if app.connectors.update_binding(tenant, &next, &event).await? == Written::Gone {
        return Err(gone().into());
    }
    Ok(next)
}

/// Deletes a binding with its event. Call under [`LOCK`].
pub async fn delete(app: &App, tenant: &TenantId, by: &str, id: &BindingId) -> Result<(), Fail> {
    let gone = || Error::not_found("binding", id.as_str());
    let b = app.connectors.binding(tenant, id).await?.ok_or_else(gone)?;
    let event = binding_event(app, &b, "binding.deleted", by);
    if !app.connectors.delete_binding(tenant, id, &event).await? {
        return Err(gone().into());
    }
    Ok(())
}

/// A page of the tenant's capabilities by name, strictly after `after`:
/// read from the summary the database keeps with every install, uninstall
/// and binding change, never by walking the tenant's instances.
pub async fn capabilities(
    app: &App,
    tenant: &TenantId,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<CapabilitySummary>, StoreError> {
    app.connectors.capabilities(tenant, after, limit).await
}
