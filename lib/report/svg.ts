// Small, dependency-free SVG charts for self-contained HTML reports: a line
// chart (series over time, shaded bands, event markers) and a grouped bar chart.
// Every drawn series carries data-* attributes so tests can check what rendered.

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** "Nice" axis ticks (1, 2, 5 × 10^n steps) covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0];
  if (max <= min) max = min + 1;
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.floor(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toFixed(10)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toFixed(10)));
  return ticks;
}

export function formatNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  if (a >= 100 || Number.isInteger(v)) return String(Math.round(v));
  return String(+v.toFixed(a >= 10 ? 1 : 2));
}

export interface LineSeries {
  name: string;
  points: readonly (readonly [number, number])[];
  color?: string;
  dashed?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
  /** Shaded x ranges, e.g. warm-up or drain. */
  bands?: readonly { from: number; to: number; label: string }[];
  /** Vertical event lines, e.g. "ernst restarted". */
  markers?: readonly { x: number; label: string }[];
  width?: number;
  height?: number;
  /** Start the y axis at 0 (default true). */
  zeroBased?: boolean;
  /** Draw points as steps (counts per interval) rather than straight segments. */
  step?: boolean;
}

// Title on the first line, legend on the second, plot below.
const M = { top: 46, right: 16, bottom: 44, left: 58 };

function frame(width: number, height: number, title: string, body: string, legend: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="${escapeXml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="system-ui, sans-serif" font-size="11">` +
    `<title>${escapeXml(title)}</title>` +
    `<text x="${M.left}" y="18" font-size="13" font-weight="600">${escapeXml(title)}</text>` +
    body +
    legend +
    `</svg>`
  );
}

function legendOf(names: readonly { name: string; color: string; dashed?: boolean }[], width: number): string {
  let x = width - M.right;
  const items: string[] = [];
  for (const n of [...names].reverse()) {
    const w = 22 + n.name.length * 6.2;
    x -= w;
    items.push(
      `<g class="legend-item"><line x1="${x}" y1="30" x2="${x + 16}" y2="30" stroke="${n.color}" stroke-width="3"${n.dashed ? ' stroke-dasharray="4 3"' : ''}/>` +
        `<text x="${x + 20}" y="34">${escapeXml(n.name)}</text></g>`,
    );
    x -= 8;
  }
  return `<g class="legend">${items.join('')}</g>`;
}

function axes(xs: number[], ys: number[], sx: (v: number) => number, sy: (v: number) => number, w: number, h: number, xLabel: string, yLabel: string): string {
  const parts: string[] = [];
  for (const y of ys) {
    parts.push(`<line x1="${M.left}" y1="${sy(y)}" x2="${w - M.right}" y2="${sy(y)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${M.left - 6}" y="${sy(y) + 4}" text-anchor="end" fill="#555">${formatNumber(y)}</text>`);
  }
  for (const x of xs) parts.push(`<text x="${sx(x)}" y="${h - M.bottom + 16}" text-anchor="middle" fill="#555">${formatNumber(x)}</text>`);
  parts.push(`<line x1="${M.left}" y1="${h - M.bottom}" x2="${w - M.right}" y2="${h - M.bottom}" stroke="#333"/>`);
  parts.push(`<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${h - M.bottom}" stroke="#333"/>`);
  parts.push(`<text x="${(M.left + w - M.right) / 2}" y="${h - 8}" text-anchor="middle" fill="#333">${escapeXml(xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${(M.top + h - M.bottom) / 2}) rotate(-90)" text-anchor="middle" fill="#333">${escapeXml(yLabel)}</text>`);
  return `<g class="axes">${parts.join('')}</g>`;
}

export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 720;
  const height = o.height ?? 280;
  const all = o.series.flatMap((s) => s.points);
  const stepEnds = o.step ? o.series.filter((s) => s.points.length > 1).map((s) => 2 * s.points.at(-1)![0] - s.points.at(-2)![0]) : [];
  const xsAll = [...all.map((p) => p[0]), ...stepEnds, ...(o.bands ?? []).flatMap((b) => [b.from, b.to]), ...(o.markers ?? []).map((m) => m.x)];
  const ysAll = all.map((p) => p[1]);
  const xMin = xsAll.length ? Math.min(...xsAll) : 0;
  const xMax = xsAll.length ? Math.max(...xsAll) : 1;
  const yMin = o.zeroBased === false && ysAll.length ? Math.min(...ysAll) : 0;
  const yMax = ysAll.length ? Math.max(...ysAll, yMin + 1e-9) : 1;
  const xt = niceTicks(xMin, xMax, 8);
  const yt = niceTicks(yMin, yMax, 5);
  const x0 = xt[0]!;
  const x1 = xt[xt.length - 1]!;
  const y0 = yt[0]!;
  const y1 = yt[yt.length - 1]!;
  const sx = (v: number) => +(M.left + ((v - x0) / (x1 - x0 || 1)) * (width - M.left - M.right)).toFixed(1);
  const sy = (v: number) => +(height - M.bottom - ((v - y0) / (y1 - y0 || 1)) * (height - M.top - M.bottom)).toFixed(1);
  const bands = (o.bands ?? [])
    .map(
      (b) =>
        `<g class="band"><rect x="${sx(b.from)}" y="${M.top}" width="${Math.max(0, sx(b.to) - sx(b.from))}" height="${height - M.top - M.bottom}" fill="#000" fill-opacity="0.06"/>` +
        `<text x="${sx(b.from) + 3}" y="${M.top + 12}" fill="#666">${escapeXml(b.label)}</text></g>`,
    )
    .join('');
  const markers = (o.markers ?? [])
    .map(
      (m) =>
        `<g class="marker"><line x1="${sx(m.x)}" y1="${M.top}" x2="${sx(m.x)}" y2="${height - M.bottom}" stroke="#444" stroke-dasharray="2 3"/>` +
        `<text x="${sx(m.x) + 3}" y="${M.top + 24}" fill="#444">${escapeXml(m.label)}</text></g>`,
    )
    .join('');
  const named = o.series.map((s, i) => ({ ...s, color: s.color ?? PALETTE[i % PALETTE.length]! }));
  const paths = named
    .map((s) => {
      // A step series' last value spans one more step, like the ones before it.
      const last = s.points.length > 1 && o.step ? [[2 * s.points.at(-1)![0] - s.points.at(-2)![0], s.points.at(-1)![1]] as const] : [];
      const pts = [...s.points, ...last].map(([x, y]) => [sx(x), sy(y)] as const);
      let d = '';
      pts.forEach(([x, y], i) => {
        if (i === 0) d += `M${x},${y}`;
        else if (o.step) d += `H${x}V${y}`;
        else d += `L${x},${y}`;
      });
      const dots = pts.length === 1 ? `<circle cx="${pts[0]![0]}" cy="${pts[0]![1]}" r="3" fill="${s.color}"/>` : '';
      return (
        `<g class="series" data-series="${escapeXml(s.name)}" data-points="${s.points.length}">` +
        (d ? `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>` : '') +
        dots +
        `</g>`
      );
    })
    .join('');
  const empty = all.length === 0 ? `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#999">no data</text>` : '';
  return frame(width, height, o.title, bands + axes(xt, yt, sx, sy, width, height, o.xLabel, o.yLabel) + markers + paths + empty, legendOf(named, width));
}

export interface BarGroup {
  label: string;
  values: readonly { name: string; value: number }[];
}

export interface BarChartOptions {
  title: string;
  yLabel: string;
  groups: readonly BarGroup[];
  width?: number;
  height?: number;
  /** Fixed colour per bar name; otherwise the palette in order of first appearance. */
  colors?: Record<string, string>;
}

/** Grouped vertical bars, one group per label, one bar per name, value printed on top. */
export function barChart(o: BarChartOptions): string {
  const width = o.width ?? 720;
  const height = o.height ?? 280;
  const names = [...new Set(o.groups.flatMap((g) => g.values.map((v) => v.name)))];
  const color = (n: string) => o.colors?.[n] ?? PALETTE[names.indexOf(n) % PALETTE.length]!;
  const max = Math.max(0, ...o.groups.flatMap((g) => g.values.map((v) => v.value)));
  const yt = niceTicks(0, max || 1, 5);
  const y1 = yt[yt.length - 1]!;
  const sy = (v: number) => +(height - M.bottom - (v / y1) * (height - M.top - M.bottom)).toFixed(1);
  const plotW = width - M.left - M.right;
  const groupW = plotW / Math.max(1, o.groups.length);
  const barW = Math.min(48, (groupW * 0.8) / Math.max(1, names.length));
  const parts: string[] = [];
  for (const y of yt) {
    parts.push(`<line x1="${M.left}" y1="${sy(y)}" x2="${width - M.right}" y2="${sy(y)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${M.left - 6}" y="${sy(y) + 4}" text-anchor="end" fill="#555">${formatNumber(y)}</text>`);
  }
  o.groups.forEach((g, gi) => {
    const gx = M.left + gi * groupW + (groupW - barW * g.values.length) / 2;
    g.values.forEach((v, vi) => {
      const x = +(gx + vi * barW).toFixed(1);
      const y = sy(v.value);
      parts.push(
        `<g class="bar" data-group="${escapeXml(g.label)}" data-series="${escapeXml(v.name)}" data-value="${v.value}">` +
          `<rect x="${x}" y="${y}" width="${+(barW - 2).toFixed(1)}" height="${Math.max(0, +(height - M.bottom - y).toFixed(1))}" fill="${color(v.name)}"/>` +
          `<text x="${x + (barW - 2) / 2}" y="${y - 3}" text-anchor="middle" fill="#333">${formatNumber(v.value)}</text></g>`,
      );
    });
    parts.push(`<text x="${M.left + gi * groupW + groupW / 2}" y="${height - M.bottom + 16}" text-anchor="middle" fill="#333">${escapeXml(g.label)}</text>`);
  });
  parts.push(`<line x1="${M.left}" y1="${height - M.bottom}" x2="${width - M.right}" y2="${height - M.bottom}" stroke="#333"/>`);
  parts.push(`<text transform="translate(14 ${(M.top + height - M.bottom) / 2}) rotate(-90)" text-anchor="middle" fill="#333">${escapeXml(o.yLabel)}</text>`);
  return frame(width, height, o.title, `<g class="bars">${parts.join('')}</g>`, legendOf(names.map((n) => ({ name: n, color: color(n) })), width));
}
