/**
 * Pure helpers of the monitoring views: windows, statistics formatting, the
 * severity order of columns, the drift heatmap matrix of the history, the bars of
 * a column's distributions, the performance series and the panel's drift badge.
 * No DOM, no JupyterLab: unit-tested in Node.
 */
import {
  ColumnDistribution,
  ColumnDriftRecord,
  DeploymentDriftSummary,
  DriftHistoryEntry,
  EpochMs,
  PerformancePoint
} from './client';
import { formatShare } from './scales';

/** The windows the Monitoring section offers. */
export const DRIFT_WINDOWS = ['15m', '1h', '24h', '7d'] as const;
export type DriftWindow = (typeof DRIFT_WINDOWS)[number];
export const DEFAULT_WINDOW: DriftWindow = '1h';

/** The performance bucket of each window (about 12-30 points per line). */
export const PERFORMANCE_BUCKETS: Record<DriftWindow, string> = {
  '15m': '1m',
  '1h': '5m',
  '24h': '1h',
  '7d': '6h'
};

const WINDOW_LABELS: Record<string, string> = {
  '15m': 'last 15 min',
  '1h': 'last hour',
  '24h': 'last 24 h',
  '7d': 'last 7 days'
};

/** `last hour` for `1h`; any other window as `last 30m`. */
export function windowLabel(window: string | null | undefined): string {
  if (!window) {
    return 'the chosen rows';
  }
  return WINDOW_LABELS[window] ?? `last ${window}`;
}

/** Tests whose statistic is a p-value (drift when it is below the threshold). */
export function isPValueTest(test: string): boolean {
  return test === 'ks' || test === 'chisquare';
}

const TEST_LABELS: Record<string, string> = {
  ks: 'Kolmogorov-Smirnov',
  chisquare: 'chi-square',
  wasserstein: 'Wasserstein (normed)',
  jensenshannon: 'Jensen-Shannon',
  psi: 'PSI'
};

/** The name of a test for tooltips: `Kolmogorov-Smirnov`. */
export function testLabel(test: string): string {
  return TEST_LABELS[test] ?? test;
}

/**
 * A statistic as the report shows it: p-values with 3 significant digits (or in
 * scientific notation when tiny), distances with 4 decimals; `—` when not tested.
 */
export function formatStatistic(
  value: number | null | undefined,
  test: string
): string {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return '—';
  }
  if (isPValueTest(test)) {
    if (value === 0) {
      return '0';
    }
    return value >= 1e-4
      ? trimZeros(value.toPrecision(3))
      : value.toExponential(1).replace(/\.0e/, 'e');
  }
  return Math.abs(value) < 10
    ? trimZeros(value.toFixed(4))
    : trimZeros(value.toPrecision(3));
}

function trimZeros(text: string): string {
  if (text.includes('e')) {
    return text;
  }
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** The drift rule of a column in words: `p < 0.05` or `≥ 0.1`. */
export function ruleText(test: string, threshold: number): string {
  return isPValueTest(test) ? `p < ${threshold}` : `≥ ${threshold}`;
}

/** Whether a column could be tested (it has a statistic). */
export function isTested(
  column: Pick<ColumnDriftRecord, 'statistic'>
): boolean {
  return column.statistic !== null && column.statistic !== undefined;
}

/**
 * Columns most severe first: drifted ones, then by score (1 = at the threshold),
 * then the untested ones; ties by name.
 */
export function bySeverity<T extends ColumnDriftRecord>(columns: T[]): T[] {
  const rank = (c: T) => (c.drifted ? 0 : isTested(c) ? 1 : 2);
  return [...columns].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (b.score ?? 0) - (a.score ?? 0) ||
      a.column.localeCompare(b.column)
  );
}

/**
 * The colour level of a heatmap cell: `none` (column not in that report), `na`
 * (not tested), 0-1 under the threshold (0: score < 0.5), 2-4 drifted (2: up to
 * twice the threshold's severity, 3: up to 5 times, 4: beyond).
 */
export type HeatLevel = 'none' | 'na' | 0 | 1 | 2 | 3 | 4;

export function heatLevel(
  cell: Pick<ColumnDriftRecord, 'statistic' | 'score' | 'drifted'> | undefined
): HeatLevel {
  if (!cell) {
    return 'none';
  }
  if (!isTested(cell)) {
    return 'na';
  }
  const score = cell.score ?? 0;
  if (!cell.drifted) {
    return score < 0.5 ? 0 : 1;
  }
  return score < 2 ? 2 : score < 5 ? 3 : 4;
}

/** The legend of the heatmap's levels, in order. */
export const HEAT_LEGEND: { level: HeatLevel; label: string }[] = [
  { level: 0, label: 'steady' },
  { level: 1, label: 'near threshold' },
  { level: 2, label: 'drifted' },
  { level: 3, label: 'drifted ×2' },
  { level: 4, label: 'drifted ×5' },
  { level: 'na', label: 'not tested' }
];

/** A report (a column of the heatmap). */
export interface HeatmapReport {
  computed_at: EpochMs;
  version: number;
  rows: number;
  share: number;
  dataset_drift: boolean;
  window_start: EpochMs | null;
  window_end: EpochMs | null;
  drifted: number;
  tested: number;
}

/** A cell: one column in one report. */
export interface HeatmapCell {
  column: string;
  level: HeatLevel;
  record: ColumnDriftRecord | null;
  /** The tooltip. */
  title: string;
}

/** Rows are the data columns, columns the reports (oldest left, newest right). */
export interface HeatmapMatrix {
  columns: string[];
  reports: HeatmapReport[];
  /** `cells[row][report]` */
  cells: HeatmapCell[][];
}

/**
 * The heatmap of a drift history (newest first, as the server sends it): the reports
 * oldest to newest; the data columns ordered as in the newest report by severity,
 * then the columns only older reports have (most severe first).
 */
export function heatmapMatrix(
  history: DriftHistoryEntry[],
  formatTime: (ms: number) => string = ms => new Date(ms).toISOString()
): HeatmapMatrix {
  const entries = [...history].reverse();
  const order: string[] = [];
  const seen = new Set<string>();
  const add = (records: ColumnDriftRecord[]) => {
    for (const c of bySeverity(records)) {
      if (!seen.has(c.column)) {
        seen.add(c.column);
        order.push(c.column);
      }
    }
  };
  add(history[0]?.columns ?? []);
  // Columns only older reports have: most severe (highest score ever) first.
  const older = new Map<string, ColumnDriftRecord>();
  for (const entry of history.slice(1)) {
    for (const c of entry.columns ?? []) {
      const known = older.get(c.column);
      if (!seen.has(c.column) && (!known || c.score > known.score)) {
        older.set(c.column, c);
      }
    }
  }
  add(Array.from(older.values()));
  const reports = entries.map((e): HeatmapReport => ({
    computed_at: e.computed_at,
    version: e.version,
    rows: e.rows,
    share: e.share,
    dataset_drift: e.dataset_drift,
    window_start: e.window_start,
    window_end: e.window_end,
    drifted: (e.columns ?? []).filter(c => c.drifted).length,
    tested: (e.columns ?? []).filter(isTested).length
  }));
  const cells = order.map(column =>
    entries.map((entry, i): HeatmapCell => {
      const record = (entry.columns ?? []).find(c => c.column === column);
      return {
        column,
        level: heatLevel(record),
        record: record ?? null,
        title: cellTitle(column, record, reports[i], formatTime)
      };
    })
  );
  return { columns: order, reports, cells };
}

function cellTitle(
  column: string,
  record: ColumnDriftRecord | undefined,
  report: HeatmapReport,
  formatTime: (ms: number) => string
): string {
  const head = `${column} · ${formatTime(report.computed_at)} (v${report.version}, ${report.rows} rows)`;
  if (!record) {
    return `${head}\nnot in this report`;
  }
  const lines = [head];
  if (isTested(record)) {
    lines.push(
      `${testLabel(record.test)}: ${formatStatistic(record.statistic, record.test)} (drift when ${ruleText(record.test, record.threshold)})`,
      record.drifted ? 'drifted' : 'not drifted',
      `PSI ${formatStatistic(record.psi, 'psi')}${record.psi_significant ? ' (significant)' : ''} · severity ${formatStatistic(record.score, 'psi')}`
    );
  } else {
    lines.push('not tested');
  }
  for (const note of record.notes ?? []) {
    lines.push(note);
  }
  return lines.join('\n');
}

/** The tooltip of a report (a heatmap column header). */
export function reportTitle(
  report: HeatmapReport,
  formatTime: (ms: number) => string
): string {
  const window =
    report.window_start !== null && report.window_end !== null
      ? `window ${formatTime(report.window_start)} – ${formatTime(report.window_end)}`
      : 'newest rows';
  return [
    `computed ${formatTime(report.computed_at)}`,
    `${window}, ${report.rows} rows, reference v${report.version}`,
    `${report.drifted} of ${report.tested} tested columns drifted (${formatShare(report.share)})`,
    report.dataset_drift ? 'dataset drift' : 'no dataset drift'
  ].join('\n');
}

/** One bar pair of a distribution chart. */
export interface DistributionBin {
  label: string;
  reference: number;
  current: number;
  /** Numeric bins: the bin's edges. */
  x0?: number;
  x1?: number;
}

/** The bars of a column's distribution, and the highest share (for the y axis). */
export function distributionBins(
  distribution: ColumnDistribution | Record<string, never> | null | undefined
): {
  kind: 'histogram' | 'categories';
  bins: DistributionBin[];
  max: number;
} | null {
  if (!distribution || !('type' in distribution)) {
    return null;
  }
  const bins: DistributionBin[] = [];
  if (distribution.type === 'histogram') {
    const { edges, reference, current } = distribution;
    const n = Math.min(edges.length - 1, reference.length, current.length);
    for (let i = 0; i < n; i++) {
      bins.push({
        label: `${formatEdge(edges[i])} – ${formatEdge(edges[i + 1])}`,
        reference: reference[i] ?? 0,
        current: current[i] ?? 0,
        x0: edges[i],
        x1: edges[i + 1]
      });
    }
  } else if (distribution.type === 'categories') {
    const { labels, reference, current } = distribution;
    labels.forEach((label, i) =>
      bins.push({
        label,
        reference: reference[i] ?? 0,
        current: current[i] ?? 0
      })
    );
  } else {
    return null;
  }
  if (!bins.length) {
    return null;
  }
  const max = Math.max(...bins.map(b => Math.max(b.reference, b.current)));
  return { kind: distribution.type, bins, max };
}

function formatEdge(value: number): string {
  if (!Number.isFinite(value)) {
    return String(value);
  }
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) {
    return value.toExponential(2);
  }
  return trimZeros(value.toPrecision(4));
}

/** The performance metrics the server sends, in this order of preference. */
export const PERFORMANCE_METRICS = ['accuracy', 'f1', 'rmse', 'mae'] as const;
export type PerformanceMetric = (typeof PERFORMANCE_METRICS)[number];

const METRIC_LABELS: Record<PerformanceMetric, string> = {
  accuracy: 'accuracy',
  f1: 'F1 (macro)',
  rmse: 'RMSE',
  mae: 'MAE'
};

export function metricLabel(metric: string): string {
  return METRIC_LABELS[metric as PerformanceMetric] ?? metric;
}

/** Whether higher values of a metric are better (accuracy, F1) or worse (errors). */
export function higherIsBetter(metric: string): boolean {
  return metric === 'accuracy' || metric === 'f1';
}

/** The metrics present in the points, in the preferred order. */
export function performanceMetrics(
  points: PerformancePoint[]
): PerformanceMetric[] {
  return PERFORMANCE_METRICS.filter(m =>
    points.some(p => typeof p[m] === 'number' && Number.isFinite(p[m]))
  );
}

/** One line of the performance chart: a version (live or shadow). */
export interface PerformanceSeries {
  key: string;
  label: string;
  version: number;
  shadow: boolean;
  points: { x: EpochMs; y: number; rows: number }[];
}

/**
 * One series per version (live versions by number, then shadow ones), points by
 * time; points without the metric are left out.
 */
export function performanceSeries(
  points: PerformancePoint[],
  metric: string
): PerformanceSeries[] {
  const series = new Map<string, PerformanceSeries>();
  for (const p of points) {
    const y = (p as unknown as Record<string, unknown>)[metric];
    if (
      typeof y !== 'number' ||
      !Number.isFinite(y) ||
      p.bucket_start === null
    ) {
      continue;
    }
    const key = `${p.version}${p.shadow ? '-shadow' : ''}`;
    let s = series.get(key);
    if (!s) {
      s = {
        key,
        label: `v${p.version}${p.shadow ? ' (shadow)' : ''}`,
        version: p.version,
        shadow: p.shadow,
        points: []
      };
      series.set(key, s);
    }
    s.points.push({ x: p.bucket_start, y, rows: p.rows });
  }
  const out = Array.from(series.values());
  for (const s of out) {
    s.points.sort((a, b) => a.x - b.x);
  }
  return out.sort(
    (a, b) => Number(a.shadow) - Number(b.shadow) || a.version - b.version
  );
}

/** The drift badge of a deployment in the panel, from its newest recorded report. */
export interface DriftBadge {
  computedAt: EpochMs;
  share: number;
  drifted: number;
  /** How many columns were tested (drifted / share); null when unknown. */
  tested: number | null;
  /** Rows of the window the report compared. */
  rows: number;
  /** The drifted columns (at most 5). */
  columns: string[];
}

/**
 * The badge when the newest recorded report (as `GET deployments` summarises it)
 * found dataset drift, else null.
 */
export function driftBadge(
  newest: DeploymentDriftSummary | null | undefined
): DriftBadge | null {
  if (!newest || !newest.dataset_drift) {
    return null;
  }
  const columns = newest.drifted_columns ?? [];
  const drifted = columns.length;
  return {
    computedAt: newest.computed_at,
    share: newest.share,
    drifted,
    tested: newest.share > 0 ? Math.round(drifted / newest.share) : null,
    rows: newest.rows,
    columns: columns.slice(0, 5)
  };
}

/** The tooltip of the panel's drift badge. */
export function driftBadgeTitle(
  badge: DriftBadge,
  formatTime: (ms: number) => string
): string {
  const counted =
    badge.tested !== null
      ? `${badge.drifted} of ${badge.tested} tested columns drifted`
      : `${badge.drifted} columns drifted`;
  const more = badge.drifted > badge.columns.length ? ', …' : '';
  return (
    `Dataset drift in the last recorded report (${formatTime(badge.computedAt)}, ` +
    `${badge.rows.toLocaleString('en-US')} rows): ${counted} (${formatShare(badge.share)})` +
    (badge.columns.length ? `: ${badge.columns.join(', ')}${more}` : '')
  );
}
