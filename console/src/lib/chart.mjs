// A small latency chart as inline SVG (no chart library): one polyline per
// series over time, a y axis in milliseconds, and the same numbers as a
// table for people who cannot see the picture.
import { html } from "./h.mjs";

const W = 600;
const H = 180;
const PAD = { l: 48, r: 12, t: 12, b: 28 };

function niceMax(v) {
  if (v <= 0) return 10;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : 0;
}

export function LatencyChart({ series, title }) {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return html`<p class="muted">No latency measured yet.</p>`;
  const t0 = Math.min(...all.map((p) => p.t));
  const t1 = Math.max(...all.map((p) => p.t));
  const span = Math.max(t1 - t0, 1);
  const ymax = niceMax(Math.max(...all.map((p) => p.ms)));
  const x = (t) => PAD.l + ((t - t0) / span) * (W - PAD.l - PAD.r);
  const y = (ms) => H - PAD.b - (ms / ymax) * (H - PAD.t - PAD.b);
  const ticks = [0, ymax / 2, ymax];
  const ms = all.map((p) => p.ms);
  const summary = `${title}: ${all.length} measurements, median ${median(ms)} ms, min ${Math.min(...ms)} ms, max ${Math.max(...ms)} ms.`;
  return html`<figure class="chart">
    <svg viewBox=${`0 0 ${W} ${H}`} role="img" aria-label=${summary}>
      ${ticks.map((v) => html`<g class="tick">
        <line x1=${PAD.l} x2=${W - PAD.r} y1=${y(v)} y2=${y(v)} />
        <text x=${PAD.l - 6} y=${y(v) + 4} text-anchor="end">${Math.round(v)}</text>
      </g>`)}
      <text class="axis" x=${PAD.l} y=${H - 8}>${new Date(t0).toLocaleTimeString()}</text>
      <text class="axis" x=${W - PAD.r} y=${H - 8} text-anchor="end">${new Date(t1).toLocaleTimeString()}</text>
      ${series.map((s) => {
        const pts = [...s.points].sort((a, b) => a.t - b.t);
        return html`<g class=${`series ${s.className}`}>
          ${pts.length > 1 ? html`<polyline points=${pts.map((p) => `${x(p.t).toFixed(1)},${y(p.ms).toFixed(1)}`).join(" ")} />` : null}
          ${pts.map((p) => html`<circle class=${p.bad ? "bad" : undefined} cx=${x(p.t)} cy=${y(p.ms)} r="3.5"><title>${`${s.label}: ${p.ms} ms at ${new Date(p.t).toLocaleString()}${p.bad ? " (failed)" : ""}`}</title></circle>`)}
        </g>`;
      })}
    </svg>
    <figcaption>
      ${series.map((s) => html`<span class=${`legend ${s.className}`}><span class="swatch" aria-hidden="true"></span>${s.label} (${s.points.length})</span>`)}
      <span class="muted"> · ms, newest right</span>
    </figcaption>
    <details>
      <summary>Show the numbers</summary>
      <table>
        <thead><tr><th scope="col">When</th><th scope="col">Source</th><th scope="col">Latency</th><th scope="col">Result</th></tr></thead>
        <tbody>
          ${series
            .flatMap((s) => s.points.map((p) => ({ ...p, label: s.label })))
            .sort((a, b) => b.t - a.t)
            .map((p) => html`<tr><td>${new Date(p.t).toLocaleString()}</td><td>${p.label}</td><td>${p.ms} ms</td><td>${p.bad ? "failed" : "ok"}</td></tr>`)}
        </tbody>
      </table>
    </details>
  </figure>`;
}
