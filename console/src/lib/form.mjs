// The install form, generated from a listing's manifest: its `config_schema`
// (draft-07: types, required, enum, default, pattern, lengths, bounds) and
// its `auth.fields` (secret fields as password inputs, required, pattern).
// Shared by the console's install page and the end-user connect page.
//
// A field is a plain descriptor; values are kept as the inputs hold them
// (strings, booleans for checkboxes) and turned into the API's body by
// `toBody`. Errors, the browser's own checks and the server's `400`/`422`
// with `error.param` alike, are shown at their field: the input gets
// `aria-invalid` and `aria-describedby` naming the message under it.
import { html } from "./h.mjs";

const SECRET_TEXTAREA = new Set(["headers"]);

function fid(prefix, group, key) {
  return `${prefix}-${group}-${key}`.replace(/[^A-Za-z0-9_-]/g, "_");
}

function humanise(key) {
  const s = key.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * The fields of a manifest, in order: the instance name (optional), the
 * config properties, then the credential fields.
 */
export function fieldsFor(manifest, { prefix = "f", withName = true, nameLabel = "Connector name", nameHelp } = {}) {
  const fields = [];
  if (withName) {
    fields.push({
      id: fid(prefix, "name", "name"),
      group: "name",
      key: "name",
      label: nameLabel,
      help: nameHelp || `Unique in your workspace; letters, digits, '-', '_' or '.'. Leave empty for "${manifest.id}".`,
      control: "text",
      valueType: "string",
      required: false,
      placeholder: manifest.id,
    });
  }
  const schema = manifest.config_schema || {};
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  for (const [key, p] of Object.entries(schema.properties || {})) {
    if (p.const !== undefined) continue; // nothing for a person to choose
    const type = p.type || "string";
    let control = "text";
    if (Array.isArray(p.enum)) control = "select";
    else if (type === "boolean") control = "checkbox";
    else if (type === "integer" || type === "number") control = "number";
    else if (type === "object" || type === "array") control = "textarea";
    else if (p.format === "uri") control = "url";
    else if (p.format === "email") control = "email";
    const examples = Array.isArray(p.examples) ? p.examples.filter((x) => typeof x !== "object") : [];
    fields.push({
      id: fid(prefix, "config", key),
      group: "config",
      key,
      label: p.title || humanise(key),
      help: p.description || "",
      control,
      valueType: type,
      itemsType: type === "array" && p.items && p.items.type ? p.items.type : null,
      required: required.has(key),
      enum: Array.isArray(p.enum) ? p.enum : null,
      default: p.default,
      pattern: typeof p.pattern === "string" ? p.pattern : null,
      minLength: p.minLength,
      maxLength: p.maxLength,
      minimum: p.minimum,
      maximum: p.maximum,
      exclusiveMinimum: p.exclusiveMinimum,
      exclusiveMaximum: p.exclusiveMaximum,
      minItems: p.minItems,
      maxItems: p.maxItems,
      placeholder: examples.length ? String(examples[0]) : "",
    });
  }
  const auth = manifest.auth || {};
  for (const f of Array.isArray(auth.fields) ? auth.fields : []) {
    fields.push({
      id: fid(prefix, "auth", f.key),
      group: "auth",
      key: f.key,
      label: f.label || humanise(f.key),
      help: f.help || "",
      control: SECRET_TEXTAREA.has(f.key) ? "textarea" : f.secret ? "password" : "text",
      valueType: "string",
      required: !!f.required,
      secret: !!f.secret,
      pattern: typeof f.pattern === "string" ? f.pattern : null,
      placeholder: "",
    });
  }
  return fields;
}

/** The inputs' starting values: defaults where the schema has them. */
export function initialValues(fields) {
  const v = {};
  for (const f of fields) {
    if (f.control === "checkbox") v[f.id] = f.default === true;
    else if (f.default === undefined || (f.default !== null && typeof f.default === "string" && f.default.includes("{{")))
      v[f.id] = ""; // a default built from other values is filled in by the server
    else if (f.control === "textarea" && typeof f.default === "object") v[f.id] = JSON.stringify(f.default, null, 2);
    else v[f.id] = String(f.default);
  }
  return v;
}

function compile(pattern) {
  try {
    return new RegExp(pattern, "u");
  } catch {
    return null; // the server's dialect decides
  }
}

function isEmpty(f, raw) {
  if (f.control === "checkbox") return false;
  const s = String(raw ?? "");
  return f.secret ? s === "" : s.trim() === "";
}

/** Parses one field's raw value: `{value}` or `{error}`; `{}` when empty. */
export function parseField(f, raw) {
  if (f.control === "checkbox") return { value: !!raw };
  const text = f.secret ? String(raw ?? "") : String(raw ?? "").trim();
  if (isEmpty(f, raw)) return {};
  switch (f.valueType) {
    case "integer":
    case "number": {
      const n = Number(text);
      if (!Number.isFinite(n)) return { error: "Enter a number." };
      if (f.valueType === "integer" && !Number.isInteger(n)) return { error: "Enter a whole number." };
      return { value: n };
    }
    case "object": {
      try {
        const o = JSON.parse(text);
        if (o === null || typeof o !== "object" || Array.isArray(o)) return { error: "Enter a JSON object, e.g. {\"key\": \"value\"}." };
        return { value: o };
      } catch {
        return { error: "Enter a JSON object, e.g. {\"key\": \"value\"}." };
      }
    }
    case "array": {
      if (text.startsWith("[")) {
        try {
          const a = JSON.parse(text);
          if (Array.isArray(a)) return { value: a };
        } catch {
          /* fall through */
        }
        return { error: "Enter a JSON array, or one item per line." };
      }
      const items = text.split("\n").map((s) => s.trim()).filter(Boolean);
      if (f.itemsType === "integer" || f.itemsType === "number") {
        const nums = items.map(Number);
        if (nums.some((n) => !Number.isFinite(n))) return { error: "Enter one number per line." };
        return { value: nums };
      }
      return { value: items };
    }
    default:
      if (f.enum) {
        const hit = f.enum.find((x) => String(x) === text);
        return hit === undefined ? { error: "Choose one of the listed values." } : { value: hit };
      }
      return { value: f.secret ? String(raw) : text };
  }
}

function checkRules(f, value) {
  if (typeof value === "string") {
    if (f.minLength !== undefined && [...value].length < f.minLength) return `Use at least ${f.minLength} characters.`;
    if (f.maxLength !== undefined && [...value].length > f.maxLength) return `Use at most ${f.maxLength} characters.`;
    if (f.pattern) {
      const re = compile(f.pattern);
      if (re && !re.test(value)) return f.secret ? "This value does not have the expected form." : `Does not match the expected form (${f.pattern}).`;
    }
  }
  if (typeof value === "number") {
    if (f.minimum !== undefined && value < f.minimum) return `Enter ${f.minimum} or more.`;
    if (f.maximum !== undefined && value > f.maximum) return `Enter ${f.maximum} or less.`;
    if (f.exclusiveMinimum !== undefined && value <= f.exclusiveMinimum) return `Enter more than ${f.exclusiveMinimum}.`;
    if (f.exclusiveMaximum !== undefined && value >= f.exclusiveMaximum) return `Enter less than ${f.exclusiveMaximum}.`;
  }
  if (Array.isArray(value)) {
    if (f.minItems !== undefined && value.length < f.minItems) return `Enter at least ${f.minItems} items.`;
    if (f.maxItems !== undefined && value.length > f.maxItems) return `Enter at most ${f.maxItems} items.`;
  }
  return null;
}

/** Client-side checks: `{fieldId: message}` (empty when the form is good). */
export function validate(fields, values, { groups } = {}) {
  const errors = {};
  for (const f of fields) {
    if (groups && !groups.includes(f.group)) continue;
    const raw = values[f.id];
    const parsed = parseField(f, raw);
    if (parsed.error) errors[f.id] = parsed.error;
    else if (parsed.value === undefined) {
      if (f.required) errors[f.id] = `${f.label} is required.`;
    } else {
      const rule = checkRules(f, parsed.value);
      if (rule) errors[f.id] = rule;
    }
  }
  return errors;
}

/**
 * The API body: `{name?, auth, config}`. `auth.type` is the listing's mode;
 * empty optional values are left out (the server fills config defaults).
 */
export function toBody(manifest, fields, values) {
  const auth = { type: (manifest.auth && manifest.auth.mode) || "none" };
  const config = {};
  let name;
  for (const f of fields) {
    const { value } = parseField(f, values[f.id]);
    if (value === undefined) continue;
    if (f.group === "auth") auth[f.key] = value;
    else if (f.group === "config") config[f.key] = value;
    else if (f.group === "name") name = value;
  }
  const body = { auth, config };
  if (name !== undefined) body.name = name;
  return body;
}

/**
 * Where the server's `error.param` belongs: a field id, or a group
 * (`"group:auth"`, `"group:config"`) when it names the whole credential or
 * config (`auth_failed` names `auth`; a refused target names `config`), or
 * null (shown above the form).
 */
export function targetOf(fields, param) {
  if (!param || typeof param !== "string") return null;
  const [head, key] = param.split(".");
  const inGroup = (g) => fields.filter((f) => f.group === g);
  if (head === "name") return fields.find((f) => f.group === "name")?.id ?? null;
  if (head !== "config" && head !== "auth") return null;
  if (key !== undefined && key !== "type") {
    const hit = fields.find((f) => f.group === head && f.key === key);
    if (hit) return hit.id;
  }
  const group = inGroup(head);
  if (group.length === 0) return null;
  if (head === "auth") {
    const secrets = group.filter((f) => f.secret);
    if (key === undefined && secrets.length === 1) return secrets[0].id;
  } else if (key === undefined) {
    const urls = group.filter((f) => f.control === "url" || /_url$/.test(f.key));
    if (urls.length === 1) return urls[0].id;
  }
  return group.length === 1 ? group[0].id : `group:${head}`;
}

/** Errors keyed by field id or group from an ApiError; `{form}` otherwise. */
export function serverErrors(fields, e) {
  const target = targetOf(fields, e && e.param);
  const message = (e && e.message) || "The request failed.";
  return target ? { [target]: message } : { form: message };
}

/** The first field (in form order) carrying an error, for focus. */
export function firstInvalid(fields, errors) {
  for (const f of fields) {
    if (errors[f.id] || errors[`group:${f.group}`]) return f.id;
  }
  return null;
}

function describedBy(...ids) {
  const s = ids.filter(Boolean).join(" ");
  return s || undefined;
}

function Field({ f, value, error, groupErrorId, onInput, disabled }) {
  const helpId = f.help ? `${f.id}-help` : null;
  const errId = error ? `${f.id}-error` : null;
  const invalid = !!(error || groupErrorId);
  const common = {
    id: f.id,
    name: `${f.group}.${f.key}`,
    disabled,
    required: f.required,
    "aria-invalid": invalid ? "true" : undefined,
    "aria-describedby": describedBy(errId, groupErrorId, helpId),
  };
  let control;
  if (f.control === "checkbox") {
    control = html`<input ...${common} type="checkbox" checked=${!!value}
      onChange=${(ev) => onInput(f.id, ev.currentTarget.checked)} />`;
  } else if (f.control === "select") {
    control = html`<select ...${common} value=${value} onChange=${(ev) => onInput(f.id, ev.currentTarget.value)}>
      ${!f.required || f.default === undefined ? html`<option value="">${f.required ? "Choose…" : "(not set)"}</option>` : null}
      ${f.enum.map((x) => html`<option value=${String(x)}>${String(x)}</option>`)}
    </select>`;
  } else if (f.control === "textarea") {
    control = html`<textarea ...${common} rows="4" spellcheck="false" autocapitalize="off"
      autocomplete="off" placeholder=${f.placeholder || undefined} value=${value}
      onInput=${(ev) => onInput(f.id, ev.currentTarget.value)}></textarea>`;
  } else {
    const type = f.control === "number" ? "text" : f.control; // text + inputmode: no locale surprises
    control = html`<input ...${common} type=${type}
      inputmode=${f.control === "number" ? (f.valueType === "integer" ? "numeric" : "decimal") : undefined}
      autocomplete=${f.secret ? "new-password" : "off"} spellcheck="false" autocapitalize="off"
      placeholder=${f.placeholder || undefined} value=${value}
      onInput=${(ev) => onInput(f.id, ev.currentTarget.value)} />`;
  }
  const label = html`<label for=${f.id}>${f.label}${f.required ? html`<span class="req" aria-hidden="true"> *</span>` : null}${f.secret ? html`<span class="tag">secret</span>` : null}</label>`;
  return html`<div class=${`field${f.control === "checkbox" ? " field-check" : ""}${invalid ? " invalid" : ""}`}>
    ${f.control === "checkbox" ? html`${control}${label}` : html`${label}${control}`}
    ${error ? html`<p class="field-error" id=${errId}>${error}</p>` : null}
    ${f.help ? html`<p class="help" id=${helpId}>${f.help}</p>` : null}
  </div>`;
}

function Group({ title, group, fields, values, errors, onInput, disabled, note }) {
  const list = fields.filter((f) => f.group === group);
  if (list.length === 0 && !note) return null;
  const gErr = errors[`group:${group}`];
  const gErrId = gErr ? `group-${group}-error` : null;
  return html`<fieldset class="group" aria-describedby=${gErrId || undefined}>
    <legend>${title}</legend>
    ${note ? html`<p class="help">${note}</p>` : null}
    ${gErr ? html`<p class="field-error" id=${gErrId}>${gErr}</p>` : null}
    ${list.map((f) => html`<${Field} key=${f.id} f=${f} value=${values[f.id]} error=${errors[f.id]}
      groupErrorId=${gErrId} onInput=${onInput} disabled=${disabled} />`)}
  </fieldset>`;
}

/** The generated fields: name, settings (config) and credentials (auth). */
export function SchemaFields({ manifest, fields, values, errors, onInput, disabled }) {
  const mode = manifest.auth && manifest.auth.mode;
  const authNote =
    mode === "none"
      ? "This connector needs no credentials."
      : mode === "mcp_oauth"
        ? "You will sign in with the MCP server's own consent screen after installing."
        : mode === "oauth2"
          ? "Your OAuth app's client credentials; you then grant access on the provider's consent screen."
          : null;
  const name = fields.find((f) => f.group === "name");
  return html`
    ${name ? html`<${Field} f=${name} value=${values[name.id]} error=${errors[name.id]} onInput=${onInput} disabled=${disabled} />` : null}
    <${Group} title="Settings" group="config" fields=${fields} values=${values} errors=${errors} onInput=${onInput} disabled=${disabled} />
    <${Group} title="Credentials" group="auth" fields=${fields} values=${values} errors=${errors} onInput=${onInput} disabled=${disabled} note=${authNote} />
  `;
}
