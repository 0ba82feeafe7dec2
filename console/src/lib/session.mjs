// The signed-in key lives in this tab's sessionStorage only: never
// localStorage, a cookie or the URL. Signing out clears it (and everything
// else the console kept for the tab).
const KEY = "cm.console.session";

export function load() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (s && typeof s.key === "string" && typeof s.base === "string") return s;
  } catch {
    /* nothing usable */
  }
  return null;
}

export function save(s) {
  sessionStorage.setItem(KEY, JSON.stringify(s));
}

export function clear() {
  sessionStorage.clear();
}

/** Health checks this tab ran, per connector (the API keeps only the latest). */
export function healthHistory(id) {
  try {
    const v = JSON.parse(sessionStorage.getItem(`cm.console.health.${id}`) || "[]");
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

export function recordHealth(id, h) {
  if (typeof h.latency_ms !== "number" || !h.last_check) return healthHistory(id);
  const list = healthHistory(id).filter((p) => p.t !== Date.parse(h.last_check));
  list.push({ t: Date.parse(h.last_check), ms: h.latency_ms });
  const kept = list.slice(-100);
  sessionStorage.setItem(`cm.console.health.${id}`, JSON.stringify(kept));
  return kept;
}
