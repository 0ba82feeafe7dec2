-- Installed connectors (instances), capability bindings.
-- `secret` holds only vault ciphertext (AES-256-GCM, see src/domain/vault.rs).

CREATE TABLE connectors (
  id              TEXT PRIMARY KEY,
  tenant_id       TEXT NOT NULL,
  listing_id      TEXT NOT NULL,
  listing_version TEXT NOT NULL,
  name            TEXT NOT NULL,
  kind            TEXT NOT NULL,
  transport       TEXT NOT NULL,
  crew_id         TEXT,
  capabilities    TEXT NOT NULL,
  tools           TEXT NOT NULL,
  config          TEXT NOT NULL,
  auth_type       TEXT NOT NULL,
  auth_hint       TEXT,
  secret          TEXT,
  status          TEXT NOT NULL,
  health          TEXT NOT NULL,
  return_url      TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  last_synced_at  TEXT
);
CREATE UNIQUE INDEX connectors_name ON connectors (tenant_id, name);
CREATE INDEX connectors_by_tenant ON connectors (tenant_id, created_at DESC, id DESC);

CREATE TABLE bindings (
  id           TEXT PRIMARY KEY,
  tenant_id    TEXT NOT NULL,
  consumer     TEXT NOT NULL,
  capability   TEXT NOT NULL,
  connector_id TEXT,
  created_at   TEXT NOT NULL
);
CREATE INDEX bindings_by_tenant ON bindings (tenant_id, created_at DESC, id DESC);
CREATE INDEX events_by_connector ON events (tenant_id, connector_id, created_at DESC, id DESC);
