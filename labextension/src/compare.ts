/**
 * Pure data transformations of the runs compare view: the params/metrics diff
 * table, the parallel-coordinates dimensions, the default metric and the overlaid
 * metric histories. No DOM, no JupyterLab: unit-tested in Node.
 */
import type { MetricHistory, Run } from './client';
import { shortId } from './format';

/** The kind of value a diff row compares. */
export type DiffSection = 'param' | 'metric' | 'tag';

/** One row of the diff table: a key and its value in each run. */
export interface DiffRow {
  section: DiffSection;
  key: string;
  /** One value per run, in the order of the runs; `null` where a run lacks the key. */
  values: (string | number | null)[];
  /** The values are not all equal (a missing value differs from any present one). */
  differs: boolean;
}

export interface DiffOptions {
  /** Add the tags after the metrics (default: false). */
  tags?: boolean;
}

const SECTIONS: DiffSection[] = ['param', 'metric', 'tag'];

/**
 * The diff table of runs: one row per param, then per metric (then per tag when
 * asked), each section sorted by key.
 */
export function diffRows(runs: Run[], options: DiffOptions = {}): DiffRow[] {
  const rows: DiffRow[] = [];
  for (const section of SECTIONS) {
    if (section === 'tag' && !options.tags) {
      continue;
    }
    const records = runs.map(run => recordOf(run, section));
    const keys = new Set<string>();
    for (const record of records) {
      for (const key of Object.keys(record)) {
        keys.add(key);
      }
    }
    for (const key of [...keys].sort(compareNames)) {
      const values = records.map(record => presentValue(record, key));
      rows.push({ section, key, values, differs: !allEqual(values) });
    }
  }
  return rows;
}

function recordOf(
  run: Run,
  section: DiffSection
): Record<string, string | number | null> {
  const record =
    section === 'param'
      ? run.params
      : section === 'metric'
        ? run.metrics
        : run.tags;
  return (record ?? {}) as Record<string, string | number | null>;
}

function presentValue(
  record: Record<string, string | number | null>,
  key: string
): string | number | null {
  if (!Object.prototype.hasOwnProperty.call(record, key)) {
    return null;
  }
  const value = record[key];
  return value === undefined ? null : value;
}

/** True when every value is the same (NaN equals NaN; null only equals null). */
function allEqual(values: (string | number | null)[]): boolean {
  return values.every(v => Object.is(v, values[0]));
}

/** Names in a natural order: `layer2` before `layer10`, case-insensitive first. */
export function compareNames(a: string, b: string): number {
  return (
    a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' }) ||
    (a < b ? -1 : a > b ? 1 : 0)
  );
}

/**
 * The labels of runs in a legend or header: the run name, with its short id in
 * parentheses when another run has the same name; the short id alone for an unnamed
 * run. Same order as the runs.
 */
export function runLabels(runs: Pick<Run, 'id' | 'name'>[]): string[] {
  const counts = new Map<string, number>();
  for (const run of runs) {
    const name = (run.name ?? '').trim();
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  // The short ids of duplicated names, longer when 8 characters do not tell them apart.
  const shortIds = new Map<string, number>();
  for (const run of runs) {
    const id = shortId(run.id);
    shortIds.set(id, (shortIds.get(id) ?? 0) + 1);
  }
  const idOf = (id: string) =>
    (shortIds.get(shortId(id)) ?? 0) > 1 ? id : shortId(id);
  return runs.map(run => {
    const name = (run.name ?? '').trim();
    if (!name) {
      return idOf(run.id);
    }
    return (counts.get(name) ?? 0) > 1 ? `${name} (${idOf(run.id)})` : name;
  });
}

/** A finite metric value of a run, else null. */
export function metricValue(run: Run, key: string): number | null {
  const value = run.metrics?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** A metric key and how many runs have a (finite) value for it. */
export interface MetricCoverage {
  key: string;
  runs: number;
}

/** Every metric key of the runs with how many runs have it, sorted by key. */
export function metricCoverage(runs: Run[]): MetricCoverage[] {
  const counts = new Map<string, number>();
  for (const run of runs) {
    for (const key of Object.keys(run.metrics ?? {})) {
      if (metricValue(run, key) !== null) {
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
  }
  return [...counts.entries()]
    .map(([key, n]) => ({ key, runs: n }))
    .sort((a, b) => compareNames(a.key, b.key));
}

/** Held-out evaluation prefixes: `val_loss`, `test/accuracy`, `eval-f1`... */
const HELD_OUT = /^(val|valid|validation|test|eval|evaluation)([_./-]|$)/i;
/** Usual quality measures. */
const SCORE =
  /(accuracy|acc|f1|auc|roc_auc|loss|rmse|mae|mse|r2|precision|recall|logloss)$/i;

/**
 * The metric to compare by default, or null when no run has a metric:
 * among the metrics present in the most runs, prefer a held-out one
 * (`val_`/`valid_`/`test_`/`eval_` prefix), then a usual score name (ending in
 * accuracy, acc, f1, auc, loss, rmse, mae, mse, r2, precision, recall), then the
 * first by name.
 */
export function defaultMetric(runs: Run[]): string | null {
  const coverage = metricCoverage(runs);
  if (!coverage.length) {
    return null;
  }
  const most = Math.max(...coverage.map(c => c.runs));
  const rank = (key: string) =>
    (HELD_OUT.test(key) ? 0 : 2) + (SCORE.test(key) ? 0 : 1);
  const best = coverage
    .filter(c => c.runs === most)
    .sort((a, b) => rank(a.key) - rank(b.key) || compareNames(a.key, b.key));
  return best[0].key;
}

/** One axis of a parallel-coordinates chart. */
export interface ParcoordsDimension {
  /** The param key, the metric key, or `run` for the run axis. */
  key: string;
  label: string;
  /** `categorical` axes hold integer codes of `ticktext`. */
  kind: 'numeric' | 'categorical' | 'metric';
  /** One value per included run. */
  values: number[];
  range: [number, number];
  tickvals?: number[];
  ticktext?: string[];
}

export interface ParcoordsData {
  metric: string;
  /** Params (sorted by key), the metric last. */
  dimensions: ParcoordsDimension[];
  /** The runs drawn (those with the metric), in the order of the values. */
  runIds: string[];
  /** The metric value of each drawn run: the line color. */
  color: number[];
  /** The runs left out because they lack the metric (or its value is not finite). */
  excluded: string[];
  /** Params left out because every drawn run has the same value. */
  constant: string[];
  /** Params left out beyond `maxParams`. */
  omitted: string[];
}

export interface ParcoordsOptions {
  /** Keep params whose value is the same in every drawn run (default: false). */
  keepConstant?: boolean;
  /** At most this many param axes (default: 20), the first by name. */
  maxParams?: number;
  /** Put a categorical `run` axis first, labelled with `runLabels` (default: false). */
  runAxis?: boolean;
  /** Shorten category labels longer than this (default: 24 characters). */
  maxLabel?: number;
}

/** The category label of a run that lacks the param. */
export const MISSING_LABEL = '—';

/**
 * The parallel-coordinates data of params against a metric. A param whose present
 * values are all numbers is a numeric axis (its range is their min and max) unless
 * some drawn run lacks it; any other param is categorical: its distinct values are
 * sorted (numerically when they are numbers, else naturally; a missing value,
 * `—`, first), coded 0, 1, 2... and labelled by `tickvals`/`ticktext`.
 */
export function parcoordsData(
  runs: Run[],
  metric: string,
  options: ParcoordsOptions = {}
): ParcoordsData {
  const maxParams = options.maxParams ?? 20;
  const maxLabel = options.maxLabel ?? 24;
  const drawn: Run[] = [];
  const excluded: string[] = [];
  for (const run of runs) {
    if (metricValue(run, metric) === null) {
      excluded.push(run.id);
    } else {
      drawn.push(run);
    }
  }
  const color = drawn.map(run => metricValue(run, metric) as number);

  const keys = new Set<string>();
  for (const run of drawn) {
    for (const key of Object.keys(run.params ?? {})) {
      keys.add(key);
    }
  }
  const constant: string[] = [];
  const varying: string[] = [];
  for (const key of [...keys].sort(compareNames)) {
    const values = drawn.map(run => paramValue(run, key));
    if (allEqual(values) && !options.keepConstant) {
      constant.push(key);
    } else {
      varying.push(key);
    }
  }
  const kept = varying.slice(0, Math.max(0, maxParams));
  const omitted = varying.slice(kept.length);

  const dimensions: ParcoordsDimension[] = [];
  if (options.runAxis) {
    const labels = runLabels(drawn);
    dimensions.push({
      key: 'run',
      label: 'run',
      kind: 'categorical',
      values: drawn.map((_, i) => i),
      range: codeRange(drawn.length),
      tickvals: drawn.map((_, i) => i),
      ticktext: labels.map(label => truncate(label, maxLabel))
    });
  }
  for (const key of kept) {
    dimensions.push(
      paramDimension(
        key,
        drawn.map(run => paramValue(run, key)),
        maxLabel
      )
    );
  }
  dimensions.push({
    key: metric,
    label: metric,
    kind: 'metric',
    values: color,
    range: numericRange(color)
  });
  return {
    metric,
    dimensions,
    runIds: drawn.map(run => run.id),
    color,
    excluded,
    constant,
    omitted
  };
}

function paramValue(run: Run, key: string): string | null {
  const params = run.params ?? {};
  if (!Object.prototype.hasOwnProperty.call(params, key)) {
    return null;
  }
  const value = params[key];
  return value === null || value === undefined ? null : String(value);
}

/** The number a param string stands for, or null (`''`, `True`, `inf` are not). */
export function parseNumber(value: string | null): number | null {
  if (value === null) {
    return null;
  }
  const text = value.trim();
  if (!text || !/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text)) {
    return null;
  }
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

function paramDimension(
  key: string,
  values: (string | null)[],
  maxLabel: number
): ParcoordsDimension {
  const numbers = values.map(parseNumber);
  const present = values.filter(v => v !== null) as string[];
  const allNumeric = present.every(v => parseNumber(v) !== null);
  if (allNumeric && present.length === values.length) {
    const nums = numbers as number[];
    return {
      key,
      label: key,
      kind: 'numeric',
      values: nums,
      range: numericRange(nums)
    };
  }
  const distinct = [...new Set(present)];
  distinct.sort(
    allNumeric
      ? (a, b) =>
          (parseNumber(a) as number) - (parseNumber(b) as number) ||
          compareNames(a, b)
      : compareNames
  );
  const categories: (string | null)[] =
    present.length < values.length ? [null, ...distinct] : distinct;
  const code = new Map(categories.map((c, i) => [c, i]));
  return {
    key,
    label: key,
    kind: 'categorical',
    values: values.map(v => code.get(v) as number),
    range: codeRange(categories.length),
    tickvals: categories.map((_, i) => i),
    ticktext: categories.map(c =>
      c === null ? MISSING_LABEL : truncate(c, maxLabel)
    )
  };
}

function codeRange(count: number): [number, number] {
  return count > 1 ? [0, count - 1] : [-1, 1];
}

/** The min and max of values, widened around a single value. */
function numericRange(values: number[]): [number, number] {
  if (!values.length) {
    return [0, 1];
  }
  const min = Math.min(...values);
  const max = Math.max(...values);
  if (min < max) {
    return [min, max];
  }
  const pad = Math.abs(min) * 0.1 || 1;
  return [min - pad, max + pad];
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, Math.max(1, max - 1))}…` : text;
}

/** The points of one run's metric history, as a plotly line's `x` and `y`. */
export interface HistoryTrace {
  runId: string;
  /** The run's label (`runLabels`). */
  name: string;
  /** Steps, ascending. */
  x: number[];
  y: number[];
}

export interface HistoryTraces {
  traces: HistoryTrace[];
  /** The runs without a point of the metric. */
  missing: string[];
}

/**
 * One line per run from the metric histories of the runs (matched by `run_id`;
 * points sorted by step, then time), named by `runLabels`, in the order of the runs.
 */
export function historyTraces(
  runs: Run[],
  histories: MetricHistory[]
): HistoryTraces {
  const byRun = new Map<string, MetricHistory>();
  for (const history of histories) {
    if (history) {
      byRun.set(history.run_id, history);
    }
  }
  const labels = runLabels(runs);
  const traces: HistoryTrace[] = [];
  const missing: string[] = [];
  runs.forEach((run, i) => {
    const points = (byRun.get(run.id)?.history ?? []).filter(
      p => Number.isFinite(p.value) && Number.isFinite(p.step)
    );
    if (!points.length) {
      missing.push(run.id);
      return;
    }
    const sorted = [...points].sort(
      (a, b) => a.step - b.step || (a.timestamp ?? 0) - (b.timestamp ?? 0)
    );
    traces.push({
      runId: run.id,
      name: labels[i],
      x: sorted.map(p => p.step),
      y: sorted.map(p => p.value)
    });
  });
  return { traces, missing };
}

/** The label of a compare tab: `Compare 3 runs`. */
export function compareTabLabel(runIds: string[]): string {
  const n = uniqueRunIds(runIds).length;
  return n === 1 ? 'Compare 1 run' : `Compare ${n} runs`;
}

/** Run ids without duplicates or empty ids, in their first order. */
export function uniqueRunIds(runIds: string[]): string[] {
  return [...new Set(runIds.filter(id => typeof id === 'string' && id))];
}

/** True when both lists hold the same runs (in any order): the same compare tab. */
export function sameRunSet(a: string[], b: string[]): boolean {
  const x = uniqueRunIds(a);
  const y = new Set(uniqueRunIds(b));
  return x.length === y.size && x.every(id => y.has(id));
}
