//! Tenants and their API keys as use cases: the operator creates a tenant
//! with its first admin key; admins mint and revoke keys. A secret exists
//! only in the answer that mints it: the store keeps its hash.

use super::App;
use crate::domain::auth::{mint_key, Role};
use crate::domain::ids::{KeyId, TenantId};
use crate::domain::Error;
use crate::store::{Fail, KeyRecord, TenantRecord};
use serde_json::json;

/// A key as stored, with the secret to show once.
pub struct Minted {
    pub key: KeyRecord,
    pub secret: String,
}

fn mint(
    app: &App,
    tenant: &TenantId,
    name: Option<String>,
    role: Role,
    consumer: Option<String>,
) -> Minted {
    let minted = mint_key(app.rng.as_ref());
    Minted {
        key: KeyRecord {
            id: minted.id,
            tenant: tenant.clone(),
            name,
            role,
            consumer,
            secret_hash: minted.hash,
            last4: minted.last4,
            created_at: app.now.rfc3339(),
        },
        secret: minted.secret,
    }
}

/// Creates a tenant and its first admin key, all or nothing.
pub async fn create_tenant(app: &App, name: String) -> Result<(TenantRecord, Minted), Fail> {
    let tenant = TenantRecord {
        id: TenantId::generate(app.rng.as_ref()),
        name,
        created_at: app.now.rfc3339(),
    };
    let minted = mint(
        app,
        &tenant.id,
        Some("initial admin key".into()),
        Role::Admin,
        None,
    );
    let event = app.event(
        &tenant.id,
        "api_key.created",
        json!({"api_key_id": minted.key.id.as_str(), "role": "admin", "by": "operator"}),
    );
    app.tenants
        .create_tenant(&tenant, &minted.key, &event)
        .await?;
    Ok((tenant, minted))
}

/// Mints a key of `role` in `tenant`. An `agent` key is bound to the
/// `consumer` it acts for (required); other roles take none.
pub async fn create_key(
    app: &App,
    tenant: &TenantId,
    by: &KeyId,
    role: Role,
    name: Option<String>,
    consumer: Option<String>,
) -> Result<Minted, Fail> {
    match (role, &consumer) {
        (Role::Agent, None) => return Err(Error::missing("consumer")
            .reworded(
                "An agent key acts for one consumer: send consumer (the name its bindings use).",
            )
            .into()),
        (Role::Agent, Some(_)) | (_, None) => {}
        (_, Some(_)) => {
            return Err(Error::invalid(
                "consumer",
                format!(
                    "Only agent keys have a consumer; a '{}' key acts for the whole tenant.",
                    role.as_str()
                ),
            )
            .into())
        }
    }
    let minted = mint(app, tenant, name, role, consumer.clone());
    let event = app.event(
        tenant,
        "api_key.created",
        json!({"api_key_id": minted.key.id.as_str(), "role": role.as_str(), "consumer": consumer, "by": by.as_str()}),
    );
    app.tenants.insert_key(tenant, &minted.key, &event).await?;
    Ok(minted)
}

/// Revokes a key at once (in this isolate; elsewhere within the key cache's
/// TTL). The key making the request cannot revoke itself, so an admin cannot
/// lock the tenant out by accident.
pub async fn revoke_key(app: &App, tenant: &TenantId, by: &KeyId, id: &KeyId) -> Result<(), Fail> {
    if id == by {
        return Err(Error::StateConflict(
            "An API key cannot revoke itself: revoke it with another admin key.".into(),
        )
        .into());
    }
    let event = app.event(
        tenant,
        "api_key.revoked",
        json!({"api_key_id": id.as_str(), "by": by.as_str()}),
    );
    if !app
        .tenants
        .revoke_key(tenant, id, &app.now.rfc3339(), &event)
        .await?
    {
        return Err(Error::not_found("api_key", id.as_str()).into());
    }
    app.shared.forget_key(id);
    Ok(())
}
