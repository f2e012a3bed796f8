import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  Explanation,
  ExplanationSummary,
  MlopsApiError,
  MlopsClient
} from '../src/client';
import { ExplanationsModel } from '../src/explanationsmodel';
import { full, summary } from './explanationfixtures';

/** A client whose explanation routes answer from `list` and `records`. */
function fakeClient(state: {
  list: () => Promise<ExplanationSummary[]>;
  records?: Map<string, Explanation>;
}) {
  const fetched: string[] = [];
  const client = {
    listExplanations: async (name: string, version: number) => {
      assert.equal(name, 'iris-clf');
      assert.equal(version, 3);
      return state.list();
    },
    getExplanation: async (_name: string, _version: number, id: string) => {
      fetched.push(id);
      const record = state.records?.get(id);
      if (!record) {
        throw new MlopsApiError(
          404,
          'not_found',
          `explanation ${id} not found`
        );
      }
      return record;
    }
  } as unknown as MlopsClient;
  return { client, fetched };
}

function model(client: MlopsClient): ExplanationsModel {
  return new ExplanationsModel({ client, name: 'iris-clf', version: 3 });
}

test('the newest explanation is shown, fetched in full once', async () => {
  const newest = summary('e2', 2000);
  const older = summary('e1', 1000, { local_method: 'occlusion' });
  const records = new Map([
    ['e2', full(newest)],
    ['e1', full(older)]
  ]);
  const { client, fetched } = fakeClient({
    list: async () => [newest, older],
    records
  });
  const m = model(client);
  let emitted = 0;
  m.changed.connect(() => emitted++);
  assert.equal(m.summaries ?? 'not loaded', 'not loaded');
  await m.refresh();
  assert.deepEqual(
    m.summaries?.map(s => s.id),
    ['e2', 'e1']
  );
  assert.equal(m.selectedId, 'e2');
  assert.equal(m.current?.id, 'e2');
  assert.ok(emitted > 0);

  // Another one chosen: fetched; a refresh keeps the choice and fetches nothing.
  await m.select('e1');
  assert.equal(m.current?.local_method, 'occlusion');
  await m.refresh();
  assert.equal(m.selectedId, 'e1');
  assert.deepEqual(fetched, ['e2', 'e1']);

  // Choosing an id that is not listed changes nothing.
  await m.select('nope');
  assert.equal(m.selectedId, 'e1');
  m.dispose();
});

test('a new explanation becomes the shown one unless another was chosen', async () => {
  let list = [summary('e1', 1000)];
  const records = new Map([
    ['e1', full(list[0])],
    ['e2', full(summary('e2', 2000))]
  ]);
  const { client } = fakeClient({ list: async () => list, records });
  const m = model(client);
  await m.refresh();
  assert.equal(m.current?.id, 'e1');
  list = [summary('e2', 2000), ...list];
  await m.refresh();
  assert.equal(m.selectedId, 'e1', 'the shown one stays while it exists');
  list = [summary('e2', 2000)];
  await m.refresh();
  assert.equal(m.selectedId, 'e2');
  assert.equal(m.current?.id, 'e2');
  m.dispose();
});

test('no explanation: an empty list, nothing fetched', async () => {
  const { client, fetched } = fakeClient({ list: async () => [] });
  const m = model(client);
  await m.refresh();
  assert.deepEqual(m.summaries, []);
  assert.equal(m.selectedId, null);
  assert.equal(m.current, null);
  assert.equal(m.error, null);
  assert.deepEqual(fetched, []);
  m.dispose();
});

test('a server without the route: a readable message, no crash', async () => {
  const { client } = fakeClient({
    list: async () => {
      throw new MlopsApiError(404, 'http_404', 'Not Found');
    }
  });
  const m = model(client);
  await m.refresh();
  assert.equal(
    m.error,
    'Explanations are not available on this server (Not Found).'
  );
  assert.equal(m.summaries, null);
  m.dispose();
});

test('an unknown version (404 not_found) says so; a later success clears it', async () => {
  let fail = true;
  const s = summary('e1', 1);
  const { client } = fakeClient({
    list: async () => {
      if (fail) {
        throw new MlopsApiError(
          404,
          'not_found',
          'model iris-clf v3 not found'
        );
      }
      return [s];
    },
    records: new Map([['e1', full(s)]])
  });
  const m = model(client);
  await m.refresh();
  assert.equal(m.error, 'model iris-clf v3 not found');
  fail = false;
  await m.refresh();
  assert.equal(m.error, null);
  assert.equal(m.current?.id, 'e1');
  m.dispose();
});

test('the full record failing to load is reported beside the list', async () => {
  const { client } = fakeClient({ list: async () => [summary('e9', 1)] });
  const m = model(client);
  await m.refresh();
  assert.equal(m.selectedId, 'e9');
  assert.equal(m.current, null);
  assert.equal(m.currentError, 'explanation e9 not found');
  m.dispose();
});
