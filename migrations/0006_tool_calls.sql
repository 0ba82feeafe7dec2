-- Agent keys act for one consumer (API §1); tool call receipts (API §13).
-- The role CHECK of 0001 cannot be altered in SQLite: the table is rebuilt,
-- every row copied (an agent key must name its consumer, other keys none).
CREATE TABLE api_keys_new (
  id          TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL REFERENCES tenants(id),
  name        TEXT,
  role        TEXT NOT NULL CHECK (role IN ('viewer', 'manager', 'admin', 'agent')),
  consumer    TEXT CHECK ((role = 'agent') = (consumer IS NOT NULL)),
  secret_hash TEXT NOT NULL,
  last4       TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  revoked_at  TEXT
);
INSERT INTO api_keys_new (id, tenant_id, name, role, consumer, secret_hash, last4, created_at, revoked_at)
  SELECT id, tenant_id, name, role, NULL, secret_hash, last4, created_at, revoked_at FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_new RENAME TO api_keys;
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, created_at DESC, id DESC);

CREATE TABLE tool_calls (
  id               TEXT PRIMARY KEY,
  tenant_id        TEXT NOT NULL,
  connector_id     TEXT NOT NULL,
  listing          TEXT NOT NULL,
  listing_version  TEXT NOT NULL,
  tool             TEXT NOT NULL,
  capability       TEXT NOT NULL,
  consumer         TEXT,
  mode             TEXT NOT NULL,
  status           TEXT NOT NULL,
  result           TEXT,
  truncated        INTEGER NOT NULL DEFAULT 0,
  error            TEXT,
  upstream_status  INTEGER,
  latency_ms       INTEGER,
  arguments_sha256 TEXT NOT NULL,
  idempotency_key  TEXT,
  approval_id      TEXT,
  created_at       TEXT NOT NULL
);
CREATE INDEX tool_calls_by_tenant ON tool_calls (tenant_id, created_at DESC, id DESC);
