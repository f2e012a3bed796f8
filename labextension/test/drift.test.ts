import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ColumnDriftRecord,
  DriftHistoryEntry,
  PerformancePoint
} from '../src/client';
import {
  bySeverity,
  distributionBins,
  driftBadge,
  driftBadgeTitle,
  formatStatistic,
  heatLevel,
  heatmapMatrix,
  higherIsBetter,
  isPValueTest,
  performanceMetrics,
  performanceSeries,
  reportTitle,
  ruleText,
  windowLabel
} from '../src/drift';

function col(
  column: string,
  score: number,
  drifted: boolean,
  statistic: number | null = 0.01,
  test = 'ks'
): ColumnDriftRecord {
  return {
    column,
    test,
    statistic,
    threshold: 0.05,
    drifted,
    psi: 0.1,
    psi_significant: false,
    score,
    notes: []
  };
}

function entry(
  at: number,
  columns: ColumnDriftRecord[],
  datasetDrift = false
): DriftHistoryEntry {
  const tested = columns.filter(c => c.statistic !== null);
  return {
    computed_at: at,
    version: 1,
    window_start: at - 3_600_000,
    window_end: at,
    rows: 200,
    share: tested.length
      ? tested.filter(c => c.drifted).length / tested.length
      : 0,
    dataset_drift: datasetDrift,
    columns
  };
}

test('windowLabel and the rule of a test', () => {
  assert.equal(windowLabel('1h'), 'last hour');
  assert.equal(windowLabel('7d'), 'last 7 days');
  assert.equal(windowLabel('30m'), 'last 30m');
  assert.equal(windowLabel(null), 'the chosen rows');
  assert.ok(isPValueTest('ks') && isPValueTest('chisquare'));
  assert.ok(!isPValueTest('wasserstein') && !isPValueTest('psi'));
  assert.equal(ruleText('ks', 0.05), 'p < 0.05');
  assert.equal(ruleText('jensenshannon', 0.1), '≥ 0.1');
});

test('formatStatistic: p-values and distances like the Python report', () => {
  assert.equal(formatStatistic(0.6184470813, 'chisquare'), '0.618');
  assert.equal(formatStatistic(5.95e-26, 'ks'), '6e-26');
  assert.equal(formatStatistic(1.3e-62, 'chisquare'), '1.3e-62');
  assert.equal(formatStatistic(0, 'ks'), '0');
  assert.equal(formatStatistic(0.05, 'ks'), '0.05');
  assert.equal(formatStatistic(1.0548165, 'psi'), '1.0548');
  assert.equal(formatStatistic(0.1, 'wasserstein'), '0.1');
  assert.equal(formatStatistic(58.738, 'psi'), '58.7');
  assert.equal(formatStatistic(null, 'ks'), '—');
  assert.equal(formatStatistic(undefined, 'psi'), '—');
});

test('bySeverity: drifted first by score, then steady by score, untested last', () => {
  const sorted = bySeverity([
    col('calm', 0.1, false),
    col('nan', 0, false, null),
    col('mild', 1.5, true),
    col('near', 0.9, false),
    col('worst', 19.4, true),
    col('b-tie', 0.1, false)
  ]);
  assert.deepEqual(
    sorted.map(c => c.column),
    ['worst', 'mild', 'near', 'b-tie', 'calm', 'nan']
  );
});

test('heatLevel: not in report, not tested, steady, near, drifted levels', () => {
  assert.equal(heatLevel(undefined), 'none');
  assert.equal(heatLevel(col('a', 0, false, null)), 'na');
  assert.equal(heatLevel(col('a', 0.2, false)), 0);
  assert.equal(heatLevel(col('a', 0.7, false)), 1);
  assert.equal(heatLevel(col('a', 1.2, true)), 2);
  assert.equal(heatLevel(col('a', 3, true)), 3);
  assert.equal(heatLevel(col('a', 12, true)), 4);
});

test('heatmapMatrix: reports oldest to newest, rows by the newest report’s severity', () => {
  const history = [
    // newest first, as the server sends it
    entry(
      3000,
      [col('a', 0.1, false), col('b', 8, true), col('c', 2.5, true)],
      true
    ),
    entry(2000, [col('a', 0.2, false), col('b', 0.4, false)]),
    entry(1000, [col('old', 3, true), col('a', 0.3, false)])
  ];
  const m = heatmapMatrix(history, ms => `t${ms}`);
  assert.deepEqual(
    m.reports.map(r => r.computed_at),
    [1000, 2000, 3000]
  );
  assert.deepEqual(m.columns, ['b', 'c', 'a', 'old']);
  assert.equal(m.cells.length, 4);
  assert.ok(m.cells.every(row => row.length === 3));
  // b: absent in the oldest report, steady, then badly drifted
  assert.deepEqual(
    m.cells[0].map(c => c.level),
    ['none', 0, 4]
  );
  assert.deepEqual(
    m.cells[3].map(c => c.level),
    [3, 'none', 'none']
  );
  assert.equal(m.reports[2].drifted, 2);
  assert.equal(m.reports[2].tested, 3);
  assert.equal(m.reports[2].dataset_drift, true);
  const title = m.cells[0][2].title;
  assert.match(title, /^b · t3000 \(v1, 200 rows\)/);
  assert.match(title, /Kolmogorov-Smirnov: 0\.01 \(drift when p < 0\.05\)/);
  assert.match(title, /\ndrifted\n/);
  assert.match(m.cells[0][0].title, /not in this report/);
  assert.match(
    reportTitle(m.reports[2], ms => `t${ms}`),
    /window t-3597000 – t3000, 200 rows, reference v1\n2 of 3 tested columns drifted \(67%\)\ndataset drift/
  );
});

test('heatmapMatrix of an empty history; untested cells name their notes', () => {
  assert.deepEqual(heatmapMatrix([]), { columns: [], reports: [], cells: [] });
  const untested = {
    ...col('x', 0, false, null),
    notes: ['current window is empty: not tested']
  };
  const m = heatmapMatrix([entry(1, [untested])]);
  assert.equal(m.cells[0][0].level, 'na');
  assert.match(m.cells[0][0].title, /not tested\ncurrent window is empty/);
  assert.equal(m.reports[0].tested, 0);
});

test('distributionBins: histogram bins with edges, categories, nothing', () => {
  const hist = distributionBins({
    type: 'histogram',
    edges: [0, 0.5, 1, 1.5],
    reference: [0.2, 0.5, 0.3],
    current: [0.1, 0.3, 0.6]
  });
  assert.ok(hist);
  assert.equal(hist.kind, 'histogram');
  assert.equal(hist.bins.length, 3);
  assert.deepEqual(hist.bins[2], {
    label: '1 – 1.5',
    reference: 0.3,
    current: 0.6,
    x0: 1,
    x1: 1.5
  });
  assert.equal(hist.max, 0.6);
  const cats = distributionBins({
    type: 'categories',
    labels: ['w', 'x', '(other 3)'],
    reference: [0, 0.5, 0.5],
    current: [0.4, 0.4, 0.2]
  });
  assert.ok(cats);
  assert.equal(cats.kind, 'categories');
  assert.deepEqual(
    cats.bins.map(b => [b.label, b.reference, b.current]),
    [
      ['w', 0, 0.4],
      ['x', 0.5, 0.4],
      ['(other 3)', 0.5, 0.2]
    ]
  );
  assert.equal(distributionBins({}), null);
  assert.equal(distributionBins(null), null);
  assert.equal(
    distributionBins({
      type: 'categories',
      labels: [],
      reference: [],
      current: []
    }),
    null
  );
});

test('performance: metrics present, one series per version, shadow last', () => {
  const points: PerformancePoint[] = [
    {
      bucket_start: 2000,
      version: 1,
      shadow: false,
      rows: 10,
      accuracy: 0.8,
      f1: 0.7
    },
    {
      bucket_start: 1000,
      version: 1,
      shadow: false,
      rows: 5,
      accuracy: 0.9,
      f1: 0.85
    },
    {
      bucket_start: 1000,
      version: 2,
      shadow: true,
      rows: 5,
      accuracy: 0.6,
      f1: 0.5
    },
    {
      bucket_start: 1000,
      version: 3,
      shadow: false,
      rows: 4,
      accuracy: null,
      f1: 0.4
    },
    { bucket_start: null, version: 1, shadow: false, rows: 1, accuracy: 1 }
  ];
  assert.deepEqual(performanceMetrics(points), ['accuracy', 'f1']);
  const series = performanceSeries(points, 'accuracy');
  assert.deepEqual(
    series.map(s => s.label),
    ['v1', 'v2 (shadow)']
  );
  assert.deepEqual(series[0].points, [
    { x: 1000, y: 0.9, rows: 5 },
    { x: 2000, y: 0.8, rows: 10 }
  ]);
  assert.deepEqual(
    performanceSeries(points, 'f1').map(s => s.label),
    ['v1', 'v3', 'v2 (shadow)']
  );
  assert.deepEqual(
    performanceMetrics([
      {
        bucket_start: 1,
        version: 1,
        shadow: false,
        rows: 3,
        rmse: 1.2,
        mae: 0.9
      }
    ]),
    ['rmse', 'mae']
  );
  assert.deepEqual(performanceMetrics([]), []);
  assert.ok(higherIsBetter('accuracy') && !higherIsBetter('rmse'));
});

test('driftBadge: from the deployments list summary, only on dataset drift', () => {
  assert.equal(driftBadge(undefined), null);
  assert.equal(driftBadge(null), null);
  const calm = {
    computed_at: 1,
    share: 0.2,
    dataset_drift: false,
    rows: 300,
    drifted_columns: ['a']
  };
  assert.equal(driftBadge(calm), null);
  const badge = driftBadge({
    computed_at: 5000,
    share: 2 / 3,
    dataset_drift: true,
    rows: 1234,
    drifted_columns: ['z', 'a']
  });
  assert.ok(badge);
  assert.deepEqual(badge, {
    computedAt: 5000,
    share: 2 / 3,
    drifted: 2,
    tested: 3,
    rows: 1234,
    columns: ['z', 'a']
  });
  assert.equal(
    driftBadgeTitle(badge, ms => `t${ms}`),
    'Dataset drift in the last recorded report (t5000, 1,234 rows): 2 of 3 tested columns drifted (67%): z, a'
  );
  // Many drifted columns: five named, the rest elided; no share: no tested count.
  const many = driftBadge({
    computed_at: 1,
    share: 0,
    dataset_drift: true,
    rows: 10,
    drifted_columns: ['a', 'b', 'c', 'd', 'e', 'f']
  })!;
  assert.equal(many.tested, null);
  assert.equal(
    driftBadgeTitle(many, () => 'now'),
    'Dataset drift in the last recorded report (now, 10 rows): 6 columns drifted (0%): a, b, c, d, e, …'
  );
});
