-- The upstream definition of each MCP-proxied tool an instance exposes,
-- pinned by digest (API §13): a definition that changes is withheld until a
-- manager accepts it. Rows go with their instance.
CREATE TABLE tool_pins (
  tenant_id    TEXT NOT NULL,
  connector_id TEXT NOT NULL,
  tool         TEXT NOT NULL,
  digest       TEXT NOT NULL,
  pinned_at    TEXT NOT NULL,
  PRIMARY KEY (tenant_id, connector_id, tool)
);
CREATE TRIGGER tool_pins_follow_their_connector AFTER DELETE ON connectors
BEGIN
  DELETE FROM tool_pins WHERE tenant_id = OLD.tenant_id AND connector_id = OLD.id;
END;
