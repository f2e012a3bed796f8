import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  Alert,
  AlertsQuery,
  Deployment,
  DeploymentDriftSummary,
  DriftHistoryEntry,
  Experiment,
  MlopsApiError,
  MlopsClient,
  ModelVersion,
  RegisteredModel,
  Run,
  ExperimentKeys,
  RunsPage,
  RunsQuery
} from '../src/client';
import { MlopsModel, pickDefault } from '../src/model';

function experiment(id: string, lastRun: number | null): Experiment {
  return {
    id,
    name: `exp-${id}`,
    created_at: 0,
    created_by: 'alice',
    run_count: 1,
    last_run_at: lastRun,
    tags: {}
  };
}

function run(id: string): Run {
  return {
    id,
    name: id,
    experiment_id: 'e1',
    experiment_name: 'exp-e1',
    status: 'finished',
    user: 'alice',
    start_time: 0,
    end_time: 1000,
    duration: 1,
    parent_run_id: null,
    params: {},
    metrics: {},
    tags: {},
    source: null
  };
}

/** A fake client: answers from plain functions, records the runs queries. */
function fakeClient(options: {
  version?: () => Promise<{ version: string; api: number }>;
  experiments?: () => Promise<Experiment[]>;
  runs?: (q: RunsQuery) => Promise<RunsPage>;
  listModels?: () => Promise<RegisteredModel[]>;
  listVersions?: (name: string) => Promise<ModelVersion[]>;
  listDeployments?: () => Promise<Deployment[]>;
  driftHistory?: (name: string, limit?: number) => Promise<DriftHistoryEntry[]>;
  alerts?: (query: AlertsQuery) => Promise<Alert[]>;
  experimentKeys?: (ref: string) => Promise<ExperimentKeys>;
}) {
  const queries: RunsQuery[] = [];
  const client = {
    listModels: options.listModels ?? (async () => []),
    listVersions: options.listVersions ?? (async () => []),
    listDeployments: options.listDeployments ?? (async () => []),
    driftHistory: options.driftHistory ?? (async () => []),
    alerts: options.alerts ?? (async () => []),
    deploymentStats: async () => {
      throw new Error('no request stats here');
    },
    experimentKeys:
      options.experimentKeys ??
      (async () => ({ params: [], metrics: [], tags: [] })),
    version: options.version ?? (async () => ({ version: '0.1.0', api: 1 })),
    experiments: options.experiments ?? (async () => [experiment('e1', 5)]),
    runs: async (q: RunsQuery) => {
      queries.push(q);
      return (
        options.runs ??
        (async () => ({ runs: [run('r1')], next_page_token: null }))
      )(q);
    }
  } as unknown as MlopsClient;
  return { client, queries };
}

test('pickDefault selects the experiment with the latest run', () => {
  assert.equal(pickDefault([]), null);
  assert.equal(
    pickDefault([
      experiment('a', 1),
      experiment('b', 9),
      experiment('c', null)
    ]),
    'b'
  );
});

test('handshake ok loads experiments and the runs of the default one', async () => {
  const { client, queries } = fakeClient({});
  const model = new MlopsModel({ client, refreshInterval: 0 });
  await model.start();
  assert.deepEqual(model.server, { kind: 'ok', version: '0.1.0' });
  assert.equal(model.selectedExperimentId, 'e1');
  assert.deepEqual(
    model.runs?.map(r => r.id),
    ['r1']
  );
  assert.equal(queries[0].experiment, 'e1');
  assert.equal(queries[0].limit, 50);
  model.dispose();
});

test('a different server version is a mismatch but still works', async () => {
  const { client } = fakeClient({
    version: async () => ({ version: '0.2.0', api: 1 })
  });
  const model = new MlopsModel({ client, refreshInterval: 0 });
  await model.start();
  assert.deepEqual(model.server, {
    kind: 'mismatch',
    server: '0.2.0',
    frontend: '0.1.0'
  });
  assert.equal(model.runs?.length, 1);
  model.dispose();
});

test('a different REST API generation is a mismatch too', async () => {
  const { client } = fakeClient({
    version: async () => ({ version: '0.1.0', api: 2 })
  });
  const model = new MlopsModel({ client, refreshInterval: 0 });
  await model.start();
  assert.equal(model.server.kind, 'mismatch');
  model.dispose();
});

test('a missing server extension is reported, and retried on refresh', async () => {
  let up = false;
  const { client } = fakeClient({
    version: async () => {
      if (!up) {
        throw new MlopsApiError(404, 'http_404', 'Not Found');
      }
      return { version: '0.1.0', api: 1 };
    }
  });
  const model = new MlopsModel({ client, refreshInterval: 0 });
  await model.start();
  assert.equal(model.server.kind, 'missing');
  assert.equal(model.experiments?.length, undefined);
  up = true;
  await model.refresh();
  assert.equal(model.server.kind, 'ok');
  assert.equal(model.experiments?.length, 1);
  model.dispose();
});

test('a bad filter keeps its error through polls and the last good filter', async () => {
  const { client, queries } = fakeClient({
    runs: async q => {
      if (q.filter === 'metrics > 1') {
        throw new MlopsApiError(400, 'bad_filter', "'metrics' needs a key", 0);
      }
      return { runs: [run('r1')], next_page_token: null };
    }
  });
  const model = new MlopsModel({ client, refreshInterval: 0 });
  await model.start();
  await model.setFilter('metrics > 1');
  assert.deepEqual(model.filterError, {
    message: "'metrics' needs a key",
    position: 0,
    filter: 'metrics > 1'
  });
  assert.equal(model.filter, '');
  assert.equal(model.runs?.length, 1);
  // A poll does not clear the error and does not resend the bad filter.
  await model.refresh();
  assert.ok(model.filterError);
  assert.equal(queries[queries.length - 1].filter, undefined);
  // A good filter clears it.
  await model.setFilter("attributes.status = 'finished'");
  assert.equal(model.filterError, null);
  assert.equal(model.filter, "attributes.status = 'finished'");
  model.dispose();
});

test('sorting sends order_by; load more appends the next page; refresh keeps them', async () => {
  const { client, queries } = fakeClient({
    runs: async q =>
      q.page_token
        ? { runs: [run('r2')], next_page_token: null }
        : { runs: [run('r1')], next_page_token: 'p2', total: 2 }
  });
  const model = new MlopsModel({ client, refreshInterval: 0, pageSize: 1 });
  await model.start();
  assert.equal(model.hasMore, true);
  await model.setSort({ key: 'metrics.acc', direction: 'DESC' });
  assert.equal(queries[queries.length - 1].order_by, 'metrics.acc DESC');
  assert.equal(queries[queries.length - 1].count, true);
  assert.equal(model.total, 2);
  await model.loadMore();
  assert.equal(queries[queries.length - 1].page_token, 'p2');
  // Continuation pages are larger than the first one (the table scrolls on).
  assert.equal(queries[queries.length - 1].limit, 1000);
  assert.deepEqual(
    model.runs?.map(r => r.id),
    ['r1', 'r2']
  );
  assert.equal(model.hasMore, false);
  // A poll reloads only the first page and keeps the rows loaded below it.
  let changes = 0;
  model.changed.connect(() => changes++);
  await model.refresh();
  assert.equal(queries[queries.length - 1].limit, 1);
  assert.equal(queries[queries.length - 1].order_by, 'metrics.acc DESC');
  assert.deepEqual(
    model.runs?.map(r => r.id),
    ['r1', 'r2']
  );
  assert.equal(model.hasMore, false);
  assert.equal(changes, 0, 'an unchanged poll does not re-render');
  model.dispose();
});

function registered(name: string, aliases: Record<string, number> = {}) {
  return {
    name,
    description: '',
    tags: {},
    created_at: 0,
    created_by: 'alice',
    version_count: 2,
    latest_version: 2,
    aliases
  } as RegisteredModel;
}

function version(name: string, v: number, aliases: string[] = []) {
  return { name, version: v, status: 'ready', aliases } as ModelVersion;
}

test('models load with the poll; expansion loads versions and survives polls', async () => {
  let aliases: Record<string, number> = { production: 1 };
  const versionCalls: string[] = [];
  const { client } = fakeClient({
    listModels: async () => [registered('churn', aliases)],
    listVersions: async name => {
      versionCalls.push(name);
      return [version(name, 2), version(name, 1, ['production'])];
    }
  });
  const model = new MlopsModel({ client, refreshInterval: 0 });
  await model.start();
  assert.deepEqual(
    model.models?.map(m => m.name),
    ['churn']
  );
  assert.equal(model.isModelExpanded('churn'), false);
  assert.deepEqual(versionCalls, [], 'collapsed models load no versions');

  await model.toggleModel('churn');
  assert.equal(model.isModelExpanded('churn'), true);
  assert.deepEqual(
    model.versionsOf('churn')?.map(v => v.version),
    [2, 1]
  );

  // An unchanged poll keeps the expansion and does not re-render.
  let changes = 0;
  model.changed.connect(() => changes++);
  await model.refresh();
  assert.equal(model.isModelExpanded('churn'), true);
  assert.equal(versionCalls.length, 2, 'expanded models reload their versions');
  assert.equal(changes, 0);

  // A changed alias re-renders, still expanded.
  aliases = { production: 1, staging: 2 };
  await model.refresh();
  assert.equal(changes, 1);
  assert.deepEqual(model.models?.[0].aliases, { production: 1, staging: 2 });
  assert.ok(model.versionsOf('churn'));

  await model.toggleModel('churn');
  assert.equal(model.isModelExpanded('churn'), false);
  model.dispose();
});

test('a missing registry route does not break the panel', async () => {
  const { client } = fakeClient({
    listModels: async () => {
      throw new MlopsApiError(404, 'http_404', 'Not Found');
    }
  });
  const model = new MlopsModel({ client, refreshInterval: 0 });
  await model.start();
  assert.equal(model.server.kind, 'ok');
  assert.equal(model.runs?.length, 1);
  assert.equal(model.models, null);
  assert.match(model.modelsError ?? '', /model registry is not available/);
  model.dispose();
});

function deployment(name: string, ready: boolean): Deployment {
  return {
    name,
    model: 'iris',
    environment: 'staging',
    status: 'active',
    port: 41231,
    revision: 1,
    url: 'http://127.0.0.1:41231/v1/predict',
    desired: { traffic: [{ version: 1, weight: 100 }], replicas: 1 },
    observed: {
      replicas: [{ index: 0, revision: 1, pid: 12, ready, alive: true }]
    },
    created_at: 0,
    created_by: 'alice',
    updated_at: 0
  };
}

test('refreshDeployments re-renders only on change and keeps errors apart', async () => {
  let answer: Deployment[] = [deployment('iris-staging', false)];
  let fail = false;
  const { client } = fakeClient({
    listDeployments: async () => {
      if (fail) {
        throw new MlopsApiError(500, 'server_error', 'boom');
      }
      return answer;
    }
  });
  const model = new MlopsModel({ client, refreshInterval: 0 });
  let emits = 0;
  model.changed.connect(() => emits++);
  const shown = () => model.deployments;
  assert.equal(shown(), null);
  await model.refreshDeployments();
  assert.equal(shown()?.length, 1);
  assert.equal(emits, 1);
  // The same answer again: no re-render (no flicker while polling).
  answer = [deployment('iris-staging', false)];
  await model.refreshDeployments();
  assert.equal(emits, 1);
  answer = [deployment('iris-staging', true)];
  await model.refreshDeployments();
  assert.equal(emits, 2);
  // An error keeps the last list on screen.
  fail = true;
  await model.refreshDeployments();
  assert.equal(model.deploymentsError, 'boom');
  assert.equal(shown()?.length, 1);
  fail = false;
  await model.refreshDeployments();
  assert.equal(model.deploymentsError, null);
  model.setCurrentDeployment('iris-staging');
  assert.equal(model.currentDeployment, 'iris-staging');
  model.dispose();
});

test('the drift badge comes with the deployments list (no request per deployment)', async () => {
  const summary = (datasetDrift: boolean): DeploymentDriftSummary => ({
    computed_at: 1000,
    share: datasetDrift ? 0.75 : 0.25,
    dataset_drift: datasetDrift,
    rows: 200,
    drifted_columns: datasetDrift
      ? ['petal width (cm)', 'a', 'b']
      : ['petal width (cm)']
  });
  let drift = false;
  let lists = 0;
  const { client } = fakeClient({
    listDeployments: async () => {
      lists++;
      return [
        {
          ...deployment('iris-staging', true),
          monitoring: {
            drift: summary(drift),
            alerts: { firing: 1, acknowledged: 0 }
          }
        },
        {
          ...deployment('bare', true),
          monitoring: { drift: null, alerts: { firing: 0, acknowledged: 0 } }
        },
        deployment('old-server', true)
      ];
    },
    driftHistory: async () => {
      throw new Error('the panel must not ask for the drift history');
    }
  });
  const model = new MlopsModel({ client, refreshInterval: 0 });
  let emits = 0;
  model.changed.connect(() => emits++);
  await model.refreshDeployments();
  assert.equal(lists, 1);
  assert.equal(model.driftBadgeOf('iris-staging'), null);
  assert.equal(model.driftBadgeOf('bare'), null);
  assert.equal(model.driftBadgeOf('old-server'), null);
  assert.equal(model.driftBadgeOf('unknown'), null);
  assert.equal(model.deploymentsError, null);
  assert.equal(emits, 1);
  drift = true;
  await model.refreshDeployments();
  assert.equal(emits, 2, 'the newest report changed: re-render');
  assert.deepEqual(model.driftBadgeOf('iris-staging'), {
    computedAt: 1000,
    share: 0.75,
    drifted: 3,
    tested: 4,
    rows: 200,
    columns: ['petal width (cm)', 'a', 'b']
  });
  await model.refreshDeployments();
  assert.equal(emits, 2);
  model.dispose();
});

test('refresh loads the open alerts too; a hidden panel polls only the alerts', async () => {
  const asked: AlertsQuery[] = [];
  let experimentsAsked = 0;
  let polled: () => void = () => undefined;
  const firstPoll = new Promise<void>(resolve => (polled = resolve));
  let visible = true;
  const { client } = fakeClient({
    experiments: async () => {
      experimentsAsked++;
      return [experiment('e1', 5)];
    },
    alerts: async query => {
      asked.push(query);
      if (!visible) {
        polled();
      }
      return [
        {
          id: 'a1',
          deployment: 'iris',
          rule_id: 'r1',
          kind: 'drift_share',
          status: 'firing',
          message: '60% of columns drifted',
          value: 0.6,
          threshold: 0.3,
          fired_at: 1,
          updated_at: 1,
          acknowledged_at: null,
          acknowledged_by: null,
          resolved_at: null,
          data: {}
        }
      ];
    }
  });
  const model = new MlopsModel({
    client,
    refreshInterval: 0,
    isActive: () => visible
  });
  await model.start();
  assert.deepEqual(asked, [
    { deployment: undefined, status: 'open', limit: 200 }
  ]);
  assert.equal(model.alerts.firingCount, 1);
  const before = experimentsAsked;
  visible = false;
  model.setRefreshInterval(0.01);
  await firstPoll;
  model.setRefreshInterval(0);
  assert.equal(experimentsAsked, before, 'nothing but the alerts while hidden');
  assert.ok(asked.length >= 2);
  model.dispose();
});

test('a new run arriving on top is merged in by the poll; keys, selection, columns', async () => {
  let first = [run('r1')];
  const { client } = fakeClient({
    runs: async q =>
      q.page_token
        ? { runs: [run('r0')], next_page_token: null }
        : { runs: first, next_page_token: 'p2', total: first.length + 1 },
    experimentKeys: async () => ({
      params: ['C'],
      metrics: ['acc'],
      tags: []
    })
  });
  const model = new MlopsModel({ client, refreshInterval: 0, pageSize: 1 });
  const saved: string[][] = [];
  model.onColumnsChanged = columns => saved.push(columns);
  await model.start();
  await model.loadMore();
  assert.deepEqual(
    model.runs?.map(r => r.id),
    ['r1', 'r0']
  );
  first = [run('r2')];
  await model.refresh();
  assert.deepEqual(
    model.runs?.map(r => r.id),
    ['r2', 'r1', 'r0']
  );
  assert.equal(model.total, 2);
  assert.deepEqual(model.keys, { params: ['C'], metrics: ['acc'], tags: [] });
  model.toggleRunSelected('r1');
  model.toggleRunSelected('r2');
  assert.deepEqual(model.selectedRunIds, ['r1', 'r2']);
  model.toggleRunSelected('r1');
  assert.deepEqual(model.selectedRunIds, ['r2']);
  model.setColumns(['metrics.acc']);
  model.setColumns(['metrics.acc']);
  model.setColumns(['params.C'], false);
  assert.deepEqual(model.columns, ['params.C']);
  assert.deepEqual(saved, [['metrics.acc']], 'saved once, not when applied');
  model.selectExperiment(null);
  assert.deepEqual(model.selectedRunIds, []);
  model.dispose();
});

test('pickDefault prefers the configured default experiment when it exists', () => {
  const exps = [experiment('a', 1), experiment('b', 9)];
  assert.equal(pickDefault(exps, 'a'), 'a');
  assert.equal(pickDefault(exps, 'missing'), 'b');
});

test('a poll neither overtakes nor drops a filter the user is waiting for', async () => {
  let release: () => void = () => undefined;
  const { client, queries } = fakeClient({
    runs: async q => {
      if (q.filter) {
        await new Promise<void>(resolve => (release = resolve));
        return { runs: [run('f1')], next_page_token: null, total: 1 };
      }
      return { runs: [run('r1')], next_page_token: 'p2', total: 9 };
    }
  });
  const model = new MlopsModel({ client, refreshInterval: 0 });
  await model.start();
  const applying = model.setFilter('metrics.acc > 0.9');
  assert.equal(model.loading, true);
  const before = queries.length;
  await model.refresh();
  assert.equal(queries.length, before, 'the poll skipped the runs');
  release();
  await applying;
  assert.equal(model.loading, false);
  assert.equal(model.filter, 'metrics.acc > 0.9');
  assert.deepEqual(
    model.runs?.map(r => r.id),
    ['f1']
  );
  assert.equal(model.total, 1);
  model.dispose();
});

test('polls reload the experiment keys only when the runs changed', async () => {
  let keyCalls = 0;
  let first = [run('r1')];
  const { client } = fakeClient({
    runs: async () => ({ runs: first, next_page_token: null, total: 1 }),
    experimentKeys: async () => {
      keyCalls++;
      return { params: [], metrics: ['acc'], tags: [] };
    }
  });
  const model = new MlopsModel({ client, refreshInterval: 0 });
  await model.start();
  const afterStart = keyCalls;
  assert.ok(afterStart >= 1);
  await model.refresh();
  assert.equal(
    keyCalls,
    afterStart,
    'an unchanged poll does not scan the keys'
  );
  first = [run('r2'), run('r1')];
  await model.refresh();
  assert.equal(keyCalls, afterStart + 1);
  model.dispose();
});
