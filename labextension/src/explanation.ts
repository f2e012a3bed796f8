/**
 * Pure helpers of a model version's Explanations section: how an explanation was
 * computed (in words), its top features for the table, its stored figures in the
 * order they are drawn, the selector's labels and the empty state's snippet.
 * No DOM, no JupyterLab: unit-tested in Node.
 */
import type {
  Explanation,
  ExplanationSummary,
  FeatureImportance
} from './client';
import { formatTime } from './format';
import { isFigure, StoredFigure } from './storedfigure';

/** The figures an explanation stores, in the order they are drawn. */
export const EXPLANATION_FIGURES: ReadonlyArray<{
  key: string;
  title: string;
}> = [
  { key: 'importance', title: 'Permutation importance' },
  { key: 'partial_dependence', title: 'Partial dependence' },
  { key: 'local', title: 'Local explanations' }
];

/** How many features the table lists. */
export const TOP_FEATURES = 10;

/**
 * How an explanation was computed: `permutation importance (accuracy) +
 * shap.TreeExplainer`.
 */
export function explanationMethod(
  e: Pick<ExplanationSummary, 'scoring' | 'local_method'>
): string {
  const global = e.scoring
    ? `permutation importance (${e.scoring})`
    : 'permutation importance';
  return e.local_method ? `${global} + ${e.local_method}` : global;
}

/** One row of the top features table. */
export interface FeatureRow {
  rank: number;
  feature: string;
  mean: number;
  std: number;
  /** The mean relative to the largest one, 0–1 (the row's bar); 0 when not positive. */
  share: number;
}

/**
 * The most important features, descending by mean drop of the score (ties by name);
 * entries without a finite mean are left out.
 */
export function topFeatures(
  importance: ReadonlyArray<FeatureImportance> | null | undefined,
  limit = TOP_FEATURES
): { rows: FeatureRow[]; more: number } {
  const valid = (importance ?? []).filter(
    i =>
      i &&
      typeof i.feature === 'string' &&
      typeof i.mean === 'number' &&
      Number.isFinite(i.mean)
  );
  const sorted = [...valid].sort(
    (a, b) => b.mean - a.mean || a.feature.localeCompare(b.feature)
  );
  const largest = Math.max(0, ...sorted.map(i => i.mean));
  const rows = sorted.slice(0, Math.max(0, limit)).map((i, n) => ({
    rank: n + 1,
    feature: i.feature,
    mean: i.mean,
    std: typeof i.std === 'number' && Number.isFinite(i.std) ? i.std : 0,
    share: largest > 0 ? Math.max(0, i.mean) / largest : 0
  }));
  return { rows, more: sorted.length - rows.length };
}

/** A stored figure of an explanation, ready for its card. */
export interface ExplanationFigure {
  key: string;
  fallbackTitle: string;
  figure: StoredFigure;
}

/** The explanation's figures that have something to draw, in drawing order. */
export function explanationFigures(
  e: Pick<Explanation, 'figures'> | null | undefined
): ExplanationFigure[] {
  const figures = e?.figures ?? {};
  return EXPLANATION_FIGURES.filter(f => isFigure(figures[f.key])).map(f => ({
    key: f.key,
    fallbackTitle: f.title,
    figure: figures[f.key] as StoredFigure
  }));
}

/** The selector's label of an explanation: `2025-11-27 10:40:00 by alice · 200 rows`. */
export function explanationLabel(
  e: Pick<ExplanationSummary, 'created_at' | 'created_by' | 'rows'>
): string {
  const who = e.created_by ? ` by ${e.created_by}` : '';
  return `${formatTime(e.created_at)}${who} · ${e.rows} row${e.rows === 1 ? '' : 's'}`;
}

/** The code that stores an explanation of a version (the empty state's hint). */
export function explainSnippet(name: string, version: number): string {
  return `mlops.explain("models:/${name}/${version}", X, y)`;
}
