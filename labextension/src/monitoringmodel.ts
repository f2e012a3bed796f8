/**
 * The state of a deployment's Monitoring section: the chosen window, the drift
 * report shown (a preview computed when the section opens or the window changes,
 * or the one "Check drift now" recorded), the drift history and the performance of
 * labelled predictions. Views re-render on `changed`.
 */

import {
  DriftHistoryEntry,
  DriftReport,
  EpochMs,
  MlopsApiError,
  MlopsClient,
  PerformancePoint
} from './client';
import {
  bySeverity,
  DEFAULT_WINDOW,
  DriftWindow,
  PERFORMANCE_BUCKETS
} from './drift';
import { messageOf } from './model';
import { sameData } from './query';
import { ObservableModel } from './observable';

/** How many recorded reports the heatmap shows. */
export const HISTORY_LIMIT = 50;

/** Why there is no report: no reference to compare with (422), or another error. */
export interface ReportError {
  kind: 'reference' | 'unavailable' | 'error';
  message: string;
}

/** A computed drift report and how it was made. */
export interface ShownReport {
  report: DriftReport;
  window: DriftWindow;
  computedAt: EpochMs;
  /** True when "Check drift now" recorded it in the history. */
  recorded: boolean;
}

export class MonitoringModel extends ObservableModel {
  constructor(options: MonitoringModel.IOptions) {
    super();
    this.deployment = options.deployment;
    this._client = options.client;
    this._onRecorded = options.onRecorded ?? (() => undefined);
    this._now = options.now ?? (() => Date.now());
  }

  readonly deployment: string;

  /** Emitted whenever any part of the state changes. */
  get window(): DriftWindow {
    return this._window;
  }
  /** The report shown; null before the first one is computed. */
  get shown(): ShownReport | null {
    return this._shown;
  }
  get reportError(): ReportError | null {
    return this._reportError;
  }
  /** A drift computation is under way (`preview` or `check`). */
  get computing(): 'preview' | 'check' | null {
    return this._computing;
  }
  /** Recorded reports, newest first; null until loaded. */
  get history(): DriftHistoryEntry[] | null {
    return this._history;
  }
  get historyError(): string | null {
    return this._historyError;
  }
  /** Metrics per version and bucket over the window; null until loaded. */
  get performance(): PerformancePoint[] | null {
    return this._performance;
  }
  get performanceError(): string | null {
    return this._performanceError;
  }
  /** The column whose distributions are shown (the most severe one by default). */
  get selectedColumn(): string | null {
    if (this._selected !== null) {
      return this._selected;
    }
    const columns = this._shown?.report.columns ?? [];
    return columns.length ? bySeverity(columns)[0].column : null;
  }
  /** The chosen performance metric; null = the default of the data. */
  get metric(): string | null {
    return this._metric;
  }
  /**
   * Reload the history and the performance (polling); the first call also
   * computes the preview of the default window.
   */
  async refresh(): Promise<void> {
    const first = !this._started;
    this._started = true;
    await Promise.all([
      this._loadHistory(),
      this._loadPerformance(),
      first ? this._computeDrift(false) : Promise.resolve()
    ]);
  }

  /** Choose the window: computes its preview and reloads the performance. */
  async setWindow(window: DriftWindow): Promise<void> {
    if (window === this._window) {
      return;
    }
    this._window = window;
    this._emit();
    await Promise.all([this._computeDrift(false), this._loadPerformance()]);
  }

  /** Compute drift over the window and record it (it joins the heatmap). */
  async checkDrift(): Promise<void> {
    const recorded = await this._computeDrift(true);
    if (recorded) {
      await this._loadHistory();
      this._onRecorded();
    }
  }

  selectColumn(column: string | null): void {
    if (column !== this._selected) {
      this._selected = column;
      this._emit();
    }
  }

  setMetric(metric: string | null): void {
    if (metric !== this._metric) {
      this._metric = metric;
      this._emit();
    }
  }

  /** Compute a report (recorded when `store`); returns whether one was made. */
  private async _computeDrift(store: boolean): Promise<boolean> {
    const seq = ++this._driftSeq;
    const window = this._window;
    this._computing = store ? 'check' : 'preview';
    this._emit();
    try {
      const report = await this._client.drift(this.deployment, {
        window,
        store
      });
      if (seq !== this._driftSeq || this.isDisposed) {
        return store;
      }
      this._shown = {
        report,
        window,
        computedAt: this._now(),
        recorded: store
      };
      this._reportError = null;
      if (
        this._selected !== null &&
        !report.columns.some(c => c.column === this._selected)
      ) {
        this._selected = null;
      }
      return true;
    } catch (reason) {
      if (seq !== this._driftSeq || this.isDisposed) {
        return false;
      }
      this._reportError = reportError(reason);
      this._shown = null;
      return false;
    } finally {
      if (seq === this._driftSeq) {
        this._computing = null;
        this._emit();
      }
    }
  }

  private async _loadHistory(): Promise<void> {
    const seq = ++this._historySeq;
    let history: DriftHistoryEntry[] | null = this._history;
    let error: string | null = null;
    try {
      history = await this._client.driftHistory(this.deployment, HISTORY_LIMIT);
    } catch (reason) {
      error = unavailableMessage(reason) ?? messageOf(reason);
    }
    if (seq !== this._historySeq) {
      return;
    }
    if (!sameData(history, this._history) || error !== this._historyError) {
      this._history = history;
      this._historyError = error;
      this._emit();
    }
  }

  private async _loadPerformance(): Promise<void> {
    const seq = ++this._performanceSeq;
    const window = this._window;
    let points: PerformancePoint[] | null = this._performance;
    let error: string | null = null;
    try {
      points = await this._client.performance(this.deployment, {
        window,
        bucket: PERFORMANCE_BUCKETS[window]
      });
    } catch (reason) {
      error = unavailableMessage(reason) ?? messageOf(reason);
    }
    if (seq !== this._performanceSeq) {
      return;
    }
    if (
      !sameData(points, this._performance) ||
      error !== this._performanceError
    ) {
      this._performance = points;
      this._performanceError = error;
      this._emit();
    }
  }

  private _client: MlopsClient;
  private _onRecorded: () => void;
  private _now: () => number;
  private _window: DriftWindow = DEFAULT_WINDOW;
  private _shown: ShownReport | null = null;
  private _reportError: ReportError | null = null;
  private _computing: 'preview' | 'check' | null = null;
  private _history: DriftHistoryEntry[] | null = null;
  private _historyError: string | null = null;
  private _performance: PerformancePoint[] | null = null;
  private _performanceError: string | null = null;
  private _selected: string | null = null;
  private _metric: string | null = null;
  private _started = false;
  private _driftSeq = 0;
  private _historySeq = 0;
  private _performanceSeq = 0;
}

export namespace MonitoringModel {
  export interface IOptions {
    deployment: string;
    client: MlopsClient;
    /** Called after "Check drift now" recorded a report (e.g. to refresh the panel). */
    onRecorded?: () => void;
    /** The clock (tests). */
    now?: () => number;
  }
}

/** The readable form of a failed drift computation. */
export function reportError(reason: unknown): ReportError {
  const unavailable = unavailableMessage(reason);
  if (unavailable) {
    return { kind: 'unavailable', message: unavailable };
  }
  if (reason instanceof MlopsApiError && reason.status === 422) {
    return { kind: 'reference', message: reason.message };
  }
  return { kind: 'error', message: messageOf(reason) };
}

/** The message when this server has no monitoring routes (or cannot be reached). */
function unavailableMessage(reason: unknown): string | null {
  return reason instanceof MlopsApiError && reason.isUnavailable
    ? `Monitoring is not available on this server (${reason.message}).`
    : null;
}
