/**
 * Pieces shared by the side panel and the detail tabs (run, model version):
 * keyboard activation, banners, collapsible sections, key/value tables, header
 * facts and the polling timer.
 */
import { caretDownIcon, caretRightIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { MlopsApiError } from './client';
import { formatMetric } from './format';
import { messageOf } from './model';
import { formatRuleValue } from './registry';

/** A keydown handler that runs `action` on Enter or Space (like a button). */
export function onEnterOrSpace(
  action: () => void
): (ev: React.KeyboardEvent) => void {
  return ev => {
    if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      action();
    }
  };
}

/** A keydown handler that runs `action` on Enter (like a link or table row). */
export function onEnter(action: () => void): (ev: React.KeyboardEvent) => void {
  return ev => {
    if (ev.key === 'Enter') {
      action();
    }
  };
}

/** Why a detail tab could not load `what` (e.g. "Run 1a2b"): 404 says so. */
export function loadErrorMessage(reason: unknown, what: string): string {
  return reason instanceof MlopsApiError && reason.status === 404
    ? `${what} was not found: ${reason.message}`
    : messageOf(reason);
}

/** The entries of a record sorted by key. */
export function sortedEntries<T>(
  record: Record<string, T> | null | undefined
): [string, T][] {
  return Object.entries(record ?? {}).sort(([a], [b]) => a.localeCompare(b));
}

export function ErrorBanner(props: {
  children: React.ReactNode;
  role?: string;
}): JSX.Element {
  return (
    <div className="mlops-Banner mlops-Banner-error" role={props.role}>
      {props.children}
    </div>
  );
}

/** The muted line standing in for an empty list or table. */
export function EmptyInline({
  children
}: {
  children: React.ReactNode;
}): JSX.Element {
  return <div className="mlops-Muted mlops-EmptyInline">{children}</div>;
}

export function Section(props: {
  title: string;
  count?: number;
  defaultOpen?: boolean;
  className?: string;
  children: React.ReactNode;
}): JSX.Element {
  const [open, setOpen] = React.useState(props.defaultOpen ?? true);
  const Caret = open ? caretDownIcon : caretRightIcon;
  return (
    <section className={`mlops-DetailSection ${props.className ?? ''}`}>
      <h3
        className="mlops-DetailSectionTitle"
        role="button"
        aria-expanded={open}
        tabIndex={0}
        onClick={() => setOpen(!open)}
        onKeyDown={onEnterOrSpace(() => setOpen(!open))}
      >
        <Caret.react tag="span" className="mlops-Caret" />
        {props.title}
        {props.count !== undefined && (
          <span className="mlops-Badge">{props.count}</span>
        )}
      </h3>
      {open && <div className="mlops-DetailSectionBody">{props.children}</div>}
    </section>
  );
}

export function KeyValueTable(props: {
  rows: [string, React.ReactNode][];
  empty: string;
  numeric?: boolean;
  /** Flow many rows into several columns. */
  grid?: boolean;
}): JSX.Element {
  if (!props.rows.length) {
    return <EmptyInline>{props.empty}</EmptyInline>;
  }
  if (props.grid) {
    return (
      <dl className="mlops-KVGrid">
        {props.rows.map(([k, v]) => (
          <div key={k} className="mlops-KVGridItem">
            <dt title={k}>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
    );
  }
  return (
    <table className="mlops-KVTable">
      <tbody>
        {props.rows.map(([k, v]) => (
          <tr key={k}>
            <th title={k}>{k}</th>
            <td className={props.numeric ? 'mlops-col-num' : ''}>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Metrics sorted by name, formatted, the full value in the tooltip. */
export function MetricsTable(props: {
  metrics: [string, number][];
  empty: string;
}): JSX.Element {
  return (
    <KeyValueTable
      numeric
      rows={props.metrics.map(([k, v]) => [
        k,
        <span key={k} title={String(v)}>
          {formatMetric(v)}
        </span>
      ])}
      empty={props.empty}
    />
  );
}

/** One labelled fact in the header of a detail tab (`mlops-RunFacts`). */
export function Fact(props: {
  label: string;
  title?: string;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <div>
      <dt>{props.label}</dt>
      <dd title={props.title}>{props.children}</dd>
    </div>
  );
}

/**
 * What a detail tab shows before its data is there: the load error, else a
 * loading line.
 */
export function NotLoaded(props: {
  error: string | null;
  children: React.ReactNode;
}): JSX.Element {
  return props.error ? (
    <ErrorBanner>{props.error}</ErrorBanner>
  ) : (
    <div className="mlops-Empty mlops-Muted">{props.children}</div>
  );
}

/**
 * A one-shot timer that polls a detail tab while its object may still change.
 */
export class PollTimer {
  /**
   * @param poll what to run when the timer fires.
   * @param interval the polling interval in seconds (0 = off), read at each schedule.
   */
  constructor(
    private readonly _poll: () => void,
    private readonly _interval: () => number
  ) {}

  /** Cancel the pending poll, then schedule the next one if `active`. */
  schedule(active: boolean): void {
    this.stop();
    const seconds = this._interval();
    if (!active || seconds <= 0) {
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      this._poll();
    }, seconds * 1000);
  }

  /** Cancel the pending poll. */
  stop(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _timer: ReturnType<typeof setTimeout> | null = null;
}

/** The cells of one validation rule's result: rule, value, threshold, pass/fail. */
export function RuleResultCells(props: {
  rule: string;
  value: unknown;
  threshold: unknown;
  passed: boolean;
}): JSX.Element {
  const { rule, value, threshold, passed } = props;
  return (
    <>
      <td>
        <code>{rule}</code>
      </td>
      <td className="mlops-col-num">{formatRuleValue(value, formatMetric)}</td>
      <td className="mlops-col-num">
        {formatRuleValue(threshold, formatMetric)}
      </td>
      <td>
        <span
          className={`mlops-RuleResult mlops-validation-${passed ? 'passed' : 'failed'}`}
        >
          {passed ? '✓ pass' : '✗ fail'}
        </span>
      </td>
    </>
  );
}

/** The status dot of a run. */
export function StatusDot({ status }: { status: string }): JSX.Element {
  return (
    <span
      className={`mlops-StatusDot mlops-status-${status}`}
      title={status}
      aria-label={status}
    />
  );
}

/** A code snippet to copy into a cell (empty states). */
export function Snippet({ text }: { text: string }): JSX.Element {
  return <pre className="mlops-Snippet">{text}</pre>;
}

/** A section's empty state while the server extension does not answer. */
export function ServerMissing({ what }: { what: string }): JSX.Element {
  return (
    <div className="mlops-Empty mlops-Muted">
      {what} once the server extension is running.
    </div>
  );
}
