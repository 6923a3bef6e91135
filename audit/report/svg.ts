import { pct } from './format';
import { html, type SafeHtml } from './safe-html';

/**
 * Small inline-SVG plots for the campaign report: no script, no external resource, hover text
 * through <title> elements. Values are drawn per x category (an iteration).
 */
export interface Series {
  name: string;
  color: string;
  /** one value per x label; null = no value (not drawn) */
  values: Array<number | null>;
}

export interface PlotSpec {
  title: string;
  xLabels: string[];
  series: Series[];
  /** y axis label, e.g. "programs" */
  yLabel?: string;
  /** fixed top of the y axis (e.g. 1 for rates); default: a round number above the data */
  yMax?: number;
  yFormat?: (v: number) => string;
  /** line plots: the label written above each point; default yFormat */
  valueFormat?: (v: number) => string;
  width?: number;
  height?: number;
}

const MARGIN = { left: 56, right: 16, top: 44, bottom: 40 };
const f = (n: number) => n.toFixed(1);

/** Round tick step (1, 2 or 5 times a power of ten) giving about five ticks up to max. */
export function niceTicks(max: number, target = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let t = 0; t < max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  if ((ticks[ticks.length - 1] ?? 0) < max) ticks.push(Number((ticks.length * step).toPrecision(12)));
  return ticks;
}

interface Frame {
  width: number;
  height: number;
  plotW: number;
  plotH: number;
  yTop: number;
  x: (i: number) => number;
  band: number;
  y: (v: number) => number;
}

/** dataMin < 0 (a line plot of e.g. an RL loss): the axis reaches down to a round number below it. */
function frame(spec: PlotSpec, dataMax: number, dataMin = 0): { frame: Frame; axes: SafeHtml } {
  const width = spec.width ?? 640;
  const height = spec.height ?? 280;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  // below 0: one round step for both sides of the axis
  const step = dataMin < 0 ? (niceTicks(Math.max(dataMax, -dataMin))[1] ?? 1) : 0;
  const span = (to: number) => Array.from({ length: Math.ceil(to / step - 1e-9) }, (_, i) => Number((step * (i + 1)).toPrecision(12)));
  const below = dataMin < 0 ? span(-dataMin).map((t) => -t).reverse() : [];
  const above = dataMin < 0 && spec.yMax === undefined ? [0, ...span(Math.max(dataMax, 0))] : undefined;
  const ticks = [...below, ...(above ?? (spec.yMax !== undefined ? niceTicks(spec.yMax).filter((t) => t <= spec.yMax! + 1e-9) : niceTicks(dataMax)))];
  const yTop = spec.yMax ?? ticks[ticks.length - 1] ?? 1;
  const yBottom = below[0] ?? 0;
  const n = Math.max(1, spec.xLabels.length);
  const band = plotW / n;
  const fr: Frame = {
    width,
    height,
    plotW,
    plotH,
    yTop,
    band,
    x: (i) => MARGIN.left + band * (i + 0.5),
    y: (v) => MARGIN.top + plotH - (plotH * (Math.max(yBottom, Math.min(v, yTop)) - yBottom)) / (yTop - yBottom || 1),
  };
  const fmt = spec.yFormat ?? ((v: number) => String(v));
  const grid = ticks.map(
    (t) => html`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${f(fr.y(t))}" y2="${f(fr.y(t))}" class="grid"/><text x="${MARGIN.left - 6}" y="${f(fr.y(t) + 4)}" text-anchor="end" class="tick">${fmt(t)}</text>`,
  );
  const xTicks = spec.xLabels.map((l, i) => html`<text x="${f(fr.x(i))}" y="${MARGIN.top + plotH + 16}" text-anchor="middle" class="tick">${l}</text>`);
  const yLabel = spec.yLabel
    ? html`<text transform="translate(14 ${f(MARGIN.top + plotH / 2)}) rotate(-90)" text-anchor="middle" class="tick">${spec.yLabel}</text>`
    : '';
  const axes = html`<text x="${MARGIN.left}" y="16" class="plot-title">${spec.title}</text>${legend(spec.series)}${grid}
<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" class="axis"/><line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}" class="axis"/>${xTicks}${yLabel}`;
  return { frame: fr, axes };
}

/** A label's box, as the 11px tick font lays it out (about 6.5px a character). */
interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

const CHAR_W = 6.5;
const TEXT_H = 12;
const overlaps = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** The legend's boxes (its row is taken before any data label is placed). */
function legendBoxes(series: readonly Series[]): Box[] {
  let x = MARGIN.left;
  return series.map((s) => {
    const box = { x, y: 24, w: 14 + CHAR_W * s.name.length, h: TEXT_H };
    x += 24 + CHAR_W * s.name.length;
    return box;
  });
}

function legend(series: readonly Series[]): SafeHtml {
  const boxes = legendBoxes(series);
  return html`${series.map((s, i) => html`<rect x="${boxes[i]!.x}" y="24" width="10" height="10" fill="${s.color}"/><text x="${boxes[i]!.x + 14}" y="33" class="tick">${s.name}</text>`)}`;
}

/**
 * Places a data label next to its point: above it, else below, else not at all (the point's
 * tooltip still gives the value), so no two labels and no label and legend entry overlap.
 */
function placeLabel(taken: Box[], px: number, py: number, text: string): { x: number; y: number } | null {
  for (const baseline of [py - 6, py + 15]) {
    const box = { x: px + 7, y: baseline - TEXT_H + 2, w: CHAR_W * text.length, h: TEXT_H };
    if (!taken.some((t) => overlaps(t, box))) {
      taken.push(box);
      return { x: box.x, y: baseline };
    }
  }
  return null;
}

function svg(spec: PlotSpec, fr: Frame, body: SafeHtml): SafeHtml {
  return html`<svg class="plot" viewBox="0 0 ${fr.width} ${fr.height}" width="${fr.width}" height="${fr.height}" role="img" aria-label="${spec.title}"><title>${spec.title}</title>${body}</svg>`;
}

function noData(spec: PlotSpec): SafeHtml {
  const w = spec.width ?? 640;
  return html`<svg class="plot" viewBox="0 0 ${w} 60" width="${w}" height="60" role="img" aria-label="${spec.title}"><title>${spec.title}</title><text x="${MARGIN.left}" y="16" class="plot-title">${spec.title}</text><text x="${MARGIN.left}" y="44" class="tick">no data yet</text></svg>`;
}

const finite = (v: number | null | undefined): v is number => v !== null && Number.isFinite(v);

/** One line per series, points at each x; gaps where a value is null. */
export function linePlot(spec: PlotSpec): SafeHtml {
  if (spec.xLabels.length === 0 || !spec.series.some((s) => s.values.some(finite))) return noData(spec);
  const values = spec.series.flatMap((s) => s.values.filter(finite));
  const { frame: fr, axes } = frame(spec, Math.max(...values), Math.min(0, ...values));
  const fmt = spec.valueFormat ?? spec.yFormat ?? ((v: number) => String(v));
  const taken = legendBoxes(spec.series);
  const lines = spec.series.map((s) => {
    const segments: string[][] = [[]];
    s.values.forEach((v, i) => {
      if (finite(v)) segments[segments.length - 1]!.push(`${f(fr.x(i))},${f(fr.y(v))}`);
      else segments.push([]);
    });
    const paths = segments.filter((seg) => seg.length > 1).map((seg) => html`<polyline points="${seg.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    const points = s.values.map((v, i) => {
      if (!finite(v)) return '';
      const at = placeLabel(taken, fr.x(i), fr.y(v), fmt(v));
      const label = at ? html`<text x="${f(at.x)}" y="${f(at.y)}" class="tick">${fmt(v)}</text>` : '';
      return html`<circle cx="${f(fr.x(i))}" cy="${f(fr.y(v))}" r="4" fill="${s.color}"><title>${spec.xLabels[i]}: ${s.name} ${fmt(v)}</title></circle>${label}`;
    });
    return html`${paths}${points}`;
  });
  return svg(spec, fr, html`${axes}${lines}`);
}

/** One bar per x, the series stacked bottom-up in the given order. */
export function stackedBarPlot(spec: PlotSpec): SafeHtml {
  const totals = spec.xLabels.map((_, i) => spec.series.reduce((a, s) => a + (s.values[i] ?? 0), 0));
  if (spec.xLabels.length === 0 || !totals.some((t) => t > 0)) return noData(spec);
  const { frame: fr, axes } = frame(spec, Math.max(...totals));
  const barW = Math.min(60, fr.band * 0.6);
  const bars = spec.xLabels.map((label, i) => {
    let base = 0;
    return spec.series.map((s) => {
      const v = s.values[i] ?? 0;
      if (v <= 0) return '';
      const y0 = fr.y(base);
      base += v;
      const y1 = fr.y(base);
      return html`<rect x="${f(fr.x(i) - barW / 2)}" y="${f(y1)}" width="${f(barW)}" height="${f(Math.max(0, y0 - y1))}" fill="${s.color}"><title>${label}: ${s.name} ${v} of ${totals[i]}</title></rect>`;
    });
  });
  return svg(spec, fr, html`${axes}${bars}`);
}

/** Bars side by side per x, one per series. */
export function groupedBarPlot(spec: PlotSpec): SafeHtml {
  const all = spec.series.flatMap((s) => s.values.filter(finite));
  if (spec.xLabels.length === 0 || !all.some((v) => v > 0)) return noData(spec);
  const { frame: fr, axes } = frame(spec, Math.max(...all));
  const groupW = Math.min(fr.band * 0.8, 30 * spec.series.length);
  const barW = groupW / spec.series.length;
  const bars = spec.xLabels.map((label, i) =>
    spec.series.map((s, j) => {
      const v = s.values[i];
      if (!finite(v)) return '';
      const x = fr.x(i) - groupW / 2 + j * barW;
      return html`<rect x="${f(x + 1)}" y="${f(fr.y(v))}" width="${f(Math.max(1, barW - 2))}" height="${f(fr.y(0) - fr.y(v))}" fill="${s.color}"><title>${label}: ${s.name} ${v}</title></rect>`;
    }),
  );
  return svg(spec, fr, html`${axes}${bars}`);
}

/** Colours of the outcome classes, shared by the report's plots and legend. */
export const OUTCOME_COLORS: Record<string, string> = {
  passed: '#2e7d32',
  failed: '#c62828',
  runtime_error: '#ef6c00',
  compile_error: '#6a1b9a',
  timeout: '#f9a825',
  memory_limit: '#5d4037',
  output_limit: '#00838f',
  infra_error: '#9e9e9e',
};

/** A line plot of rates in [0, 1], labelled in percent (pass@k, executability, ...). */
export function rateLinePlot(spec: Omit<PlotSpec, 'yMax' | 'yFormat' | 'valueFormat'>): SafeHtml {
  return linePlot({ ...spec, yMax: 1, yFormat: (v) => `${Math.round(100 * v)}%`, valueFormat: pct });
}
