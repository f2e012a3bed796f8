import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  checkForm,
  firingDuration,
  firstLine,
  formatUntil,
  formatZoned,
  formField,
  newScheduleForm,
  nextRunText,
  parametersText,
  parseParameters,
  rootRelative,
  scheduleCounts,
  scheduleForm,
  schedulePatch,
  scheduleRequest,
  scheduleState,
  scheduleStateTitle,
  targetKindOf
} from '../src/scheduling';
import { firing, schedule } from './schedulefixtures';

test('scheduleState: running, then paused, then a failed last run, else active', () => {
  assert.equal(scheduleState(schedule('a', 'a')), 'active');
  assert.equal(scheduleState(schedule('a', 'a', { paused: true })), 'paused');
  const failed = firing('f', 'failed', 1);
  assert.equal(scheduleState(schedule('a', 'a', { last: failed })), 'failed');
  assert.equal(
    scheduleState(schedule('a', 'a', { last: failed, paused: true })),
    'paused'
  );
  assert.equal(
    scheduleStateTitle(schedule('a', 'a', { last: failed, paused: true })),
    'paused (its last run failed)'
  );
  assert.equal(
    scheduleState(schedule('a', 'a', { running: true, paused: true })),
    'running'
  );
  assert.equal(
    scheduleState(schedule('a', 'a', { last: firing('r', 'running', 1) })),
    'running'
  );
  // A missed firing alone does not make a schedule fail (it has its chip).
  assert.equal(
    scheduleState(
      schedule('a', 'a', { last: firing('m', 'missed', 1), missed: 1 })
    ),
    'active'
  );
});

test('formatUntil and nextRunText: relative times ahead', () => {
  const now = 1_000_000;
  assert.equal(formatUntil(now + 40_000, now), 'in 40 s');
  assert.equal(formatUntil(now + 12 * 60_000, now), 'in 12 min');
  assert.equal(formatUntil(now + 3 * 3600_000, now), 'in 3 h');
  assert.equal(formatUntil(now + 2.5 * 3600_000, now), 'in 2.5 h');
  assert.equal(formatUntil(now + 30 * 3600_000, now), 'in 30 h');
  assert.equal(formatUntil(now + 5 * 86400_000, now), 'in 5 d');
  assert.equal(formatUntil(now - 5000, now), 'due now');
  assert.equal(formatUntil(null, now), '—');
  const s = schedule('a', 'a', { next_run_at: now + 3 * 3600_000 });
  assert.equal(nextRunText(s, now), 'next in 3 h');
  assert.equal(
    nextRunText({ ...s, paused: true, next_run_at: null }, now),
    'paused'
  );
  assert.equal(nextRunText({ ...s, next_run_at: now - 1 }, now), 'due now');
});

test('firing durations and first lines of errors', () => {
  const done = firing('f', 'succeeded', 0);
  assert.equal(firingDuration(done), '1 min 00 s');
  assert.equal(firingDuration(firing('m', 'missed', 0)), '—');
  const running = firing('r', 'running', 0);
  assert.equal(firingDuration(running, 31_000), '30 s');
  assert.equal(
    firstLine('\n\x1b[0;31mcell 3 (In [3]) raised KeyError: x\x1b[0m\nsource'),
    'cell 3 (In [3]) raised KeyError: x'
  );
  assert.equal(firstLine(null), '');
});

test('scheduleCounts sums up the section', () => {
  assert.equal(scheduleCounts([schedule('a', 'a')]), '1 schedule');
  assert.equal(
    scheduleCounts([
      schedule('a', 'a', { paused: true }),
      schedule('b', 'b', { last: firing('f', 'failed', 1) }),
      schedule('c', 'c', { running: true })
    ]),
    '3 schedules · 1 running · 1 paused · 1 failing'
  );
});

test('a new schedule is prefilled from a notebook or a pipeline path', () => {
  assert.equal(targetKindOf('a/b.ipynb'), 'notebook');
  assert.equal(targetKindOf('p.YAML'), 'pipeline');
  assert.equal(targetKindOf('p.yml'), 'pipeline');
  assert.equal(targetKindOf('data.csv'), null);
  assert.equal(rootRelative('/examples/train.ipynb'), 'examples/train.ipynb');
  assert.equal(rootRelative('RTC:examples/x.ipynb'), 'examples/x.ipynb');
  const nb = newScheduleForm('examples/train.ipynb');
  assert.equal(nb.kind, 'notebook');
  assert.equal(nb.path, 'examples/train.ipynb');
  assert.equal(nb.name, 'train-nightly');
  assert.equal(nb.cron, '0 2 * * *');
  assert.equal(nb.timezone, 'UTC');
  assert.equal(nb.parameters, '{}');
  const pipeline = newScheduleForm('examples/pipeline/pipeline.yaml');
  assert.equal(pipeline.kind, 'pipeline');
  // A file a schedule cannot run is not prefilled.
  const other = newScheduleForm('data.csv');
  assert.equal(other.path, '');
  assert.equal(other.name, '');
  assert.equal(newScheduleForm().kind, 'notebook');
});

test('parseParameters accepts a JSON object only', () => {
  assert.deepEqual(parseParameters(''), { ok: true, value: {} });
  assert.deepEqual(parseParameters('{"alpha": 0.5}'), {
    ok: true,
    value: { alpha: 0.5 }
  });
  const notJson = parseParameters('{alpha: 1}');
  assert.equal(notJson.ok, false);
  assert.match((notJson as { error: string }).error, /Not valid JSON/);
  for (const text of ['[1, 2]', '3', 'null', '"x"']) {
    const parsed = parseParameters(text);
    assert.equal(parsed.ok, false, text);
    assert.match((parsed as { error: string }).error, /JSON object/);
  }
});

test('checkForm names each problem by field before anything is sent', () => {
  const form = newScheduleForm('examples/train.ipynb');
  assert.deepEqual(checkForm(form), {});
  const problems = checkForm({
    ...form,
    name: ' ',
    cron: '',
    parameters: '[1]'
  });
  assert.deepEqual(Object.keys(problems).sort(), [
    'cron',
    'name',
    'parameters'
  ]);
  assert.match(checkForm({ ...form, kind: 'pipeline' }).path ?? '', /notebook/);
  assert.match(checkForm({ ...form, path: '' }).path ?? '', /relative/);
});

test('scheduleRequest and schedulePatch build the bodies of POST and PATCH', () => {
  const form = {
    ...newScheduleForm('examples/train.ipynb'),
    parameters: '{"alpha": 1}',
    experiment: '  nightly ',
    paused: true
  };
  assert.deepEqual(scheduleRequest(form), {
    name: 'train-nightly',
    cron: '0 2 * * *',
    target: { kind: 'notebook', path: 'examples/train.ipynb' },
    parameters: { alpha: 1 },
    experiment: 'nightly',
    timezone: 'UTC',
    paused: true
  });
  const existing = schedule('s1', 'train');
  const same = scheduleForm(existing);
  assert.equal(same.parameters, '{\n  "alpha": 0.5\n}');
  assert.deepEqual(schedulePatch(existing, same), {});
  assert.deepEqual(
    schedulePatch(existing, {
      ...same,
      cron: '0 3 * * *',
      timezone: 'Europe/Paris',
      parameters: '{"alpha": 0.7}',
      experiment: 'x'
    }),
    {
      cron: '0 3 * * *',
      timezone: 'Europe/Paris',
      parameters: { alpha: 0.7 },
      experiment: 'x'
    }
  );
  assert.deepEqual(
    schedulePatch(existing, {
      ...same,
      path: 'p/pipeline.yaml',
      kind: 'pipeline'
    }),
    { target: { kind: 'pipeline', path: 'p/pipeline.yaml' } }
  );
});

test('formField maps the server field of a 400 to the editor field', () => {
  assert.equal(formField('target'), 'path');
  assert.equal(formField('target.path'), 'path');
  assert.equal(formField('cron'), 'cron');
  assert.equal(formField('timezone'), 'timezone');
  assert.equal(formField('count'), 'form');
  assert.equal(formField(undefined), 'form');
});

test('formatZoned writes a time in the schedule timezone', () => {
  const t = Date.UTC(2025, 0, 8, 2, 0); // a Wednesday
  assert.equal(formatZoned(t, 'UTC'), 'Wed 2025-01-08 02:00');
  assert.equal(formatZoned(t, 'Asia/Tokyo'), 'Wed 2025-01-08 11:00');
  // An unknown zone falls back to the browser's (no exception).
  assert.match(formatZoned(t, 'Mars/Olympus'), /^\w{3} 2025-01-0\d \d\d:00$/);
});

test('parametersText shows parameters on one line', () => {
  assert.equal(parametersText({}), '—');
  assert.equal(
    parametersText({ alpha: 0.5, name: 'x' }),
    'alpha=0.5, name="x"'
  );
});
