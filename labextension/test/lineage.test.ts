import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Lineage, LineageNode } from '../src/client';
import {
  computeLayers,
  edgeLabel,
  kindLabel,
  layoutLineage,
  truncateLabel
} from '../src/lineage';

function node(id: string, kind: string, data: Record<string, any> = {}) {
  return { id, kind, label: id, data } as LineageNode;
}

/** model_version → run → {dataset ×2, notebook, commit, parent run}. */
const LINEAGE: Lineage = {
  nodes: [
    node('run:parent', 'run', { run_id: 'parent' }),
    node('model_version:churn/3', 'model_version'),
    node('run:a1', 'run', { run_id: 'a1' }),
    node('dataset:train', 'dataset', { role: 'train' }),
    node('notebook:nb', 'notebook', { notebook_path: null }),
    node('commit:3f2a', 'commit', { branch: 'main' }),
    node('dataset:test', 'dataset', { role: 'test' })
  ],
  edges: [
    { source: 'model_version:churn/3', target: 'run:a1', kind: 'produced_by' },
    { source: 'run:a1', target: 'dataset:train', kind: 'trained_on' },
    { source: 'run:a1', target: 'dataset:test', kind: 'tested_on' },
    { source: 'run:a1', target: 'notebook:nb', kind: 'source' },
    { source: 'run:a1', target: 'commit:3f2a', kind: 'code' },
    { source: 'run:a1', target: 'run:parent', kind: 'child_of' },
    // An edge to an unknown node is ignored.
    { source: 'run:a1', target: 'dataset:gone', kind: 'used' }
  ]
};

const OPTIONS = {
  nodeWidth: 100,
  nodeHeight: 20,
  gapX: 50,
  gapY: 10,
  padding: 5
};

test('layers: model version, then its run, then the run inputs', () => {
  const layout = layoutLineage(LINEAGE, OPTIONS);
  assert.deepEqual(layout.layers, [
    ['model_version:churn/3'],
    ['run:a1'],
    [
      'dataset:train',
      'dataset:test',
      'notebook:nb',
      'commit:3f2a',
      'run:parent'
    ]
  ]);
  assert.equal(layout.edges.length, 6);
});

test('coordinates: columns per layer, each column centered vertically', () => {
  const layout = layoutLineage(LINEAGE, OPTIONS);
  const at = (id: string) => layout.nodes.find(p => p.node.id === id)!;
  // Tallest column: 5 nodes → 5 * 20 + 4 * 10 = 140.
  assert.equal(layout.height, 5 + 140 + 5);
  assert.equal(layout.width, 5 + 3 * 100 + 2 * 50 + 5);
  assert.deepEqual(
    [at('model_version:churn/3').x, at('model_version:churn/3').y],
    [5, 5 + 60]
  );
  assert.deepEqual([at('run:a1').x, at('run:a1').y], [155, 65]);
  assert.deepEqual([at('dataset:train').x, at('dataset:train').y], [305, 5]);
  assert.deepEqual([at('run:parent').x, at('run:parent').y], [305, 125]);
  assert.equal(at('dataset:test').order, 1);
  // Nodes keep the input order of lineage.nodes in the answer.
  assert.deepEqual(
    layout.nodes.map(p => p.node.id),
    LINEAGE.nodes.map(n => n.id)
  );
});

test('edges go from the right side of the source to the left of the target', () => {
  const layout = layoutLineage(LINEAGE, OPTIONS);
  const e = layout.edges[0];
  assert.equal(e.edge.kind, 'produced_by');
  assert.deepEqual([e.x1, e.y1, e.x2, e.y2], [105, 75, 155, 75]);
  assert.match(e.path, /^M 105 75 C .* 155 75$/);
});

test('longest path wins; a cycle does not loop forever', () => {
  const layers = computeLayers(
    [node('a', 'run'), node('b', 'run'), node('c', 'run'), node('d', 'run')],
    [
      { source: 'a', target: 'b', kind: 'x' },
      { source: 'b', target: 'c', kind: 'x' },
      { source: 'a', target: 'c', kind: 'x' },
      { source: 'c', target: 'a', kind: 'x' }
    ]
  );
  assert.equal(layers.get('b')! < layers.get('c')!, true);
  assert.equal(layers.get('d'), 0);
  assert.equal(layers.size, 4);
});

test('an empty lineage has an empty layout', () => {
  const layout = layoutLineage({ nodes: [], edges: [] });
  assert.deepEqual(layout, {
    nodes: [],
    edges: [],
    layers: [],
    width: 0,
    height: 0
  });
});

test('labels: truncation, kind captions, edge kinds', () => {
  assert.equal(truncateLabel('short', 10), 'short');
  assert.equal(truncateLabel('a very long label', 8), 'a very …');
  assert.equal(
    kindLabel(node('d', 'dataset', { role: 'train' })),
    'dataset · train'
  );
  assert.equal(kindLabel(node('m', 'model_version')), 'model version');
  assert.equal(
    kindLabel(node('c', 'commit', { branch: 'main' })),
    'commit · main'
  );
  assert.equal(edgeLabel('trained_on'), 'trained on');
});
