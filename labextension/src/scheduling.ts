/**
 * Pure helpers of the Schedules section and the schedule editor: a schedule's
 * state light, relative times ahead, firing durations and errors, the editor's
 * form (defaults, prefill from a path, local checks, the request it sends). No DOM,
 * no JupyterLab: unit-tested in Node.
 */
import type {
  Schedule,
  ScheduleFiring,
  SchedulePatch,
  ScheduleRequest,
  ScheduleTarget
} from './client';
import { formatDuration, formatTime, stripAnsi } from './format';

/** The light of a schedule's row. */
export type ScheduleState = 'running' | 'paused' | 'failed' | 'active';

/**
 * A schedule's state: a firing running now, else paused, else its last firing
 * failed, else active (missed firings have their own chip).
 */
export function scheduleState(
  schedule: Pick<Schedule, 'running' | 'paused' | 'last'>
): ScheduleState {
  if (schedule.running || schedule.last?.status === 'running') {
    return 'running';
  }
  if (schedule.paused) {
    return 'paused';
  }
  if (schedule.last?.status === 'failed') {
    return 'failed';
  }
  return 'active';
}

/** The words of a state light (its tooltip and aria-label). */
export function scheduleStateTitle(
  schedule: Pick<Schedule, 'running' | 'paused' | 'last'>
): string {
  switch (scheduleState(schedule)) {
    case 'running':
      return schedule.paused ? 'running now (paused)' : 'running now';
    case 'paused':
      return schedule.last?.status === 'failed'
        ? 'paused (its last run failed)'
        : 'paused';
    case 'failed':
      return 'active; its last run failed';
    default:
      return 'active';
  }
}

/**
 * A time ahead, relative: `in 40 s`, `in 12 min`, `in 3 h`, `in 2 d`; a time
 * passed (the server is about to fire) is `due now`.
 */
export function formatUntil(
  ms: number | null | undefined,
  now: number = Date.now()
): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) {
    return '—';
  }
  const delta = (ms - now) / 1000;
  if (delta < 1) {
    return 'due now';
  }
  if (delta < 60) {
    return `in ${Math.round(delta)} s`;
  }
  if (delta < 3600) {
    return `in ${Math.round(delta / 60)} min`;
  }
  if (delta < 86400 * 2) {
    const hours = delta / 3600;
    return `in ${hours < 10 ? Math.round(hours * 10) / 10 : Math.round(hours)} h`;
  }
  return `in ${Math.round(delta / 86400)} d`;
}

/** When a schedule runs next, in words (`next in 3 h`, `paused`). */
export function nextRunText(
  schedule: Pick<Schedule, 'paused' | 'next_run_at'>,
  now: number = Date.now()
): string {
  if (schedule.paused) {
    return 'paused';
  }
  if (schedule.next_run_at === null || schedule.next_run_at === undefined) {
    return 'no next run';
  }
  const until = formatUntil(schedule.next_run_at, now);
  return until === 'due now' ? 'due now' : `next ${until}`;
}

/** The tooltip of the next run: its local time and the schedule's cron and zone. */
export function nextRunTitle(
  schedule: Pick<Schedule, 'paused' | 'next_run_at' | 'cron' | 'timezone'>
): string {
  const when =
    schedule.paused || schedule.next_run_at === null
      ? 'No next run while paused'
      : `Next run ${formatTime(schedule.next_run_at)} (local time)`;
  return `${when}\ncron ${schedule.cron} (${schedule.timezone || 'UTC'})`;
}

/** How long a firing ran (seconds); null before it started or while missed. */
export function firingSeconds(
  firing: Pick<ScheduleFiring, 'started_at' | 'ended_at' | 'status'>,
  now: number = Date.now()
): number | null {
  if (typeof firing.started_at !== 'number') {
    return null;
  }
  const end =
    typeof firing.ended_at === 'number'
      ? firing.ended_at
      : firing.status === 'running'
        ? now
        : null;
  return end === null ? null : Math.max(0, (end - firing.started_at) / 1000);
}

/** A firing's duration for the history table (`—` when it did not run). */
export function firingDuration(
  firing: Pick<ScheduleFiring, 'started_at' | 'ended_at' | 'status'>,
  now: number = Date.now()
): string {
  return formatDuration(firingSeconds(firing, now));
}

/**
 * When a firing was due, for the history table: `14:30` today, `11-26 03:00` this
 * year, else the date (cron times have no seconds).
 */
export function formatFiringTime(
  ms: number | null | undefined,
  now: number = Date.now()
): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) {
    return '—';
  }
  const full = formatTime(ms);
  const today = formatTime(now);
  if (full.slice(0, 10) === today.slice(0, 10)) {
    return full.slice(11, 16);
  }
  if (full.slice(0, 4) === today.slice(0, 4)) {
    return full.slice(5, 16);
  }
  return full.slice(0, 10);
}

/** The first non-empty line of an error (the history shows it; the rest is a tooltip). */
export function firstLine(text: string | null | undefined): string {
  if (!text) {
    return '';
  }
  const line = stripAnsi(text)
    .split('\n')
    .map(l => l.trim())
    .find(l => l.length > 0);
  return line ?? '';
}

/** The words of a firing's trigger. */
export function triggerLabel(trigger: string): string {
  switch (trigger) {
    case 'cron':
      return 'cron';
    case 'manual':
      return 'manual';
    case 'catch-up':
      return 'catch-up';
    default:
      return trigger || '—';
  }
}

/** The tooltip of a firing's trigger. */
export function triggerTitle(trigger: string): string {
  switch (trigger) {
    case 'cron':
      return 'Fired by its cron expression';
    case 'manual':
      return 'Started by hand (Run now)';
    case 'catch-up':
      return 'Fired late, for a time missed while the server was down';
    default:
      return trigger;
  }
}

/** Counts for the section's toolbar: `3 schedules · 1 paused · 1 failing`. */
export function scheduleCounts(schedules: Schedule[]): string {
  const n = schedules.length;
  const parts = [`${n} schedule${n === 1 ? '' : 's'}`];
  const running = schedules.filter(s => scheduleState(s) === 'running').length;
  const paused = schedules.filter(s => s.paused).length;
  const failed = schedules.filter(s => scheduleState(s) === 'failed').length;
  if (running) {
    parts.push(`${running} running`);
  }
  if (paused) {
    parts.push(`${paused} paused`);
  }
  if (failed) {
    parts.push(`${failed} failing`);
  }
  return parts.join(' · ');
}

/** The target kind a file path implies: `.ipynb` notebook, `.yaml`/`.yml` pipeline. */
export function targetKindOf(
  path: string | null | undefined
): 'notebook' | 'pipeline' | null {
  const lower = (path ?? '').trim().toLowerCase();
  if (lower.endsWith('.ipynb')) {
    return 'notebook';
  }
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) {
    return 'pipeline';
  }
  return null;
}

/** A file browser path (`drive:dir/x.ipynb` or `/dir/x.ipynb`) relative to the root. */
export function rootRelative(path: string): string {
  const local = path.includes(':') ? path.slice(path.indexOf(':') + 1) : path;
  return local.replace(/^\/+/, '');
}

/** The file name of a path without its extension: `examples/train.ipynb` → `train`. */
export function baseName(path: string): string {
  const file = path.split('/').pop() ?? path;
  const dot = file.lastIndexOf('.');
  return dot > 0 ? file.slice(0, dot) : file;
}

/** The schedule editor's fields, as the user typed them. */
export interface ScheduleForm {
  name: string;
  kind: 'notebook' | 'pipeline';
  path: string;
  cron: string;
  timezone: string;
  /** JSON text of an object. */
  parameters: string;
  experiment: string;
  /** Only when creating: start paused. */
  paused: boolean;
}

/** The cron expression a new schedule starts from: every day at 02:00. */
export const DEFAULT_CRON = '0 2 * * *';

/** A few expressions to start from (the editor's presets). */
export const CRON_PRESETS: { label: string; cron: string }[] = [
  { label: 'hourly', cron: '0 * * * *' },
  { label: 'daily 02:00', cron: '0 2 * * *' },
  { label: 'weekdays 09:00', cron: '0 9 * * 1-5' },
  { label: 'Mondays 06:00', cron: '0 6 * * 1' },
  { label: 'monthly, 1st', cron: '0 3 1 * *' }
];

/** The form of a new schedule, prefilled from a file's path when there is one. */
export function newScheduleForm(path?: string | null): ScheduleForm {
  const file = path ? rootRelative(path) : '';
  const kind = targetKindOf(file);
  return {
    name: kind ? `${baseName(file)}-nightly` : '',
    kind: kind ?? 'notebook',
    path: kind ? file : '',
    cron: DEFAULT_CRON,
    timezone: 'UTC',
    parameters: '{}',
    experiment: '',
    paused: false
  };
}

/** The form of an existing schedule. */
export function scheduleForm(schedule: Schedule): ScheduleForm {
  const params = schedule.parameters ?? {};
  return {
    name: schedule.name,
    kind: schedule.target?.kind === 'pipeline' ? 'pipeline' : 'notebook',
    path: schedule.target?.path ?? '',
    cron: schedule.cron,
    timezone: schedule.timezone || 'UTC',
    parameters: Object.keys(params).length
      ? JSON.stringify(params, null, 2)
      : '{}',
    experiment: schedule.experiment ?? '',
    paused: schedule.paused
  };
}

/** The outcome of reading the parameters field. */
export type ParsedParameters =
  { ok: true; value: Record<string, unknown> } | { ok: false; error: string };

/** The parameters field as an object (empty text: none). */
export function parseParameters(text: string): ParsedParameters {
  if (!text.trim()) {
    return { ok: true, value: {} };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (reason) {
    const detail = reason instanceof Error ? reason.message : String(reason);
    return { ok: false, error: `Not valid JSON: ${detail}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      ok: false,
      error:
        'Parameters must be a JSON object of names to values, e.g. {"alpha": 0.5}'
    };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** The field names the editor shows problems under (the server's `field` too). */
export type ScheduleField =
  'name' | 'path' | 'cron' | 'timezone' | 'parameters' | 'experiment' | 'form';

/** The editor field a server error's `field` names (`target.path` → `path`). */
export function formField(field: string | null | undefined): ScheduleField {
  switch ((field ?? '').replace(/^target\./, '')) {
    case 'name':
      return 'name';
    case 'path':
    case 'target':
    case 'kind':
      return 'path';
    case 'cron':
      return 'cron';
    case 'timezone':
      return 'timezone';
    case 'parameters':
      return 'parameters';
    case 'experiment':
      return 'experiment';
    default:
      return 'form';
  }
}

/** Problems the form has before anything is sent, by field. */
export function checkForm(
  form: ScheduleForm
): Partial<Record<ScheduleField, string>> {
  const problems: Partial<Record<ScheduleField, string>> = {};
  if (!form.name.trim()) {
    problems.name = 'Give the schedule a name.';
  }
  if (!form.path.trim()) {
    problems.path = `The path of the ${form.kind === 'pipeline' ? 'pipeline (.yaml)' : 'notebook (.ipynb)'} to run, relative to the Jupyter root.`;
  } else {
    const implied = targetKindOf(form.path);
    if (implied && implied !== form.kind) {
      problems.path =
        implied === 'notebook'
          ? 'A .ipynb file is a notebook: choose the kind "notebook".'
          : 'A .yaml file is a pipeline: choose the kind "pipeline".';
    }
  }
  if (!form.cron.trim()) {
    problems.cron = 'A cron expression, e.g. 0 2 * * * (every day at 02:00).';
  }
  const params = parseParameters(form.parameters);
  if (!params.ok) {
    problems.parameters = params.error;
  }
  return problems;
}

/** The body of `POST schedules` for a checked form. */
export function scheduleRequest(form: ScheduleForm): ScheduleRequest {
  const params = parseParameters(form.parameters);
  const target: ScheduleTarget = { kind: form.kind, path: form.path.trim() };
  const request: ScheduleRequest = {
    name: form.name.trim(),
    cron: form.cron.trim(),
    target,
    parameters: params.ok ? params.value : {},
    experiment: form.experiment.trim() || null,
    timezone: form.timezone.trim() || 'UTC'
  };
  if (form.paused) {
    request.paused = true;
  }
  return request;
}

/**
 * The body of `PATCH schedules/{id}`: the fields that differ from the schedule
 * (empty when nothing changed). Pausing stays a separate action.
 */
export function schedulePatch(
  schedule: Schedule,
  form: ScheduleForm
): SchedulePatch {
  const next = scheduleRequest(form);
  const patch: SchedulePatch = {};
  if (next.name !== schedule.name) {
    patch.name = next.name;
  }
  if (next.cron !== schedule.cron) {
    patch.cron = next.cron;
  }
  if ((next.timezone ?? 'UTC') !== (schedule.timezone || 'UTC')) {
    patch.timezone = next.timezone;
  }
  if (
    next.target.kind !== schedule.target?.kind ||
    next.target.path !== schedule.target?.path
  ) {
    patch.target = next.target;
  }
  if (
    JSON.stringify(next.parameters ?? {}) !==
    JSON.stringify(schedule.parameters ?? {})
  ) {
    patch.parameters = next.parameters;
  }
  if ((next.experiment ?? null) !== (schedule.experiment ?? null)) {
    patch.experiment = next.experiment ?? null;
  }
  return patch;
}

/** Parameters in one line for a row's details (`{"alpha": 0.5}`; none: `—`). */
export function parametersText(
  parameters: Record<string, unknown> | null | undefined
): string {
  const entries = Object.entries(parameters ?? {});
  if (!entries.length) {
    return '—';
  }
  return entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');
}

/**
 * A time in a timezone as `Wed 2025-01-08 02:00` (the browser's own zone when the
 * name is unknown to it).
 */
export function formatZoned(ms: number, timezone: string): string {
  let parts: Intl.DateTimeFormatPart[];
  const options: Intl.DateTimeFormatOptions = {
    weekday: 'short',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23'
  };
  try {
    parts = new Intl.DateTimeFormat('en-US', {
      ...options,
      timeZone: timezone || 'UTC'
    }).formatToParts(ms);
  } catch {
    parts = new Intl.DateTimeFormat('en-US', options).formatToParts(ms);
  }
  const part = (type: string) => parts.find(p => p.type === type)?.value ?? '';
  return `${part('weekday')} ${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')}`;
}

/** The timezone names the browser knows (the editor's suggestions). */
export function knownTimezones(): string[] {
  const supported = (Intl as any).supportedValuesOf as
    ((key: string) => string[]) | undefined;
  let zones: string[] = [];
  try {
    zones = supported ? supported('timeZone') : [];
  } catch {
    zones = [];
  }
  return zones.includes('UTC') ? zones : ['UTC', ...zones];
}
