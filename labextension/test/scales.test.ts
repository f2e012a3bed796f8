import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  formatShare,
  formatTick,
  linearScale,
  niceStep,
  niceTicks,
  timeTicks
} from '../src/scales';

test('linearScale maps a domain onto a range; a flat domain onto the middle', () => {
  const x = linearScale([0, 10], [100, 200]);
  assert.equal(x(0), 100);
  assert.equal(x(5), 150);
  assert.equal(x(10), 200);
  const y = linearScale([0, 1], [200, 0]);
  assert.equal(y(0.25), 150);
  assert.equal(linearScale([3, 3], [0, 100])(3), 50);
});

test('niceStep and niceTicks: round steps that enclose the data', () => {
  assert.equal(niceStep(1, 5), 0.2);
  assert.equal(niceStep(100, 4), 25);
  assert.equal(niceStep(0, 5), 1);
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0, 0.37, 4), [0, 0.1, 0.2, 0.3, 0.4]);
  assert.deepEqual(niceTicks(4.3, 7.9, 4), [4, 5, 6, 7, 8]);
  assert.deepEqual(niceTicks(-3.2, 3.4, 3), [-5, -2.5, 0, 2.5, 5]);
  // reversed and flat inputs
  assert.deepEqual(niceTicks(1, 0, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  const flat = niceTicks(5, 5, 4);
  assert.ok(flat[0] <= 5 && flat[flat.length - 1] >= 5 && flat.length > 1);
  assert.deepEqual(niceTicks(NaN, 1), [0, 1]);
});

test('formatTick keeps the decimals the step needs', () => {
  assert.equal(formatTick(0.30000000000000004, 0.1), '0.3');
  assert.equal(formatTick(2, 0.5), '2');
  assert.equal(formatTick(2.5, 0.5), '2.5');
  assert.equal(formatTick(0.025, 0.025), '0.025');
  assert.equal(formatTick(1500, 500), '1500');
  assert.equal(formatTick(2e6, 1e6), '2e+6');
  assert.equal(formatTick(NaN, 1), '');
});

test('formatShare: percents without noise', () => {
  assert.equal(formatShare(0.5), '50%');
  assert.equal(formatShare(2 / 3), '67%');
  assert.equal(formatShare(0.025), '2.5%');
  assert.equal(formatShare(0.004), '0.4%');
  assert.equal(formatShare(0), '0%');
  assert.equal(formatShare(1), '100%');
  assert.equal(formatShare(null), '—');
});

test('timeTicks fall on round local times inside the span', () => {
  const start = new Date(2024, 4, 10, 9, 7, 30).getTime();
  const hour = timeTicks(start, start + 3_600_000, 6);
  assert.ok(hour.length >= 3 && hour.length <= 7, `${hour.length} ticks`);
  for (const t of hour) {
    const d = new Date(t.value);
    assert.ok(t.value >= start && t.value <= start + 3_600_000);
    assert.equal(d.getSeconds(), 0);
    assert.equal(d.getMinutes() % 10, 0);
    assert.match(t.label, /^\d\d:\d\d$/);
  }
  assert.equal(hour[0].label, '09:10');
  const week = timeTicks(start, start + 7 * 86_400_000, 4);
  for (const t of week) {
    const d = new Date(t.value);
    assert.equal(d.getHours(), 0);
    assert.match(t.label, /^05-\d\d$/);
  }
  assert.equal(week[0].label, '05-11');
  const day = timeTicks(start, start + 86_400_000, 5);
  assert.ok(day.every(t => new Date(t.value).getMinutes() === 0));
  assert.equal(timeTicks(start, start).length, 1);
  assert.deepEqual(timeTicks(NaN, 1), []);
});
