-- Agent keys act for one consumer (API §1); tool call receipts (API §13).
ALTER TABLE api_keys ADD COLUMN consumer TEXT;

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
