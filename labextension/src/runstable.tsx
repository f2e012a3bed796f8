/**
 * The Runs section of the side panel: the filter box (server syntax, with
 * completion of param/metric/tag names), the column chooser and a virtualized runs
 * table that loads further pages as it scrolls; ticked runs open the compare view.
 */
import { caretDownIcon, caretUpIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { Run } from './client';
import { onEnter, ServerMissing, Snippet, StatusDot } from './common';
import {
  formatDuration,
  formatMetric,
  formatShortTime,
  formatRunCount,
  formatTime,
  runDuration
} from './format';
import { MlopsModel } from './model';
import {
  ColumnRef,
  columnRefId,
  Completions,
  filterCompletions,
  resolveColumns,
  sortKey,
  toggleSort,
  unionKeys,
  visibleRows,
  withSortedKey
} from './query';

/** How many metric / param columns the table picks when none are chosen. */
const MAX_METRIC_COLUMNS = 4;
const MAX_PARAM_COLUMNS = 3;

/** The height of one table row in pixels (CSS `.mlops-RunRow` matches it). */
export const ROW_HEIGHT = 24;

/** How many of the first rows the automatic columns are picked from. */
const AUTO_COLUMN_ROWS = 200;

/** Load the next page once the rendered rows come this close to the last loaded one. */
const PREFETCH_ROWS = 60;

export interface IRunsViewProps {
  model: MlopsModel;
  openRun: (runId: string) => void;
  /** Open the compare view of these runs. */
  compareRuns: (runIds: string[]) => void;
}

/** The Runs section. */
export function RunsView(props: IRunsViewProps): JSX.Element {
  const { model } = props;
  const experiment = model.selectedExperiment;
  if (model.server.kind === 'missing') {
    return <ServerMissing what="Runs appear here" />;
  }
  if (model.experiments === null) {
    return <div className="mlops-Empty mlops-Muted">Loading…</div>;
  }
  if (!experiment) {
    return (
      <div className="mlops-Empty mlops-Muted">
        Select an experiment to see its runs.
      </div>
    );
  }
  return (
    <div className="mlops-Runs">
      <div className="mlops-RunsToolbar">
        <FilterBox model={model} />
        <ColumnChooser model={model} />
      </div>
      <RunsTable {...props} />
    </div>
  );
}

/** The filter box: Enter applies, Escape clears; names complete as you type. */
function FilterBox({ model }: { model: MlopsModel }): JSX.Element {
  const [text, setText] = React.useState(model.filter);
  const [cursor, setCursor] = React.useState(0);
  const [open, setOpen] = React.useState(false);
  const [active, setActive] = React.useState(0);
  const input = React.useRef<HTMLInputElement>(null);
  const error = model.filterError;
  const keys = model.keys ?? { params: [], metrics: [], tags: [] };
  const completions: Completions = open
    ? filterCompletions(text, cursor, keys)
    : { from: cursor, to: cursor, items: [] };
  const listOpen = completions.items.length > 0;
  const index = Math.min(active, Math.max(0, completions.items.length - 1));

  const accept = (i: number) => {
    const item = completions.items[i];
    if (!item) {
      return;
    }
    const next =
      text.slice(0, completions.from) +
      item.insert +
      text.slice(completions.to);
    const caret = completions.from + item.insert.length;
    setText(next);
    setCursor(caret);
    setActive(0);
    // A field prefix (`metrics.`) goes on completing its keys.
    setOpen(item.kind === 'field');
    requestAnimationFrame(() => {
      input.current?.setSelectionRange(caret, caret);
      input.current?.focus();
    });
  };

  return (
    <div className="mlops-Filter">
      <input
        ref={input}
        className={`mlops-FilterInput jp-mod-styled${error ? ' mlops-mod-invalid' : ''}`}
        type="search"
        spellCheck={false}
        autoComplete="off"
        placeholder="Filter, e.g. metrics.accuracy > 0.9 and params.C = '1.0'"
        title="Press Enter to apply. Fields: metrics.<key>, params.<key>, tags.<key>, attributes.<name>"
        aria-label="Filter runs"
        role="combobox"
        aria-expanded={listOpen}
        aria-controls="mlops-filter-completions"
        aria-autocomplete="list"
        aria-activedescendant={
          listOpen ? `mlops-filter-completion-${index}` : undefined
        }
        value={text}
        onChange={ev => {
          setText(ev.target.value);
          setCursor(ev.target.selectionStart ?? ev.target.value.length);
          setActive(0);
          setOpen(true);
        }}
        onSelect={ev =>
          setCursor(
            (ev.target as HTMLInputElement).selectionStart ?? text.length
          )
        }
        onBlur={() => setOpen(false)}
        onKeyDown={ev => {
          if (listOpen) {
            if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
              ev.preventDefault();
              const n = completions.items.length;
              setActive((index + (ev.key === 'ArrowDown' ? 1 : n - 1)) % n);
              return;
            }
            if (ev.key === 'Tab' || (ev.key === 'Enter' && open)) {
              ev.preventDefault();
              accept(index);
              return;
            }
            if (ev.key === 'Escape') {
              ev.preventDefault();
              setOpen(false);
              return;
            }
          }
          if (ev.key === 'Enter') {
            setOpen(false);
            void model.setFilter(text);
          } else if (ev.key === 'Escape') {
            setText('');
            void model.setFilter('');
          }
        }}
      />
      {listOpen && (
        <ul
          id="mlops-filter-completions"
          className="mlops-FilterCompletions"
          role="listbox"
          aria-label="Filter completions"
        >
          {completions.items.map((item, i) => (
            <li
              key={`${item.kind}:${item.label}`}
              id={`mlops-filter-completion-${i}`}
              role="option"
              aria-selected={i === index}
              className={`mlops-FilterCompletion${i === index ? ' mlops-mod-active' : ''}`}
              // mousedown, not click: the input's blur would close the list first.
              onMouseDown={ev => {
                ev.preventDefault();
                accept(i);
              }}
            >
              <span className="mlops-FilterCompletionLabel">{item.label}</span>
              <span className="mlops-FilterCompletionKind">{item.kind}</span>
            </li>
          ))}
        </ul>
      )}
      {error && (
        <div className="mlops-FilterError" role="alert">
          {error.position !== undefined && error.position >= 0 && (
            <pre className="mlops-FilterCaret">
              {error.filter}
              {'\n'}
              {' '.repeat(Math.min(error.position, error.filter.length)) + '^'}
            </pre>
          )}
          <span>{error.message}</span>
        </div>
      )}
    </div>
  );
}

/**
 * The column chooser: tick the metric, param and tag columns to show (kept in the
 * `columns` setting); "Automatic" lets the table pick the ones that vary most.
 */
function ColumnChooser({ model }: { model: MlopsModel }): JSX.Element {
  const [open, setOpen] = React.useState(false);
  const root = React.useRef<HTMLDivElement>(null);
  React.useEffect(() => {
    if (!open) {
      return;
    }
    const close = (ev: MouseEvent) => {
      if (root.current && !root.current.contains(ev.target as Node)) {
        setOpen(false);
      }
    };
    document.addEventListener('mousedown', close);
    return () => document.removeEventListener('mousedown', close);
  }, [open]);
  const keys = model.keys ?? { params: [], metrics: [], tags: [] };
  const chosen = model.columns ?? [];
  const toggle = (id: string) => {
    const next = chosen.includes(id)
      ? chosen.filter(c => c !== id)
      : [...chosen, id];
    model.setColumns(next);
  };
  const group = (kind: 'metrics' | 'params' | 'tags', title: string) => {
    const names = keys[kind];
    if (!names.length) {
      return null;
    }
    return (
      <fieldset className="mlops-ColumnGroup">
        <legend>{title}</legend>
        {names.map(key => {
          const id = columnRefId({ kind, key });
          return (
            <label key={id} className="mlops-ColumnOption" title={id}>
              <input
                type="checkbox"
                checked={chosen.includes(id)}
                onChange={() => toggle(id)}
              />
              <span>{key}</span>
            </label>
          );
        })}
      </fieldset>
    );
  };
  return (
    <div className="mlops-ColumnChooser" ref={root}>
      <button
        className="jp-Button jp-mod-styled jp-mod-reject mlops-ColumnChooserButton"
        aria-haspopup="dialog"
        aria-expanded={open}
        title="Choose the metric, param and tag columns"
        onClick={() => setOpen(!open)}
      >
        Columns{chosen.length ? ` (${chosen.length})` : ''}
      </button>
      {open && (
        <div
          className="mlops-ColumnMenu"
          role="dialog"
          aria-label="Columns"
          onKeyDown={ev => {
            if (ev.key === 'Escape') {
              setOpen(false);
            }
          }}
        >
          <div className="mlops-ColumnMenuHeader">
            <span>
              {chosen.length
                ? `${chosen.length} chosen`
                : 'Automatic: the columns that vary most'}
            </span>
            <button
              className="jp-Button jp-mod-styled jp-mod-reject"
              disabled={!chosen.length}
              onClick={() => model.setColumns(null)}
            >
              Automatic
            </button>
          </div>
          {keys.metrics.length + keys.params.length + keys.tags.length === 0 ? (
            <div className="mlops-Muted">
              No metrics, params or tags logged yet.
            </div>
          ) : (
            <>
              {group('metrics', 'Metrics')}
              {group('params', 'Params')}
              {group('tags', 'Tags')}
            </>
          )}
        </div>
      )}
    </div>
  );
}

interface Column {
  id: string;
  label: string;
  title: string;
  /** Server sort key, or undefined when the server cannot sort by it. */
  sort?: string;
  className: string;
  render: (run: Run, now: number) => React.ReactNode;
}

function keyColumn(ref: ColumnRef): Column {
  const { kind, key } = ref;
  if (kind === 'metrics') {
    return {
      id: `m:${key}`,
      label: key,
      title: `metric ${key} (latest value)`,
      sort: sortKey('metrics', key),
      className: 'mlops-col-num mlops-col-metric',
      render: run => {
        const v = run.metrics?.[key];
        return (
          <span title={v === undefined ? '' : String(v)}>
            {formatMetric(v)}
          </span>
        );
      }
    };
  }
  return {
    id: `${kind === 'params' ? 'p' : 't'}:${key}`,
    label: key,
    title: `${kind === 'params' ? 'param' : 'tag'} ${key}`,
    sort: sortKey(kind, key),
    className: kind === 'params' ? 'mlops-col-param' : 'mlops-col-tag',
    render: run => {
      const v = run[kind]?.[key];
      return <span title={v ?? ''}>{v ?? '—'}</span>;
    }
  };
}

function buildColumns(model: MlopsModel, runs: Run[]): Column[] {
  const chosen = model.columns;
  const automatic = {
    metrics: withSortedKey(
      unionKeys(runs, 'metrics', MAX_METRIC_COLUMNS),
      'metrics',
      model.sort
    ),
    params: withSortedKey(
      unionKeys(runs, 'params', MAX_PARAM_COLUMNS),
      'params',
      model.sort
    )
  };
  return [
    {
      id: 'name',
      label: 'Run',
      title: 'Status and run name',
      sort: 'attributes.name',
      className: 'mlops-col-name',
      render: run => (
        <span className="mlops-RunNameCell">
          <StatusDot status={run.status} />
          <span className="mlops-RunName">{run.name || run.id}</span>
        </span>
      )
    },
    {
      id: 'start',
      label: 'Start',
      title: 'Start time',
      sort: 'attributes.start_time',
      className: 'mlops-col-time',
      render: (run, now) => (
        <span title={formatTime(run.start_time)}>
          {formatShortTime(run.start_time, now)}
        </span>
      )
    },
    {
      id: 'duration',
      label: 'Duration',
      title: 'Duration',
      sort: 'attributes.duration',
      className: 'mlops-col-num',
      render: (run, now) => formatDuration(runDuration(run, now))
    },
    ...resolveColumns(chosen, automatic).map(keyColumn)
  ];
}

/**
 * Tracks the scroll position and height of a scrolling element; the callback ref
 * attaches the listeners whenever the element mounts (the table appears only once
 * its first page has loaded).
 */
function useViewport(): [
  (node: HTMLDivElement | null) => void,
  { top: number; height: number }
] {
  const [node, setNode] = React.useState<HTMLDivElement | null>(null);
  const [viewport, setViewport] = React.useState({ top: 0, height: 400 });
  React.useEffect(() => {
    if (!node) {
      return;
    }
    let frame = 0;
    const update = () => {
      frame = 0;
      setViewport(v =>
        v.top === node.scrollTop && v.height === node.clientHeight
          ? v
          : { top: node.scrollTop, height: node.clientHeight }
      );
    };
    const schedule = () => {
      if (!frame) {
        frame = requestAnimationFrame(update);
      }
    };
    update();
    node.addEventListener('scroll', schedule, { passive: true });
    const observer = new ResizeObserver(schedule);
    observer.observe(node);
    return () => {
      node.removeEventListener('scroll', schedule);
      observer.disconnect();
      if (frame) {
        cancelAnimationFrame(frame);
      }
    };
  }, [node]);
  return [setNode, viewport];
}

/**
 * The runs table: only the rows in view are rendered (plus a margin); the scroll
 * height stands for every matching run, and pages load as the view nears rows not
 * loaded yet.
 */
function RunsTable(props: IRunsViewProps): JSX.Element {
  const { model } = props;
  const runs = model.runs;
  const [scroller, viewport] = useViewport();
  const loaded = runs?.length ?? 0;
  const count = Math.max(loaded, model.hasMore ? (model.total ?? loaded) : 0);
  const { start, end } = visibleRows(
    viewport.top,
    viewport.height,
    ROW_HEIGHT,
    count
  );
  const wantMore = model.hasMore && end + PREFETCH_ROWS > loaded;
  React.useEffect(() => {
    if (wantMore && !model.loading) {
      void model.loadMore();
    }
  });

  if (runs === null) {
    return <div className="mlops-Empty mlops-Muted">Loading runs…</div>;
  }
  if (runs.length === 0) {
    if (model.filter) {
      return (
        <div className="mlops-Empty">
          No runs match <code>{model.filter}</code>. Press Escape in the filter
          box to clear it.
        </div>
      );
    }
    return (
      <div className="mlops-Empty">
        <p>
          <strong>No runs yet</strong> in{' '}
          <em>{model.selectedExperiment?.name}</em>. Start one from a notebook
          cell:
        </p>
        <Snippet
          text={`%load_ext mlops_jlab\n\n%%mlops_train --experiment ${model.selectedExperiment?.name ?? 'quickstart'}\nmodel.fit(X_train, y_train)`}
        />
      </div>
    );
  }
  // Automatic columns from the first rows: stable while scrolling, bounded work.
  const columns = buildColumns(model, runs.slice(0, AUTO_COLUMN_ROWS));
  const now = Date.now();
  const sort = model.sort;
  const rows: React.ReactNode[] = [];
  for (let i = start; i < end; i++) {
    const run = runs[i];
    if (!run) {
      rows.push(
        <tr key={`pending-${i}`} className="mlops-RunRow mlops-mod-pending">
          <td className="mlops-col-select" />
          <td className="mlops-col-name mlops-Muted" colSpan={columns.length}>
            Loading…
          </td>
        </tr>
      );
      continue;
    }
    const selected = model.isRunSelected(run.id);
    rows.push(
      <tr
        key={run.id}
        className={`mlops-RunRow${run.id === model.currentRunId ? ' mlops-mod-current' : ''}${selected ? ' mlops-mod-selected' : ''}`}
        data-run-id={run.id}
        aria-rowindex={i + 2}
        aria-selected={selected}
        tabIndex={0}
        title={`Open run ${run.name || run.id}`}
        onClick={ev => {
          if (ev.ctrlKey || ev.metaKey) {
            model.toggleRunSelected(run.id);
          } else {
            props.openRun(run.id);
          }
        }}
        onKeyDown={ev => {
          if (ev.key === ' ') {
            ev.preventDefault();
            model.toggleRunSelected(run.id);
          } else {
            onEnter(() => props.openRun(run.id))(ev);
          }
        }}
      >
        <td className="mlops-col-select" onClick={ev => ev.stopPropagation()}>
          <input
            type="checkbox"
            tabIndex={-1}
            aria-label={`Select ${run.name || run.id} for comparison`}
            checked={selected}
            onChange={() => model.toggleRunSelected(run.id)}
          />
        </td>
        {columns.map(col => (
          <td key={col.id} className={col.className}>
            {col.render(run, now)}
          </td>
        ))}
      </tr>
    );
  }
  const selection = model.selectedRunIds;
  return (
    <>
      <div className="mlops-TableScroll" ref={scroller}>
        <table
          className="mlops-RunsTable"
          aria-label="Runs"
          aria-rowcount={count + 1}
        >
          <thead>
            <tr>
              <th className="mlops-col-select" title="Tick runs to compare">
                <span className="mlops-th" />
              </th>
              {columns.map(col => {
                const active = sort && col.sort && sort.key === col.sort;
                return (
                  <th
                    key={col.id}
                    className={`${col.className}${col.sort ? ' mlops-sortable' : ''}${active ? ' mlops-mod-sorted' : ''}`}
                    title={
                      col.sort
                        ? `${col.title} — click to sort (${col.sort})`
                        : col.title
                    }
                    aria-sort={
                      active
                        ? sort!.direction === 'ASC'
                          ? 'ascending'
                          : 'descending'
                        : 'none'
                    }
                    tabIndex={col.sort ? 0 : undefined}
                    onClick={
                      col.sort
                        ? () => void model.setSort(toggleSort(sort, col.sort!))
                        : undefined
                    }
                    onKeyDown={
                      col.sort
                        ? onEnter(
                            () =>
                              void model.setSort(toggleSort(sort, col.sort!))
                          )
                        : undefined
                    }
                  >
                    <span className="mlops-th">
                      <span className="mlops-th-label">{col.label}</span>
                      {active &&
                        (sort!.direction === 'ASC' ? (
                          <caretUpIcon.react
                            tag="span"
                            className="mlops-SortIcon"
                          />
                        ) : (
                          <caretDownIcon.react
                            tag="span"
                            className="mlops-SortIcon"
                          />
                        ))}
                    </span>
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {start > 0 && (
              <tr
                className="mlops-RunsSpacer"
                aria-hidden="true"
                style={{ height: start * ROW_HEIGHT }}
              />
            )}
            {rows}
            {end < count && (
              <tr
                className="mlops-RunsSpacer"
                aria-hidden="true"
                style={{ height: (count - end) * ROW_HEIGHT }}
              />
            )}
          </tbody>
        </table>
      </div>
      <div className="mlops-TableFooter">
        <span className="mlops-Muted mlops-RunsCount">
          {formatRunCount(loaded, model.total, model.hasMore)}
          {model.filter ? ' (filtered)' : ''}
          {model.loading ? ' · loading…' : ''}
        </span>
        {selection.length > 0 && (
          <span className="mlops-CompareActions">
            <button
              className="jp-Button jp-mod-styled jp-mod-reject"
              title="Untick every run"
              onClick={() => model.clearRunSelection()}
            >
              Clear
            </button>
            <button
              className="jp-Button jp-mod-styled jp-mod-accept mlops-CompareButton"
              disabled={selection.length < 2}
              title={
                selection.length < 2
                  ? 'Tick at least two runs to compare'
                  : 'Open the compare view of the ticked runs'
              }
              onClick={() => props.compareRuns([...selection])}
            >
              Compare {selection.length}
            </button>
          </span>
        )}
      </div>
    </>
  );
}
