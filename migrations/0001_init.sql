-- Tenants, API keys (hashed), the catalog (source of truth) and the audit log.
-- Append-only: never edit a migration that has been applied; add a new one.

CREATE TABLE tenants (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE api_keys (
  id          TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL REFERENCES tenants(id),
  name        TEXT,
  role        TEXT NOT NULL CHECK (role IN ('viewer', 'manager', 'admin')),
  secret_hash TEXT NOT NULL,
  last4       TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  revoked_at  TEXT
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, created_at DESC, id DESC);

CREATE TABLE listings (
  id         TEXT PRIMARY KEY,
  version    TEXT NOT NULL,
  etag       TEXT NOT NULL,
  manifest   TEXT NOT NULL,
  summary    TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE events (
  id           TEXT PRIMARY KEY,
  tenant_id    TEXT NOT NULL,
  type         TEXT NOT NULL,
  connector_id TEXT,
  data         TEXT NOT NULL,
  created_at   TEXT NOT NULL
);
CREATE INDEX events_by_tenant ON events (tenant_id, created_at DESC, id DESC);
