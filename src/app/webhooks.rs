//! Webhook endpoints (API §16) as use cases: create (the signing secret is
//! answered once and stored sealed), read, delete, an endpoint's deliveries;
//! and the poke that tells a tenant's object that events may be waiting.
//! Sending is `webhook_delivery`.

use super::App;
use crate::domain::ids::{KeyId, TenantId, WebhookEndpointId};
use crate::domain::webhook::{self, MAX_ENDPOINTS};
use crate::domain::Error;
use crate::store::webhooks::{DeliveryRecord, EndpointRecord};
use crate::store::Fail;
use serde_json::json;
use std::cell::RefCell;

/// What `POST /v1/webhook-endpoints` asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEndpoint {
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
}

/// A new endpoint with its secret, to show once.
pub struct Created {
    pub endpoint: EndpointRecord,
    pub secret: String,
}

/// Creates an endpoint: its URL passes the outbound guard, its secret is
/// sealed under tenant and endpoint; it gets the events written after it.
pub async fn create(
    app: &App,
    tenant: &TenantId,
    by: &KeyId,
    new: NewEndpoint,
) -> Result<Created, Fail> {
    let url = webhook::check_url(&new.url, &app.config.allow)?;
    let id = WebhookEndpointId::generate(app.rng.as_ref());
    let secret = webhook::new_secret(app.rng.as_ref());
    let now = app.now.rfc3339();
    let endpoint = EndpointRecord {
        secret: super::vault::seal_secret(app, tenant, id.as_str(), &secret)?,
        id,
        tenant: tenant.clone(),
        url,
        description: new.description,
        events: new.events,
        status: "enabled".into(),
        disabled_reason: None,
        since_seq: 0,
        created_at: now.clone(),
        updated_at: now,
    };
    let event = app.event(
        tenant,
        "webhook_endpoint.created",
        json!({"webhook_endpoint_id": endpoint.id.as_str(), "host": webhook::host_of(&endpoint.url),
               "events": endpoint.events, "by": by.as_str()}),
    );
    if !app
        .webhooks
        .insert_endpoint(tenant, &endpoint, MAX_ENDPOINTS, &event)
        .await?
    {
        return Err(Error::StateConflict(format!(
            "A tenant has at most {MAX_ENDPOINTS} webhook endpoints; delete one first."
        ))
        .into());
    }
    app.poke.arm(tenant);
    Ok(Created { endpoint, secret })
}

/// One endpoint of the tenant (`404` for another tenant's).
pub async fn get(app: &App, tenant: &TenantId, id: &str) -> Result<EndpointRecord, Fail> {
    let id = WebhookEndpointId::parse(id)?;
    app.webhooks
        .endpoint(tenant, &id)
        .await?
        .ok_or_else(|| Error::not_found(WebhookEndpointId::KIND, id.as_str()).into())
}

/// Deletes an endpoint with its secret and its deliveries; its events stay.
pub async fn delete(app: &App, tenant: &TenantId, by: &KeyId, id: &str) -> Result<(), Fail> {
    let endpoint = get(app, tenant, id).await?;
    let event = app.event(
        tenant,
        "webhook_endpoint.deleted",
        json!({"webhook_endpoint_id": endpoint.id.as_str(), "host": webhook::host_of(&endpoint.url), "by": by.as_str()}),
    );
    if !app
        .webhooks
        .delete_endpoint(tenant, &endpoint.id, &event)
        .await?
    {
        return Err(Error::not_found(WebhookEndpointId::KIND, endpoint.id.as_str()).into());
    }
    Ok(())
}

/// An endpoint's deliveries, newest first (over-fetched by the caller).
pub async fn deliveries(
    app: &App,
    tenant: &TenantId,
    id: &str,
    after: Option<(String, String)>,
    limit: usize,
) -> Result<Vec<DeliveryRecord>, Fail> {
    let endpoint = get(app, tenant, id).await?;
    Ok(app
        .webhooks
        .list_deliveries(tenant, &endpoint.id, after, limit)
        .await?)
}

/// The tenant whose events a request wrote, and whether it has endpoints
/// for sure (`armed`: one was just created or tested).
#[derive(Default)]
pub struct Poke(RefCell<Option<(TenantId, bool)>>);

impl Poke {
    /// Events of `tenant` were (or are about to be) written.
    pub fn note(&self, tenant: &TenantId) {
        let mut p = self.0.borrow_mut();
        if p.as_ref().is_none_or(|(t, _)| t != tenant) {
            *p = Some((tenant.clone(), false));
        }
    }

    /// `tenant` has webhook endpoints now.
    pub fn arm(&self, tenant: &TenantId) {
        *self.0.borrow_mut() = Some((tenant.clone(), true));
    }

    pub fn take(&self) -> Option<(TenantId, bool)> {
        self.0.borrow_mut().take()
    }
}

/// After a request: tells the tenant's object, in the background, that
/// events may wait for its endpoints — only a tenant that has some (as this
/// isolate read within `HOOKED_TTL_MS`; one created in this isolate at
/// once): an install or a verify of a tenant without endpoints costs no
/// object call. The cron pokes every tenant with endpoints too, so a lost
/// or skipped poke only delays a delivery.
pub fn send_poke(app: &App) {
    let Some((tenant, armed)) = app.poke.take() else {
        return;
    };
    if armed {
        app.shared.remember_hooked(&tenant, true, app.now);
    } else if app.shared.hooked(&tenant, app.now) == Some(false) {
        // No endpoints (as read within the last minute): nothing to wake.
        return;
    }
    let known = app.shared.hooked(&tenant, app.now);
    let (objects, log, now) = (app.objects.clone(), app.log.clone(), app.now);
    let (store, shared) = (app.webhooks.clone(), app.shared.clone());
    (app.background)(Box::pin(async move {
        if known.is_none() {
            match store.list_endpoints(&tenant, None, 1).await {
                Ok(found) => {
                    shared.remember_hooked(&tenant, !found.is_empty(), now);
                    if found.is_empty() {
                        return;
                    }
                }
                Err(e) => log(&format!("webhooks: endpoints of {tenant}: {}", e.0)),
            }
        }
        if let Err(e) = objects.poke(&tenant, armed, now.0).await {
            log(&format!("webhooks: poke of {tenant} failed: {}", e.0));
        }
    }));
}

#[cfg(test)]
mod tests;
