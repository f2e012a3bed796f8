/**
 * The state of the schedule editor (new or existing schedule): the fields as typed,
 * the live preview of the cron expression (its words and next fire times, or the
 * server's message), local checks, and saving with the server's refusal kept beside
 * the field it names. Nothing typed is lost on an error. Views re-render on
 * `changed`.
 */

import {
  MlopsApiError,
  MlopsClient,
  Schedule,
  SchedulePatch,
  SchedulePreview,
  ScheduleRequest
} from './client';
import { messageOf } from './model';
import { ObservableModel } from './observable';
import {
  checkForm,
  formField,
  newScheduleForm,
  ScheduleField,
  ScheduleForm,
  scheduleForm,
  schedulePatch,
  scheduleRequest,
  targetKindOf
} from './scheduling';

/** How long typing pauses before the preview asks the server (ms). */
export const PREVIEW_DELAY = 300;
/** How many next fire times the preview shows. */
export const PREVIEW_COUNT = 3;

/** The preview under the cron field. */
export type PreviewState =
  | { kind: 'empty' }
  | { kind: 'loading' }
  | { kind: 'ok'; preview: SchedulePreview }
  | { kind: 'error'; message: string; field: 'cron' | 'timezone' };

export class ScheduleEditorModel extends ObservableModel {
  constructor(options: ScheduleEditorModel.IOptions) {
    super();
    this._client = options.client;
    this._save = options.save;
    this.schedule = options.schedule ?? null;
    this._form = this.schedule
      ? scheduleForm(this.schedule)
      : newScheduleForm(options.path);
    this._delay = options.previewDelay ?? PREVIEW_DELAY;
  }

  /** The schedule edited; null for a new one. */
  readonly schedule: Schedule | null;

  get isNew(): boolean {
    return this.schedule === null;
  }
  get form(): Readonly<ScheduleForm> {
    return this._form;
  }
  get preview(): PreviewState {
    return this._preview;
  }
  get saving(): boolean {
    return this._saving;
  }
  /** A problem to show under a field (local checks after a save attempt, or the server's). */
  problemOf(field: ScheduleField): string | null {
    if (field === 'parameters' && this._paramsProblem) {
      return this._paramsProblem;
    }
    return this._problems[field] ?? null;
  }
  /** The server's refusal that names no field. */
  get formError(): string | null {
    return this._problems.form ?? null;
  }
  /** Any problem shown. */
  get hasProblems(): boolean {
    return (
      Object.values(this._problems).some(Boolean) ||
      this._paramsProblem !== null
    );
  }

  /**
   * Change a field. Changing the path to a .ipynb or .yaml file switches the kind;
   * changing the cron expression or the timezone asks for a new preview.
   */
  set<K extends keyof ScheduleForm>(field: K, value: ScheduleForm[K]): void {
    if (this._form[field] === value) {
      return;
    }
    const next = { ...this._form, [field]: value };
    if (field === 'path') {
      next.kind = targetKindOf(String(value)) ?? next.kind;
    }
    this._form = next;
    // A problem goes away once its field changes.
    const problemField = field === 'kind' ? 'path' : formField(String(field));
    delete this._problems[problemField];
    delete this._problems.form;
    if (field === 'parameters') {
      this._paramsProblem = null;
    }
    this._emit();
    if (field === 'cron' || field === 'timezone') {
      this.schedulePreview();
    }
  }

  /** Check the parameters now (when the field loses the focus). */
  checkParameters(): void {
    const problem = checkForm(this._form).parameters ?? null;
    if (problem !== this._paramsProblem) {
      this._paramsProblem = problem;
      this._emit();
    }
  }

  /** Ask for a preview after the typing pause. */
  schedulePreview(): void {
    this._cancelTimer();
    this._timer = setTimeout(() => {
      this._timer = null;
      void this.refreshPreview();
    }, this._delay);
  }

  /** Ask the server what the cron expression means now. */
  async refreshPreview(): Promise<void> {
    this._cancelTimer();
    const cron = this._form.cron.trim();
    const timezone = this._form.timezone.trim() || 'UTC';
    const seq = ++this._previewSeq;
    if (!cron) {
      this._preview = { kind: 'empty' };
      this._emit();
      return;
    }
    if (this._preview.kind !== 'ok') {
      this._preview = { kind: 'loading' };
      this._emit();
    }
    try {
      const preview = await this._client.previewSchedule(
        cron,
        timezone,
        PREVIEW_COUNT
      );
      if (seq !== this._previewSeq || this.isDisposed) {
        return;
      }
      this._preview = { kind: 'ok', preview };
    } catch (reason) {
      if (seq !== this._previewSeq || this.isDisposed) {
        return;
      }
      this._preview = {
        kind: 'error',
        message: messageOf(reason),
        field:
          reason instanceof MlopsApiError &&
          formField(reason.field) === 'timezone'
            ? 'timezone'
            : 'cron'
      };
    }
    this._emit();
  }

  /**
   * Check the form, then create or change the schedule. Resolves with the saved
   * schedule, or null when a problem (local or the server's) is shown instead;
   * the fields keep what was typed either way.
   */
  async save(): Promise<Schedule | null> {
    if (this._saving) {
      return null;
    }
    const problems = checkForm(this._form);
    this._paramsProblem = null;
    if (Object.keys(problems).length) {
      this._problems = problems;
      this._emit();
      return null;
    }
    let body: ScheduleRequest | SchedulePatch;
    if (this.schedule) {
      body = schedulePatch(this.schedule, this._form);
      if (!Object.keys(body).length) {
        // Nothing changed: nothing to send.
        return this.schedule;
      }
    } else {
      body = scheduleRequest(this._form);
    }
    this._saving = true;
    this._problems = {};
    this._emit();
    try {
      return await this._save(body, this.schedule?.id);
    } catch (reason) {
      const field =
        reason instanceof MlopsApiError ? formField(reason.field) : 'form';
      const message =
        reason instanceof MlopsApiError && reason.status === 0
          ? `Not saved: ${reason.message}`
          : messageOf(reason);
      this._problems = { [field]: message };
      if (field === 'cron' || field === 'timezone') {
        // The preview says the same: show the server's words there.
        this._preview = { kind: 'error', message, field };
      }
      return null;
    } finally {
      this._saving = false;
      this._emit();
    }
  }

  protected onDisposed(): void {
    this._cancelTimer();
    this._previewSeq++;
  }

  private _cancelTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _client: MlopsClient;
  private _save: (
    body: ScheduleRequest | SchedulePatch,
    id?: string
  ) => Promise<Schedule>;
  private _form: ScheduleForm;
  private _preview: PreviewState = { kind: 'empty' };
  private _problems: Partial<Record<ScheduleField, string>> = {};
  private _paramsProblem: string | null = null;
  private _saving = false;
  private _delay: number;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _previewSeq = 0;
}

export namespace ScheduleEditorModel {
  export interface IOptions {
    client: MlopsClient;
    /** Sends the request (the Schedules model's `save`, which reloads the list). */
    save: (
      body: ScheduleRequest | SchedulePatch,
      id?: string
    ) => Promise<Schedule>;
    /** The schedule to edit; absent for a new one. */
    schedule?: Schedule | null;
    /** A new schedule's file (the notebook or pipeline to prefill). */
    path?: string | null;
    previewDelay?: number;
  }
}
