/**
 * Pure helpers of the run tab's notebook runs, sweeps and pipelines: the child runs
 * query and table columns, the sweep chart (the stored plotly figure, recoloured for
 * the theme), a failed run's error report, and the labels of notebook artifacts.
 * No DOM, no JupyterLab: unit-tested in Node.
 */
import type { Run, RunArtifact } from './client';
import { compareNames, diffRows } from './compare';
import { shortId, stripAnsi } from './format';

/** The tag that names what ran a run: `papermill`, `sweep`, `pipeline`. */
export const RUNNER_TAG = 'mlops.runner';

/** The sweep chart a sweep stores on its parent run (a plotly figure as JSON). */
export const SWEEP_SUMMARY = 'sweep/summary.json';

/** How many child runs the run tab loads. */
export const CHILDREN_LIMIT = 500;

/** What ran a run (its `mlops.runner` tag), or null. */
export function runnerOf(run: Pick<Run, 'tags'>): string | null {
  return run.tags?.[RUNNER_TAG] ?? null;
}

/** The `GET runs` filter of a run's children. */
export function childRunsFilter(runId: string): string {
  return `attributes.parent_run_id = '${runId.replace(/'/g, "''")}'`;
}

/** The sweep chart artifact of a run, when it is a sweep that stored one. */
export function sweepSummaryArtifact(
  run: Pick<Run, 'tags'> & { artifacts?: RunArtifact[] | null }
): RunArtifact | null {
  if (runnerOf(run) !== 'sweep') {
    return null;
  }
  return (run.artifacts ?? []).find(a => a.path === SWEEP_SUMMARY) ?? null;
}

/** The columns of the child runs table. */
export interface ChildColumns {
  /** Params whose value differs between the children (all when only one child). */
  params: string[];
  metrics: string[];
  /** Columns left out to keep the table narrow. */
  hiddenParams: number;
  hiddenMetrics: number;
}

/**
 * The params that tell the children apart (those that differ between them), and
 * their metrics (the ones that differ first), at most `max` of each.
 */
export function childColumns(children: Run[], max = 6): ChildColumns {
  const rows = diffRows(children);
  const varying = (section: 'param' | 'metric') =>
    rows
      .filter(r => r.section === section)
      .filter(r => children.length < 2 || r.differs)
      .map(r => r.key);
  const params = varying('param');
  const allMetrics = rows.filter(r => r.section === 'metric');
  const metrics = [
    ...allMetrics.filter(r => r.differs).map(r => r.key),
    ...allMetrics.filter(r => !r.differs).map(r => r.key)
  ];
  return {
    params: params.slice(0, max),
    metrics: metrics.slice(0, max),
    hiddenParams: Math.max(0, params.length - max),
    hiddenMetrics: Math.max(0, metrics.length - max)
  };
}

/** Children in the order they were started (then by name). */
export function sortChildren(children: Run[]): Run[] {
  return [...children].sort(
    (a, b) =>
      (a.start_time ?? 0) - (b.start_time ?? 0) || compareNames(a.name, b.name)
  );
}

/** The best child of a sweep, named by its `mlops.sweep_best_run` tag. */
export function bestChildId(run: Pick<Run, 'tags'>): string | null {
  return run.tags?.['mlops.sweep_best_run'] ?? null;
}

/** The theme colours a stored figure is redrawn with (see chart.tsx `Colors`). */
export interface FigureColors {
  text: string;
  muted: string;
  grid: string;
  font: string;
}

/** A plotly figure as stored (`fig.to_json()`). */
export interface StoredFigure {
  data?: unknown[];
  layout?: Record<string, any>;
}

/**
 * A stored plotly figure redrawn in the theme: its own template dropped (plotly's
 * white one reads badly on the dark theme), transparent backgrounds, the theme's
 * font and grid colours on every axis; traces unchanged. A copy: the stored figure
 * is not touched.
 */
export function themedFigure(
  figure: StoredFigure,
  colors: FigureColors
): { data: any[]; layout: Record<string, any> } {
  const copy = JSON.parse(JSON.stringify(figure ?? {})) as StoredFigure;
  const data = Array.isArray(copy.data) ? (copy.data as any[]) : [];
  const layout: Record<string, any> = { ...(copy.layout ?? {}) };
  delete layout.template;
  delete layout.width;
  layout.autosize = true;
  layout.paper_bgcolor = 'rgba(0,0,0,0)';
  layout.plot_bgcolor = 'rgba(0,0,0,0)';
  layout.font = {
    ...(layout.font ?? {}),
    color: colors.muted,
    family: colors.font
  };
  if (layout.title && typeof layout.title === 'object') {
    layout.title = {
      ...layout.title,
      font: { ...(layout.title.font ?? {}), color: colors.text }
    };
  }
  if (typeof layout.height !== 'number') {
    layout.height = 360;
  }
  for (const key of Object.keys(layout)) {
    if (
      /^[xy]axis\d*$/.test(key) &&
      layout[key] &&
      typeof layout[key] === 'object'
    ) {
      layout[key] = {
        ...layout[key],
        gridcolor: colors.grid,
        zerolinecolor: colors.grid,
        linecolor: colors.grid
      };
    }
  }
  if (Array.isArray(layout.annotations)) {
    layout.annotations = layout.annotations.map((a: any) => ({
      ...a,
      font: { ...(a?.font ?? {}), color: colors.muted }
    }));
  }
  for (const trace of data) {
    if (trace && typeof trace === 'object' && trace.type === 'parcoords') {
      trace.labelfont = { ...(trace.labelfont ?? {}), color: colors.text };
      trace.tickfont = { ...(trace.tickfont ?? {}), color: colors.muted };
      trace.rangefont = { ...(trace.rangefont ?? {}), color: colors.muted };
    }
  }
  return { data, layout };
}

/** Whether a stored figure has something to draw. */
export function isFigure(value: unknown): value is StoredFigure {
  return (
    !!value &&
    typeof value === 'object' &&
    Array.isArray((value as StoredFigure).data)
  );
}

/**
 * A failed run's error split for display: its first line as the headline (e.g.
 * `cell 3 (In [3]) raised ValueError: bad alpha`), the rest (cell source,
 * traceback) as the detail; terminal colour codes removed.
 */
export function errorReport(error: string): {
  headline: string;
  detail: string;
} {
  const text = stripAnsi(error).replace(/\r\n?/g, '\n');
  const lines = text.split('\n');
  const first = lines.findIndex(l => l.trim().length > 0);
  if (first < 0) {
    return { headline: '', detail: '' };
  }
  const detail = lines
    .slice(first + 1)
    .join('\n')
    .replace(/^\n+/, '')
    .replace(/\s+$/, '');
  return { headline: lines[first].trim(), detail };
}

/**
 * The tab label of a stored notebook: `train.ipynb @ 1a2b3c4d` (the source as the
 * run saw it) or `out.ipynb · run 1a2b3c4d` (a notebook artifact).
 */
export function snapshotLabel(
  runId: string,
  path: string | null,
  artifact: string | null
): string {
  if (artifact) {
    return `${artifact.split('/').pop()} · run ${shortId(runId)}`;
  }
  return `${path ? path.split('/').pop() : 'Notebook'} @ ${shortId(runId)}`;
}

/** Whether a run artifact is a notebook the snapshot tab can show. */
export function isNotebookArtifact(path: string): boolean {
  return path.toLowerCase().endsWith('.ipynb');
}
