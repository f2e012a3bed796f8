/**
 * Pure helpers for the runs table: sort state <-> `order_by`, column keys.
 * No DOM, no JupyterLab: unit-tested in Node.
 */

export type SortDirection = 'ASC' | 'DESC';

/**
 * The sort state of the runs table; `null` means the server default order.
 */
export interface SortState {
  /** A server sort key, e.g. `metrics.accuracy`, `params.C`, `attributes.start_time`. */
  key: string;
  direction: SortDirection;
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Quote a metric/param/tag key for the filter and order_by syntax when needed:
 * `accuracy` stays as is, `val loss` becomes `` `val loss` ``.
 */
export function quoteKey(key: string): string {
  if (PLAIN_KEY.test(key)) {
    return key;
  }
  return '`' + key.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';
}

/**
 * The server sort key of a column: `metrics.<key>`, `params.<key>`, `attributes.<name>`.
 */
export function sortKey(
  kind: 'metrics' | 'params' | 'tags' | 'attributes',
  key: string
): string {
  return `${kind}.${quoteKey(key)}`;
}

/**
 * Which direction a first click sorts in: best/latest first for metrics and times.
 */
export function defaultDirection(key: string): SortDirection {
  return key.startsWith('metrics.') ||
    key === 'attributes.start_time' ||
    key === 'attributes.end_time'
    ? 'DESC'
    : 'ASC';
}

/**
 * Toggle the sort when a column header is clicked:
 * a new column sorts in its default direction, the same column flips direction once,
 * then returns to the server default (`null`).
 */
export function toggleSort(
  current: SortState | null,
  key: string
): SortState | null {
  if (!current || current.key !== key) {
    return { key, direction: defaultDirection(key) };
  }
  const first = defaultDirection(key);
  if (current.direction === first) {
    return { key, direction: first === 'ASC' ? 'DESC' : 'ASC' };
  }
  return null;
}

/**
 * The `order_by` query value of a sort state (`undefined` for the server default).
 */
export function orderByParam(sort: SortState | null): string | undefined {
  return sort ? `${sort.key} ${sort.direction}` : undefined;
}

/**
 * The union of the keys of `metrics` (or `params`) over runs, at most `max` keys:
 * keys whose value differs between runs first (a param set to the same value in every
 * run tells nothing), then the most frequent, ties in first-seen order.
 */
export function unionKeys(
  runs: ReadonlyArray<{
    metrics?: Record<string, unknown>;
    params?: Record<string, unknown>;
  }>,
  field: 'metrics' | 'params',
  max: number
): string[] {
  const counts = new Map<string, number>();
  const values = new Map<string, Set<string>>();
  for (const run of runs) {
    for (const [key, value] of Object.entries(run[field] ?? {})) {
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (!values.has(key)) {
        values.set(key, new Set());
      }
      values.get(key)!.add(JSON.stringify(value));
    }
  }
  const varies = (key: string) =>
    values.get(key)!.size > 1 || counts.get(key)! < runs.length ? 1 : 0;
  const order = Array.from(counts.keys());
  return order
    .map((key, index) => ({
      key,
      index,
      count: counts.get(key)!,
      varies: varies(key)
    }))
    .sort(
      (a, b) => b.varies - a.varies || b.count - a.count || a.index - b.index
    )
    .slice(0, Math.max(0, max))
    .map(x => x.key);
}

/**
 * Make sure the sorted-by column stays visible even if it is not among the first keys.
 */
export function withSortedKey(
  keys: string[],
  kind: 'metrics' | 'params',
  sort: SortState | null
): string[] {
  if (!sort || !sort.key.startsWith(`${kind}.`)) {
    return keys;
  }
  const visible = keys.some(k => sortKey(kind, k) === sort.key);
  if (visible) {
    return keys;
  }
  let raw = sort.key.slice(kind.length + 1);
  if (raw.startsWith('`') && raw.endsWith('`')) {
    raw = raw.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return [...keys, raw];
}

/**
 * Stable JSON comparison used to skip re-rendering when a poll returns the same data.
 */
export function sameData(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
