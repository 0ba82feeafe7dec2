//! The SQL of connect sessions.

use super::*;

#[derive(Deserialize)]
struct Row {
    id: String,
    tenant_id: String,
    token_hash: String,
    listing_id: Option<String>,
    consumer: Option<String>,
    return_url: String,
    status: String,
    connector_id: Option<String>,
    created_by: String,
    created_at: String,
    expires_at: String,
    expires_at_ms: i64,
    completed_at: Option<String>,
}

impl Row {
    fn into_record(self) -> ConnectSessionRecord {
        ConnectSessionRecord {
            id: ConnectSessionId::from_trusted(self.id),
            tenant: TenantId::from_trusted(self.tenant_id),
            token_hash: self.token_hash,
            listing: self.listing_id,
            consumer: self.consumer,
            return_url: self.return_url,
            completed: self.status == "completed",
            connector_id: self.connector_id.map(ConnectorId::from_trusted),
            created_by: self.created_by,
            created_at: self.created_at,
            expires_at: self.expires_at,
            expires_at_ms: self.expires_at_ms,
            completed_at: self.completed_at,
        }
    }
}

const COLUMNS: &str = "id, tenant_id, token_hash, listing_id, consumer, return_url, status, connector_id, created_by, created_at, expires_at, expires_at_ms, completed_at";

#[async_trait(?Send)]
impl<S: Sql> ConnectSessionStore for SqlStore<S> {
    async fn insert_connect_session(
        &self,
        tenant: &TenantId,
        s: &ConnectSessionRecord,
        e: &EventRecord,
    ) -> StoreResult<()> {
        let insert = self.stmt(
            "INSERT INTO connect_sessions (id, tenant_id, token_hash, listing_id, consumer, return_url, status, created_by, created_at, expires_at, expires_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?8, ?9, ?10)",
            &[
                s.id.as_str().into(),
                tenant.as_str().into(),
                s.token_hash.as_str().into(),
                s.listing.as_deref().into(),
                s.consumer.as_deref().into(),
                s.return_url.as_str().into(),
                s.created_by.as_str().into(),
                s.created_at.as_str().into(),
                s.expires_at.as_str().into(),
                s.expires_at_ms.into(),
            ],
        )?;
        self.db.batch(vec![insert, self.event_stmt(e)?]).await?;
        Ok(())
    }

    async fn connect_session_by_id(
        &self,
        id: &ConnectSessionId,
    ) -> StoreResult<Option<ConnectSessionRecord>> {
        let row = self
            .stmt(
                &format!("SELECT {COLUMNS} FROM connect_sessions WHERE id = ?1"),
                &[id.as_str().into()],
            )?
            .first::<Row>(&self.db)
            .await?;
        Ok(row.map(Row::into_record))
    }

    async fn connect_session(
        &self,
        tenant: &TenantId,
        id: &ConnectSessionId,
    ) -> StoreResult<Option<ConnectSessionRecord>> {
        let row = self
            .stmt(
                &format!("SELECT {COLUMNS} FROM connect_sessions WHERE tenant_id = ?1 AND id = ?2"),
                &[tenant.as_str().into(), id.as_str().into()],
            )?
            .first::<Row>(&self.db)
            .await?;
        Ok(row.map(Row::into_record))
    }

    async fn list_connect_sessions(
        &self,
        tenant: &TenantId,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<ConnectSessionRecord>> {
        let stmt = match after {
            None => self.stmt(
                &format!("SELECT {COLUMNS} FROM connect_sessions WHERE tenant_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2"),
                &[tenant.as_str().into(), limit.into()],
            )?,
            Some((at, id)) => self.stmt(
                &format!("SELECT {COLUMNS} FROM connect_sessions WHERE tenant_id = ?1 AND (created_at, id) < (?2, ?3) ORDER BY created_at DESC, id DESC LIMIT ?4"),
                &[tenant.as_str().into(), at.into(), id.into(), limit.into()],
            )?,
        };
        Ok(stmt
            .all::<Row>(&self.db)
            .await?
            .into_iter()
            .map(Row::into_record)
            .collect())
    }

    async fn complete_connect_session(
        &self,
        tenant: &TenantId,
        id: &ConnectSessionId,
        connector: &ConnectorId,
        at: &str,
        e: &EventRecord,
    ) -> StoreResult<bool> {
        let update = self.stmt(
            "UPDATE connect_sessions SET status = 'completed', connector_id = ?3, completed_at = ?4 WHERE tenant_id = ?1 AND id = ?2 AND status = 'pending'",
            &[
                tenant.as_str().into(),
                id.as_str().into(),
                connector.as_str().into(),
                at.into(),
            ],
        )?;
        let event = self.conditional_event(e)?;
        let results = self.db.batch(vec![update, event]).await?;
        Ok(first_changes(&results) > 0)
    }
}
