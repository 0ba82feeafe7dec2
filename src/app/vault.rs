//! An instance's credential fields in and out of the vault: sealed under the
//! tenant and instance (a ciphertext moved to another row does not open). A
//! missing `VAULT_KEY` is a platform failure, never a dropped credential.
//! Single secrets (webhook signing secrets) are sealed the same way.

use super::App;
use crate::domain::ids::{ConnectorId, TenantId};
use crate::domain::vault;
use crate::store::{ConnectorRecord, StoreError};
use std::collections::BTreeMap;

/// The instance's credential fields (none for auth `none`).
pub fn open_fields(app: &App, c: &ConnectorRecord) -> Result<BTreeMap<String, String>, StoreError> {
    let Some(sealed) = &c.secret else {
        return Ok(BTreeMap::new());
    };
    let Some(key) = &app.config.vault else {
        return Err(StoreError(
            "the instance has a sealed credential but VAULT_KEY is missing".into(),
        ));
    };
    let plain = key
        .open(&vault::owner(c.tenant.as_str(), c.id.as_str()), sealed)
        .map_err(|e| StoreError(format!("vault: {e}")))?;
    serde_json::from_slice(&plain)
        .map_err(|_| StoreError("vault: the credential is not a field map".into()))
}

/// Seals an instance's credential fields under its tenant and id.
pub fn seal_fields(
    app: &App,
    tenant: &TenantId,
    id: &ConnectorId,
    fields: &BTreeMap<String, String>,
) -> Result<String, StoreError> {
    let key = app
        .config
        .vault
        .as_ref()
        .ok_or_else(|| StoreError("VAULT_KEY is not configured".into()))?;
    let plain = serde_json::to_vec(fields).expect("a map of strings serialises");
    Ok(key.seal(
        app.rng.as_ref(),
        &vault::owner(tenant.as_str(), id.as_str()),
        &plain,
    ))
}

/// Seals one secret (a webhook signing secret) under its tenant and owner id.
pub fn seal_secret(
    app: &App,
    tenant: &TenantId,
    owner: &str,
    secret: &str,
) -> Result<String, StoreError> {
    let key = app
        .config
        .vault
        .as_ref()
        .ok_or_else(|| StoreError("VAULT_KEY is not configured".into()))?;
    Ok(key.seal(
        app.rng.as_ref(),
        &vault::owner(tenant.as_str(), owner),
        secret.as_bytes(),
    ))
}

/// Opens a secret sealed by `seal_secret`.
pub fn open_secret(
    app: &App,
    tenant: &TenantId,
    owner: &str,
    sealed: &str,
) -> Result<String, StoreError> {
    let key = app
        .config
        .vault
        .as_ref()
        .ok_or_else(|| StoreError("a sealed secret but VAULT_KEY is missing".into()))?;
    let plain = key
        .open(&vault::owner(tenant.as_str(), owner), sealed)
        .map_err(|e| StoreError(format!("vault: {e}")))?;
    String::from_utf8(plain).map_err(|_| StoreError("vault: the secret is not text".into()))
}
