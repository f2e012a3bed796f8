import assert from 'node:assert/strict';
import { test } from 'node:test';

import { RequestBucket, RequestStats } from '../src/client';
import {
  bucketSpan,
  bucketTitle,
  formatErrorRate,
  formatLatency,
  formatRate,
  formatWindow,
  isValue,
  p95Series,
  rateSeries,
  seriesMax,
  sparklineGeometry,
  statsSummary,
  summaryTitle
} from '../src/requeststats';

function bucket(over: Partial<RequestBucket> = {}): RequestBucket {
  return {
    start: 0,
    requests: 0,
    errors: 0,
    rate: 0,
    p50_ms: null,
    p95_ms: null,
    ...over
  };
}

function stats(over: Partial<RequestStats> = {}): RequestStats {
  return {
    deployment: 'churn-staging',
    window_seconds: 3600,
    bucket_ms: 120_000,
    start: 0,
    end: 3_600_000,
    requests: 7380,
    errors: 0,
    error_rate: 0,
    rate: 2.05,
    recent_rate: 12.3,
    p50_ms: 12.4,
    p95_ms: 45.2,
    latency_rows: 7380,
    sampled: false,
    buckets: [],
    ...over
  };
}

test('isValue accepts finite numbers only', () => {
  assert.equal(isValue(0), true);
  assert.equal(isValue(-2.5), true);
  for (const v of [null, undefined, NaN, Infinity]) {
    assert.equal(isValue(v as number | null | undefined), false);
  }
});

test('sparklineGeometry scales from zero to the max, oldest left', () => {
  const g = sparklineGeometry([0, 5, 10], 104, 24);
  // padding 2: x from 2 to 102, y from 22 (zero) to 2 (max)
  assert.equal(g.line, 'M2 22L52 12L102 2');
  assert.equal(g.area, 'M2 22L2 22L52 12L102 2L102 22Z');
  assert.deepEqual(g.dots, []);
  assert.deepEqual(g.last, { index: 2, x: 102, y: 2 });
  assert.equal(g.min, 0);
  assert.equal(g.max, 10);
  // hover slots centred on each value, clipped to the box
  assert.deepEqual(g.slots, [
    { x: 0, width: 27 },
    { x: 27, width: 50 },
    { x: 77, width: 27 }
  ]);
});

test('sparklineGeometry leaves gaps and dots lone values', () => {
  const g = sparklineGeometry([1, 2, null, 4, null, NaN, 3, 3], 72, 22);
  // 8 values over 68 units: step 68/7; runs [0,1], [3], [6,7]
  const lines = g.line.split('M').filter(Boolean);
  assert.equal(lines.length, 2);
  assert.ok(g.line.startsWith('M2 '));
  assert.deepEqual(
    g.dots.map(p => p.index),
    [3]
  );
  assert.equal(g.dots[0].y, 2); // 4 is the max
  assert.equal(g.last?.index, 7);
  assert.equal(g.area.split('Z').filter(Boolean).length, 2);
  assert.equal(g.slots.length, 8);
});

test('sparklineGeometry handles empty, flat and single series', () => {
  const empty = sparklineGeometry([null, null], 50, 20);
  assert.equal(empty.line, '');
  assert.equal(empty.area, '');
  assert.deepEqual(empty.dots, []);
  assert.equal(empty.last, null);
  const none = sparklineGeometry([], 50, 20);
  assert.equal(none.line, '');
  assert.deepEqual(none.slots, []);
  // all zero: on the baseline
  assert.equal(sparklineGeometry([0, 0], 50, 20).line, 'M2 18L48 18');
  // flat but not zero, without zero in the domain: mid-height
  assert.equal(
    sparklineGeometry([3, 3], 50, 20, { zero: false }).line,
    'M2 10L48 10'
  );
  const one = sparklineGeometry([7], 50, 20);
  assert.equal(one.line, '');
  assert.deepEqual(one.dots, [{ index: 0, x: 25, y: 2 }]);
  assert.deepEqual(one.slots, [{ x: 0, width: 50 }]);
});

test('sparklineGeometry without zero uses the data range', () => {
  const g = sparklineGeometry([10, 20], 24, 24, { zero: false, padding: 0 });
  assert.equal(g.line, 'M0 24L24 0');
  assert.equal(g.min, 10);
});

test('formatRate', () => {
  assert.equal(formatRate(12.34), '12.3 req/s');
  assert.equal(formatRate(0.4234), '0.42 req/s');
  assert.equal(formatRate(3), '3 req/s');
  assert.equal(formatRate(1250.4), '1,250 req/s');
  assert.equal(formatRate(0.004), '<0.01 req/s');
  assert.equal(formatRate(0), '0 req/s');
  assert.equal(formatRate(null), '0 req/s');
  assert.equal(formatRate(NaN), '0 req/s');
});

test('formatLatency', () => {
  assert.equal(formatLatency(45.2), '45 ms');
  assert.equal(formatLatency(4.24), '4.2 ms');
  assert.equal(formatLatency(0.421), '0.42 ms');
  assert.equal(formatLatency(1234), '1.2 s');
  assert.equal(formatLatency(12_500), '13 s');
  assert.equal(formatLatency(null), '—');
  assert.equal(formatLatency(undefined), '—');
  assert.equal(formatLatency(-1), '—');
});

test('formatErrorRate and formatWindow', () => {
  assert.equal(formatErrorRate(0), '0%');
  assert.equal(formatErrorRate(null), '0%');
  assert.equal(formatErrorRate(0.025), '2.5%');
  assert.equal(formatErrorRate(0.5), '50%');
  assert.equal(formatErrorRate(0.0004), '<0.1%');
  assert.equal(formatWindow(30), '30 s');
  assert.equal(formatWindow(120), '2 min');
  assert.equal(formatWindow(900), '15 min');
  assert.equal(formatWindow(3600), '1 h');
  assert.equal(formatWindow(5400), '1.5 h');
  assert.equal(formatWindow(7 * 86400), '7 d');
});

test('statsSummary is "rate · p95", with errors when any', () => {
  assert.equal(statsSummary(stats()), '12.3 req/s · p95 45 ms');
  assert.equal(
    statsSummary(stats({ errors: 3, error_rate: 0.025 })),
    '12.3 req/s · p95 45 ms · 2.5% errors'
  );
  assert.equal(
    statsSummary(stats({ recent_rate: 0, p95_ms: null, requests: 0 })),
    '0 req/s · p95 —'
  );
});

test('summaryTitle says what each figure is over', () => {
  const text = summaryTitle(stats({ sampled: true, latency_rows: 100_000 }));
  assert.match(
    text,
    /12\.3 req\/s over the last minute \(2\.05 req\/s over the last 1 h\)/
  );
  assert.match(text, /7,380 requests in the last 1 h, 0 refused or failed/);
  assert.match(text, /p50 12 ms, p95 45 ms \(of the newest 100,000\)/);
  assert.doesNotMatch(summaryTitle(stats()), /newest/);
});

test('bucketSpan and bucketTitle', () => {
  const start = new Date(2024, 0, 2, 14, 2, 0).getTime();
  assert.equal(bucketSpan(start, 120_000), '14:02–14:04');
  assert.equal(bucketSpan(start, 30_000), '14:02:00–14:02:30');
  assert.equal(bucketSpan(start + 500, 60_000), '14:02:00–14:03:00');
  assert.match(bucketSpan(start, 86_400_000), /–/);
  const title = bucketTitle(
    bucket({
      start,
      requests: 35,
      errors: 2,
      rate: 0.29,
      p50_ms: 12,
      p95_ms: 45
    }),
    120_000
  );
  assert.equal(
    title,
    '14:02–14:04: 35 requests (0.29 req/s)\n2 refused or failed\np50 12 ms, p95 45 ms'
  );
  assert.equal(
    bucketTitle(bucket({ start, requests: 1, rate: 0.01, errors: 1 }), 120_000),
    '14:02–14:04: 1 request (0.01 req/s)\n1 refused or failed\nno answered request'
  );
});

test('series of a stats answer, with gaps for buckets without answers', () => {
  const s = stats({
    buckets: [
      bucket({ rate: 1, p95_ms: 20 }),
      bucket({ rate: 0, p95_ms: null }),
      bucket({ rate: 2.5, p95_ms: 31 })
    ]
  });
  assert.deepEqual(rateSeries(s), [1, 0, 2.5]);
  assert.deepEqual(p95Series(s), [20, null, 31]);
  assert.equal(seriesMax(p95Series(s)), 31);
  assert.equal(seriesMax([null, undefined]), null);
});
