// Theme labels off the dots and off each other: the rules of paperlike/viz/placement.py, run in
// the browser with the labels' measured boxes and the plot's real size (see that module).
// Shared by the page `paperlike map` writes (inlined) and the web app's map (/static/labels.js).
// Annotation i labels trace i. Returns the relayout update (empty when every label is in place),
// or null when the plot is not drawn yet.
function paperlikeLabelUpdate(plot) {
  "use strict";
  const DOT = 6, GAP = 2, PAD = 4, LEADER = 24, REACH = 160, REFS = 24;
  const layout = plot.layout || {}, ann = layout.annotations || [], data = plot.data || [];
  const area = plot.querySelector(".nsewdrag");
  if (!area || !ann.length || !layout.xaxis || !layout.yaxis) return null;
  const bound = area.getBoundingClientRect(), W = bound.width, H = bound.height;
  if (W < 1 || H < 1) return null;
  const xr = layout.xaxis.range, yr = layout.yaxis.range;
  // The same arithmetic, in the same order, as placement.py: both pick the same places.
  const kx = W / (xr[1] - xr[0]), ky = H / (yr[1] - yr[0]);
  const px = (x, y) => [(x - xr[0]) * kx, (yr[1] - y) * ky];
  const boxes = {};
  plot.querySelectorAll(".annotation").forEach((g) => {
    const r = (g.querySelector(".annotation-text-g") || g).getBoundingClientRect();
    boxes[g.getAttribute("data-index")] = [r.width, r.height];
  });
  const shown = data.map((t, i) => (t.visible === undefined || t.visible === true) && !!ann[i] && ann[i].visible !== false);
  // Dots of the shown themes, counted by a summed-area table on a 1-px grid.
  const cols = Math.ceil(W) + 1, rows = Math.ceil(H) + 1, stride = cols + 1;
  const table = new Int32Array((rows + 1) * stride);
  const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
  const pixels = data.map((t, i) => {
    const out = [];
    if (!shown[i]) return out;
    for (let k = 0; k < t.x.length; k++) {
      const p = px(Number(t.x[k]), Number(t.y[k]));
      if (!isFinite(p[0]) || !isFinite(p[1])) continue;
      out.push([p, [Number(t.x[k]), Number(t.y[k])]]);
      table[(clamp(Math.floor(p[1]), 0, rows - 1) + 1) * stride + clamp(Math.floor(p[0]), 0, cols - 1) + 1] += 1;
    }
    return out;
  });
  for (let r = 1; r <= rows; r++) {
    for (let c = 1; c <= cols; c++) {
      table[r * stride + c] += table[(r - 1) * stride + c] + table[r * stride + c - 1] - table[(r - 1) * stride + c - 1];
    }
  }
  const covered = (x0, y0, x1, y1) => {
    const a = clamp(Math.floor(x0 - DOT), 0, cols), c = clamp(Math.floor(y0 - DOT), 0, rows);
    const b = Math.max(a, clamp(Math.floor(x1 + DOT) + 1, 0, cols)), d = Math.max(c, clamp(Math.floor(y1 + DOT) + 1, 0, rows));
    return table[d * stride + b] - table[c * stride + b] - table[d * stride + a] + table[c * stride + a];
  };
  const order = data.map((t, i) => i).filter((i) => shown[i] && boxes[String(i)] && pixels[i].length);
  order.sort((a, b) => pixels[b].length - pixels[a].length || a - b);
  const placed = [], update = {};
  for (const i of order) {
    const [w, h] = boxes[String(i)];
    const mine = pixels[i];
    let sx0 = 0, sy0 = 0;
    mine.forEach((m) => { sx0 += m[1][0]; sy0 += m[1][1]; });
    const centreXY = [sx0 / mine.length, sy0 / mine.length];
    const near = mine.map((m, k) => {
      const ex = m[1][0] - centreXY[0], ey = m[1][1] - centreXY[1];
      return [ex * ex + ey * ey, k];
    });
    near.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const refsXY = [centreXY, ...near.slice(0, REFS).map((n) => mine[n[1]][1])];
    const refs = refsXY.map((p) => px(p[0], p[1]));
    // Candidates: on the centre; beside the centre and each near dot; a grid over the plot.
    const ox = DOT + GAP + w / 2, oy = DOT + GAP + h / 2;
    const sides = [[0, 0], [ox, 0], [-ox, 0], [0, -oy], [0, oy], [ox, -oy], [-ox, -oy], [ox, oy], [-ox, oy]];
    const cand = [];
    refs.forEach((r, k) => sides.forEach((s, j) => { if (k === 0 || j > 0) cand.push([r[0] + s[0], r[1] + s[1], k]); }));
    const sx = Math.max(h, w / 6), sy = h / 2, nx = Math.floor(W / sx) + 1, ny = Math.floor(H / sy) + 1;
    for (let gy = -ny; gy <= ny; gy++) {
      for (let gx = -nx; gx <= nx; gx++) {
        const cx = refs[0][0] + sx * gx, cy = refs[0][1] + sy * gy;
        if (cx - w / 2 >= PAD && cx + w / 2 <= W - PAD && cy - h / 2 >= PAD && cy + h / 2 <= H - PAD) cand.push([cx, cy, 0]);
      }
    }
    const scored = cand.map((c) => {
      const cx = Math.max(Math.min(c[0], W - PAD - w / 2), PAD + w / 2), cy = Math.max(Math.min(c[1], H - PAD - h / 2), PAD + h / 2);
      const x0 = cx - w / 2, y0 = cy - h / 2, x1 = cx + w / 2, y1 = cy + h / 2;
      const hit = placed.some((p) => x0 < p[2] + 1 && p[0] < x1 + 1 && y0 < p[3] + 1 && p[1] < y1 + 1) ? 1 : 0;
      let dist = Infinity;
      for (const r of refs) {
        const gx = Math.max(Math.abs(cx - r[0]) - w / 2, 0), gy = Math.max(Math.abs(cy - r[1]) - h / 2, 0);
        dist = Math.min(dist, Math.sqrt(gx * gx + gy * gy));
      }
      // Rounded to 1e-6 px, so a tie is a tie here and in Python, whatever the last bit says.
      return { key: [0, hit, covered(x0, y0, x1, y1), Math.round(dist * 1e6) / 1e6], cx, cy, k: c[2] };
    });
    // Out of reach of its theme only where every place within reach hits a label.
    const reachable = scored.some((s) => !s.key[1] && s.key[3] <= REACH);
    let best = null;
    for (const s of scored) {
      s.key[0] = reachable && s.key[3] > REACH ? 1 : 0;
      const a = s.key, b = best && best.key;
      if (!b || a[0] < b[0] || (a[0] === b[0] && (a[1] < b[1] || (a[1] === b[1] && (a[2] < b[2] || (a[2] === b[2] && a[3] < b[3])))))) best = s;
    }
    placed.push([best.cx - w / 2, best.cy - h / 2, best.cx + w / 2, best.cy + h / 2]);
    let k = best.k;
    const leader = best.key[3] > LEADER && refs.length > 1;
    if (leader) {  // the line goes to the nearest dot of the theme, not to an empty centre
      k = 1;
      for (let j = 2; j < refs.length; j++) {
        if (Math.hypot(refs[j][0] - best.cx, refs[j][1] - best.cy) < Math.hypot(refs[k][0] - best.cx, refs[k][1] - best.cy)) k = j;
      }
    }
    const dx = best.cx - refs[k][0], dy = best.cy - refs[k][1];
    // Measured boxes are exact, so every label is tied by its centre here.
    const want = leader
      ? { x: refsXY[k][0], y: refsXY[k][1], showarrow: true, ax: dx, ay: dy, xshift: 0, yshift: 0, xanchor: "center" }
      : { x: refsXY[k][0], y: refsXY[k][1], showarrow: false, ax: 0, ay: 0, xshift: dx, yshift: -dy, xanchor: "center" };
    const now = ann[i], tol = { x: 1e-9, y: 1e-9, ax: 0.5, ay: 0.5, xshift: 0.5, yshift: 0.5 };
    const moved = Object.keys(want).some((key) => key === "showarrow" || key === "xanchor"
      ? (key === "showarrow" ? !!now.showarrow : now.xanchor) !== want[key]
      : Math.abs((Number(now[key]) || 0) - want[key]) > tol[key]);
    if (moved) Object.keys(want).forEach((key) => { update["annotations[" + i + "]." + key] = want[key]; });
  }
  return update;
}
