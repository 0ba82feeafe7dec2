-- Governed side effects (API §15). A binding's policy (NULL: the tenant's
-- default) and rate limit; the tenant's default; approvals, each bound to
-- the exact call it lets run (its receipt waits as `pending_approval`).
ALTER TABLE bindings ADD COLUMN policy TEXT CHECK (policy IN ('allow', 'approve', 'dry_run', 'deny'));
ALTER TABLE bindings ADD COLUMN rate_limit_per_minute INTEGER CHECK (rate_limit_per_minute > 0);

CREATE TABLE tenant_settings (
  tenant_id      TEXT PRIMARY KEY,
  default_policy TEXT NOT NULL CHECK (default_policy IN ('allow', 'approve', 'dry_run', 'deny')),
  approval_ttl_seconds INTEGER NOT NULL DEFAULT 86400 CHECK (approval_ttl_seconds > 0),
  updated_at     TEXT NOT NULL
);

CREATE TABLE approvals (
  id               TEXT PRIMARY KEY,
  tenant_id        TEXT NOT NULL,
  tool_call_id     TEXT NOT NULL,
  connector_id     TEXT NOT NULL,
  binding_id       TEXT,
  consumer         TEXT NOT NULL,
  tool             TEXT NOT NULL,
  capability       TEXT NOT NULL,
  arguments        TEXT NOT NULL,
  arguments_sha256 TEXT NOT NULL,
  idempotency_key  TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
  decided_by       TEXT,
  reason           TEXT,
  expires_at       TEXT NOT NULL,
  created_at       TEXT NOT NULL,
  decided_at       TEXT
);
CREATE INDEX approvals_by_tenant ON approvals (tenant_id, created_at DESC, id DESC);
CREATE INDEX approvals_due ON approvals (status, expires_at);
