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

/**
 * A poll's fresh first page merged into the rows already loaded: the first page as
 * the server sends it now, then the rows loaded further down that it does not hold
 * (so a table scrolled far down keeps its rows while new runs arrive on top).
 */
export function mergeFirstPage<T extends { id: string }>(
  loaded: ReadonlyArray<T> | null,
  first: ReadonlyArray<T>
): T[] {
  if (!loaded || loaded.length <= first.length) {
    return [...first];
  }
  const fresh = new Set(first.map(r => r.id));
  return [...first, ...loaded.filter(r => !fresh.has(r.id))];
}

/** The keys a filter or a column may name, per field kind. */
export interface FilterKeys {
  params: ReadonlyArray<string>;
  metrics: ReadonlyArray<string>;
  tags: ReadonlyArray<string>;
}

/** The run attributes the filter and `order_by` syntax know. */
export const RUN_ATTRIBUTES = [
  'name',
  'status',
  'user',
  'start_time',
  'end_time',
  'duration',
  'run_id'
];

const FIELD_KINDS = ['metrics', 'params', 'tags', 'attributes'] as const;

/** A completion of the filter text around the cursor. */
export interface Completion {
  /** The text inserted in place of [from, to). */
  insert: string;
  /** What the list shows. */
  label: string;
  /** `metric`, `param`, `tag`, `attribute` or `field`. */
  kind: string;
}

/** The completions at `cursor`, and the range of text they replace. */
export interface Completions {
  from: number;
  to: number;
  items: Completion[];
}

/**
 * What to offer while typing a filter: after `metrics.` / `params.` / `tags.` /
 * `attributes.` the keys of that kind starting with what follows (quoted when needed),
 * at the start of a word the field prefixes and the keys of every kind; inside a
 * quoted string nothing. At most `max` items, prefix matches before substring ones.
 */
export function filterCompletions(
  text: string,
  cursor: number,
  keys: FilterKeys,
  max = 12
): Completions {
  const before = text.slice(0, cursor);
  const none = { from: cursor, to: cursor, items: [] };
  // Inside a string literal: no completions.
  const quotes = (before.match(/'/g) ?? []).length;
  if (quotes % 2 === 1) {
    return none;
  }
  const match =
    /([A-Za-z_]+)\.(`[^`]*|[A-Za-z0-9_]*)$|([A-Za-z_][A-Za-z0-9_]*)$/.exec(
      before
    );
  // Replace up to the end of the word the cursor is in.
  const rest = /^[A-Za-z0-9_]*/.exec(text.slice(cursor))![0];
  const to = cursor + rest.length;
  const kindKeys: Record<string, ReadonlyArray<string>> = {
    metrics: keys.metrics,
    params: keys.params,
    tags: keys.tags,
    attributes: RUN_ATTRIBUTES
  };
  const kindLabel: Record<string, string> = {
    metrics: 'metric',
    params: 'param',
    tags: 'tag',
    attributes: 'attribute'
  };
  const rank = (candidates: Completion[], typed: string): Completion[] => {
    const lower = typed.toLowerCase();
    const prefix = candidates.filter(c =>
      c.label.toLowerCase().startsWith(lower)
    );
    const inside = candidates.filter(
      c =>
        !c.label.toLowerCase().startsWith(lower) &&
        c.label.toLowerCase().includes(lower)
    );
    return [...prefix, ...inside].slice(0, max);
  };
  if (match && match[1] !== undefined) {
    const kind = match[1];
    const known = kindKeys[kind];
    if (!known) {
      return none;
    }
    const typed = match[2].replace(/^`/, '');
    const from = cursor - match[2].length;
    const items = known.map(key => ({
      insert: kind === 'attributes' ? key : quoteKey(key),
      label: key,
      kind: kindLabel[kind]
    }));
    return { from, to, items: rank(items, typed) };
  }
  if (match && match[3] !== undefined) {
    const typed = match[3];
    // Keywords of the syntax are not completed.
    if (/^(and|or|not|in|like|ilike|is|null)$/i.test(typed)) {
      return none;
    }
    const from = cursor - typed.length;
    const items: Completion[] = [
      ...FIELD_KINDS.map(kind => ({
        insert: `${kind}.`,
        label: `${kind}.`,
        kind: 'field'
      })),
      ...(['metrics', 'params', 'tags'] as const).flatMap(kind =>
        kindKeys[kind].map(key => ({
          insert: `${kind}.${quoteKey(key)}`,
          label: `${kind}.${key}`,
          kind: kindLabel[kind]
        }))
      )
    ];
    // A bare key matches `metrics.<key>` too.
    const lower = typed.toLowerCase();
    const prefix = items.filter(
      c =>
        c.label.toLowerCase().startsWith(lower) ||
        c.label.toLowerCase().split('.', 2)[1]?.startsWith(lower)
    );
    return { from, to, items: prefix.slice(0, max) };
  }
  return none;
}

/** A column of the runs table named as in `order_by`: `metrics.acc`, `params.C`, … */
export interface ColumnRef {
  kind: 'metrics' | 'params' | 'tags';
  key: string;
}

/** `metrics.acc` → `{kind: 'metrics', key: 'acc'}`; `null` when not a key column. */
export function parseColumnRef(ref: string): ColumnRef | null {
  const dot = ref.indexOf('.');
  if (dot <= 0) {
    return null;
  }
  const kind = ref.slice(0, dot);
  const key = ref.slice(dot + 1);
  if ((kind === 'metrics' || kind === 'params' || kind === 'tags') && key) {
    return { kind, key };
  }
  return null;
}

/** `{kind: 'metrics', key: 'acc'}` → `metrics.acc` (unquoted: a settings value). */
export function columnRefId(ref: ColumnRef): string {
  return `${ref.kind}.${ref.key}`;
}

/**
 * The key columns to show: the chosen ones (settings or column chooser) when there
 * are any, else the automatic ones (the metrics and params that vary most).
 */
export function resolveColumns(
  chosen: ReadonlyArray<string> | null,
  automatic: { metrics: string[]; params: string[] }
): ColumnRef[] {
  if (chosen && chosen.length) {
    return chosen.map(parseColumnRef).filter((c): c is ColumnRef => c !== null);
  }
  return [
    ...automatic.metrics.map(key => ({ kind: 'metrics' as const, key })),
    ...automatic.params.map(key => ({ kind: 'params' as const, key }))
  ];
}

/**
 * The rows a virtualized table renders: those in the viewport plus `overscan` above
 * and below, as `[start, end)` indexes into `count` rows of `rowHeight` pixels.
 */
export function visibleRows(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  count: number,
  overscan = 10
): { start: number; end: number } {
  if (count <= 0 || rowHeight <= 0) {
    return { start: 0, end: 0 };
  }
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const shown = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, Math.min(count, first - overscan));
  const end = Math.max(start, Math.min(count, first + shown + overscan));
  return { start, end };
}
