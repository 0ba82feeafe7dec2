-- A tenant's lists cost by the page (issue 16). Two structures that triggers
-- keep in the same transaction as every write of `connectors` and `bindings`
-- (so no code path can forget them), and the indexes their reads seek on.

-- Which instance fulfils which capability, with whether it is `connected`:
-- the instance serving an unpinned binding (the oldest connected one) is one
-- index seek; the newest instances of a capability are a range.
CREATE TABLE connector_capabilities (
  tenant_id    TEXT NOT NULL,
  capability   TEXT NOT NULL,
  connector_id TEXT NOT NULL,
  connected    INTEGER NOT NULL,
  created_at   TEXT NOT NULL,
  PRIMARY KEY (tenant_id, capability, connector_id)
) WITHOUT ROWID;
CREATE INDEX connector_capabilities_serving
  ON connector_capabilities (tenant_id, capability, connected, created_at, connector_id);
CREATE INDEX connector_capabilities_newest
  ON connector_capabilities (tenant_id, capability, created_at DESC, connector_id DESC);
CREATE INDEX connector_capabilities_by_connector ON connector_capabilities (connector_id);

-- Each capability a tenant's instances fulfil or its bindings use, with how
-- many of each: `GET /v1/capabilities` pages this table by name. A row goes
-- when both counts reach zero.
CREATE TABLE capability_counts (
  tenant_id  TEXT NOT NULL,
  capability TEXT NOT NULL,
  connectors INTEGER NOT NULL DEFAULT 0,
  bindings   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, capability)
) WITHOUT ROWID;

-- `GET /v1/events?type=` seeks instead of walking the tenant's events.
CREATE INDEX events_by_type ON events (tenant_id, type, created_at DESC, id DESC);
CREATE INDEX bindings_by_capability ON bindings (tenant_id, capability, created_at DESC, id DESC);
CREATE INDEX bindings_by_connector ON bindings (tenant_id, connector_id);

CREATE TRIGGER connectors_capabilities_insert AFTER INSERT ON connectors BEGIN
  INSERT INTO connector_capabilities (tenant_id, capability, connector_id, connected, created_at)
    SELECT DISTINCT NEW.tenant_id, value, NEW.id, NEW.status = 'connected', NEW.created_at
    FROM json_each(NEW.capabilities);
  INSERT INTO capability_counts (tenant_id, capability, connectors)
    SELECT DISTINCT NEW.tenant_id, value, 1 FROM json_each(NEW.capabilities) WHERE true
    ON CONFLICT (tenant_id, capability) DO UPDATE SET connectors = connectors + 1;
END;

CREATE TRIGGER connectors_capabilities_delete AFTER DELETE ON connectors BEGIN
  UPDATE capability_counts SET connectors = connectors - 1
    WHERE tenant_id = OLD.tenant_id
      AND capability IN (SELECT capability FROM connector_capabilities WHERE connector_id = OLD.id);
  DELETE FROM capability_counts
    WHERE tenant_id = OLD.tenant_id AND connectors <= 0 AND bindings <= 0
      AND capability IN (SELECT capability FROM connector_capabilities WHERE connector_id = OLD.id);
  DELETE FROM connector_capabilities WHERE connector_id = OLD.id;
END;

-- An upgrade can change what an instance fulfils: the old rows go, the new
-- ones come, with the counts of both.
CREATE TRIGGER connectors_capabilities_change AFTER UPDATE OF capabilities ON connectors
WHEN OLD.capabilities IS NOT NEW.capabilities BEGIN
  UPDATE capability_counts SET connectors = connectors - 1
    WHERE tenant_id = OLD.tenant_id
      AND capability IN (SELECT capability FROM connector_capabilities WHERE connector_id = OLD.id);
  DELETE FROM connector_capabilities WHERE connector_id = OLD.id;
  INSERT INTO connector_capabilities (tenant_id, capability, connector_id, connected, created_at)
    SELECT DISTINCT NEW.tenant_id, value, NEW.id, NEW.status = 'connected', NEW.created_at
    FROM json_each(NEW.capabilities);
  INSERT INTO capability_counts (tenant_id, capability, connectors)
    SELECT DISTINCT NEW.tenant_id, value, 1 FROM json_each(NEW.capabilities) WHERE true
    ON CONFLICT (tenant_id, capability) DO UPDATE SET connectors = connectors + 1;
  DELETE FROM capability_counts
    WHERE tenant_id = OLD.tenant_id AND connectors <= 0 AND bindings <= 0
      AND capability IN (SELECT value FROM json_each(OLD.capabilities));
END;

CREATE TRIGGER connectors_capabilities_status AFTER UPDATE OF status ON connectors
WHEN OLD.status IS NOT NEW.status BEGIN
  UPDATE connector_capabilities SET connected = (NEW.status = 'connected') WHERE connector_id = NEW.id;
END;

CREATE TRIGGER bindings_count_insert AFTER INSERT ON bindings BEGIN
  INSERT INTO capability_counts (tenant_id, capability, bindings) VALUES (NEW.tenant_id, NEW.capability, 1)
    ON CONFLICT (tenant_id, capability) DO UPDATE SET bindings = bindings + 1;
END;

CREATE TRIGGER bindings_count_delete AFTER DELETE ON bindings BEGIN
  UPDATE capability_counts SET bindings = bindings - 1
    WHERE tenant_id = OLD.tenant_id AND capability = OLD.capability;
  DELETE FROM capability_counts
    WHERE tenant_id = OLD.tenant_id AND capability = OLD.capability AND connectors <= 0 AND bindings <= 0;
END;

CREATE TRIGGER bindings_count_change AFTER UPDATE OF capability ON bindings
WHEN OLD.capability IS NOT NEW.capability BEGIN
  UPDATE capability_counts SET bindings = bindings - 1
    WHERE tenant_id = OLD.tenant_id AND capability = OLD.capability;
  DELETE FROM capability_counts
    WHERE tenant_id = OLD.tenant_id AND capability = OLD.capability AND connectors <= 0 AND bindings <= 0;
  INSERT INTO capability_counts (tenant_id, capability, bindings) VALUES (NEW.tenant_id, NEW.capability, 1)
    ON CONFLICT (tenant_id, capability) DO UPDATE SET bindings = bindings + 1;
END;

-- What the tenants hold already.
INSERT INTO connector_capabilities (tenant_id, capability, connector_id, connected, created_at)
  SELECT DISTINCT c.tenant_id, j.value, c.id, c.status = 'connected', c.created_at
  FROM connectors c, json_each(c.capabilities) j;
INSERT INTO capability_counts (tenant_id, capability, connectors, bindings)
  SELECT tenant_id, capability, sum(c), sum(b) FROM (
    SELECT tenant_id, capability, 1 AS c, 0 AS b FROM connector_capabilities
    UNION ALL
    SELECT tenant_id, capability, 0, 1 FROM bindings
  ) WHERE true GROUP BY tenant_id, capability;
