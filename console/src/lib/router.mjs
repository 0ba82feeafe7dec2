// Hash routing: `#/connectors/cn_…?x=1` → {parts: ["connectors", "cn_…"], params}.
import { useEffect, useState } from "preact/hooks";

export function parse(hash) {
  const raw = (hash || "").replace(/^#/, "");
  const [path, q = ""] = raw.split("?");
  const parts = path.split("/").filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { parts, params: Object.fromEntries(new URLSearchParams(q)) };
}

/** `#/a/b?x=1` from segments and params (empty params left out). */
export function href(parts, params = {}) {
  const path = "#/" + parts.map((p) => encodeURIComponent(String(p))).join("/");
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "" && v !== false) q.append(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export function go(parts, params, { replace = false } = {}) {
  const to = href(parts, params);
  if (replace) {
    history.replaceState(null, "", to);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else location.hash = to;
}

export function useRoute() {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const on = () => setRoute(parse(location.hash));
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}
