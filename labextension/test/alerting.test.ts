import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  actionText,
  badgeText,
  baseName,
  evaluationSummary,
  firingCount,
  formatAlertValue,
  isOpen,
  kindLabel,
  notificationMessage,
  panelCaption,
  parseRulesText,
  pruneSeen,
  retrainHeadline,
  ruleCondition,
  ruleSnippet,
  rulesText,
  sortAlerts,
  sortRules,
  statusTone,
  takeNewlyFiring,
  validationText,
  webhookHost,
  webhookText
} from '../src/alerting';
import { alert } from './alertfixtures';

test('sortAlerts: firing first, then acknowledged, then resolved; newest first', () => {
  const sorted = sortAlerts([
    alert('old-ack', 'acknowledged', 1),
    alert('resolved', 'resolved', 9),
    alert('old-fire', 'firing', 2),
    alert('new-ack', 'acknowledged', 5),
    alert('new-fire', 'firing', 7)
  ]);
  assert.deepEqual(
    sorted.map(a => a.id),
    ['new-fire', 'old-fire', 'new-ack', 'old-ack', 'resolved']
  );
  assert.equal(firingCount(sorted), 2);
  assert.equal(firingCount(null), 0);
  assert.ok(isOpen(sorted[0]) && isOpen(sorted[2]) && !isOpen(sorted[4]));
});

test('badgeText and the panel caption', () => {
  assert.equal(badgeText(0), '');
  assert.equal(badgeText(-1), '');
  assert.equal(badgeText(NaN), '');
  assert.equal(badgeText(1), '1');
  assert.equal(badgeText(99), '99');
  assert.equal(badgeText(150), '99+');
  assert.equal(panelCaption(0), 'MLOps');
  assert.equal(panelCaption(1), 'MLOps: 1 firing alert');
  assert.equal(panelCaption(3), 'MLOps: 3 firing alerts');
});

test('ruleCondition: each kind in words, time window or newest rows', () => {
  assert.equal(
    ruleCondition({ kind: 'drift_share', threshold: 0.3, window: '1h' }),
    'drift share ≥ 30% over 1h'
  );
  assert.equal(
    ruleCondition({ kind: 'drift_share', threshold: 0.25, rows: 1500 }),
    'drift share ≥ 25% over the newest 1,500 rows'
  );
  assert.equal(
    ruleCondition({ kind: 'column_drift', column: 'mean radius' }),
    'column “mean radius” drifts over 1h'
  );
  assert.equal(
    ruleCondition({
      kind: 'metric',
      metric: 'accuracy',
      threshold: 0.9,
      window: '24h',
      min_rows: 50
    }),
    'accuracy < 0.9 over 24h (≥ 50 labelled rows)'
  );
  assert.equal(
    ruleCondition({ kind: 'metric', metric: 'rmse', threshold: 2.5 }),
    'rmse > 2.5 over 1h (≥ 30 labelled rows)'
  );
  assert.equal(
    ruleCondition({ kind: 'latency_p99', threshold: 250, window: '15m' }),
    'p99 latency > 250 ms over 15m'
  );
  assert.equal(
    ruleCondition({ kind: 'error_rate', threshold: 0.05 }),
    'refused requests > 5% over 1h'
  );
  assert.equal(
    ruleCondition({ kind: 'drift_share' }),
    'drift share ≥ ? over 1h'
  );
  assert.equal(
    ruleCondition({ kind: 'future_kind', threshold: 2 }),
    'future_kind threshold 2 over 1h'
  );
});

test('webhookHost, baseName and actionText', () => {
  assert.equal(
    webhookHost('https://hooks.slack.com/services/T0/B0/xyz'),
    'hooks.slack.com'
  );
  assert.equal(
    webhookHost('http://alerts.example.org:8080/x'),
    'alerts.example.org:8080'
  );
  assert.equal(webhookHost('not a url'), 'not a url');
  assert.equal(webhookHost(undefined), '');
  assert.equal(baseName('/home/me/project/train.ipynb'), 'train.ipynb');
  assert.equal(baseName('C:\\work\\train.ipynb'), 'train.ipynb');
  assert.equal(actionText(undefined), '');
  assert.equal(
    actionText({
      type: 'retrain',
      parameters: { experiment: 'churn', C: 0.3, cols: ['a'] },
      notebook: '/home/me/monitoring/train.ipynb'
    }),
    'retrain train.ipynb (C=0.3, cols=["a"], experiment=churn)'
  );
  assert.equal(
    actionText({ type: 'retrain', parameters: {}, register_as: 'churn-v2' }),
    'retrain → churn-v2'
  );
});

test('formatAlertValue by kind; labels and tones', () => {
  assert.equal(formatAlertValue('drift_share', 0.6), '60%');
  assert.equal(formatAlertValue('error_rate', 0.172), '17%');
  assert.equal(formatAlertValue('error_rate', 0.052), '5.2%');
  assert.equal(formatAlertValue('latency_p99', 812.345), '812.3 ms');
  assert.equal(formatAlertValue('column_drift', 1.2e-9), '1.2e-9');
  assert.equal(formatAlertValue('metric', 0.87654), '0.8765');
  assert.equal(formatAlertValue('metric', null), '—');
  assert.equal(kindLabel('drift_share'), 'dataset drift');
  assert.equal(kindLabel('latency_p99'), 'p99 latency');
  assert.equal(kindLabel('other'), 'other');
  assert.equal(statusTone('firing'), 'error');
  assert.equal(statusTone('acknowledged'), 'warn');
  assert.equal(statusTone('resolved'), 'ok');
  assert.equal(statusTone('running'), 'info');
  assert.equal(statusTone('succeeded'), 'ok');
  assert.equal(statusTone('failed'), 'error');
  assert.equal(statusTone('queued'), 'muted');
});

test('retrain outcome: headline, validation and webhook in words', () => {
  assert.equal(retrainHeadline({ status: 'queued' }), 'retraining queued');
  assert.equal(retrainHeadline({ status: 'running' }), 'retraining…');
  assert.equal(
    retrainHeadline({ status: 'succeeded', seconds: 14.4 }),
    'retrained in 14 s'
  );
  assert.equal(retrainHeadline({ status: 'succeeded' }), 'retrained');
  assert.equal(
    retrainHeadline({ status: 'failed', seconds: 2.6 }),
    'retraining failed after 3 s'
  );
  assert.equal(retrainHeadline({ status: 'failed' }), 'retraining failed');
  assert.equal(retrainHeadline({ status: 'paused' }), 'retraining paused');
  assert.deepEqual(
    validationText({ on: 'labelled live traffic (171 rows)', passed: true }),
    {
      state: 'passed',
      text: 'validation passed on labelled live traffic (171 rows)'
    }
  );
  assert.deepEqual(validationText({ on: 'dataset holdout', passed: false }), {
    state: 'failed',
    text: 'validation failed on dataset holdout'
  });
  assert.deepEqual(
    validationText({
      on: 'labelled live traffic',
      passed: null,
      note: 'only 3 labelled rows (need 20)'
    }),
    { state: 'none', text: 'not validated: only 3 labelled rows (need 20)' }
  );
  assert.deepEqual(validationText(undefined), {
    state: 'none',
    text: 'not validated'
  });
  assert.equal(webhookText(alert('a', 'firing', 1)), null);
  assert.deepEqual(
    webhookText(
      alert('a', 'firing', 1, { data: { webhook: { ok: true, status: 204 } } })
    ),
    { ok: true, text: 'webhook delivered (204)' }
  );
  assert.deepEqual(
    webhookText(
      alert('a', 'firing', 1, {
        data: { webhook: { ok: false, error: 'connection refused' } }
      })
    ),
    { ok: false, text: 'webhook failed: connection refused' }
  );
  assert.deepEqual(
    webhookText(
      alert('a', 'firing', 1, { data: { webhook: { ok: false, status: 500 } } })
    ),
    { ok: false, text: 'webhook failed: HTTP 500' }
  );
});

test('notificationMessage and the rule snippet', () => {
  assert.equal(
    notificationMessage(alert('a', 'firing', 1)),
    'iris: dataset drift alert: 60% of columns drifted over 1h (a, b, c)'
  );
  const long = notificationMessage(
    alert('a', 'firing', 1, { message: 'x'.repeat(500) }),
    40
  );
  assert.equal(long.length, 40);
  assert.ok(long.endsWith('…'));
  assert.equal(
    ruleSnippet(),
    'import mlops_jlab as mlops\nmlops.set_alert_rules("name", [{"kind": "drift_share", "threshold": 0.3}])'
  );
  assert.match(
    ruleSnippet('iris "prod"'),
    /set_alert_rules\("iris \\"prod\\"", /
  );
});

test('parseRulesText: a list or {rules}, readable errors, empty = no rules', () => {
  const rules = [{ id: 'r1', kind: 'drift_share', threshold: 0.3 }];
  assert.deepEqual(parseRulesText(rulesText(rules)), { rules });
  assert.deepEqual(parseRulesText(JSON.stringify({ rules })), { rules });
  assert.deepEqual(parseRulesText('  \n'), { rules: [] });
  const broken = parseRulesText('[{"kind": "drift_share",}]');
  assert.ok('error' in broken);
  assert.match(broken.error, /^The rules are not valid JSON: /);
  assert.deepEqual(parseRulesText('{"kind": "drift_share"}'), {
    error:
      'The rules must be a JSON list of objects, e.g. [{"kind": "drift_share", "threshold": 0.3}]'
  });
  assert.deepEqual(parseRulesText('[{"kind": "error_rate"}, 3]'), {
    error: 'Rule 2 is not an object: 3'
  });
  assert.deepEqual(parseRulesText('[{"threshold": 0.3}]'), {
    error:
      'Rule 1 has no "kind" (drift_share, column_drift, metric, latency_p99 or error_rate)'
  });
});

test('evaluationSummary says what fired and what resolved', () => {
  assert.equal(evaluationSummary([]), 'Evaluated: no alert fired or resolved.');
  assert.equal(
    evaluationSummary([
      alert('a', 'firing', 1),
      alert('b', 'resolved', 1, { kind: 'column_drift' })
    ]),
    'Evaluated: dataset drift fired, column drift resolved.'
  );
});

test('takeNewlyFiring notifies each firing alert once; pruneSeen keeps live ids', () => {
  const seen = new Set<string>(['old']);
  const poll1 = [alert('a', 'firing', 2), alert('b', 'acknowledged', 1)];
  assert.deepEqual(
    takeNewlyFiring(poll1, seen).map(a => a.id),
    ['a']
  );
  // The same poll again (or after a reload with the stored ids): nothing new.
  assert.deepEqual(takeNewlyFiring(poll1, seen), []);
  const poll2 = [
    alert('c', 'firing', 3),
    alert('a', 'acknowledged', 2),
    alert('b', 'acknowledged', 1)
  ];
  assert.deepEqual(
    takeNewlyFiring(poll2, seen).map(a => a.id),
    ['c']
  );
  assert.deepEqual(Array.from(seen), ['old', 'a', 'b', 'c']);
  assert.deepEqual(pruneSeen(Array.from(seen), poll2, 4), [
    'a',
    'b',
    'c',
    'old'
  ]);
  assert.deepEqual(pruneSeen(Array.from(seen), poll2, 3), ['a', 'b', 'c']);
  assert.deepEqual(pruneSeen(['x', 'y', 'z'], [], 2), ['y', 'z']);
});

test('sortRules: by kind as the server lists kinds, then column or metric, then id', () => {
  const rules = sortRules([
    { id: 'b', kind: 'error_rate', threshold: 0.05 },
    { id: 'z', kind: 'column_drift', column: 'b' },
    { id: 'c', kind: 'latency_p99', threshold: 100 },
    { id: 'y', kind: 'column_drift', column: 'a' },
    { id: 'x', kind: 'drift_share', threshold: 0.3 },
    { id: 'w', kind: 'metric', metric: 'f1', threshold: 0.8 },
    { id: 'v', kind: 'metric', metric: 'accuracy', threshold: 0.9 },
    { id: 'u', kind: 'someday' }
  ]);
  assert.deepEqual(
    rules.map(r => r.id),
    ['x', 'y', 'z', 'v', 'w', 'c', 'b', 'u']
  );
});
