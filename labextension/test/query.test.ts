import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  defaultDirection,
  orderByParam,
  quoteKey,
  sameData,
  sortKey,
  toggleSort,
  unionKeys,
  withSortedKey
} from '../src/query';

test('quoteKey back-quotes only keys that need it', () => {
  assert.equal(quoteKey('accuracy'), 'accuracy');
  assert.equal(quoteKey('f1_macro'), 'f1_macro');
  assert.equal(quoteKey('val loss'), '`val loss`');
  assert.equal(quoteKey('a`b'), '`a\\`b`');
  assert.equal(sortKey('metrics', 'val loss'), 'metrics.`val loss`');
  assert.equal(sortKey('attributes', 'start_time'), 'attributes.start_time');
});

test('default direction: metrics and times descending, the rest ascending', () => {
  assert.equal(defaultDirection('metrics.accuracy'), 'DESC');
  assert.equal(defaultDirection('attributes.start_time'), 'DESC');
  assert.equal(defaultDirection('attributes.name'), 'ASC');
  assert.equal(defaultDirection('params.C'), 'ASC');
});

test('toggleSort cycles default -> reverse -> server default', () => {
  let s = toggleSort(null, 'metrics.accuracy');
  assert.deepEqual(s, { key: 'metrics.accuracy', direction: 'DESC' });
  assert.equal(orderByParam(s), 'metrics.accuracy DESC');
  s = toggleSort(s, 'metrics.accuracy');
  assert.deepEqual(s, { key: 'metrics.accuracy', direction: 'ASC' });
  assert.equal(orderByParam(s), 'metrics.accuracy ASC');
  s = toggleSort(s, 'metrics.accuracy');
  assert.equal(s, null);
  assert.equal(orderByParam(s), undefined);
  // Another column starts over in its own default direction.
  s = toggleSort(
    { key: 'metrics.accuracy', direction: 'ASC' },
    'attributes.name'
  );
  assert.deepEqual(s, { key: 'attributes.name', direction: 'ASC' });
});

test('unionKeys: most frequent first, ties in first-seen order, capped', () => {
  const runs = [
    { metrics: { loss: 1, acc: 0.5 }, params: { C: '1' } },
    { metrics: { acc: 0.7, f1: 0.6 }, params: { C: '2', kernel: 'rbf' } },
    { metrics: { acc: 0.9 } },
    {}
  ];
  assert.deepEqual(unionKeys(runs, 'metrics', 10), ['acc', 'loss', 'f1']);
  assert.deepEqual(unionKeys(runs, 'metrics', 2), ['acc', 'loss']);
  assert.deepEqual(unionKeys(runs, 'params', 10), ['C', 'kernel']);
  assert.deepEqual(unionKeys([], 'params', 3), []);
});

test('unionKeys puts keys whose values vary before constant ones', () => {
  const runs = [
    { params: { n_jobs: 'None', estimator: 'A', C: '1' } },
    { params: { n_jobs: 'None', estimator: 'B', C: '1' } }
  ];
  assert.deepEqual(unionKeys(runs, 'params', 2), ['estimator', 'n_jobs']);
  assert.deepEqual(unionKeys(runs, 'params', 3), ['estimator', 'n_jobs', 'C']);
});

test('withSortedKey keeps the sorted column visible', () => {
  const sort = { key: 'metrics.`val loss`', direction: 'DESC' as const };
  assert.deepEqual(withSortedKey(['acc'], 'metrics', sort), [
    'acc',
    'val loss'
  ]);
  assert.deepEqual(withSortedKey(['acc', 'val loss'], 'metrics', sort), [
    'acc',
    'val loss'
  ]);
  assert.deepEqual(withSortedKey(['C'], 'params', sort), ['C']);
  assert.deepEqual(withSortedKey(['acc'], 'metrics', null), ['acc']);
});

test('sameData compares by value', () => {
  assert.ok(sameData({ a: [1, 2] }, { a: [1, 2] }));
  assert.ok(!sameData({ a: [1, 2] }, { a: [2, 1] }));
  assert.ok(!sameData(null, []));
});
