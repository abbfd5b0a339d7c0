// chart.js - a deployment's percentage over time as an inline SVG drawn
// here (no library, no CDN): step lines, because a percentage holds until
// the next step. Series: [{ name, cls, points: [[ms, pct], ...] }].
const NS = 'http://www.w3.org/2000/svg';
const W = 640, H = 220, L = 44, R = 12, T = 12, B = 30;

function el(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function span(ms) {
  const s = Math.round(ms / 1000);
  return s < 120 ? s + ' s' : Math.round(s / 60) + ' min';
}

// t0, t1: the time axis (ms); answers the <svg>.
export function percentChart(series, t0, t1, label) {
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': label });
  svg.append(el('title', {}, label));
  const x = (t) => L + ((Math.min(Math.max(t, t0), t1) - t0) / Math.max(1, t1 - t0)) * (W - L - R);
  const y = (p) => T + (1 - p / 100) * (H - T - B);
  for (const p of [0, 25, 50, 75, 100]) {
    svg.append(el('line', { x1: L, x2: W - R, y1: y(p), y2: y(p), class: 'grid' }));
    svg.append(el('text', { x: L - 6, y: y(p) + 4, 'text-anchor': 'end', class: 'axis' }, p + '%'));
  }
  svg.append(el('text', { x: L, y: H - 8, class: 'axis' }, '0'));
  svg.append(el('text', { x: W - R, y: H - 8, 'text-anchor': 'end', class: 'axis' }, span(t1 - t0)));
  for (const s of series) {
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    if (!pts.length) continue;
    let d = `M${x(pts[0][0]).toFixed(1)},${y(pts[0][1]).toFixed(1)}`;
    for (let i = 1; i < pts.length; i++) d += ` H${x(pts[i][0]).toFixed(1)} V${y(pts[i][1]).toFixed(1)}`;
    if (s.until) d += ` H${x(s.until).toFixed(1)}`;
    svg.append(el('path', { d, class: 'line ' + (s.cls || '') }));
    const lastPt = pts[pts.length - 1];
    svg.append(el('circle', { cx: x(s.until || lastPt[0]), cy: y(lastPt[1]), r: 4, class: 'dot ' + (s.cls || '') }));
  }
  return svg;
}
