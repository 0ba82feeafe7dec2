// The install form (console and connect page): the generated fields, a
// Verify button (POST /v1/catalog/{listing}/verify → ok/message) and Install
// (POST /v1/connectors with an Idempotency-Key per attempt). The server's
// refusals are shown at the field `error.param` names; OAuth listings go on
// to the provider's consent screen (`authorize_url`).
import { html } from "./h.mjs";
import { useMemo, useRef, useState } from "preact/hooks";
import { fieldsFor, firstInvalid, initialValues, SchemaFields, serverErrors, toBody, validate } from "./form.mjs";
import { idempotencyKey, safeHttpUrl, seg } from "./api.mjs";
import { price } from "./format.mjs";

export function InstallForm({ api, manifest, prefix = "f", withName = true, nameLabel, nameHelp, returnUrl = null, onInstalled, navigate = (u) => window.location.assign(u) }) {
  const fields = useMemo(() => fieldsFor(manifest, { prefix, withName, nameLabel, nameHelp }), [manifest, prefix, withName]);
  const [values, setValues] = useState(() => initialValues(fields));
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(null);
  const [verdict, setVerdict] = useState(null);
  // The Idempotency-Key of the current attempt: a new one for every new
  // body; the same one only to resend a body whose answer never came (a
  // network failure or a 5xx, which the server does not keep).
  const attempt = useRef(null);
  const formRef = useRef(null);
  const mode = manifest.auth && manifest.auth.mode;
  const oauth = mode === "oauth2" || mode === "mcp_oauth";
  const early = manifest.availability === "early_access";
  const canVerify = !oauth && !!manifest.verify;

  function onInput(id, v) {
    setValues((x) => ({ ...x, [id]: v }));
    const f = fields.find((x) => x.id === id);
    if (errors[id] || errors.form || (f && errors[`group:${f.group}`])) {
      setErrors((e) => {
        const next = { ...e };
        delete next[id];
        delete next.form;
        if (f) delete next[`group:${f.group}`];
        return next;
      });
    }
  }

  function show(errs) {
    setErrors(errs);
    const id = firstInvalid(fields, errs);
    requestAnimationFrame(() => {
      const el = id ? document.getElementById(id) : formRef.current && formRef.current.querySelector(".form-error");
      if (el) el.focus();
    });
  }

  async function verify() {
    if (busy) return;
    setVerdict(null);
    const errs = validate(fields, values, { groups: ["config", "auth"] });
    if (Object.keys(errs).length) return show(errs);
    setErrors({});
    setBusy("verify");
    const { auth, config } = toBody(manifest, fields, values);
    try {
      setVerdict(await api.post(`/v1/catalog/${seg(manifest.id)}/verify`, { auth, config }));
    } catch (e) {
      show(serverErrors(fields, e));
    } finally {
      setBusy(null);
    }
  }

  async function install(ev) {
    ev.preventDefault();
    if (busy) return;
    setVerdict(null);
    const errs = validate(fields, values);
    if (Object.keys(errs).length) return show(errs);
    setErrors({});
    const body = { listing: manifest.id, ...toBody(manifest, fields, values) };
    if (oauth && returnUrl) body.return_url = returnUrl;
    const text = JSON.stringify(body);
    if (!attempt.current || attempt.current.body !== text || !attempt.current.resend) {
      attempt.current = { key: idempotencyKey("install"), body: text, resend: false };
    }
    setBusy("install");
    try {
      const c = await api.post("/v1/connectors", body, { idempotency: attempt.current.key });
      attempt.current = null;
      if (c.next_step === "oauth") {
        const to = safeHttpUrl(c.authorize_url);
        if (!to) return show({ form: "The server answered no consent URL to continue with." });
        navigate(to);
        return;
      }
      onInstalled(c);
    } catch (e) {
      attempt.current.resend = e.status === 0 || e.status >= 500 || e.code === "idempotency_in_progress";
      show(serverErrors(fields, e));
    } finally {
      setBusy(null);
    }
  }

  const paid = manifest.pricing && manifest.pricing.model === "paid";
  return html`<form ref=${formRef} class="install-form" novalidate onSubmit=${install} aria-busy=${busy ? "true" : "false"}>
    ${early
      ? html`<p class="notice warn">${manifest.name} is in early access: it cannot be installed yet.</p>`
      : null}
    ${paid ? html`<p class="notice">Priced listing: ${price(manifest.pricing)}.</p>` : null}
    ${errors.form ? html`<p class="form-error" role="alert" tabindex="-1">${errors.form}</p>` : null}
    <${SchemaFields} manifest=${manifest} fields=${fields} values=${values} errors=${errors} onInput=${onInput} />
    <div class="actions">
      ${canVerify
        ? html`<button type="button" class="secondary" onClick=${verify} aria-disabled=${busy ? "true" : undefined}>
            ${busy === "verify" ? "Verifying…" : "Verify credentials"}</button>`
        : null}
      <button type="submit" aria-disabled=${busy || early ? "true" : undefined} disabled=${early}>
        ${busy === "install" ? "Installing…" : oauth ? "Install and connect" : "Install"}</button>
    </div>
    <p class=${`verdict${verdict ? (verdict.ok ? " ok" : " bad") : ""}`} role="status" aria-live="polite">
      ${verdict ? html`<span aria-hidden="true">${verdict.ok ? "✓ " : "✗ "}</span>${verdict.ok ? "Accepted: " : "Rejected: "}${verdict.message}` : null}
    </p>
  </form>`;
}
