import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ServerConnection } from '@jupyterlab/services';

import { buildQuery, MlopsApiError, MlopsClient } from '../src/client';

interface Call {
  url: string;
  init: RequestInit;
}

function fakeClient(respond: (url: string) => Response | Promise<Response>): {
  client: MlopsClient;
  calls: Call[];
} {
  const calls: Call[] = [];
  const serverSettings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/lab-base/',
    wsUrl: 'ws://localhost:8888/lab-base/'
  });
  const client = new MlopsClient({
    serverSettings,
    makeRequest: async (url, init) => {
      calls.push({ url, init });
      return respond(url);
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

test('buildQuery skips empty values and encodes', () => {
  assert.equal(buildQuery({}), '');
  assert.equal(buildQuery({ a: undefined, b: null, c: '' }), '');
  assert.equal(
    buildQuery({ filter: "metrics.acc > 0.9 and params.m = 'rf'", limit: 10 }),
    "?filter=metrics.acc%20%3E%200.9%20and%20params.m%20%3D%20'rf'&limit=10"
  );
});

test('runs() builds the URL under {baseUrl}mlops/api', async () => {
  const { client, calls } = fakeClient(() =>
    json({ runs: [{ id: 'r1' }], next_page_token: 'tok' })
  );
  const page = await client.runs({
    experiment: 'quick start',
    filter: '  metrics.acc > 0.9 ',
    order_by: 'metrics.acc DESC',
    limit: 50,
    page_token: 'abc=='
  });
  assert.equal(calls.length, 1);
  assert.equal(calls[0].init.method, 'GET');
  const url = new URL(calls[0].url);
  assert.equal(url.pathname, '/lab-base/mlops/api/runs');
  assert.equal(url.searchParams.get('experiment'), 'quick start');
  assert.equal(url.searchParams.get('filter'), 'metrics.acc > 0.9');
  assert.equal(url.searchParams.get('order_by'), 'metrics.acc DESC');
  assert.equal(url.searchParams.get('limit'), '50');
  assert.equal(url.searchParams.get('page_token'), 'abc==');
  assert.deepEqual(page, { runs: [{ id: 'r1' }], next_page_token: 'tok' });
});

test('runs() without a query sends no parameters; null token normalised', async () => {
  const { client, calls } = fakeClient(() => json({ runs: [] }));
  const page = await client.runs();
  assert.equal(calls[0].url, 'http://localhost:8888/lab-base/mlops/api/runs');
  assert.deepEqual(page, { runs: [], next_page_token: null });
});

test('run ids and metric keys are path-encoded', async () => {
  const { client, calls } = fakeClient(() =>
    json({ run_id: 'r/1', key: 'val loss', history: [] })
  );
  await client.metricHistory('r/1', 'val loss');
  assert.equal(
    calls[0].url,
    'http://localhost:8888/lab-base/mlops/api/runs/r%2F1/metrics/val%20loss'
  );
});

test('experiments() and version()', async () => {
  const { client } = fakeClient(url =>
    url.endsWith('/version')
      ? json({ version: '0.1.0', api: 1 })
      : json({ experiments: [{ id: 'e1', name: 'quickstart' }] })
  );
  assert.deepEqual(await client.version(), { version: '0.1.0', api: 1 });
  const experiments = await client.experiments();
  assert.equal(experiments[0].name, 'quickstart');
});

test('a JSON error body becomes a typed MlopsApiError', async () => {
  const { client } = fakeClient(() =>
    json(
      {
        error: 'bad_filter',
        message: "unknown field 'metrics' at position 0: use metrics.<key>",
        position: 0
      },
      400
    )
  );
  await assert.rejects(
    client.runs({ filter: 'metrics > 1' }),
    (err: unknown) => {
      assert.ok(err instanceof MlopsApiError);
      assert.equal(err.status, 400);
      assert.equal(err.error, 'bad_filter');
      assert.equal(err.position, 0);
      assert.match(err.message, /unknown field/);
      assert.equal(err.isUnavailable, false);
      return true;
    }
  );
});

test('404 not_found is an API answer; an HTML 404 means the extension is missing', async () => {
  const api = fakeClient(() =>
    json({ error: 'not_found', message: 'no run x' }, 404)
  );
  await assert.rejects(api.client.run('x'), (err: unknown) => {
    assert.ok(err instanceof MlopsApiError);
    assert.equal(err.error, 'not_found');
    assert.equal(err.isUnavailable, false);
    return true;
  });
  const html = fakeClient(
    () =>
      new Response('<html>404 : Not Found</html>', {
        status: 404,
        statusText: 'Not Found'
      })
  );
  await assert.rejects(html.client.version(), (err: unknown) => {
    assert.ok(err instanceof MlopsApiError);
    assert.equal(err.status, 404);
    assert.equal(err.error, 'http_404');
    assert.equal(err.message, 'Not Found');
    assert.equal(err.isUnavailable, true);
    return true;
  });
});

test('Jupyter {"message","reason"} bodies and network failures', async () => {
  const forbidden = fakeClient(() =>
    json({ message: 'Forbidden', reason: null }, 403)
  );
  await assert.rejects(forbidden.client.experiments(), (err: unknown) => {
    assert.ok(err instanceof MlopsApiError);
    assert.equal(err.status, 403);
    assert.equal(err.error, 'http_403');
    assert.equal(err.message, 'Forbidden');
    return true;
  });
  const down = fakeClient(() => {
    throw new TypeError('Failed to fetch');
  });
  await assert.rejects(down.client.version(), (err: unknown) => {
    assert.ok(err instanceof MlopsApiError);
    assert.equal(err.status, 0);
    assert.equal(err.error, 'network');
    assert.equal(err.isUnavailable, true);
    return true;
  });
});

test('a non-JSON success answer is reported, not thrown raw', async () => {
  const { client } = fakeClient(() => new Response('<html>', { status: 200 }));
  await assert.rejects(client.experiments(), (err: unknown) => {
    assert.ok(err instanceof MlopsApiError);
    assert.equal(err.error, 'bad_response');
    return true;
  });
});

test('artifactUrl keeps the path structure and encodes each segment', () => {
  const { client } = fakeClient(() => json({}));
  assert.equal(
    client.artifactUrl('abc123', 'model/my model.skops'),
    'http://localhost:8888/lab-base/mlops/api/runs/abc123/artifacts/model/my%20model.skops'
  );
});

test('model registry GETs build encoded path segments', async () => {
  const { client, calls } = fakeClient(url =>
    url.includes('/lineage')
      ? json({ nodes: [], edges: [] })
      : url.includes('/validations')
        ? json({ validations: [{ id: 'v1' }] })
        : url.includes('/versions?') || url.endsWith('/versions')
          ? json({ versions: [{ version: 2 }, { version: 1 }] })
          : url.endsWith('/models')
            ? json({ models: [{ name: 'churn' }] })
            : json({ name: 'x', version: 1 })
  );
  const base = 'http://localhost:8888/lab-base/mlops/api/models';
  assert.deepEqual(await client.listModels(), [{ name: 'churn' }]);
  await client.getModel('churn v2/é?#');
  const versions = await client.listVersions('churn v2/é?#');
  assert.deepEqual(
    versions.map(v => v.version),
    [2, 1]
  );
  await client.listVersions('churn', true);
  await client.getVersion('a/b', 3);
  await client.getVersion('churn', 'production');
  await client.getLineage('a b', 3);
  assert.deepEqual(await client.listValidations('a b', 'staging'), [
    { id: 'v1' }
  ]);
  assert.deepEqual(
    calls.map(c => c.url),
    [
      base,
      `${base}/churn%20v2%2F%C3%A9%3F%23`,
      `${base}/churn%20v2%2F%C3%A9%3F%23/versions`,
      `${base}/churn/versions?include_archived=true`,
      `${base}/a%2Fb/versions/3`,
      `${base}/churn/versions/production`,
      `${base}/a%20b/versions/3/lineage`,
      `${base}/a%20b/versions/staging/validations`
    ]
  );
  assert.ok(calls.every(c => c.init.method === 'GET'));
  assert.ok(calls.every(c => c.init.body === undefined));
});

test('patchVersion and setAlias send JSON bodies; deleteAlias accepts a 204', async () => {
  const { client, calls } = fakeClient(url =>
    url.includes('/aliases/') && !url.endsWith('/staging')
      ? json({ alias: 'canary', version: 3 })
      : url.endsWith('/staging')
        ? new Response(null, { status: 204 })
        : json({ name: 'churn', version: 3, archived: true })
  );
  const base = 'http://localhost:8888/lab-base/mlops/api/models';
  const patched = await client.patchVersion('churn', 3, { archived: true });
  assert.equal(patched.archived, true);
  assert.deepEqual(await client.setAlias('churn', 'canary', 3), {
    alias: 'canary',
    version: 3
  });
  assert.equal(await client.deleteAlias('churn', 'staging'), undefined);
  assert.deepEqual(
    calls.map(c => [c.init.method, c.url, c.init.body]),
    [
      ['PATCH', `${base}/churn/versions/3`, '{"archived":true}'],
      ['PUT', `${base}/churn/aliases/canary`, '{"version":3}'],
      ['DELETE', `${base}/churn/aliases/staging`, undefined]
    ]
  );
  assert.equal(
    (calls[0].init.headers as Record<string, string>)['Content-Type'],
    'application/json'
  );
});

test('a refused production alias is a 422 with the server message', async () => {
  const { client } = fakeClient(() =>
    json(
      {
        error: 'invalid',
        message:
          'churn v3 cannot become @production: validation failed: accuracy >= 0.9'
      },
      422
    )
  );
  await assert.rejects(
    client.setAlias('churn', 'production', 3),
    (err: unknown) => {
      assert.ok(err instanceof MlopsApiError);
      assert.equal(err.status, 422);
      assert.equal(err.error, 'invalid');
      assert.match(err.message, /validation failed: accuracy >= 0\.9/);
      assert.equal(err.isUnavailable, false);
      return true;
    }
  );
});

test('deployment routes build encoded path segments and JSON bodies', async () => {
  const { client, calls } = fakeClient(url => {
    if (url.endsWith('/events?limit=20')) {
      return json({ events: [{ time: 1, kind: 'ready', message: 'ok' }] });
    }
    if (url.endsWith('/deployments')) {
      return json({ deployments: [{ name: 'a' }] }, 200);
    }
    return json({ name: 'a b', predictions: [0] });
  });
  const base = 'http://localhost:8888/lab-base/mlops/api/deployments';
  assert.deepEqual(await client.listDeployments(), [{ name: 'a' }]);
  await client.getDeployment('a b/c');
  await client.deploy({ model: 'iris', version: 'staging', replicas: 2 });
  await client.patchDeployment('a b', {
    traffic: [
      { version: 1, weight: 90 },
      { version: 2, weight: 10 }
    ]
  });
  await client.patchDeployment('a b', { rollback: true });
  await client.stopDeployment('a b');
  const events = await client.deploymentEvents('a b', 20);
  await client.predict('a b', { inputs: [{ x: 0 }] });
  assert.deepEqual(
    calls.map(c => [c.init.method, c.url, c.init.body ?? null]),
    [
      ['GET', base, null],
      ['GET', `${base}/a%20b%2Fc`, null],
      [
        'POST',
        base,
        JSON.stringify({ model: 'iris', version: 'staging', replicas: 2 })
      ],
      [
        'PATCH',
        `${base}/a%20b`,
        JSON.stringify({
          traffic: [
            { version: 1, weight: 90 },
            { version: 2, weight: 10 }
          ]
        })
      ],
      ['PATCH', `${base}/a%20b`, JSON.stringify({ rollback: true })],
      ['DELETE', `${base}/a%20b`, null],
      ['GET', `${base}/a%20b/events?limit=20`, null],
      ['POST', `${base}/a%20b/predict`, JSON.stringify({ inputs: [{ x: 0 }] })]
    ]
  );
  assert.equal(events[0].kind, 'ready');
  // Without a limit the events URL has no query.
  await client.deploymentEvents('x');
  assert.equal(calls[calls.length - 1].url, `${base}/x/events`);
});

test('a refused traffic change and a schema mismatch keep the server body', async () => {
  const { client } = fakeClient(url =>
    url.endsWith('/predict')
      ? json(
          {
            error: 'schema_mismatch',
            message: 'missing column x',
            problems: ['missing column x']
          },
          422
        )
      : json(
          {
            error: 'bad_request',
            message: 'traffic weights must add up to 100',
            field: 'traffic'
          },
          400
        )
  );
  await assert.rejects(
    client.patchDeployment('d', { traffic: [{ version: 1, weight: 50 }] }),
    (err: MlopsApiError) =>
      err.status === 400 &&
      err.error === 'bad_request' &&
      err.message === 'traffic weights must add up to 100' &&
      err.problems.length === 0
  );
  await assert.rejects(
    client.predict('d', { inputs: [{}] }),
    (err: MlopsApiError) =>
      err.status === 422 &&
      err.error === 'schema_mismatch' &&
      err.problems.length === 1 &&
      err.problems[0] === 'missing column x'
  );
});

test('modelManifest reads manifest.json through the run artifacts route', async () => {
  const { client, calls } = fakeClient(() =>
    json({
      flavor: 'sklearn',
      input_example: { columns: ['a'], data: [[1]] }
    })
  );
  const manifest = await client.modelManifest('run 1', 'models/rf/');
  assert.deepEqual(manifest.input_example, { columns: ['a'], data: [[1]] });
  assert.equal(
    calls[0].url,
    'http://localhost:8888/lab-base/mlops/api/runs/run%201/artifacts/models/rf/manifest.json'
  );
  assert.equal(calls[0].init.method, 'GET');
});

test('an error answer that is not a JSON object keeps no body', async () => {
  const { client } = fakeClient(url =>
    url.includes('/a/')
      ? new Response('<html>Bad Gateway</html>', {
          status: 502,
          statusText: 'Bad Gateway'
        })
      : json(['not', 'an', 'object'], 500)
  );
  await assert.rejects(
    client.predict('a', { inputs: [{}] }),
    (err: MlopsApiError) =>
      err.status === 502 &&
      err.error === 'http_502' &&
      err.message === 'Bad Gateway' &&
      err.body === undefined &&
      err.problems.length === 0
  );
  await assert.rejects(
    client.predict('b', { inputs: [{}] }),
    (err: MlopsApiError) => err.status === 500 && err.body === undefined
  );
});

test('monitoring routes: drift, history, performance and feedback URLs and bodies', async () => {
  const { client, calls } = fakeClient(url => {
    if (url.includes('/drift/history')) {
      return json({ history: [{ computed_at: 1, dataset_drift: true }] });
    }
    if (url.includes('/drift')) {
      return json({
        summary: { dataset_drift: true },
        columns: [],
        context: {}
      });
    }
    if (url.includes('/performance')) {
      return json({ performance: [{ version: 1, accuracy: 0.9 }] });
    }
    return json({ stored: 2, matched: 1 });
  });
  const api = 'http://localhost:8888/lab-base/mlops/api';
  const drift = await client.drift('churn prod', {
    window: '15m',
    store: false
  });
  assert.equal(drift.summary.dataset_drift, true);
  await client.drift('d');
  await client.drift('d', { rows: 500, store: true });
  const history = await client.driftHistory('churn prod', 50);
  assert.equal(history[0].computed_at, 1);
  await client.driftHistory('d');
  const perf = await client.performance('d', { window: '7d', bucket: '6h' });
  assert.equal(perf[0].accuracy, 0.9);
  await client.performance('d');
  const fed = await client.logFeedback('d', ['r1', 'r2'], [1, [0, 1]]);
  assert.deepEqual(fed, { stored: 2, matched: 1 });
  assert.deepEqual(
    calls.map(c => [c.init.method, c.url, c.init.body ?? null]),
    [
      ['GET', `${api}/monitoring/churn%20prod/drift?window=15m`, null],
      ['GET', `${api}/monitoring/d/drift`, null],
      // recording is a write: a POST, never a GET with side effects
      ['POST', `${api}/monitoring/d/drift?rows=500`, null],
      ['GET', `${api}/monitoring/churn%20prod/drift/history?limit=50`, null],
      ['GET', `${api}/monitoring/d/drift/history`, null],
      ['GET', `${api}/monitoring/d/performance?window=7d&bucket=6h`, null],
      ['GET', `${api}/monitoring/d/performance`, null],
      [
        'POST',
        `${api}/deployments/d/feedback`,
        JSON.stringify({ request_ids: ['r1', 'r2'], labels: [1, [0, 1]] })
      ]
    ]
  );
});

test('monitoring: missing lists become empty; a 422 keeps its readable message', async () => {
  const { client } = fakeClient(url =>
    url.includes('/drift/history') || url.includes('/performance')
      ? json({})
      : json(
          {
            error: 'invalid',
            message:
              'iris v1 has no training dataset on its run r1: log one with run.log_dataset(X_train, ...)'
          },
          422
        )
  );
  assert.deepEqual(await client.driftHistory('d'), []);
  assert.deepEqual(await client.performance('d'), []);
  await assert.rejects(
    client.drift('d', { window: '1h' }),
    (err: MlopsApiError) =>
      err.status === 422 &&
      err.error === 'invalid' &&
      err.message.startsWith('iris v1 has no training dataset') &&
      !err.isUnavailable
  );
});

test('alert routes: list, acknowledge, rules, evaluate URLs and bodies', async () => {
  const alert = {
    id: 'a1',
    deployment: 'churn prod',
    rule_id: 'r1',
    kind: 'drift_share',
    status: 'acknowledged',
    message: '60% of columns drifted',
    value: 0.6,
    threshold: 0.3,
    fired_at: 1,
    updated_at: 2,
    acknowledged_at: 2,
    acknowledged_by: 'alice',
    resolved_at: null,
    data: { rule: { id: 'r1', kind: 'drift_share', threshold: 0.3 } }
  };
  const rules = [
    {
      id: 'r1',
      kind: 'drift_share',
      threshold: 0.3,
      window: '1h',
      cooldown: '30m'
    }
  ];
  const { client, calls } = fakeClient(url => {
    if (url.endsWith('/acknowledge')) {
      return json(alert);
    }
    if (url.endsWith('/rules')) {
      return json({ rules });
    }
    return json({ alerts: [alert] });
  });
  const api = 'http://localhost:8888/lab-base/mlops/api';
  assert.deepEqual(await client.alerts(), [alert]);
  await client.alerts({ deployment: 'churn prod', status: 'open', limit: 50 });
  await client.alerts({ status: 'resolved' });
  const acked = await client.acknowledgeAlert('a/1');
  assert.equal(acked.status, 'acknowledged');
  assert.deepEqual(await client.alertRules('churn prod'), rules);
  const saved = await client.setAlertRules('churn prod', [
    { kind: 'drift_share', threshold: 0.3 }
  ]);
  assert.equal(saved[0].id, 'r1');
  const changed = await client.evaluateAlerts('churn prod');
  assert.equal(changed[0].id, 'a1');
  assert.deepEqual(
    calls.map(c => [c.init.method, c.url, c.init.body ?? null]),
    [
      ['GET', `${api}/alerts`, null],
      [
        'GET',
        `${api}/alerts?deployment=churn%20prod&status=open&limit=50`,
        null
      ],
      ['GET', `${api}/alerts?status=resolved`, null],
      ['POST', `${api}/alerts/a%2F1/acknowledge`, null],
      ['GET', `${api}/monitoring/churn%20prod/rules`, null],
      [
        'PUT',
        `${api}/monitoring/churn%20prod/rules`,
        JSON.stringify({ rules: [{ kind: 'drift_share', threshold: 0.3 }] })
      ],
      ['POST', `${api}/monitoring/churn%20prod/evaluate`, null]
    ]
  );
});

test('alert routes: missing lists are empty; 400 names the field; 422 stays readable', async () => {
  const { client } = fakeClient(url => {
    if (url.endsWith('/rules')) {
      return json(
        {
          error: 'bad_request',
          message: 'a drift_share rule needs a threshold in (0, 1]',
          field: 'threshold'
        },
        400
      );
    }
    if (url.endsWith('/acknowledge')) {
      return json(
        { error: 'invalid', message: 'alert a1 is already resolved' },
        422
      );
    }
    return json({});
  });
  assert.deepEqual(await client.alerts({ deployment: 'd' }), []);
  assert.deepEqual(await client.evaluateAlerts('d'), []);
  await assert.rejects(
    client.setAlertRules('d', [{ kind: 'drift_share', threshold: 3 }]),
    (err: MlopsApiError) =>
      err.status === 400 &&
      err.field === 'threshold' &&
      err.message === 'a drift_share rule needs a threshold in (0, 1]'
  );
  await assert.rejects(
    client.acknowledgeAlert('a1'),
    (err: MlopsApiError) =>
      err.status === 422 &&
      err.field === undefined &&
      err.message === 'alert a1 is already resolved'
  );
});

test('explanations: listed and fetched under the model version, path-encoded', async () => {
  const { client, calls } = fakeClient(url =>
    url.endsWith('/explanations')
      ? json({ explanations: [{ id: 'e1' }] })
      : json({ id: 'e1', figures: {} })
  );
  const list = await client.listExplanations('my model', 'production');
  assert.deepEqual(list, [{ id: 'e1' }]);
  assert.equal(
    new URL(calls[0].url).pathname,
    '/lab-base/mlops/api/models/my%20model/versions/production/explanations'
  );
  const latest = await client.getExplanation('my model', 2);
  assert.equal(latest.id, 'e1');
  assert.equal(
    new URL(calls[1].url).pathname,
    '/lab-base/mlops/api/models/my%20model/versions/2/explanations/latest'
  );
  await client.getExplanation('m', 2, 'abc');
  assert.match(calls[2].url, /\/models\/m\/versions\/2\/explanations\/abc$/);
  assert.ok(calls.every(c => c.init.method === 'GET'));
});

test('explanations: none stored is a 404 not_found, not an unavailable server', async () => {
  const { client } = fakeClient(() =>
    json(
      { error: 'not_found', message: 'model iris-clf v3 has no explanation' },
      404
    )
  );
  await assert.rejects(
    client.getExplanation('iris-clf', 3),
    (error: unknown) =>
      error instanceof MlopsApiError &&
      error.error === 'not_found' &&
      !error.isUnavailable &&
      error.message === 'model iris-clf v3 has no explanation'
  );
  const { client: empty } = fakeClient(() => json({}));
  assert.deepEqual(await empty.listExplanations('m', 1), []);
});
