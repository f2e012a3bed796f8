import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  columnRefId,
  defaultDirection,
  filterCompletions,
  mergeFirstPage,
  orderByParam,
  parseColumnRef,
  quoteKey,
  resolveColumns,
  sameData,
  sortKey,
  toggleSort,
  unionKeys,
  visibleRows,
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

test('mergeFirstPage: new runs on top, rows loaded further down stay', () => {
  const r = (id: string) => ({ id });
  assert.deepEqual(mergeFirstPage(null, [r('a')]), [r('a')]);
  assert.deepEqual(mergeFirstPage([r('a')], [r('b'), r('a')]), [
    r('b'),
    r('a')
  ]);
  assert.deepEqual(
    mergeFirstPage([r('a'), r('b'), r('c')], [r('n'), r('a')]).map(x => x.id),
    ['n', 'a', 'b', 'c']
  );
});

const KEYS = {
  params: ['C', 'max_depth'],
  metrics: ['accuracy', 'val loss', 'auc'],
  tags: ['team']
};

test('filterCompletions: keys after a field prefix, quoted when needed', () => {
  let c = filterCompletions('metrics.a', 9, KEYS);
  assert.deepEqual(
    c.items.map(i => i.insert),
    ['accuracy', 'auc', '`val loss`']
  );
  assert.equal(c.from, 8);
  assert.equal(c.to, 9);
  c = filterCompletions('metrics.v', 9, KEYS);
  assert.deepEqual(
    c.items.map(i => i.insert),
    ['`val loss`']
  );
  c = filterCompletions('params.', 7, KEYS);
  assert.deepEqual(
    c.items.map(i => i.label),
    ['C', 'max_depth']
  );
  assert.equal(c.items[0].kind, 'param');
  c = filterCompletions('attributes.st', 13, KEYS);
  assert.deepEqual(
    c.items.map(i => i.insert),
    ['status', 'start_time']
  );
  // substring matches come after prefix matches
  c = filterCompletions('metrics.c', 9, KEYS);
  assert.deepEqual(
    c.items.map(i => i.label),
    ['accuracy', 'auc']
  );
});

test('filterCompletions: bare words offer fields and keys; not in strings or keywords', () => {
  let c = filterCompletions('acc', 3, KEYS);
  assert.deepEqual(
    c.items.map(i => i.insert),
    ['metrics.accuracy']
  );
  assert.equal(c.from, 0);
  c = filterCompletions('metrics.accuracy > 0.9 and p', 28, KEYS);
  assert.deepEqual(
    c.items.map(i => i.insert),
    ['params.', 'params.C', 'params.max_depth']
  );
  assert.equal(c.from, 27);
  assert.deepEqual(filterCompletions("params.C = 'ab", 14, KEYS).items, []);
  assert.deepEqual(
    filterCompletions('metrics.auc > 1 and', 19, KEYS).items,
    []
  );
  assert.deepEqual(filterCompletions('nope.x', 6, KEYS).items, []);
  // the word right of the cursor is replaced too
  c = filterCompletions('metrics.acxyz > 1', 10, KEYS);
  assert.equal(c.to, 13);
});

test('resolveColumns: chosen columns win, else the automatic ones', () => {
  assert.deepEqual(resolveColumns(null, { metrics: ['acc'], params: ['C'] }), [
    { kind: 'metrics', key: 'acc' },
    { kind: 'params', key: 'C' }
  ]);
  assert.deepEqual(
    resolveColumns(['params.C', 'bogus', 'tags.team', 'metrics.val loss'], {
      metrics: ['acc'],
      params: []
    }),
    [
      { kind: 'params', key: 'C' },
      { kind: 'tags', key: 'team' },
      { kind: 'metrics', key: 'val loss' }
    ]
  );
  assert.equal(parseColumnRef('attributes.name'), null);
  assert.equal(columnRefId({ kind: 'metrics', key: 'a.b' }), 'metrics.a.b');
  assert.deepEqual(parseColumnRef('metrics.a.b'), {
    kind: 'metrics',
    key: 'a.b'
  });
});

test('visibleRows: the viewport plus overscan, clamped', () => {
  assert.deepEqual(visibleRows(0, 240, 24, 10000, 10), { start: 0, end: 21 });
  assert.deepEqual(visibleRows(2400, 240, 24, 10000, 10), {
    start: 90,
    end: 121
  });
  assert.deepEqual(visibleRows(10000 * 24, 240, 24, 10000, 10), {
    start: 9990,
    end: 10000
  });
  assert.deepEqual(visibleRows(0, 240, 24, 0), { start: 0, end: 0 });
  assert.deepEqual(visibleRows(-50, 100, 24, 3, 0), { start: 0, end: 3 });
});
