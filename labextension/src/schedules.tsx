/**
 * The side panel's Schedules section: one row per cron schedule of a notebook or a
 * pipeline (state light, cron in words, target, next run, last firing, missed
 * firings, actions), its firing history when expanded, and "New schedule".
 */
import {
  addIcon,
  caretDownIcon,
  caretRightIcon,
  deleteIcon,
  editIcon,
  LabIcon,
  pauseIcon,
  runIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { Schedule, ScheduleFiring } from './client';
import { StatusChip } from './alerts';
import { EmptyInline, ErrorBanner, Snippet } from './common';
import { formatRelative, formatTime, shortId, stripAnsi } from './format';
import {
  firingDuration,
  firstLine,
  formatFiringTime,
  nextRunText,
  nextRunTitle,
  parametersText,
  scheduleCounts,
  scheduleState,
  scheduleStateTitle,
  triggerLabel,
  triggerTitle
} from './scheduling';
import { SchedulesModel } from './schedulesmodel';

export const SCHEDULE_SNIPPET = `import mlops_jlab as mlops
mlops.create_schedule("nightly-train", "0 2 * * *", "train.ipynb",
                      parameters={"alpha": 0.5})`;

/** What the rows' buttons do (the same commands as their context menu). */
export interface IScheduleActions {
  create: () => void;
  edit: (schedule: Schedule) => void;
  remove: (schedule: Schedule) => void;
  runNow: (schedule: Schedule) => void;
  setPaused: (schedule: Schedule, paused: boolean) => void;
  openRun: (runId: string) => void;
}

/** Re-render every `ms` (relative times such as "next in 3 min" stay true). */
function useNow(ms: number): number {
  const [now, setNow] = React.useState(() => Date.now());
  React.useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

/** The section's content. */
export function SchedulesView(props: {
  model: SchedulesModel;
  actions: IScheduleActions;
}): JSX.Element {
  const { model, actions } = props;
  const schedules = model.schedules;
  const now = useNow(20000);
  if (schedules === null) {
    return model.error ? (
      <div className="mlops-Empty">
        <ErrorBanner role="alert">{model.error}</ErrorBanner>
      </div>
    ) : (
      <div className="mlops-Empty mlops-Muted">Loading…</div>
    );
  }
  return (
    <div className="mlops-Schedules">
      {model.error && <ErrorBanner role="alert">{model.error}</ErrorBanner>}
      <div className="mlops-SchedulesToolbar">
        <button
          className="jp-Button jp-mod-styled jp-mod-accept mlops-SmallButton mlops-NewSchedule"
          title="Schedule a notebook or a pipeline (MLOps: New schedule…)"
          onClick={actions.create}
        >
          <addIcon.react tag="span" className="mlops-ButtonIcon" />
          New schedule
        </button>
        <span className="mlops-Spacer" />
        {schedules.length > 0 && (
          <span className="mlops-Muted mlops-ScheduleCounts">
            {scheduleCounts(schedules)}
          </span>
        )}
      </div>
      {schedules.length === 0 ? (
        <div className="mlops-Empty mlops-EmptySchedules">
          <p>
            <strong>No schedules yet.</strong> Run a notebook (with papermill)
            or a pipeline on a cron schedule: the server runs it and records
            each run here.
          </p>
          <p>
            Right-click a notebook or a pipeline file in the file browser, or
            from a notebook:
          </p>
          <Snippet text={SCHEDULE_SNIPPET} />
        </div>
      ) : (
        <ul className="mlops-ScheduleList" aria-label="Schedules">
          {schedules.map(s => (
            <ScheduleItem
              key={s.id}
              schedule={s}
              model={model}
              actions={actions}
              now={now}
            />
          ))}
        </ul>
      )}
    </div>
  );
}

/** The state light of a schedule: green active, grey paused, red failed, blue running. */
function ScheduleLight({ schedule }: { schedule: Schedule }): JSX.Element {
  const state = scheduleState(schedule);
  const title = scheduleStateTitle(schedule);
  return (
    <span
      className={`mlops-StatusLight mlops-schedule-${state}`}
      data-state={state}
      title={title}
      aria-label={title}
      role="img"
    />
  );
}

/** A small icon button of a row. */
function RowButton(props: {
  icon: LabIcon;
  label: string;
  className: string;
  disabled?: boolean;
  pressed?: boolean;
  onClick: () => void;
}): JSX.Element {
  return (
    <button
      className={`mlops-IconButton ${props.className}${props.pressed ? ' mlops-mod-pressed' : ''}`}
      title={props.label}
      aria-label={props.label}
      aria-pressed={props.pressed}
      disabled={props.disabled}
      onClick={ev => {
        ev.stopPropagation();
        props.onClick();
      }}
      onKeyDown={ev => ev.stopPropagation()}
    >
      <props.icon.react tag="span" />
    </button>
  );
}

function ScheduleItem(props: {
  schedule: Schedule;
  model: SchedulesModel;
  actions: IScheduleActions;
  now: number;
}): JSX.Element {
  const { schedule: s, model, actions, now } = props;
  const expanded = model.isExpanded(s.id);
  const busy = model.isBusy(s.id);
  const error = model.errorOf(s.id);
  const Caret = expanded ? caretDownIcon : caretRightIcon;
  const toggle = () => void model.toggle(s.id);
  const state = scheduleState(s);
  return (
    <li
      className={`mlops-ScheduleItem mlops-schedule-${state}${s.id === model.lastSaved ? ' mlops-mod-saved' : ''}`}
      data-schedule-id={s.id}
      data-schedule={s.name}
      data-paused={s.paused ? 'true' : 'false'}
      data-state={state}
    >
      <div
        className={`mlops-ScheduleRow${expanded ? ' mlops-mod-expanded' : ''}`}
        title={`${s.name}: ${expanded ? 'hide' : 'show'} its runs`}
        onClick={toggle}
      >
        <button
          className="mlops-ScheduleToggle"
          aria-expanded={expanded}
          aria-label={`${expanded ? 'Hide' : 'Show'} the runs of ${s.name}`}
          onClick={ev => {
            ev.stopPropagation();
            toggle();
          }}
        >
          <Caret.react tag="span" className="mlops-Caret" />
        </button>
        <ScheduleLight schedule={s} />
        <div className="mlops-ScheduleMain">
          <div className="mlops-ScheduleTitle">
            <span className="mlops-ScheduleName">{s.name}</span>
            {s.paused && (
              <span
                className="mlops-PausedFlag"
                title="Paused: it does not run until resumed"
              >
                paused
              </span>
            )}
            {s.missed > 0 && (
              <span
                className="mlops-MissedChip"
                title={`${s.missed} firing${s.missed === 1 ? ' was' : 's were'} missed while the server was down (among the last 50)`}
              >
                <span aria-hidden="true">⚠</span> {s.missed} missed
              </span>
            )}
          </div>
          <div className="mlops-ScheduleWhen">
            <span
              className="mlops-ScheduleCron"
              title={`cron ${s.cron} (${s.timezone || 'UTC'})`}
            >
              {s.description || s.cron}
            </span>
            {!s.paused && (
              <span className="mlops-ScheduleNext" title={nextRunTitle(s)}>
                {nextRunText(s, now)}
              </span>
            )}
          </div>
          <div className="mlops-ScheduleMeta">
            <span
              className={`mlops-ScheduleTargetKind mlops-kind-${s.target?.kind}`}
              title={s.target?.kind}
            >
              {s.target?.kind === 'pipeline' ? 'pipeline' : 'notebook'}
            </span>
            <span className="mlops-SchedulePathText" title={s.target?.path}>
              {s.target?.path}
            </span>
          </div>
          {s.last && (
            <LastFiring firing={s.last} now={now} openRun={actions.openRun} />
          )}
        </div>
        <div className="mlops-ScheduleActions">
          <RowButton
            icon={runIcon}
            label={`Run ${s.name} now`}
            className="mlops-RunNow"
            disabled={busy || s.running}
            onClick={() => actions.runNow(s)}
          />
          <RowButton
            icon={pauseIcon}
            label={s.paused ? `Resume ${s.name}` : `Pause ${s.name}`}
            className="mlops-PauseToggle"
            pressed={s.paused}
            disabled={busy}
            onClick={() => actions.setPaused(s, !s.paused)}
          />
          <RowButton
            icon={editIcon}
            label={`Edit ${s.name}`}
            className="mlops-EditSchedule"
            disabled={busy}
            onClick={() => actions.edit(s)}
          />
          <RowButton
            icon={deleteIcon}
            label={`Delete ${s.name}`}
            className="mlops-DeleteSchedule"
            disabled={busy}
            onClick={() => actions.remove(s)}
          />
        </div>
      </div>
      {error && (
        <div className="mlops-ActionError mlops-ScheduleRowError" role="alert">
          {error}
        </div>
      )}
      {expanded && (
        <ScheduleHistory
          schedule={s}
          model={model}
          now={now}
          openRun={actions.openRun}
        />
      )}
    </li>
  );
}

/** Stop a link's click from toggling its row. */
function runLink(
  runId: string,
  openRun: (runId: string) => void,
  className: string
): JSX.Element {
  return (
    <a
      className={`mlops-Link ${className}`}
      href="#"
      title={`Open run ${runId}`}
      onClick={ev => {
        ev.preventDefault();
        ev.stopPropagation();
        openRun(runId);
      }}
      onKeyDown={ev => ev.stopPropagation()}
    >
      run {shortId(runId, 6)}
    </a>
  );
}

/** The last firing of a schedule: status, when, and its run. */
function LastFiring(props: {
  firing: ScheduleFiring;
  now: number;
  openRun: (runId: string) => void;
}): JSX.Element {
  const f = props.firing;
  const when = f.started_at ?? f.scheduled_for;
  return (
    <div className="mlops-ScheduleLast" data-status={f.status}>
      <span className="mlops-Muted">last</span>
      <StatusChip
        status={f.status}
        title={`${f.status} (${triggerLabel(f.trigger)})${f.error ? `\n${stripAnsi(f.error)}` : ''}`}
      />
      <span className="mlops-Muted" title={formatTime(when)}>
        {formatRelative(when, props.now)}
      </span>
      {f.run_id && runLink(f.run_id, props.openRun, 'mlops-ScheduleLastRun')}
    </div>
  );
}

/** The firings of an expanded schedule, newest first, with its settings above. */
function ScheduleHistory(props: {
  schedule: Schedule;
  model: SchedulesModel;
  now: number;
  openRun: (runId: string) => void;
}): JSX.Element {
  const { schedule: s, model } = props;
  const history = model.historyOf(s.id);
  const error = model.historyError(s.id);
  return (
    <div className="mlops-ScheduleHistory">
      <dl className="mlops-ScheduleFacts">
        <div>
          <dt>cron</dt>
          <dd>
            <code>{s.cron}</code>{' '}
            <span className="mlops-Muted">{s.timezone}</span>
          </dd>
        </div>
        <div>
          <dt>parameters</dt>
          <dd title={JSON.stringify(s.parameters ?? {}, null, 2)}>
            <code>{parametersText(s.parameters)}</code>
          </dd>
        </div>
        <div>
          <dt>experiment</dt>
          <dd>
            {s.experiment ?? <span className="mlops-Muted">default</span>}
          </dd>
        </div>
        <div>
          <dt>created</dt>
          <dd title={formatTime(s.created_at)}>
            {formatRelative(s.created_at, props.now)} by {s.created_by}
          </dd>
        </div>
      </dl>
      {error && <div className="mlops-FilterError">{error}</div>}
      {history === null ? (
        !error && <EmptyInline>Loading runs…</EmptyInline>
      ) : history.length === 0 ? (
        <EmptyInline>
          Not run yet{s.paused ? ' (paused)' : ''}. “Run now” starts one.
        </EmptyInline>
      ) : (
        <table
          className="mlops-Table mlops-FiringTable"
          aria-label={`Runs of ${s.name}`}
        >
          <thead>
            <tr>
              <th>Scheduled for</th>
              <th>Trigger</th>
              <th>Status</th>
              <th className="mlops-col-num">Took</th>
              <th>Run</th>
            </tr>
          </thead>
          {history.map(f => (
            <FiringRows
              key={f.id}
              firing={f}
              now={props.now}
              openRun={props.openRun}
            />
          ))}
        </table>
      )}
    </div>
  );
}

/** A firing: one row, and a second one with the first line of its error. */
function FiringRows(props: {
  firing: ScheduleFiring;
  now: number;
  openRun: (runId: string) => void;
}): JSX.Element {
  const f = props.firing;
  // A missed firing's reason is its status chip's tooltip.
  const error = f.status === 'missed' ? '' : firstLine(f.error);
  return (
    <tbody
      className={`mlops-FiringRow mlops-firing-${f.status}`}
      data-firing-id={f.id}
      data-status={f.status}
      data-trigger={f.trigger}
    >
      <tr>
        <td title={formatTime(f.scheduled_for)}>
          {formatFiringTime(f.scheduled_for, props.now)}
        </td>
        <td title={triggerTitle(f.trigger)}>
          <span className={`mlops-Trigger mlops-trigger-${f.trigger}`}>
            {triggerLabel(f.trigger)}
          </span>
        </td>
        <td>
          <StatusChip
            status={f.status}
            title={
              f.status === 'missed'
                ? `Missed: ${stripAnsi(f.error ?? 'the server was not running at the scheduled time')}`
                : f.status
            }
          />
        </td>
        <td
          className="mlops-col-num"
          title={
            f.started_at
              ? `started ${formatTime(f.started_at)}${f.ended_at ? `\nended ${formatTime(f.ended_at)}` : ''}`
              : ''
          }
        >
          {firingDuration(f, props.now)}
        </td>
        <td>
          {f.run_id ? (
            runLink(f.run_id, props.openRun, 'mlops-FiringRun')
          ) : (
            <span className="mlops-Muted">—</span>
          )}
        </td>
      </tr>
      {error && (
        <tr className="mlops-FiringErrorRow">
          <td colSpan={5}>
            <div className="mlops-FiringError" title={stripAnsi(f.error ?? '')}>
              {error}
            </div>
          </td>
        </tr>
      )}
    </tbody>
  );
}
