// The install form generator (console/src/lib/form.mjs) over every manifest
// in catalog/: run by `make unit` (node --test console/test/).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fieldsFor, initialValues, serverErrors, targetOf, toBody, validate } from "../src/lib/form.mjs";

const dir = new URL("../../catalog/", import.meta.url);
const manifests = readdirSync(dir)
  .filter((f) => f.endsWith(".json") && f !== "manifest.schema.json")
  .map((f) => JSON.parse(readFileSync(new URL(f, dir), "utf8")));

test("every manifest gives a form whose fields match its schema", () => {
  assert.ok(manifests.length >= 20);
  for (const m of manifests) {
    const fields = fieldsFor(m);
    const props = Object.keys(m.config_schema.properties);
    assert.deepEqual(fields.filter((f) => f.group === "config").map((f) => f.key), props, m.id);
    assert.deepEqual(fields.filter((f) => f.group === "auth").map((f) => f.key), (m.auth.fields || []).map((f) => f.key), m.id);
    for (const f of fields.filter((f) => f.group === "auth")) {
      const spec = m.auth.fields.find((x) => x.key === f.key);
      assert.equal(f.required, spec.required, `${m.id}.${f.key}`);
      if (spec.secret && f.key !== "headers") assert.equal(f.control, "password", `${m.id}.${f.key} is a password input`);
    }
    for (const key of m.config_schema.required || []) {
      assert.ok(fields.find((f) => f.key === key && f.group === "config").required, `${m.id}.${key} required`);
    }
    // Defaults fill the inputs and come back as the same values.
    const body = toBody(m, fields, initialValues(fields));
    assert.equal(body.auth.type, m.auth.mode);
    for (const [k, p] of Object.entries(m.config_schema.properties)) {
      if (p.default !== undefined && !(typeof p.default === "string" && p.default.includes("{{")))
        assert.deepEqual(body.config[k], p.default, `${m.id}.${k} default`);
    }
  }
});

test("client-side checks: required, pattern, enum, numbers, JSON objects", () => {
  const m = {
    id: "x",
    auth: { mode: "api_key", fields: [{ key: "key", label: "Key", secret: true, required: true, pattern: "^sk_" }] },
    config_schema: {
      type: "object",
      required: ["base_url"],
      properties: {
        base_url: { type: "string", format: "uri", pattern: "^https?://" },
        region: { type: "string", enum: ["eu", "us"], default: "eu" },
        timeout_ms: { type: "integer", minimum: 100, maximum: 1000 },
        read_only: { type: "boolean", default: true },
        extra: { type: "object" },
      },
    },
  };
  const fields = fieldsFor(m, { prefix: "t" });
  const v = initialValues(fields);
  let e = validate(fields, v);
  assert.deepEqual(Object.keys(e).sort(), ["t-auth-key", "t-config-base_url"]);
  Object.assign(v, { "t-config-base_url": "ftp://x", "t-auth-key": "pk_1", "t-config-timeout_ms": "1.5", "t-config-extra": "[1]" });
  e = validate(fields, v);
  assert.deepEqual(Object.keys(e).sort(), ["t-auth-key", "t-config-base_url", "t-config-extra", "t-config-timeout_ms"]);
  Object.assign(v, { "t-config-base_url": "https://h", "t-auth-key": "sk_1", "t-config-timeout_ms": "50", "t-config-extra": '{"a":1}' });
  assert.deepEqual(Object.keys(validate(fields, v)), ["t-config-timeout_ms"]);
  v["t-config-timeout_ms"] = "500";
  assert.deepEqual(validate(fields, v), {});
  assert.deepEqual(toBody(m, fields, v), {
    auth: { type: "api_key", key: "sk_1" },
    config: { base_url: "https://h", region: "eu", timeout_ms: 500, read_only: true, extra: { a: 1 } },
  });
  // A secret is sent exactly as typed (no trimming).
  v["t-auth-key"] = "sk_1 ";
  assert.equal(toBody(m, fields, v).auth.key, "sk_1 ");
});

test("the server's error.param lands at its field", () => {
  const magento = manifests.find((m) => m.id === "magento");
  const f = fieldsFor(magento, { prefix: "i" });
  assert.equal(targetOf(f, "name"), "i-name-name");
  assert.equal(targetOf(f, "config.base_url"), "i-config-base_url");
  assert.equal(targetOf(f, "auth.key"), "i-auth-key");
  assert.equal(targetOf(f, "auth"), "i-auth-key", "auth_failed names the one secret");
  assert.equal(targetOf(f, "config"), "i-config-base_url", "a refused target names the URL");
  assert.equal(targetOf(f, "listing"), null);
  assert.equal(targetOf(f, null), null);
  const jira = manifests.find((m) => m.id === "jira");
  const j = fieldsFor(jira, { prefix: "j" });
  assert.equal(targetOf(j, "auth"), "j-auth-password", "basic: the secret half");
  assert.equal(targetOf(j, "auth.type"), "group:auth");
  assert.deepEqual(serverErrors(f, { param: "auth", message: "rejected" }), { "i-auth-key": "rejected" });
  assert.deepEqual(serverErrors(f, { param: null, message: "boom" }), { form: "boom" });
});
