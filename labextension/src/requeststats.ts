/**
 * Pure helpers of the request sparklines (no DOM, no React): sparkline geometry
 * with gaps, and the wording of rates, latencies and per-bucket tooltips.
 */
import type { RequestBucket, RequestStats } from './client';

/** A plotted point of a sparkline (SVG user units; y grows downwards). */
export interface SparkPoint {
  /** The index of the value it plots. */
  index: number;
  x: number;
  y: number;
}

/** What a sparkline draws. */
export interface SparklineGeometry {
  /** The line: one `M…L…` subpath per run of consecutive values ('' when none). */
  line: string;
  /** The area under each run, down to the baseline ('' when none). */
  area: string;
  /** Values without a plotted neighbour (a lone `M` draws nothing: show a dot). */
  dots: SparkPoint[];
  /** The newest plotted value (to mark the live end), or null. */
  last: SparkPoint | null;
  /** Each value's slot (hover target): its left edge and width, inside the box. */
  slots: { x: number; width: number }[];
  /** The y domain the values were scaled to. */
  min: number;
  max: number;
}

export interface SparklineOptions {
  /** Inner margin in user units, so strokes and dots are not clipped (default 2). */
  padding?: number;
  /** Include zero in the y domain (default true: rates and latencies start at 0). */
  zero?: boolean;
}

/** A number a sparkline can plot (finite). */
export function isValue(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * Sparkline geometry of `values` in a `width` × `height` box: values are evenly
 * spaced left (oldest) to right (newest); null, undefined and non-finite values leave
 * a gap. A flat series sits on the baseline (all zero) or mid-height.
 */
export function sparklineGeometry(
  values: readonly (number | null | undefined)[],
  width: number,
  height: number,
  options: SparklineOptions = {}
): SparklineGeometry {
  const pad = options.padding ?? 2;
  const present = values.filter(isValue);
  let min = present.length ? Math.min(...present) : 0;
  let max = present.length ? Math.max(...present) : 0;
  if (options.zero ?? true) {
    min = Math.min(0, min);
    max = Math.max(0, max);
  }
  const n = values.length;
  const innerW = Math.max(0, width - 2 * pad);
  const innerH = Math.max(0, height - 2 * pad);
  const step = n > 1 ? innerW / (n - 1) : 0;
  const xOf = (i: number) => round(n > 1 ? pad + i * step : width / 2);
  const baseline = round(height - pad);
  const yOf = (v: number) =>
    max === min
      ? v === 0 && min === 0
        ? baseline
        : round(pad + innerH / 2)
      : round(pad + ((max - v) / (max - min)) * innerH);
  const slots = values.map((_, i) => {
    const left = n > 1 ? Math.max(0, xOf(i) - step / 2) : 0;
    const right = n > 1 ? Math.min(width, xOf(i) + step / 2) : width;
    return { x: round(left), width: round(Math.max(0, right - left)) };
  });
  const runs: SparkPoint[][] = [];
  let run: SparkPoint[] = [];
  values.forEach((value, index) => {
    if (isValue(value)) {
      run.push({ index, x: xOf(index), y: yOf(value) });
    } else if (run.length) {
      runs.push(run);
      run = [];
    }
  });
  if (run.length) {
    runs.push(run);
  }
  const line = runs
    .filter(r => r.length > 1)
    .map(r => r.map((p, i) => `${i ? 'L' : 'M'}${p.x} ${p.y}`).join(''))
    .join('');
  const area = runs
    .filter(r => r.length > 1)
    .map(
      r =>
        `M${r[0].x} ${baseline}` +
        r.map(p => `L${p.x} ${p.y}`).join('') +
        `L${r[r.length - 1].x} ${baseline}Z`
    )
    .join('');
  const dots = runs.filter(r => r.length === 1).map(r => r[0]);
  const lastRun = runs[runs.length - 1];
  const last = lastRun ? lastRun[lastRun.length - 1] : null;
  return { line, area, dots, last, slots, min, max };
}

/** Requests per second, e.g. `12.3 req/s`, `0.42 req/s`, `1,250 req/s`. */
export function formatRate(rate: number | null | undefined): string {
  if (!isValue(rate) || rate <= 0) {
    return '0 req/s';
  }
  if (rate < 0.01) {
    return '<0.01 req/s';
  }
  const digits = rate < 10 ? 2 : rate < 100 ? 1 : 0;
  const text = rate.toLocaleString('en-US', {
    maximumFractionDigits: digits,
    minimumFractionDigits: 0
  });
  return `${text} req/s`;
}

/** A latency in ms, e.g. `0.42 ms`, `4.2 ms`, `45 ms`, `1.2 s`; `—` when unknown. */
export function formatLatency(ms: number | null | undefined): string {
  if (!isValue(ms) || ms < 0) {
    return '—';
  }
  if (ms >= 1000) {
    const s = ms / 1000;
    return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  }
  if (ms < 1) {
    return `${ms.toFixed(2)} ms`;
  }
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

/** A share as a percent with up to one decimal: `0%`, `2.5%`, `100%`. */
export function formatErrorRate(rate: number | null | undefined): string {
  if (!isValue(rate) || rate <= 0) {
    return '0%';
  }
  const percent = rate * 100;
  return percent < 0.1
    ? '<0.1%'
    : `${percent >= 10 ? Math.round(percent) : Number(percent.toFixed(1))}%`;
}

/** A window length in words: `45 s`, `15 min`, `1 h`, `1.5 h`, `7 d`. */
export function formatWindow(seconds: number): string {
  const trim = (n: number) => String(Number(n.toFixed(1)));
  if (seconds < 60) {
    return `${Math.round(seconds)} s`;
  }
  if (seconds < 3600) {
    return `${trim(seconds / 60)} min`;
  }
  if (seconds < 86400) {
    return `${trim(seconds / 3600)} h`;
  }
  return `${trim(seconds / 86400)} d`;
}

/** The one-line summary: `12.3 req/s · p95 45 ms` (`· 2.5% errors` when any). */
export function statsSummary(stats: RequestStats): string {
  const parts = [
    formatRate(stats.recent_rate),
    `p95 ${formatLatency(stats.p95_ms)}`
  ];
  if (stats.errors > 0) {
    parts.push(`${formatErrorRate(stats.error_rate)} errors`);
  }
  return parts.join(' · ');
}

/** The hover text of the summary: what each figure is over. */
export function summaryTitle(stats: RequestStats): string {
  const window = formatWindow(stats.window_seconds);
  const lines = [
    `${formatRate(stats.recent_rate)} over the last minute ` +
      `(${formatRate(stats.rate)} over the last ${window})`,
    `${stats.requests.toLocaleString('en-US')} requests in the last ${window}, ` +
      `${stats.errors.toLocaleString('en-US')} refused or failed` +
      (stats.errors ? ` (${formatErrorRate(stats.error_rate)})` : ''),
    `latency of answered requests: p50 ${formatLatency(stats.p50_ms)}, ` +
      `p95 ${formatLatency(stats.p95_ms)}` +
      (stats.sampled
        ? ` (of the newest ${stats.latency_rows.toLocaleString('en-US')})`
        : '')
  ];
  return lines.join('\n');
}

function clock(ms: number, withSeconds: boolean): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return withSeconds ? `${hm}:${pad(d.getSeconds())}` : hm;
}

/**
 * The time span of a bucket in local time: `14:02–14:04`, with seconds when buckets
 * are shorter than a minute, and the date when they are a day or longer.
 */
export function bucketSpan(start: number, bucketMs: number): string {
  const end = start + bucketMs;
  if (bucketMs >= 86_400_000) {
    const day = (ms: number) => new Date(ms).toLocaleDateString();
    return `${day(start)}–${day(end)}`;
  }
  const seconds = bucketMs < 60_000 || start % 60_000 !== 0;
  return `${clock(start, seconds)}–${clock(end, seconds)}`;
}

/** The tooltip of one bucket: span, requests and rate, errors, latency. */
export function bucketTitle(bucket: RequestBucket, bucketMs: number): string {
  const count = bucket.requests.toLocaleString('en-US');
  const lines = [
    `${bucketSpan(bucket.start, bucketMs)}: ${count} request` +
      `${bucket.requests === 1 ? '' : 's'} (${formatRate(bucket.rate)})`
  ];
  if (bucket.errors > 0) {
    lines.push(`${bucket.errors.toLocaleString('en-US')} refused or failed`);
  }
  lines.push(
    bucket.p50_ms === null && bucket.p95_ms === null
      ? 'no answered request'
      : `p50 ${formatLatency(bucket.p50_ms)}, p95 ${formatLatency(bucket.p95_ms)}`
  );
  return lines.join('\n');
}

/** The request rate of each bucket (oldest first). */
export function rateSeries(stats: RequestStats): number[] {
  return stats.buckets.map(b => b.rate);
}

/** The p95 latency of each bucket (null where nothing was answered: a gap). */
export function p95Series(stats: RequestStats): (number | null)[] {
  return stats.buckets.map(b => b.p95_ms);
}

/** The largest finite value of a series, or null. */
export function seriesMax(
  values: readonly (number | null | undefined)[]
): number | null {
  const present = values.filter(isValue);
  return present.length ? Math.max(...present) : null;
}
