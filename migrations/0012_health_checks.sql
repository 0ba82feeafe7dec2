-- Each health check of an instance (on demand, by a test or by the sweep),
-- the newest 100 per instance: the latency history a console charts.
CREATE TABLE health_checks (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id    TEXT NOT NULL,
  connector_id TEXT NOT NULL,
  checked_at   TEXT NOT NULL,
  healthy      INTEGER,
  latency_ms   INTEGER,
  status       TEXT NOT NULL,
  message      TEXT NOT NULL
);
CREATE INDEX health_checks_by_connector ON health_checks (tenant_id, connector_id, seq DESC);
