/**
 * The state of the Schedules section: the schedules (one cheap request per poll),
 * the firing history of the expanded ones, and the row actions (run now, pause,
 * resume, delete) with their errors. Views re-render on `changed`.
 */

import {
  MlopsClient,
  Schedule,
  ScheduleFiring,
  SchedulePatch,
  ScheduleRequest
} from './client';
import { loadFailure, messageOf } from './model';
import { ObservableModel } from './observable';
import { sameData } from './query';

/** How many firings an expanded schedule shows. */
export const HISTORY_LIMIT = 20;

export class SchedulesModel extends ObservableModel {
  constructor(options: SchedulesModel.IOptions) {
    super();
    this._client = options.client;
    this._historyLimit = options.historyLimit ?? HISTORY_LIMIT;
  }

  /** Sorted by name; null until loaded. */
  get schedules(): Schedule[] | null {
    return this._schedules;
  }
  /** Why the last load failed (what was loaded before stays shown). */
  get error(): string | null {
    return this._error;
  }
  /** The schedule with this id, if loaded. */
  find(id: string): Schedule | null {
    return this._schedules?.find(s => s.id === id) ?? null;
  }
  /** An action on this schedule is under way. */
  isBusy(id: string): boolean {
    return this._busy.has(id);
  }
  /** Why the last action on this schedule failed. */
  errorOf(id: string): string | null {
    return this._rowErrors.get(id) ?? null;
  }
  isExpanded(id: string): boolean {
    return this._expanded.has(id);
  }
  /** The firings of an expanded schedule, newest first; null while loading. */
  historyOf(id: string): ScheduleFiring[] | null {
    return this._history.get(id) ?? null;
  }
  historyError(id: string): string | null {
    return this._historyErrors.get(id) ?? null;
  }
  /** The schedule saved last (the view highlights its row). */
  get lastSaved(): string | null {
    return this._lastSaved;
  }

  /**
   * Reload the schedules and the history of the expanded ones; re-renders only
   * when something changed.
   */
  async refresh(): Promise<void> {
    const wanted = this._startLoad();
    let schedules: Schedule[];
    try {
      schedules = await this._client.listSchedules();
    } catch (reason) {
      if (!wanted()) {
        return;
      }
      const message = loadFailure(reason, 'Schedules are');
      if (message !== this._error) {
        this._error = message;
        this._emit();
      }
      return;
    }
    const ids = new Set(schedules.map(s => s.id));
    const histories = await Promise.all(
      Array.from(this._expanded)
        .filter(id => ids.has(id))
        .map(id => this._loadHistory(id))
    );
    if (!wanted()) {
      return;
    }
    let changed = histories.some(Boolean);
    if (!sameData(schedules, this._schedules)) {
      this._schedules = schedules;
      changed = true;
    }
    if (this._error !== null) {
      this._error = null;
      changed = true;
    }
    for (const id of Array.from(this._expanded)) {
      if (!ids.has(id)) {
        this._forget(id);
        changed = true;
      }
    }
    if (changed) {
      this._emit();
    }
  }

  /** Expand (and load the history of) a schedule, or collapse it. */
  async toggle(id: string): Promise<void> {
    if (this._expanded.has(id)) {
      this._expanded.delete(id);
      this._emit();
      return;
    }
    this._expanded.add(id);
    this._emit();
    if (await this._loadHistory(id)) {
      this._emit();
    }
  }

  /** Expand a schedule (no-op when it is). */
  async expand(id: string): Promise<void> {
    if (!this._expanded.has(id)) {
      await this.toggle(id);
    }
  }

  /** Run a schedule now; the list and its history reload. */
  runNow(id: string): Promise<ScheduleFiring | null> {
    return this._act(id, 'Cannot run', () => this._client.runSchedule(id));
  }

  /** Pause or resume a schedule. */
  setPaused(id: string, paused: boolean): Promise<Schedule | null> {
    return this._act(id, paused ? 'Cannot pause' : 'Cannot resume', () =>
      this._client.patchSchedule(id, { paused })
    );
  }

  /** Delete a schedule (the caller asked for a confirmation). */
  async remove(id: string): Promise<boolean> {
    const deleted = await this._act(id, 'Cannot delete', () =>
      this._client.deleteSchedule(id)
    );
    if (deleted !== null) {
      this._schedules = this._schedules?.filter(s => s.id !== id) ?? null;
      this._forget(id);
      this._emit();
      return true;
    }
    return false;
  }

  /**
   * Create a schedule, or change one (`id`); rejects with the server's error so
   * the editor shows it beside the field it names. The list reloads.
   */
  async save(
    request: ScheduleRequest | SchedulePatch,
    id?: string
  ): Promise<Schedule> {
    const schedule = id
      ? await this._client.patchSchedule(id, request)
      : await this._client.createSchedule(request as ScheduleRequest);
    this._lastSaved = schedule.id;
    this._rowErrors.delete(schedule.id);
    this._upsert(schedule);
    void this.refresh();
    return schedule;
  }

  protected onDisposed(): void {
    this._invalidateLoads();
  }

  /** Run an action on a row: busy while it runs, its error on the row. */
  private async _act<T>(
    id: string,
    failure: string,
    action: () => Promise<T>
  ): Promise<T | null> {
    if (this._busy.has(id)) {
      return null;
    }
    this._busy.add(id);
    this._rowErrors.delete(id);
    this._emit();
    let result: T | null = null;
    try {
      result = await action();
      if (isSchedule(result)) {
        this._upsert(result);
      }
    } catch (reason) {
      this._rowErrors.set(id, `${failure}: ${messageOf(reason)}`);
    } finally {
      this._busy.delete(id);
      this._emit();
    }
    if (result !== null) {
      await this.refresh();
    }
    return result;
  }

  /** Put a schedule the server answered into the list (a poll under way is stale). */
  private _upsert(schedule: Schedule): void {
    this._invalidateLoads();
    const others = (this._schedules ?? []).filter(s => s.id !== schedule.id);
    this._schedules = [...others, schedule].sort((a, b) =>
      a.name.localeCompare(b.name)
    );
    this._emit();
  }

  /** Load the history of a schedule; returns whether anything changed. */
  private async _loadHistory(id: string): Promise<boolean> {
    try {
      const detail = await this._client.getSchedule(id, this._historyLimit);
      if (!this._expanded.has(id)) {
        return false;
      }
      const changed =
        !sameData(detail.history, this._history.get(id)) ||
        this._historyErrors.has(id);
      this._history.set(id, detail.history);
      this._historyErrors.delete(id);
      return changed;
    } catch (reason) {
      const message = messageOf(reason);
      const changed = this._historyErrors.get(id) !== message;
      this._historyErrors.set(id, message);
      return changed;
    }
  }

  private _forget(id: string): void {
    this._expanded.delete(id);
    this._history.delete(id);
    this._historyErrors.delete(id);
    this._rowErrors.delete(id);
  }

  private _client: MlopsClient;
  private _historyLimit: number;
  private _schedules: Schedule[] | null = null;
  private _error: string | null = null;
  private _busy = new Set<string>();
  private _rowErrors = new Map<string, string>();
  private _expanded = new Set<string>();
  private _history = new Map<string, ScheduleFiring[]>();
  private _historyErrors = new Map<string, string>();
  private _lastSaved: string | null = null;
}

export namespace SchedulesModel {
  export interface IOptions {
    client: MlopsClient;
    /** Firings per expanded schedule (default 20). */
    historyLimit?: number;
  }
}

function isSchedule(value: unknown): value is Schedule {
  return (
    !!value &&
    typeof value === 'object' &&
    typeof (value as Schedule).cron === 'string' &&
    typeof (value as Schedule).id === 'string'
  );
}
