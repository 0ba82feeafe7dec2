-- Webhooks (API §16): endpoints, one delivery per (endpoint, event) with its
-- attempts, and each tenant's outbox cursor. `events` is the outbox: every
-- event is a row there, fanned out in insertion order (its rowid; events are
-- never deleted, and D1 has one writer, so rowids grow in commit order).
-- (0009 is another change's.)

CREATE TABLE webhook_endpoints (
  id              TEXT PRIMARY KEY,
  tenant_id       TEXT NOT NULL,
  url             TEXT NOT NULL,
  description     TEXT,
  events          TEXT NOT NULL,           -- JSON array of types, or ["*"]
  secret          TEXT NOT NULL,           -- vault ciphertext only (src/domain/vault.rs)
  status          TEXT NOT NULL CHECK (status IN ('enabled', 'disabled')),
  disabled_reason TEXT,
  since_seq       INTEGER NOT NULL,        -- events with a larger rowid are delivered to it
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_by_tenant ON webhook_endpoints (tenant_id, created_at DESC, id DESC);

CREATE TABLE webhook_deliveries (
  id               TEXT PRIMARY KEY,
  tenant_id        TEXT NOT NULL,
  endpoint_id      TEXT NOT NULL,
  event_id         TEXT NOT NULL,
  event_type       TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'canceled')),
  attempts         TEXT NOT NULL DEFAULT '[]', -- JSON array, oldest first
  attempt_count    INTEGER NOT NULL DEFAULT 0,
  first_attempt_ms INTEGER,
  next_attempt_ms  INTEGER,                 -- NULL once final
  lease            TEXT,                    -- the sender holding it, until lease_until_ms
  lease_until_ms   INTEGER,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL
);
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (endpoint_id, event_id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (tenant_id, status, next_attempt_ms);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (tenant_id, endpoint_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (lease) WHERE lease IS NOT NULL;

-- The last event (rowid) of each tenant already fanned out.
CREATE TABLE webhook_cursors (
  tenant_id TEXT PRIMARY KEY,
  last_seq  INTEGER NOT NULL
);

-- The outbox scan: a tenant's events after a rowid, in rowid order.
CREATE INDEX events_outbox ON events (tenant_id);
