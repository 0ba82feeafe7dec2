// The one way the console and the connect page reach the API: the public
// routes only, a Bearer credential (an API key, or a connect-session token),
// and the API's error envelope turned into an ApiError whose message is the
// envelope's own.

export class ApiError extends Error {
  constructor(status, error, requestId) {
    super((error && error.message) || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.type = (error && error.type) || null;
    this.code = (error && error.code) || "http_error";
    this.param = (error && error.param) || null;
    this.requestId = (error && error.request_id) || requestId || null;
    this.error = error || null;
  }
}

/** `?a=1&b=2` from an object, leaving out empty values. */
export function query(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === "" || v === false) continue;
    u.append(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : "";
}

/** A random Idempotency-Key (works outside secure contexts too). */
export function idempotencyKey(prefix = "console") {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** Normalises a base URL typed by a person: scheme and host, no trailing slash. */
export function normaliseBase(text, fallback) {
  const raw = (text || "").trim() || fallback;
  const u = new URL(raw, fallback);
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error("The base URL must be http or https.");
  return `${u.origin}${u.pathname.replace(/\/+$/, "")}`;
}

export function client({ base, credential }) {
  const root = base.replace(/\/+$/, "");
  async function request(method, path, { params, body, idempotency } = {}) {
    const headers = { authorization: `Bearer ${credential}`, accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (idempotency) headers["idempotency-key"] = idempotency;
    let res;
    try {
      res = await fetch(root + path + query(params), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
      });
    } catch (e) {
      throw new ApiError(0, {
        type: "network_error",
        code: "network_error",
        message: `Could not reach ${root} (${e && e.message ? e.message : "network error"}).`,
      });
    }
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!res.ok) {
      const envelope = data && typeof data === "object" && data.error && typeof data.error === "object" ? data.error : null;
      throw new ApiError(
        res.status,
        envelope || { code: "http_error", message: `HTTP ${res.status} from ${method} ${path}.` },
        res.headers.get("request-id"),
      );
    }
    return data;
  }
  return {
    base: root,
    get: (path, params) => request("GET", path, { params }),
    post: (path, body, opts = {}) => request("POST", path, { body, ...opts }),
    patch: (path, body) => request("PATCH", path, { body }),
    del: (path) => request("DELETE", path),
  };
}

/** Every page of a list route, up to `max` items. */
export async function all(api, path, params = {}, max = 1000) {
  const out = [];
  let cursor;
  for (;;) {
    const page = await api.get(path, { ...params, limit: 100, cursor });
    out.push(...page.data);
    if (!page.has_more || !page.next_cursor || out.length >= max) return out;
    cursor = page.next_cursor;
  }
}

/** Segment-safe path: `/v1/connectors/${seg(id)}`. */
export const seg = (s) => encodeURIComponent(String(s));

/** An http(s) URL to navigate to, or null (never javascript: or data:). */
export function safeHttpUrl(u) {
  try {
    const x = new URL(u);
    return x.protocol === "https:" || x.protocol === "http:" ? x.href : null;
  } catch {
    return null;
  }
}
