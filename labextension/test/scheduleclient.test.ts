import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ServerConnection } from '@jupyterlab/services';

import { MlopsApiError, MlopsClient } from '../src/client';
import { firing, schedule } from './schedulefixtures';

interface Call {
  url: string;
  method: string;
  body: unknown;
}

function fakeClient(respond: (call: Call) => Response): {
  client: MlopsClient;
  calls: Call[];
} {
  const calls: Call[] = [];
  const client = new MlopsClient({
    serverSettings: ServerConnection.makeSettings({
      baseUrl: 'http://localhost:8888/lab-base/',
      wsUrl: 'ws://localhost:8888/lab-base/'
    }),
    makeRequest: async (url, init) => {
      const call = {
        url,
        method: init.method ?? 'GET',
        body: init.body ? JSON.parse(String(init.body)) : undefined
      };
      calls.push(call);
      return respond(call);
    }
  });
  return { client, calls };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' }
  });
}

const API = 'http://localhost:8888/lab-base/mlops/api';

test('listSchedules and getSchedule', async () => {
  const { client, calls } = fakeClient(call =>
    call.url.endsWith('/schedules')
      ? json({ schedules: [schedule('s1', 'nightly')] })
      : json({
          ...schedule('s1', 'nightly'),
          history: [firing('f1', 'succeeded', 1)]
        })
  );
  const list = await client.listSchedules();
  assert.equal(list[0].name, 'nightly');
  const detail = await client.getSchedule('nightly run', 20);
  assert.equal(detail.history[0].id, 'f1');
  assert.deepEqual(
    calls.map(c => `${c.method} ${c.url}`),
    [`GET ${API}/schedules`, `GET ${API}/schedules/nightly%20run?limit=20`]
  );
});

test('create, patch, run now, delete and preview send the contract bodies', async () => {
  const { client, calls } = fakeClient(call => {
    if (call.url.endsWith('/preview')) {
      return json({
        cron: '0 2 * * *',
        timezone: 'UTC',
        description: 'At 02:00 every day',
        next: [1, 2, 3]
      });
    }
    if (call.url.endsWith('/run')) {
      return json(firing('f', 'running', 1, { trigger: 'manual' }), 202);
    }
    if (call.method === 'DELETE') {
      return json({ deleted: 's1' });
    }
    return json(schedule('s1', 'nightly'), call.method === 'POST' ? 201 : 200);
  });
  await client.createSchedule({
    name: 'nightly',
    cron: '0 2 * * *',
    target: { kind: 'notebook', path: 'examples/train.ipynb' },
    parameters: { alpha: 1 },
    experiment: null,
    timezone: 'UTC'
  });
  await client.patchSchedule('s1', { paused: true });
  const fired = await client.runSchedule('s1');
  assert.equal(fired.trigger, 'manual');
  assert.equal(await client.deleteSchedule('nightly'), 's1');
  const preview = await client.previewSchedule('0 2 * * *', 'UTC', 3);
  assert.deepEqual(preview.next, [1, 2, 3]);
  assert.deepEqual(
    calls.map(c => [c.method, c.url.slice(API.length), c.body]),
    [
      [
        'POST',
        '/schedules',
        {
          name: 'nightly',
          cron: '0 2 * * *',
          target: { kind: 'notebook', path: 'examples/train.ipynb' },
          parameters: { alpha: 1 },
          experiment: null,
          timezone: 'UTC'
        }
      ],
      ['PATCH', '/schedules/s1', { paused: true }],
      ['POST', '/schedules/s1/run', undefined],
      ['DELETE', '/schedules/nightly', undefined],
      [
        'POST',
        '/schedules/preview',
        { cron: '0 2 * * *', timezone: 'UTC', count: 3 }
      ]
    ]
  );
});

test('a bad cron expression: the 400 names its field', async () => {
  const { client } = fakeClient(() =>
    json(
      {
        error: 'bad_request',
        message: "cron '61 * * * *': minute 61 out of range",
        field: 'cron'
      },
      400
    )
  );
  await assert.rejects(client.previewSchedule('61 * * * *'), (e: unknown) => {
    assert.ok(e instanceof MlopsApiError);
    assert.equal(e.status, 400);
    assert.equal(e.field, 'cron');
    assert.match(e.message, /out of range/);
    return true;
  });
});

test('runNotebookHtml asks for a notebook artifact when given one', async () => {
  const { client, calls } = fakeClient(() => json({ html: '<p>out</p>' }));
  assert.equal(
    await client.runNotebookHtml('ab12', 'output/train.ipynb'),
    '<p>out</p>'
  );
  await client.runNotebookHtml('ab12', null);
  assert.deepEqual(
    calls.map(c => c.url.slice(API.length)),
    [
      '/runs/ab12/notebook?format=html&artifact=output%2Ftrain.ipynb',
      '/runs/ab12/notebook?format=html'
    ]
  );
});

test('runArtifactJson reads a JSON artifact by its path', async () => {
  const { client, calls } = fakeClient(() =>
    json({ data: [{ type: 'scatter' }], layout: {} })
  );
  const figure = await client.runArtifactJson<{ data: unknown[] }>(
    'p1',
    'sweep/summary.json'
  );
  assert.equal(figure.data.length, 1);
  assert.equal(
    calls[0].url.slice(API.length),
    '/runs/p1/artifacts/sweep/summary.json'
  );
});
