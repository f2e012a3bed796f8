import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MetricHistory, Run } from '../src/client';
import {
  compareNames,
  compareTabLabel,
  defaultMetric,
  diffRows,
  historyTraces,
  metricCoverage,
  MISSING_LABEL,
  parcoordsData,
  parseNumber,
  runLabels,
  sameRunSet,
  uniqueRunIds
} from '../src/compare';

function run(
  id: string,
  name: string,
  params: Record<string, string> = {},
  metrics: Record<string, number> = {},
  tags: Record<string, string> = {}
): Run {
  return {
    id,
    name,
    experiment_id: 'e1',
    experiment_name: 'churn',
    status: 'finished',
    user: 'ada',
    start_time: 0,
    end_time: 1000,
    duration: 1,
    parent_run_id: null,
    params,
    metrics,
    tags,
    source: null
  };
}

function history(
  runId: string,
  key: string,
  points: [number, number][]
): MetricHistory {
  return {
    run_id: runId,
    key,
    history: points.map(([step, value], i) => ({
      step,
      value,
      timestamp: 1000 + i
    }))
  };
}

const A = run(
  'aaaaaaaa-1111',
  'rf',
  { n_estimators: '100', model: 'rf', seed: '0' },
  { accuracy: 0.9, loss: 0.3 },
  { team: 'x' }
);
const B = run(
  'bbbbbbbb-2222',
  'rf',
  { n_estimators: '200', model: 'rf', seed: '0', depth: '5' },
  { accuracy: 0.9, loss: 0.25 },
  { team: 'x' }
);
const C = run(
  'cccccccc-3333',
  'gb',
  { n_estimators: '50', model: 'gb', seed: '0' },
  { loss: 0.4 },
  { team: 'y' }
);

test('diff rows: params then metrics, sorted by key, one value per run', () => {
  const rows = diffRows([A, B, C]);
  assert.deepEqual(
    rows.map(r => `${r.section}:${r.key}`),
    [
      'param:depth',
      'param:model',
      'param:n_estimators',
      'param:seed',
      'metric:accuracy',
      'metric:loss'
    ]
  );
  const byKey = new Map(rows.map(r => [`${r.section}:${r.key}`, r]));
  assert.deepEqual(byKey.get('param:n_estimators')!.values, [
    '100',
    '200',
    '50'
  ]);
  assert.equal(byKey.get('param:n_estimators')!.differs, true);
  // The same in every run.
  assert.equal(byKey.get('param:seed')!.differs, false);
  // Missing counts as different.
  assert.deepEqual(byKey.get('param:depth')!.values, [null, '5', null]);
  assert.equal(byKey.get('param:depth')!.differs, true);
  assert.deepEqual(byKey.get('metric:accuracy')!.values, [0.9, 0.9, null]);
  assert.equal(byKey.get('metric:accuracy')!.differs, true);
  assert.equal(byKey.get('metric:loss')!.differs, true);
});

test('diff rows: equal values in two runs do not differ; tags on request', () => {
  const rows = diffRows([A, B], { tags: true });
  const byKey = new Map(rows.map(r => [`${r.section}:${r.key}`, r]));
  assert.equal(byKey.get('metric:accuracy')!.differs, false);
  assert.equal(byKey.get('param:model')!.differs, false);
  assert.equal(byKey.get('tag:team')!.differs, false);
  assert.equal(rows[rows.length - 1].section, 'tag');
  assert.equal(
    diffRows([A, B]).some(r => r.section === 'tag'),
    false
  );
});

test('diff rows: natural key order, NaN equals NaN, no runs no rows', () => {
  const x = run('x', 'x', { layer10: '1', layer2: '1', Alpha: '1' });
  const y = run('y', 'y', { layer10: '1', layer2: '1', Alpha: '1' });
  assert.deepEqual(
    diffRows([x, y]).map(r => r.key),
    ['Alpha', 'layer2', 'layer10']
  );
  const n1 = run('n1', 'n', {}, { m: NaN });
  const n2 = run('n2', 'n', {}, { m: NaN });
  assert.equal(diffRows([n1, n2])[0].differs, false);
  assert.deepEqual(diffRows([]), []);
  assert.ok(compareNames('b', 'a') > 0);
});

test('run labels: names, short ids for repeated names and unnamed runs', () => {
  assert.deepEqual(runLabels([A, B, C]), [
    'rf (aaaaaaaa)',
    'rf (bbbbbbbb)',
    'gb'
  ]);
  assert.deepEqual(runLabels([run('0123456789', '')]), ['01234567']);
  // Short ids that collide: the full ids.
  assert.deepEqual(
    runLabels([run('abcdefgh-1', 'same'), run('abcdefgh-2', 'same')]),
    ['same (abcdefgh-1)', 'same (abcdefgh-2)']
  );
});

test('metric coverage and the default metric', () => {
  assert.deepEqual(metricCoverage([A, B, C]), [
    { key: 'accuracy', runs: 2 },
    { key: 'loss', runs: 3 }
  ]);
  // The metric present in the most runs.
  assert.equal(defaultMetric([A, B, C]), 'loss');
  // Same coverage: held-out first, then a score name, then by name.
  const r1 = run('1', 'a', {}, { aaa: 1, train_loss: 1, val_accuracy: 1 });
  const r2 = run('2', 'b', {}, { aaa: 2, train_loss: 2, val_accuracy: 2 });
  assert.equal(defaultMetric([r1, r2]), 'val_accuracy');
  const r3 = run('3', 'c', {}, { aaa: 1, train_loss: 1 });
  assert.equal(defaultMetric([r3]), 'train_loss');
  const r4 = run('4', 'd', {}, { zeta: 1, beta: 1 });
  assert.equal(defaultMetric([r4]), 'beta');
  assert.equal(defaultMetric([run('5', 'e')]), null);
  assert.equal(defaultMetric([]), null);
});

test('parse number: decimal and scientific only', () => {
  assert.equal(parseNumber('0.001'), 0.001);
  assert.equal(parseNumber(' 1e-3 '), 0.001);
  assert.equal(parseNumber('-5'), -5);
  assert.equal(parseNumber('.5'), 0.5);
  for (const text of ['', 'True', 'None', 'inf', 'NaN', '0x10', '1,5', null]) {
    assert.equal(parseNumber(text), null, String(text));
  }
});

test('parcoords: numeric, categorical and constant params; metric last', () => {
  const data = parcoordsData([A, B, C], 'loss');
  assert.equal(data.metric, 'loss');
  assert.deepEqual(data.runIds, [A.id, B.id, C.id]);
  assert.deepEqual(data.excluded, []);
  // seed is the same everywhere: dropped.
  assert.deepEqual(data.constant, ['seed']);
  assert.deepEqual(
    data.dimensions.map(d => [d.key, d.kind]),
    [
      ['depth', 'categorical'],
      ['model', 'categorical'],
      ['n_estimators', 'numeric'],
      ['loss', 'metric']
    ]
  );
  const [depth, model, n, loss] = data.dimensions;
  // A numeric param some run lacks: categorical, missing first.
  assert.deepEqual(depth.ticktext, [MISSING_LABEL, '5']);
  assert.deepEqual(depth.tickvals, [0, 1]);
  assert.deepEqual(depth.values, [0, 1, 0]);
  // Categories sorted, coded by their index.
  assert.deepEqual(model.ticktext, ['gb', 'rf']);
  assert.deepEqual(model.values, [1, 1, 0]);
  assert.deepEqual(model.range, [0, 1]);
  assert.deepEqual(n.values, [100, 200, 50]);
  assert.deepEqual(n.range, [50, 200]);
  assert.equal(n.tickvals, undefined);
  assert.deepEqual(loss.values, [0.3, 0.25, 0.4]);
  assert.deepEqual(loss.range, [0.25, 0.4]);
  assert.deepEqual(data.color, [0.3, 0.25, 0.4]);
});

test('parcoords: runs lacking the metric are excluded and reported', () => {
  const data = parcoordsData([A, B, C], 'accuracy');
  assert.deepEqual(data.excluded, [C.id]);
  assert.deepEqual(data.runIds, [A.id, B.id]);
  assert.deepEqual(data.color, [0.9, 0.9]);
  // Among the drawn runs, model is constant too.
  assert.deepEqual(data.constant, ['model', 'seed']);
  const metricDim = data.dimensions[data.dimensions.length - 1];
  assert.equal(metricDim.kind, 'metric');
  // A single value: a range around it.
  assert.ok(metricDim.range[0] < 0.9 && metricDim.range[1] > 0.9);
  for (const d of data.dimensions) {
    assert.equal(d.values.length, 2, d.key);
  }
  // A non-finite value counts as missing.
  const odd = run('odd', 'odd', {}, { accuracy: Infinity });
  assert.deepEqual(parcoordsData([A, odd], 'accuracy').excluded, ['odd']);
});

test('parcoords: keep constant, numeric category order, run axis, limits', () => {
  const runs = [
    run(
      'r1',
      'one',
      { lr: '0.1', opt: 'adam', c: '10', big: 'x'.repeat(40) },
      { m: 1 }
    ),
    run('r2', 'two', { lr: '0.01', opt: 'sgd', c: '9', big: 'y' }, { m: 2 }),
    run('r3', 'three', { lr: '0.1', opt: 'sgd', c: '9', big: 'y' }, { m: 3 })
  ];
  const all = parcoordsData(runs, 'm', { keepConstant: true });
  assert.deepEqual(all.constant, []);
  assert.deepEqual(
    all.dimensions.map(d => d.key),
    ['big', 'c', 'lr', 'opt', 'm']
  );
  const big = all.dimensions[0];
  assert.equal(big.kind, 'categorical');
  assert.ok(big.ticktext!.every(t => t.length <= 24));
  const withRun = parcoordsData(runs, 'm', { runAxis: true, maxParams: 2 });
  assert.equal(withRun.dimensions[0].key, 'run');
  assert.deepEqual(withRun.dimensions[0].ticktext, ['one', 'two', 'three']);
  assert.deepEqual(
    withRun.dimensions.map(d => d.key),
    ['run', 'big', 'c', 'm']
  );
  assert.deepEqual(withRun.omitted, ['lr', 'opt']);
  // Numeric strings with a missing value sort numerically.
  const mixed = [
    run('a', 'a', { k: '10' }, { m: 1 }),
    run('b', 'b', { k: '9' }, { m: 2 }),
    run('c', 'c', {}, { m: 3 })
  ];
  const k = parcoordsData(mixed, 'm').dimensions[0];
  assert.deepEqual(k.ticktext, [MISSING_LABEL, '9', '10']);
  assert.deepEqual(k.values, [2, 1, 0]);
});

test('history traces: sorted steps, run names disambiguated, missing runs', () => {
  const result = historyTraces(
    [A, B, C],
    [
      history(B.id, 'loss', [
        [2, 0.3],
        [0, 0.5],
        [1, 0.4]
      ]),
      history(A.id, 'loss', [
        [0, 0.6],
        [1, 0.45]
      ])
    ]
  );
  assert.deepEqual(result.missing, [C.id]);
  assert.deepEqual(
    result.traces.map(t => [t.runId, t.name]),
    [
      [A.id, 'rf (aaaaaaaa)'],
      [B.id, 'rf (bbbbbbbb)']
    ]
  );
  assert.deepEqual(result.traces[1].x, [0, 1, 2]);
  assert.deepEqual(result.traces[1].y, [0.5, 0.4, 0.3]);
  // An empty history is missing too; unique names stay plain.
  const single = historyTraces(
    [A, C],
    [history(A.id, 'loss', [[0, 1]]), history(C.id, 'loss', [])]
  );
  assert.deepEqual(
    single.traces.map(t => t.name),
    ['rf']
  );
  assert.deepEqual(single.missing, [C.id]);
});

test('tab label and run id sets', () => {
  assert.equal(compareTabLabel(['a', 'b', 'c']), 'Compare 3 runs');
  assert.equal(compareTabLabel(['a', 'a']), 'Compare 1 run');
  assert.equal(compareTabLabel([]), 'Compare 0 runs');
  assert.deepEqual(uniqueRunIds(['b', 'a', 'b', '']), ['b', 'a']);
  assert.equal(sameRunSet(['a', 'b'], ['b', 'a']), true);
  assert.equal(sameRunSet(['a', 'b'], ['a', 'b', 'c']), false);
  assert.equal(sameRunSet(['a', 'a', 'b'], ['b', 'a']), true);
});
