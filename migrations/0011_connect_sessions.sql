-- Connect sessions: a single-use, short-lived link through which an end user
-- installs one connector into the tenant. Only the token's SHA-256 is kept.
CREATE TABLE connect_sessions (
  id            TEXT PRIMARY KEY,
  tenant_id     TEXT NOT NULL,
  token_hash    TEXT NOT NULL,
  listing_id    TEXT,
  consumer      TEXT,
  return_url    TEXT NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('pending', 'completed')),
  connector_id  TEXT,
  created_by    TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  expires_at    TEXT NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  completed_at  TEXT
);
CREATE INDEX connect_sessions_by_tenant ON connect_sessions (tenant_id, created_at DESC, id DESC);
