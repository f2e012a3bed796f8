import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  DriftHistoryEntry,
  DriftQuery,
  DriftReport,
  MlopsApiError,
  MlopsClient,
  PerformancePoint,
  PerformanceQuery
} from '../src/client';
import { MonitoringModel, reportError } from '../src/monitoringmodel';

function report(columns: [string, number, boolean][]): DriftReport {
  return {
    summary: {
      dataset_drift: columns.filter(c => c[2]).length * 2 >= columns.length,
      share: columns.filter(c => c[2]).length / columns.length,
      drifted: columns.filter(c => c[2]).length,
      columns: columns.length,
      tested: columns.length,
      drifted_columns: columns.filter(c => c[2]).map(c => c[0]),
      thresholds: { drift_share: 0.5, psi: 0.2 },
      mode: 'exact',
      reference_rows: 150,
      current_rows: 200
    },
    columns: columns.map(([column, score, drifted]) => ({
      column,
      kind: 'numeric',
      test: 'ks',
      statistic: 0.01,
      threshold: 0.05,
      drifted,
      psi: 0.1,
      psi_significant: false,
      score,
      notes: [],
      reference_values: 150,
      current_values: 200,
      reference_missing_share: 0,
      current_missing_share: 0,
      new_categories: [],
      bounds: null,
      details: {},
      distribution: {}
    })),
    context: {
      deployment: 'dep',
      model: 'iris',
      version: 1,
      window: '1h',
      start: 0,
      end: 1
    }
  };
}

/** A fake client answering from plain functions; records every call. */
function fakeClient(options: {
  drift?: (q: DriftQuery) => Promise<DriftReport>;
  history?: () => Promise<DriftHistoryEntry[]>;
  performance?: (q: PerformanceQuery) => Promise<PerformancePoint[]>;
}) {
  const calls: string[] = [];
  const client = {
    drift: async (name: string, q: DriftQuery) => {
      calls.push(`drift ${name} ${q.window} store=${q.store}`);
      return (options.drift ?? (async () => report([['a', 2, true]])))(q);
    },
    driftHistory: async (name: string, limit: number) => {
      calls.push(`history ${name} ${limit}`);
      return (options.history ?? (async () => []))();
    },
    performance: async (name: string, q: PerformanceQuery) => {
      calls.push(`performance ${name} ${q.window} ${q.bucket}`);
      return (options.performance ?? (async () => []))(q);
    }
  } as unknown as MlopsClient;
  return { client, calls };
}

test('the first refresh loads history and performance and previews the default window', async () => {
  const { client, calls } = fakeClient({});
  const model = new MonitoringModel({
    deployment: 'dep',
    client,
    now: () => 42
  });
  let changes = 0;
  model.changed.connect(() => changes++);
  await model.refresh();
  assert.deepEqual(calls.sort(), [
    'drift dep 1h store=false',
    'history dep 50',
    'performance dep 1h 5m'
  ]);
  assert.equal(model.window, '1h');
  assert.equal(model.shown?.recorded, false);
  assert.equal(model.shown?.computedAt, 42);
  assert.equal(model.shown?.window, '1h');
  assert.deepEqual(model.history, []);
  assert.deepEqual(model.performance, []);
  assert.equal(model.computing, null);
  assert.ok(changes > 0);
  // Polling reloads history and performance only.
  calls.length = 0;
  changes = 0;
  await model.refresh();
  assert.deepEqual(calls.sort(), ['history dep 50', 'performance dep 1h 5m']);
  assert.equal(changes, 0, 'nothing changed: no re-render');
  model.dispose();
});

test('the selected column defaults to the most severe one', async () => {
  const { client } = fakeClient({
    drift: async () =>
      report([
        ['calm', 0.1, false],
        ['worst', 9, true],
        ['mild', 1.2, true]
      ])
  });
  const model = new MonitoringModel({ deployment: 'dep', client });
  assert.equal(model.selectedColumn, null);
  await model.refresh();
  assert.equal(model.selectedColumn, 'worst');
  model.selectColumn('calm');
  assert.equal(model.selectedColumn, 'calm');
  model.dispose();
});

test('a new window previews again and reloads the performance with its bucket', async () => {
  const { client, calls } = fakeClient({});
  const model = new MonitoringModel({ deployment: 'dep', client });
  await model.refresh();
  calls.length = 0;
  await model.setWindow('7d');
  assert.deepEqual(calls.sort(), [
    'drift dep 7d store=false',
    'performance dep 7d 6h'
  ]);
  assert.equal(model.shown?.window, '7d');
  calls.length = 0;
  await model.setWindow('7d');
  assert.deepEqual(calls, [], 'same window: nothing to do');
  model.dispose();
});

test('check drift now records, reloads the history and tells the panel', async () => {
  const recorded: DriftHistoryEntry = {
    computed_at: 1,
    version: 1,
    window_start: 0,
    window_end: 1,
    rows: 200,
    share: 1,
    dataset_drift: true,
    columns: []
  };
  let stored = false;
  const { client, calls } = fakeClient({
    drift: async q => {
      stored = stored || q.store === true;
      return report([['a', 2, true]]);
    },
    history: async () => (stored ? [recorded] : [])
  });
  let told = 0;
  const model = new MonitoringModel({
    deployment: 'dep',
    client,
    onRecorded: () => told++
  });
  await model.refresh();
  calls.length = 0;
  const pending = model.checkDrift();
  assert.equal(model.computing, 'check');
  await pending;
  assert.deepEqual(calls, ['drift dep 1h store=true', 'history dep 50']);
  assert.equal(model.shown?.recorded, true);
  assert.deepEqual(model.history, [recorded]);
  assert.equal(told, 1);
  assert.equal(model.computing, null);
  model.dispose();
});

test('a version without a training dataset: the 422 message, kept readable', async () => {
  const message =
    'iris v1 has no training dataset on its run r1: log one with run.log_dataset(X_train, ...)';
  const { client } = fakeClient({
    drift: async () => {
      throw new MlopsApiError(422, 'invalid', message);
    }
  });
  let told = 0;
  const model = new MonitoringModel({
    deployment: 'dep',
    client,
    onRecorded: () => told++
  });
  await model.refresh();
  assert.deepEqual(model.reportError, { kind: 'reference', message });
  assert.equal(model.shown, null);
  await model.checkDrift();
  assert.equal(told, 0, 'nothing recorded');
  model.dispose();
});

test('reportError: unavailable server, other errors', () => {
  assert.deepEqual(
    reportError(new MlopsApiError(404, 'http_404', 'Not Found')),
    {
      kind: 'unavailable',
      message: 'Monitoring is not available on this server (Not Found).'
    }
  );
  assert.deepEqual(
    reportError(new MlopsApiError(400, 'bad_request', 'bad window')),
    {
      kind: 'error',
      message: 'bad window'
    }
  );
  assert.deepEqual(reportError(new Error('boom')), {
    kind: 'error',
    message: 'boom'
  });
});

test('history and performance errors are kept; the last data stays', async () => {
  let fail = false;
  const { client } = fakeClient({
    history: async () => {
      if (fail) {
        throw new MlopsApiError(500, 'server_error', 'history broke');
      }
      return [];
    },
    performance: async () => {
      if (fail) {
        throw new MlopsApiError(403, 'forbidden', 'not allowed');
      }
      return [];
    }
  });
  const model = new MonitoringModel({ deployment: 'dep', client });
  await model.refresh();
  fail = true;
  await model.refresh();
  assert.equal(model.historyError, 'history broke');
  assert.equal(model.performanceError, 'not allowed');
  assert.deepEqual(model.history, []);
  assert.deepEqual(model.performance, []);
  model.dispose();
});

test('a stale preview answer never replaces a newer one', async () => {
  const answers: ((r: DriftReport) => void)[] = [];
  const { client } = fakeClient({
    drift: () => new Promise<DriftReport>(resolve => answers.push(resolve))
  });
  const model = new MonitoringModel({ deployment: 'dep', client });
  const first = model.refresh();
  const second = model.setWindow('24h');
  // The 24h answer comes first, the 1h one later.
  answers[1](report([['new', 1, true]]));
  answers[0](report([['old', 1, true]]));
  await Promise.all([first, second]);
  assert.equal(model.shown?.window, '24h');
  assert.equal(model.shown?.report.columns[0].column, 'new');
  model.dispose();
});
