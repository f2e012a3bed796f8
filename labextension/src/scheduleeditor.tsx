/**
 * The schedule editor: a JupyterLab dialog to create or change a schedule, with
 * the live preview of its cron expression. Saving keeps the dialog open until the
 * server accepts; its refusal is shown beside the field it names.
 */
import { Dialog, ReactWidget, UseSignal } from '@jupyterlab/apputils';
import * as React from 'react';

import { MlopsClient, Schedule } from './client';
import { PreviewState, ScheduleEditorModel } from './scheduleeditormodel';
import {
  CRON_PRESETS,
  formatUntil,
  formatZoned,
  knownTimezones,
  ScheduleField
} from './scheduling';
import { SchedulesModel } from './schedulesmodel';

/**
 * Open the editor for a new schedule (prefilled from `path`) or an existing one;
 * resolves with the saved schedule, or null when cancelled.
 */
export async function editSchedule(options: {
  client: MlopsClient;
  schedules: SchedulesModel;
  schedule?: Schedule | null;
  path?: string | null;
}): Promise<Schedule | null> {
  const model = new ScheduleEditorModel({
    client: options.client,
    save: (body, id) => options.schedules.save(body, id),
    schedule: options.schedule,
    path: options.path
  });
  const body = new ScheduleEditorBody(model);
  const dialog = new ScheduleDialog(model, {
    title: model.isNew
      ? 'New schedule'
      : `Edit schedule ${options.schedule?.name ?? ''}`,
    body,
    buttons: [
      Dialog.cancelButton(),
      Dialog.okButton({
        label: model.isNew ? 'Create' : 'Save',
        ariaLabel: model.isNew ? 'Create the schedule' : 'Save the schedule'
      })
    ],
    focusNodeSelector: model.form.name ? 'input[name="cron"]' : 'input'
  });
  body.value = () => dialog.saved;
  dialog.addClass('mlops-ScheduleDialog');
  void model.refreshPreview();
  try {
    const result = await dialog.launch();
    return result.button.accept ? (result.value ?? null) : null;
  } finally {
    model.dispose();
  }
}

/** A dialog whose accept button saves first and closes only once saved. */
class ScheduleDialog extends Dialog<Schedule | null> {
  constructor(
    model: ScheduleEditorModel,
    options: Partial<Dialog.IOptions<Schedule | null>>
  ) {
    super(options);
    this._model = model;
    this._acceptIndex = (options.buttons ?? []).findIndex(b => b.accept);
    model.changed.connect(this._onModelChanged, this);
  }

  resolve(index?: number): void {
    const button = index ?? this._acceptIndex;
    if (button !== this._acceptIndex) {
      super.resolve(button);
      return;
    }
    if (this._model.saving) {
      return;
    }
    void this._model.save().then(schedule => {
      if (schedule && !this.isDisposed) {
        this._saved = schedule;
        super.resolve(button);
      }
    });
  }

  /** The saved schedule (the body's `getValue`). */
  get saved(): Schedule | null {
    return this._saved;
  }

  private _onModelChanged(): void {
    const accept = this.node.querySelector<HTMLButtonElement>(
      '.jp-Dialog-button.jp-mod-accept'
    );
    if (accept) {
      accept.disabled = this._model.saving;
      const label = accept.querySelector('.jp-Dialog-buttonLabel');
      if (label) {
        label.textContent = this._model.saving
          ? 'Saving…'
          : this._model.isNew
            ? 'Create'
            : 'Save';
      }
    }
  }

  private _model: ScheduleEditorModel;
  private _acceptIndex: number;
  private _saved: Schedule | null = null;
}

/** The dialog's body: the form (its value is the saved schedule). */
class ScheduleEditorBody extends ReactWidget {
  constructor(model: ScheduleEditorModel) {
    super();
    this._model = model;
    this.addClass('mlops-ScheduleEditor');
  }

  /** What the dialog resolves with: the saved schedule (set by `editSchedule`). */
  value: () => Schedule | null = () => null;

  getValue(): Schedule | null {
    return this.value();
  }

  protected render(): JSX.Element {
    return (
      <UseSignal signal={this._model.changed}>
        {() => <ScheduleEditorForm model={this._model} />}
      </UseSignal>
    );
  }

  private _model: ScheduleEditorModel;
}

function ScheduleEditorForm({
  model
}: {
  model: ScheduleEditorModel;
}): JSX.Element {
  const form = model.form;
  const zones = React.useMemo(() => knownTimezones(), []);
  const disabled = model.saving;
  const text =
    (field: 'name' | 'path' | 'experiment' | 'timezone') =>
    (ev: React.ChangeEvent<HTMLInputElement>) =>
      model.set(field, ev.target.value);
  return (
    <div className="mlops-ScheduleForm">
      <Field label="Name" id="name" problem={model.problemOf('name')}>
        <input
          id="mlops-schedule-name"
          name="name"
          className="jp-mod-styled mlops-ScheduleInput"
          value={form.name}
          placeholder="e.g. nightly-train"
          disabled={disabled}
          spellCheck={false}
          autoComplete="off"
          onChange={text('name')}
        />
      </Field>

      <Field
        label="Runs"
        id="path"
        problem={model.problemOf('path')}
        help={
          form.kind === 'pipeline'
            ? 'A pipeline file (.yaml), relative to the Jupyter root.'
            : 'A notebook (.ipynb), relative to the Jupyter root; run with papermill.'
        }
      >
        <div className="mlops-ScheduleTarget">
          <div
            className="mlops-Segmented mlops-ScheduleKind"
            role="radiogroup"
            aria-label="What the schedule runs"
          >
            {(['notebook', 'pipeline'] as const).map(kind => (
              <button
                key={kind}
                type="button"
                role="radio"
                aria-checked={form.kind === kind}
                className={`mlops-SegmentedButton${form.kind === kind ? ' mlops-mod-active' : ''}`}
                disabled={disabled}
                onClick={() => model.set('kind', kind)}
              >
                {kind}
              </button>
            ))}
          </div>
          <input
            id="mlops-schedule-path"
            name="path"
            className="jp-mod-styled mlops-ScheduleInput mlops-SchedulePath"
            value={form.path}
            placeholder={
              form.kind === 'pipeline'
                ? 'e.g. pipelines/retrain.yaml'
                : 'e.g. notebooks/train.ipynb'
            }
            aria-label="Path"
            disabled={disabled}
            spellCheck={false}
            autoComplete="off"
            onChange={text('path')}
          />
        </div>
      </Field>

      <Field
        label="Cron"
        id="cron"
        problem={
          model.preview.kind === 'error' && model.preview.field === 'cron'
            ? null
            : model.problemOf('cron')
        }
      >
        <div className="mlops-CronRow">
          <input
            id="mlops-schedule-cron"
            name="cron"
            className={`jp-mod-styled mlops-ScheduleInput mlops-CronInput${
              model.preview.kind === 'error' && model.preview.field === 'cron'
                ? ' mlops-mod-invalid'
                : ''
            }`}
            value={form.cron}
            placeholder="minute hour day month weekday"
            aria-label="Cron expression"
            aria-describedby="mlops-schedule-preview"
            disabled={disabled}
            spellCheck={false}
            autoComplete="off"
            onChange={ev => model.set('cron', ev.target.value)}
          />
        </div>
        <div className="mlops-CronPresets" aria-label="Common schedules">
          {CRON_PRESETS.map(p => (
            <button
              key={p.cron}
              type="button"
              className={`mlops-CronPreset${form.cron.trim() === p.cron ? ' mlops-mod-active' : ''}`}
              title={p.cron}
              disabled={disabled}
              onClick={() => model.set('cron', p.cron)}
            >
              {p.label}
            </button>
          ))}
        </div>
        <CronPreview state={model.preview} timezone={form.timezone} />
      </Field>

      <Field label="Timezone" id="timezone" problem={timezoneProblem(model)}>
        <input
          id="mlops-schedule-timezone"
          name="timezone"
          className="jp-mod-styled mlops-ScheduleInput mlops-TimezoneInput"
          value={form.timezone}
          list="mlops-schedule-timezones"
          placeholder="UTC"
          disabled={disabled}
          spellCheck={false}
          autoComplete="off"
          onChange={text('timezone')}
        />
        <datalist id="mlops-schedule-timezones">
          {zones.map(z => (
            <option key={z} value={z} />
          ))}
        </datalist>
      </Field>

      <Field
        label="Parameters"
        id="parameters"
        problem={model.problemOf('parameters')}
        help={
          form.kind === 'pipeline'
            ? 'A JSON object passed to the pipeline (its steps reference them).'
            : 'A JSON object injected by papermill into the notebook’s parameters cell.'
        }
      >
        <textarea
          id="mlops-schedule-parameters"
          name="parameters"
          className={`jp-mod-styled mlops-ScheduleInput mlops-ParametersInput${
            model.problemOf('parameters') ? ' mlops-mod-invalid' : ''
          }`}
          value={form.parameters}
          rows={Math.min(8, Math.max(2, form.parameters.split('\n').length))}
          spellCheck={false}
          disabled={disabled}
          onChange={ev => model.set('parameters', ev.target.value)}
          onBlur={() => model.checkParameters()}
        />
      </Field>

      <Field
        label="Experiment"
        id="experiment"
        problem={model.problemOf('experiment')}
        help="Where the runs are recorded; empty: the notebook’s own choice."
      >
        <input
          id="mlops-schedule-experiment"
          name="experiment"
          className="jp-mod-styled mlops-ScheduleInput"
          value={form.experiment}
          placeholder="optional"
          disabled={disabled}
          spellCheck={false}
          autoComplete="off"
          onChange={text('experiment')}
        />
      </Field>

      {model.isNew && (
        <label className="mlops-Toggle mlops-SchedulePaused">
          <input
            type="checkbox"
            checked={form.paused}
            disabled={disabled}
            onChange={ev => model.set('paused', ev.target.checked)}
          />
          Create paused (resume it from the panel)
        </label>
      )}

      {model.formError && (
        <div className="mlops-ActionError mlops-ScheduleError" role="alert">
          <strong>Not saved:</strong> {model.formError}
        </div>
      )}
    </div>
  );
}

/** The timezone's problem: the server's (save or preview) or none. */
function timezoneProblem(model: ScheduleEditorModel): string | null {
  if (model.preview.kind === 'error' && model.preview.field === 'timezone') {
    return model.preview.message;
  }
  return model.problemOf('timezone');
}

/** A labelled field with its help line or its problem. */
function Field(props: {
  label: string;
  id: ScheduleField;
  problem?: string | null;
  help?: string;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <div
      className={`mlops-ScheduleField${props.problem ? ' mlops-mod-problem' : ''}`}
      data-field={props.id}
    >
      <label
        className="mlops-ScheduleLabel"
        htmlFor={`mlops-schedule-${props.id}`}
      >
        {props.label}
      </label>
      <div className="mlops-ScheduleControl">
        {props.children}
        {props.problem ? (
          <div className="mlops-FieldProblem" role="alert">
            {props.problem}
          </div>
        ) : (
          props.help && (
            <div className="mlops-Muted mlops-FieldHelp">{props.help}</div>
          )
        )}
      </div>
    </div>
  );
}

/** What the cron expression means: its words and next times, or the server's message. */
function CronPreview(props: {
  state: PreviewState;
  timezone: string;
}): JSX.Element {
  const { state } = props;
  const now = Date.now();
  return (
    <div
      id="mlops-schedule-preview"
      className={`mlops-CronPreview mlops-preview-${state.kind}`}
      aria-live="polite"
    >
      {state.kind === 'empty' && (
        <span className="mlops-Muted">
          Five fields: minute hour day-of-month month day-of-week.
        </span>
      )}
      {state.kind === 'loading' && (
        <span className="mlops-Muted">Reading the expression…</span>
      )}
      {state.kind === 'error' && state.field === 'cron' && (
        <span className="mlops-FieldProblem mlops-CronError" role="alert">
          {state.message}
        </span>
      )}
      {state.kind === 'error' && state.field === 'timezone' && (
        <span className="mlops-Muted">
          The next times show once the timezone is known.
        </span>
      )}
      {state.kind === 'ok' && (
        <>
          <div className="mlops-CronDescription">
            {state.preview.description}
          </div>
          {state.preview.next.length > 0 ? (
            <ol className="mlops-CronNext" aria-label="Next runs">
              {state.preview.next.map(t => (
                <li key={t} title={new Date(t).toString()}>
                  <span className="mlops-CronNextTime">
                    {formatZoned(t, state.preview.timezone || props.timezone)}
                  </span>{' '}
                  <span className="mlops-Muted">
                    {state.preview.timezone || props.timezone} ·{' '}
                    {formatUntil(t, now)}
                  </span>
                </li>
              ))}
            </ol>
          ) : (
            <span className="mlops-Muted">It never fires.</span>
          )}
        </>
      )}
    </div>
  );
}
