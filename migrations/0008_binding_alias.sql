-- A binding's alias namespaces the tool names its consumer sees through the
-- MCP gateway (API §7, §14): `{alias}_{tool}`. It is fixed when the binding
-- is made, so names never change; bindings made before it existed keep a
-- stable one, the noun of their capability (`order.read` → `order`).
ALTER TABLE bindings ADD COLUMN alias TEXT NOT NULL DEFAULT '';
UPDATE bindings SET alias = substr(capability, 1, instr(capability, '.') - 1) WHERE alias = '';
-- The gateway assembles one consumer's tools from that consumer's bindings only.
CREATE INDEX bindings_by_consumer ON bindings (tenant_id, consumer, created_at, id);
