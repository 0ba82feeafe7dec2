-- The marketplace (issue 5): every published version of a listing, listing
-- status (live / delisted), visibility (public / private to one tenant), and
-- submissions awaiting review. Append-only, like every migration.

ALTER TABLE listings ADD COLUMN status TEXT NOT NULL DEFAULT 'live'
  CHECK (status IN ('live', 'delisted'));
ALTER TABLE listings ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public'
  CHECK (visibility IN ('public', 'private'));
ALTER TABLE listings ADD COLUMN owner_tenant TEXT;

CREATE TABLE listing_versions (
  listing_id   TEXT NOT NULL,
  version      TEXT NOT NULL,
  etag         TEXT NOT NULL,
  manifest     TEXT NOT NULL,
  published_at TEXT NOT NULL,
  PRIMARY KEY (listing_id, version)
);
INSERT INTO listing_versions (listing_id, version, etag, manifest, published_at)
  SELECT id, version, etag, manifest, updated_at FROM listings;

CREATE TABLE submissions (
  id         TEXT PRIMARY KEY,
  tenant_id  TEXT NOT NULL,
  listing_id TEXT NOT NULL,
  version    TEXT NOT NULL,
  visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
  manifest   TEXT NOT NULL,
  status     TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
  reason     TEXT,
  created_at TEXT NOT NULL,
  decided_at TEXT
);
CREATE INDEX submissions_by_tenant ON submissions (tenant_id, created_at DESC, id DESC);
CREATE INDEX submissions_by_time ON submissions (created_at DESC, id DESC);
