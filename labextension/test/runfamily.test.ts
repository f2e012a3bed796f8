import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Run } from '../src/client';
import {
  bestChildId,
  childColumns,
  childRunsFilter,
  errorReport,
  isFigure,
  isNotebookArtifact,
  runnerOf,
  snapshotLabel,
  sortChildren,
  sweepSummaryArtifact,
  themedFigure
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

const COLORS = {
  text: '#111',
  muted: '#666',
  grid: '#ddd',
  font: 'Inter'
};

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

test('themedFigure drops the stored template and recolours the axes', () => {
  const stored = {
    data: [
      { type: 'scatter', x: [1, 2], y: [3, 4], line: { color: '#4c72b0' } },
      { type: 'parcoords', dimensions: [] }
    ],
    layout: {
      template: { layout: { paper_bgcolor: 'white' } },
      title: { text: '<b>acc across the sweep</b>' },
      xaxis: { title: { text: 'alpha' }, type: 'log' },
      yaxis2: { title: { text: 'acc' } },
      width: 900,
      height: 400,
      annotations: [{ text: 'no metric' }]
    }
  };
  const { data, layout } = themedFigure(stored, COLORS);
  assert.equal(layout.template, undefined);
  assert.equal(layout.width, undefined);
  assert.equal(layout.height, 400);
  assert.equal(layout.paper_bgcolor, 'rgba(0,0,0,0)');
  assert.equal(layout.font.color, '#666');
  assert.equal(layout.title.font.color, '#111');
  assert.equal(layout.xaxis.gridcolor, '#ddd');
  assert.equal(layout.xaxis.type, 'log');
  assert.equal(layout.yaxis2.gridcolor, '#ddd');
  assert.equal(layout.annotations[0].font.color, '#666');
  assert.equal(data[0].line.color, '#4c72b0', 'traces keep their colours');
  assert.equal(data[1].labelfont.color, '#111');
  // The stored figure is untouched.
  assert.ok(stored.layout.template);
  assert.equal((stored.layout.xaxis as any).gridcolor, undefined);
  assert.equal(isFigure(stored), true);
  assert.equal(isFigure({ layout: {} }), false);
  assert.equal(isFigure(null), false);
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
