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
