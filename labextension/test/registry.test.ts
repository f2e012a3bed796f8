import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  aliasChips,
  aliasClass,
  aliasInputError,
  formatRuleValue,
  formatVersion,
  sortAliases,
  sortVersions,
  validationBadge
} from '../src/registry';

test('aliasChips: well-known aliases first, then A-Z, with the version', () => {
  assert.deepEqual(aliasChips(null), []);
  assert.deepEqual(
    aliasChips({ zeta: 1, staging: 3, production: 2, beta: 4 }).map(
      c => c.label
    ),
    ['production → v2', 'staging → v3', 'beta → v4', 'zeta → v1']
  );
  assert.deepEqual(aliasChips({ production: 2 })[0], {
    alias: 'production',
    version: 2,
    label: 'production → v2'
  });
});

test('sortAliases, aliasClass and formatVersion', () => {
  assert.deepEqual(sortAliases(['b', 'staging', 'a', 'production']), [
    'production',
    'staging',
    'a',
    'b'
  ]);
  assert.equal(aliasClass('production'), 'mlops-alias-production');
  assert.equal(aliasClass('staging'), 'mlops-alias-staging');
  assert.equal(aliasClass('canary'), 'mlops-alias-other');
  assert.equal(formatVersion(3), 'v3');
  assert.equal(formatVersion(null), '—');
});

test('validationBadge: passed, failed, none', () => {
  const passed = validationBadge(
    { passed: true, created_at: 5 },
    ms => `t${ms}`
  );
  assert.equal(passed.state, 'passed');
  assert.equal(passed.icon, '✓');
  assert.equal(passed.label, 'passed');
  assert.equal(passed.title, 'Latest validation passed (t5)');
  const failed = validationBadge({ passed: false, created_at: null });
  assert.equal(failed.state, 'failed');
  assert.equal(failed.icon, '✗');
  assert.equal(failed.title, 'Latest validation failed');
  const none = validationBadge(null);
  assert.equal(none.state, 'none');
  assert.equal(none.label, 'not validated');
  assert.equal(none.icon, '');
});

test('sortVersions: newest first, input untouched', () => {
  const input = [{ version: 1 }, { version: 3 }, { version: 2 }];
  assert.deepEqual(
    sortVersions(input).map(v => v.version),
    [3, 2, 1]
  );
  assert.deepEqual(
    input.map(v => v.version),
    [1, 3, 2]
  );
});

test('formatRuleValue', () => {
  const fmt = (n: number) => n.toFixed(2);
  assert.equal(formatRuleValue(0.87, fmt), '0.87');
  assert.equal(formatRuleValue(null, fmt), '—');
  assert.equal(formatRuleValue(undefined, fmt), '—');
  assert.equal(formatRuleValue(true, fmt), 'true');
  assert.equal(formatRuleValue('float64', fmt), 'float64');
  assert.equal(formatRuleValue({ a: 1 }, fmt), '{"a":1}');
});

test('aliasInputError follows the server rule', () => {
  assert.equal(aliasInputError('staging'), null);
  assert.equal(aliasInputError(' @production '), null);
  assert.equal(aliasInputError('canary-2_b'), null);
  assert.match(aliasInputError('')!, /Type an alias/);
  assert.match(aliasInputError('latest')!, /reserved/);
  assert.match(aliasInputError('2')!, /not allowed/);
  assert.match(aliasInputError('a b')!, /not allowed/);
  assert.match(aliasInputError('a.b')!, /not allowed/);
});
