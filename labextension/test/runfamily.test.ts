import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Run } from '../src/client';
import {
  bestChildId,
  childColumns,
  childRunsFilter,
  childFamily,
  childSummary,
  errorReport,
  figureArtifacts,
  isNotebookArtifact,
  presentTagColumns,
  runnerOf,
  snapshotLabel,
  sortChildren,
  sweepSummaryArtifact
} from '../src/runfamily';

function run(
  id: string,
  params: Record<string, string>,
  metrics: Record<string, number>,
  start = 0
): Run {
  return {
    id,
    name: id,
    experiment_id: 'e1',
    experiment_name: 'sweep',
    status: 'finished',
    user: 'alice',
    start_time: start,
    end_time: start + 1000,
    duration: 1,
    parent_run_id: 'p1',
    params,
    metrics,
    tags: {},
    source: null
  };
}

test('the children of a run are found with a filter on parent_run_id', () => {
  assert.equal(
    childRunsFilter('abc123'),
    "attributes.parent_run_id = 'abc123'"
  );
  assert.equal(childRunsFilter("a'b"), "attributes.parent_run_id = 'a''b'");
});

test('childColumns: the params that differ, then metrics (differing first)', () => {
  const children = [
    run('c1', { alpha: '0.1', seed: '0', model: 'lr' }, { acc: 0.8, n: 10 }),
    run('c2', { alpha: '0.5', seed: '0', model: 'lr' }, { acc: 0.9, n: 10 }),
    run('c3', { alpha: '1.0', seed: '0', model: 'rf' }, { acc: 0.85, n: 10 })
  ];
  assert.deepEqual(childColumns(children), {
    params: ['alpha', 'model'],
    metrics: ['acc', 'n'],
    hiddenParams: 0,
    hiddenMetrics: 0
  });
  const narrow = childColumns(children, 1);
  assert.deepEqual(narrow.params, ['alpha']);
  assert.equal(narrow.hiddenParams, 1);
  assert.equal(narrow.hiddenMetrics, 1);
  // A single child: all its params tell what it ran with.
  assert.deepEqual(childColumns([children[0]]).params, [
    'alpha',
    'model',
    'seed'
  ]);
});

test('children sort by start time, then by name', () => {
  const sorted = sortChildren([
    run('b', {}, {}, 5),
    run('step-10', {}, {}, 1),
    run('step-2', {}, {}, 1)
  ]);
  assert.deepEqual(
    sorted.map(r => r.id),
    ['step-2', 'step-10', 'b']
  );
});

test('a sweep parent run: its runner, chart artifact and best child', () => {
  const parent = {
    tags: { 'mlops.runner': 'sweep', 'mlops.sweep_best_run': 'c2' },
    artifacts: [
      { path: 'sweep/summary.csv', sha256: 'a', size: 1 },
      { path: 'sweep/summary.json', sha256: 'b', size: 2 }
    ]
  };
  assert.equal(runnerOf(parent), 'sweep');
  assert.equal(sweepSummaryArtifact(parent)?.sha256, 'b');
  assert.equal(bestChildId(parent), 'c2');
  assert.equal(
    sweepSummaryArtifact({ ...parent, tags: { 'mlops.runner': 'pipeline' } }),
    null
  );
  assert.equal(runnerOf({ tags: {} }), null);
});

test('errorReport: the first line is the headline, the rest the detail', () => {
  const error =
    'cell 3 (In [3]) raised ValueError: alpha must be positive\n\n' +
    '--- cell source ---\nfit(alpha=-1)\n\n--- traceback ---\n' +
    '\x1b[0;31mValueError\x1b[0m: alpha must be positive\n';
  const report = errorReport(error);
  assert.equal(
    report.headline,
    'cell 3 (In [3]) raised ValueError: alpha must be positive'
  );
  assert.equal(
    report.detail,
    '--- cell source ---\nfit(alpha=-1)\n\n--- traceback ---\nValueError: alpha must be positive'
  );
  assert.deepEqual(errorReport('boom'), { headline: 'boom', detail: '' });
  assert.deepEqual(errorReport('\n\n'), { headline: '', detail: '' });
});

test('notebook artifacts: which ones, and their tab labels', () => {
  assert.equal(isNotebookArtifact('output/train.ipynb'), true);
  assert.equal(isNotebookArtifact('model/manifest.json'), false);
  assert.equal(
    snapshotLabel('abc123456789', 'examples/train.ipynb', 'output/out.ipynb'),
    'out.ipynb · run abc12345'
  );
  assert.equal(
    snapshotLabel('abc123456789', 'examples/train.ipynb', null),
    'train.ipynb @ abc12345'
  );
  assert.equal(snapshotLabel('abc1', null, null), 'Notebook @ abc1');
});

test('figureArtifacts: the sweep summary first, then every charts/*.json by path', () => {
  const artifact = (path: string, sha = path) => ({
    path,
    sha256: sha,
    size: 1
  });
  const sweep = {
    tags: { 'mlops.runner': 'sweep' },
    artifacts: [
      artifact('charts/b.json'),
      artifact('sweep/summary.json'),
      artifact('charts/a.json')
    ]
  };
  assert.deepEqual(
    figureArtifacts(sweep).map(f => [
      f.artifact.path,
      f.fallbackTitle,
      f.sweep
    ]),
    [
      ['sweep/summary.json', 'Sweep', true],
      ['charts/a.json', 'A', false],
      ['charts/b.json', 'B', false]
    ]
  );
  const automl = {
    tags: { 'mlops.runner': 'automl' },
    artifacts: [
      artifact('charts/param_importance.json'),
      artifact('charts/optimization_history.json'),
      artifact('charts/data/table.json'),
      artifact('charts/notes.txt'),
      artifact('sweep/summary.json'),
      artifact('model/charts/x.json')
    ]
  };
  assert.deepEqual(
    figureArtifacts(automl).map(f => [f.artifact.path, f.fallbackTitle]),
    [
      ['charts/optimization_history.json', 'Optimization history'],
      ['charts/param_importance.json', 'Param importance']
    ],
    'only JSON directly in charts/; a summary only for sweeps'
  );
  assert.deepEqual(figureArtifacts({ tags: {} }), []);
});

test('childFamily names the children of AutoML and federated runs', () => {
  assert.equal(childFamily('automl').title, 'AutoML trials');
  assert.equal(childFamily('automl').noun, 'trial');
  assert.equal(childFamily('federated').noun, 'round');
  assert.equal(childFamily('pipeline').title, 'Pipeline steps');
  assert.equal(childFamily('sweep').title, 'Sweep runs');
  assert.deepEqual(childFamily(null), {
    title: 'Child runs',
    noun: 'run',
    tagColumns: []
  });
  assert.equal(childFamily('papermill').title, 'Child runs');
  // The tag columns only when a child has the tag.
  const trials = [
    { tags: { 'mlops.automl_trial': '0', 'mlops.trial_state': 'COMPLETE' } },
    { tags: { 'mlops.automl_trial': '1', 'mlops.trial_state': 'PRUNED' } }
  ];
  assert.deepEqual(
    presentTagColumns(childFamily('automl'), trials).map(c => c.label),
    ['trial', 'state']
  );
  assert.deepEqual(
    presentTagColumns(childFamily('automl'), [{ tags: {} }]),
    []
  );
  assert.deepEqual(
    presentTagColumns(childFamily('federated'), [
      { tags: { 'mlops.federated_round': '1' } }
    ]),
    [],
    "a round's number is a param already"
  );
  // The best trial of an AutoML search is starred like a sweep's best run.
  assert.equal(bestChildId({ tags: { 'mlops.automl_best_run': 'r7' } }), 'r7');
  assert.equal(bestChildId({ tags: { 'mlops.automl_best_run': '' } }), null);
});

test('childSummary counts the children by status, in the family noun', () => {
  const children = [
    { status: 'finished' },
    { status: 'finished' },
    { status: 'failed' }
  ];
  assert.equal(childSummary(children), '3 runs: 2 finished, 1 failed');
  assert.equal(
    childSummary(children, 'trial'),
    '3 trials: 2 finished, 1 failed'
  );
  assert.equal(
    childSummary([{ status: 'running' }], 'round'),
    '1 round: 1 running'
  );
});
