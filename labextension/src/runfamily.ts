/**
 * Pure helpers of the run tab's notebook runs, sweeps, pipelines, AutoML and
 * federated runs: the child runs query, label and table columns, the stored charts
 * to draw (a sweep's summary, every `charts/*.json`), a failed run's error report,
 * and the labels of notebook artifacts.
 * No DOM, no JupyterLab: unit-tested in Node.
 */
import type { Run, RunArtifact } from './client';
import { compareNames, diffRows } from './compare';
import { shortId, stripAnsi } from './format';
import { titleFromPath } from './storedfigure';

/**
 * The tag that names what ran a run: `papermill`, `sweep`, `pipeline`, `automl`,
 * `federated`.
 */
export const RUNNER_TAG = 'mlops.runner';

/** The sweep chart a sweep stores on its parent run (a plotly figure as JSON). */
export const SWEEP_SUMMARY = 'sweep/summary.json';

/** Where a run stores the plotly figures its tab draws (`charts/rounds.json`). */
export const CHARTS_DIR = 'charts/';

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

/** A stored figure of a run that its tab draws, and the heading it falls back to. */
export interface FigureArtifact {
  artifact: RunArtifact;
  /** The card's title when the figure has none. */
  fallbackTitle: string;
  /** The sweep's summary chart (drawn full width, first). */
  sweep: boolean;
}

/**
 * The stored figures a run's tab draws: a sweep's summary chart first, then every
 * `charts/*.json` (directly in `charts/`) in path order.
 */
export function figureArtifacts(
  run: Pick<Run, 'tags'> & { artifacts?: RunArtifact[] | null }
): FigureArtifact[] {
  const sweep = sweepSummaryArtifact(run);
  const charts = (run.artifacts ?? [])
    .filter(a => {
      const rest = a.path.startsWith(CHARTS_DIR)
        ? a.path.slice(CHARTS_DIR.length)
        : '';
      return /^[^/]+\.json$/i.test(rest);
    })
    .sort((a, b) => compareNames(a.path, b.path));
  return [
    ...(sweep
      ? [{ artifact: sweep, fallbackTitle: 'Sweep', sweep: true }]
      : []),
    ...charts.map(artifact => ({
      artifact,
      fallbackTitle: titleFromPath(artifact.path),
      sweep: false
    }))
  ];
}

/** A tag of the children shown as a column of the child runs table. */
export interface ChildTagColumn {
  tag: string;
  label: string;
}

/** How the run tab names the children of a kind of parent run. */
export interface ChildFamily {
  /** The title of the child runs section. */
  title: string;
  /** What one child is (`trial`, `round`), for the summary line. */
  noun: string;
  /** Tags of the children worth a column (a trial's state, a round's number). */
  tagColumns: ChildTagColumn[];
}

const FAMILIES: Record<string, ChildFamily> = {
  sweep: { title: 'Sweep runs', noun: 'run', tagColumns: [] },
  pipeline: { title: 'Pipeline steps', noun: 'step', tagColumns: [] },
  automl: {
    title: 'AutoML trials',
    noun: 'trial',
    tagColumns: [
      { tag: 'mlops.automl_trial', label: 'trial' },
      { tag: 'mlops.trial_state', label: 'state' }
    ]
  },
  // A round's number is a param of its run already.
  federated: { title: 'Federated rounds', noun: 'round', tagColumns: [] }
};

/** The naming of a run's children, by what ran the parent (`mlops.runner`). */
export function childFamily(runner: string | null): ChildFamily {
  return (
    (runner ? FAMILIES[runner] : undefined) ?? {
      title: 'Child runs',
      noun: 'run',
      tagColumns: []
    }
  );
}

/** The family's tag columns that at least one child has. */
export function presentTagColumns(
  family: ChildFamily,
  children: Pick<Run, 'tags'>[]
): ChildTagColumn[] {
  return family.tagColumns.filter(c =>
    children.some(child => child.tags?.[c.tag] !== undefined)
  );
}

/** `5 trials: 4 finished, 1 failed`. */
export function childSummary(
  children: Pick<Run, 'status'>[],
  noun = 'run'
): string {
  const counts = new Map<string, number>();
  for (const child of children) {
    counts.set(child.status, (counts.get(child.status) ?? 0) + 1);
  }
  const parts = Array.from(counts.entries()).map(([k, n]) => `${n} ${k}`);
  return `${children.length} ${noun}${children.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
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

/** The tags naming the best child of a sweep or an AutoML search. */
const BEST_CHILD_TAGS = ['mlops.sweep_best_run', 'mlops.automl_best_run'];

/** The best child of a sweep or AutoML search (starred in the child runs table). */
export function bestChildId(run: Pick<Run, 'tags'>): string | null {
  for (const tag of BEST_CHILD_TAGS) {
    const id = run.tags?.[tag];
    if (id) {
      return id;
    }
  }
  return null;
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
