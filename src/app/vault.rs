//! An instance's credential fields in and out of the vault: sealed under the
//! tenant and instance (a ciphertext moved to another row does not open). A
//! missing `VAULT_KEY` is a platform failure, never a dropped credential.

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
