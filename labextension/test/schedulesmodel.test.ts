import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  MlopsApiError,
  MlopsClient,
  Schedule,
  ScheduleDetail,
  SchedulePatch
} from '../src/client';
import { SchedulesModel } from '../src/schedulesmodel';
import { firing, schedule } from './schedulefixtures';

/** A fake client with a mutable store of schedules and their firings. */
function fakeClient(store: Schedule[]) {
  const calls: string[] = [];
  const history = new Map<string, ReturnType<typeof firing>[]>();
  let fail: Error | null = null;
  const find = (ref: string) => {
    const found = store.find(s => s.id === ref || s.name === ref);
    if (!found) {
      throw new MlopsApiError(404, 'not_found', `no schedule ${ref}`);
    }
    return found;
  };
  const client = {
    listSchedules: async () => {
      calls.push('list');
      if (fail) {
        throw fail;
      }
      return store.map(s => ({ ...s }));
    },
    getSchedule: async (ref: string, limit?: number) => {
      calls.push(`get ${ref} ${limit}`);
      const s = find(ref);
      return { ...s, history: history.get(s.id) ?? [] } as ScheduleDetail;
    },
    patchSchedule: async (ref: string, patch: SchedulePatch) => {
      calls.push(`patch ${ref} ${JSON.stringify(patch)}`);
      const s = find(ref);
      Object.assign(s, patch);
      if (patch.paused !== undefined) {
        s.next_run_at = patch.paused ? null : 9_000_000;
      }
      return { ...s };
    },
    deleteSchedule: async (ref: string) => {
      calls.push(`delete ${ref}`);
      const s = find(ref);
      store.splice(store.indexOf(s), 1);
      return s.id;
    },
    runSchedule: async (ref: string) => {
      calls.push(`run ${ref}`);
      const s = find(ref);
      if (s.running) {
        throw new MlopsApiError(409, 'conflict', `${s.name} is running`);
      }
      s.running = true;
      const f = firing('manual', 'running', 7, { trigger: 'manual' });
      history.set(s.id, [f, ...(history.get(s.id) ?? [])]);
      s.last = f;
      return f;
    },
    createSchedule: async (request: any) => {
      calls.push(`create ${request.name}`);
      const s = schedule(`id-${request.name}`, request.name, {
        cron: request.cron
      });
      store.push(s);
      return { ...s };
    }
  } as unknown as MlopsClient;
  return {
    client,
    calls,
    history,
    setFail: (error: Error | null) => (fail = error)
  };
}

test('refresh loads the schedules; re-renders only on change', async () => {
  const store = [schedule('s1', 'nightly'), schedule('s2', 'weekly')];
  const { client, calls } = fakeClient(store);
  const model = new SchedulesModel({ client });
  let emits = 0;
  model.changed.connect(() => emits++);
  const before = model.schedules;
  assert.equal(before, null);
  await model.refresh();
  assert.deepEqual(
    model.schedules?.map(s => s.name),
    ['nightly', 'weekly']
  );
  assert.equal(emits, 1);
  await model.refresh();
  assert.equal(emits, 1, 'same data: no re-render');
  // A poll is one request while nothing is expanded.
  assert.deepEqual(calls, ['list', 'list']);
  store[0].paused = true;
  await model.refresh();
  assert.equal(emits, 2);
  assert.equal(model.find('s1')?.paused, true);
  model.dispose();
});

test('an unavailable server says so; the loaded schedules stay', async () => {
  const store = [schedule('s1', 'nightly')];
  const { client, setFail } = fakeClient(store);
  const model = new SchedulesModel({ client });
  await model.refresh();
  setFail(new MlopsApiError(404, 'http_404', 'Not Found'));
  await model.refresh();
  assert.match(model.error ?? '', /not available on this server/);
  assert.equal(model.schedules?.length, 1);
  setFail(null);
  await model.refresh();
  assert.equal(model.error, null);
  model.dispose();
});

test('expanding a schedule loads its history; polls reload it', async () => {
  const store = [schedule('s1', 'nightly')];
  const { client, calls, history } = fakeClient(store);
  history.set('s1', [firing('f1', 'succeeded', 100)]);
  const model = new SchedulesModel({ client, historyLimit: 10 });
  await model.refresh();
  await model.toggle('s1');
  assert.equal(model.isExpanded('s1'), true);
  assert.deepEqual(
    model.historyOf('s1')?.map(f => f.id),
    ['f1']
  );
  assert.ok(calls.includes('get s1 10'));
  history.set('s1', [
    firing('f2', 'missed', 200),
    firing('f1', 'succeeded', 100)
  ]);
  await model.refresh();
  assert.deepEqual(
    model.historyOf('s1')?.map(f => f.id),
    ['f2', 'f1']
  );
  await model.toggle('s1');
  assert.equal(model.isExpanded('s1'), false);
  calls.length = 0;
  await model.refresh();
  assert.deepEqual(calls, ['list']);
  model.dispose();
});

test('pause, resume and run now; a refusal shows on the row', async () => {
  const store = [schedule('s1', 'nightly')];
  const { client, calls } = fakeClient(store);
  const model = new SchedulesModel({ client });
  await model.refresh();
  const paused = await model.setPaused('s1', true);
  assert.equal(paused?.paused, true);
  assert.equal(model.find('s1')?.paused, true);
  assert.equal(model.find('s1')?.next_run_at, null);
  await model.setPaused('s1', false);
  assert.equal(model.find('s1')?.paused, false);
  assert.ok(calls.includes('patch s1 {"paused":true}'));
  assert.ok(calls.includes('patch s1 {"paused":false}'));

  const fired = await model.runNow('s1');
  assert.equal(fired?.status, 'running');
  assert.equal(model.find('s1')?.running, true);
  assert.equal(model.errorOf('s1'), null);
  // It is running already: the server's 409 is shown on the row.
  const again = await model.runNow('s1');
  assert.equal(again, null);
  assert.match(model.errorOf('s1') ?? '', /^Cannot run: nightly is running/);
  assert.equal(model.isBusy('s1'), false);
  model.dispose();
});

test('delete removes the row; save creates or patches and reloads', async () => {
  const store = [schedule('s1', 'nightly')];
  const { client } = fakeClient(store);
  const model = new SchedulesModel({ client });
  await model.refresh();
  const created = await model.save({
    name: 'another',
    cron: '0 * * * *',
    target: { kind: 'notebook', path: 'x.ipynb' }
  });
  assert.equal(created.name, 'another');
  assert.equal(model.lastSaved, 'id-another');
  assert.deepEqual(
    model.schedules?.map(s => s.name),
    ['another', 'nightly']
  );
  const changed = await model.save({ cron: '0 3 * * *' }, 's1');
  assert.equal(changed.cron, '0 3 * * *');
  assert.equal(model.find('s1')?.cron, '0 3 * * *');
  assert.equal(await model.remove('s1'), true);
  assert.deepEqual(
    model.schedules?.map(s => s.name),
    ['another']
  );
  // A schedule deleted elsewhere: the 404 shows on the row.
  assert.equal(await model.remove('s1'), false);
  assert.match(model.errorOf('s1') ?? '', /Cannot delete: no schedule s1/);
  model.dispose();
});
