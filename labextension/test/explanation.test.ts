import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  explainSnippet,
  explanationFigures,
  explanationLabel,
  explanationMethod,
  topFeatures
} from '../src/explanation';
import { full, summary } from './explanationfixtures';

test('explanationMethod names the global and the local method', () => {
  assert.equal(
    explanationMethod({
      scoring: 'accuracy',
      local_method: 'shap.TreeExplainer'
    }),
    'permutation importance (accuracy) + shap.TreeExplainer'
  );
  assert.equal(
    explanationMethod({ scoring: '', local_method: 'occlusion' }),
    'permutation importance + occlusion'
  );
  assert.equal(
    explanationMethod({ scoring: 'r2', local_method: '' }),
    'permutation importance (r2)'
  );
});

test('topFeatures: descending by mean, ties by name, bars relative to the largest', () => {
  const { rows, more } = topFeatures(
    [
      { feature: 'b', mean: 0.01, std: 0.001 },
      { feature: 'a', mean: 0.04, std: 0.002 },
      { feature: 'neg', mean: -0.005, std: 0.001 },
      { feature: 'c', mean: 0.01, std: Number.NaN },
      { feature: 'bad', mean: Number.NaN, std: 0 }
    ],
    3
  );
  assert.deepEqual(
    rows.map(r => [r.rank, r.feature, r.share]),
    [
      [1, 'a', 1],
      [2, 'b', 0.25],
      [3, 'c', 0.25]
    ]
  );
  assert.equal(rows[2].std, 0, 'a missing std reads as 0');
  assert.equal(more, 1, 'the NaN mean is left out, the negative one counted');
  const all = topFeatures([{ feature: 'neg', mean: -0.01, std: 0 }]);
  assert.equal(all.rows[0].share, 0, 'no positive mean: no bar');
  assert.deepEqual(topFeatures(null), { rows: [], more: 0 });
});

test('explanationFigures: the stored figures in drawing order, broken ones left out', () => {
  const e = full(summary('e1', 1));
  assert.deepEqual(
    explanationFigures(e).map(f => [f.key, f.fallbackTitle]),
    [
      ['importance', 'Permutation importance'],
      ['partial_dependence', 'Partial dependence'],
      ['local', 'Local explanations']
    ]
  );
  const partial = {
    figures: { local: e.figures.local, importance: { layout: {} } }
  };
  assert.deepEqual(
    explanationFigures(partial).map(f => f.key),
    ['local']
  );
  assert.deepEqual(explanationFigures(null), []);
});

test('explanationLabel and the empty state snippet', () => {
  const label = explanationLabel({ created_at: 0, created_by: 'bob', rows: 1 });
  assert.match(label, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d by bob · 1 row$/);
  assert.match(
    explanationLabel({ created_at: 0, created_by: '', rows: 50 }),
    /\d · 50 rows$/
  );
  assert.equal(
    explainSnippet('explained-clf', 1),
    'mlops.explain("models:/explained-clf/1", X, y)'
  );
});
