-- OAuth consent in flight (API §5): one row per authorize URL handed out.
-- Stored by the hash of the state token; the PKCE verifier is vault ciphertext.
CREATE TABLE oauth_states (
  state_hash   TEXT PRIMARY KEY,
  tenant_id    TEXT NOT NULL,
  connector_id TEXT NOT NULL,
  verifier     TEXT,
  redirect_uri TEXT NOT NULL,
  expires_at   INTEGER NOT NULL,
  used_at      TEXT
);
CREATE INDEX oauth_states_by_connector ON oauth_states (tenant_id, connector_id);
