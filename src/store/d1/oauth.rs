//! SQL for OAuth consent states.

use super::SqlStore;
use crate::store::sql::Sql;
use crate::store::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct StateRow {
    state_hash: String,
    tenant_id: String,
    connector_id: String,
    verifier: Option<String>,
    redirect_uri: String,
    expires_at: f64,
    used_at: Option<String>,
}

#[async_trait(?Send)]
impl<S: Sql> OAuthStore for SqlStore<S> {
    async fn insert_state(&self, s: &OAuthStateRecord) -> StoreResult<()> {
        self.stmt(
            "INSERT INTO oauth_states (state_hash, tenant_id, connector_id, verifier, redirect_uri, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            &[
                s.state_hash.as_str().into(),
                s.tenant.as_str().into(),
                s.connector_id.as_str().into(),
                s.verifier.as_deref().into(),
                s.redirect_uri.as_str().into(),
                s.expires_at_ms.into(),
            ],
        )?
        .run(&self.db)
        .await?;
        Ok(())
    }

    async fn take_state(&self, state_hash: &str, now_ms: i64, now: &str) -> StoreResult<Taken> {
        let row = self
            .stmt(
                "SELECT state_hash, tenant_id, connector_id, verifier, redirect_uri, expires_at, used_at FROM oauth_states WHERE state_hash = ?1",
                &[state_hash.into()],
            )?
            .first::<StateRow>(&self.db)
            .await?;
        let Some(r) = row else {
            return Ok(Taken::Unknown);
        };
        if r.used_at.is_some() {
            return Ok(Taken::Used);
        }
        if now_ms as f64 >= r.expires_at {
            return Ok(Taken::Expired);
        }
        // Only one of several racing callbacks changes the row.
        let spent = self
            .stmt(
                "UPDATE oauth_states SET used_at = ?2 WHERE state_hash = ?1 AND used_at IS NULL",
                &[state_hash.into(), now.into()],
            )?
            .run(&self.db)
            .await?;
        if spent != 1 {
            return Ok(Taken::Used);
        }
        Ok(Taken::Fresh(OAuthStateRecord {
            state_hash: r.state_hash,
            tenant: TenantId::from_trusted(r.tenant_id),
            connector_id: ConnectorId::from_trusted(r.connector_id),
            verifier: r.verifier,
            redirect_uri: r.redirect_uri,
            expires_at_ms: r.expires_at as i64,
        }))
    }
}
