import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  formatBytes,
  formatDuration,
  formatMetric,
  formatParam,
  formatRelative,
  formatRunCount,
  formatShortTime,
  formatTime,
  runDuration,
  shortId
} from '../src/format';

test('formatDuration', () => {
  assert.equal(formatDuration(null), '—');
  assert.equal(formatDuration(undefined), '—');
  assert.equal(formatDuration(NaN), '—');
  assert.equal(formatDuration(0), '0 ms');
  assert.equal(formatDuration(0.25), '250 ms');
  assert.equal(formatDuration(3), '3 s');
  assert.equal(formatDuration(4.24), '4.2 s');
  assert.equal(formatDuration(42.4), '42 s');
  assert.equal(formatDuration(185), '3 min 05 s');
  assert.equal(formatDuration(2 * 3600 + 7 * 60 + 10), '2 h 07 min');
  assert.equal(formatDuration(3 * 86400 + 4 * 3600), '3 d 04 h');
  assert.equal(formatDuration(-5), '0 ms');
});

test('runDuration uses the server value, else now - start', () => {
  assert.equal(runDuration({ duration: 3.5, start_time: 0 }), 3.5);
  assert.equal(
    runDuration({ duration: null, start_time: 1000, end_time: 4000 }),
    3
  );
  assert.equal(
    runDuration({ duration: null, start_time: 1000, end_time: null }, 11000),
    10
  );
  assert.equal(runDuration({ duration: null, start_time: null }), null);
});

test('formatTime is local YYYY-MM-DD HH:MM:SS', () => {
  const ms = new Date(2026, 0, 5, 7, 8, 9).getTime();
  assert.equal(formatTime(ms), '2026-01-05 07:08:09');
  assert.equal(formatTime(null), '—');
});

test('formatShortTime depends on how far the date is', () => {
  const now = new Date(2026, 10, 26, 18, 0, 0).getTime();
  assert.equal(
    formatShortTime(new Date(2026, 10, 26, 9, 5, 7).getTime(), now),
    '09:05:07'
  );
  assert.equal(
    formatShortTime(new Date(2026, 2, 1, 9, 5, 7).getTime(), now),
    '03-01 09:05'
  );
  assert.equal(
    formatShortTime(new Date(2024, 2, 1, 9, 5, 7).getTime(), now),
    '2024-03-01'
  );
  assert.equal(formatShortTime(null, now), '—');
});

test('formatRelative', () => {
  const now = 1_800_000_000_000;
  assert.equal(formatRelative(now - 10_000, now), 'just now');
  assert.equal(formatRelative(now - 5 * 60_000, now), '5 min ago');
  assert.equal(formatRelative(now - 3 * 3600_000, now), '3 h ago');
  assert.equal(formatRelative(now - 2 * 86400_000, now), '2 d ago');
  assert.equal(formatRelative(null, now), 'never');
  assert.match(
    formatRelative(now - 90 * 86400_000, now),
    /^\d{4}-\d{2}-\d{2}$/
  );
});

test('formatMetric', () => {
  assert.equal(formatMetric(null), '—');
  assert.equal(formatMetric(undefined), '—');
  assert.equal(formatMetric(0), '0');
  assert.equal(formatMetric(12), '12');
  assert.equal(formatMetric(0.97), '0.97');
  assert.equal(formatMetric(0.966666666), '0.9667');
  assert.equal(formatMetric(123.456789), '123.5');
  assert.equal(formatMetric(-0.5), '-0.5');
  assert.equal(formatMetric(0.00012346), '1.235e-4');
  assert.equal(formatMetric(1234567.8), '1.235e+6');
  assert.equal(formatMetric(NaN), 'NaN');
  assert.equal(formatMetric(Infinity), '∞');
  assert.equal(formatMetric(-Infinity), '-∞');
});

test('formatBytes and shortId', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1234), '1.2 KiB');
  assert.equal(formatBytes(50 * 1024 * 1024), '50 MiB');
  assert.equal(formatBytes(undefined), '—');
  assert.equal(shortId('0123456789abcdef'), '01234567');
  assert.equal(shortId('abc'), 'abc');
  assert.equal(shortId(null), '');
});

test('formatRunCount: the total, and how many are loaded while pages remain', () => {
  assert.equal(formatRunCount(1, 1, false), '1 run');
  assert.equal(formatRunCount(50, 10000, true), '10,000 runs (50 loaded)');
  assert.equal(formatRunCount(10000, 10000, false), '10,000 runs');
  assert.equal(formatRunCount(3, null, false), '3 runs');
});

test('formatParam shortens long decimals only', () => {
  assert.equal(formatParam('0.049081153028267474'), '0.04908');
  assert.equal(formatParam('333.42352189066065'), '333.4');
  assert.equal(formatParam('4.099042482280e-06'), '4.099e-6');
  assert.equal(formatParam('1.0'), '1.0');
  assert.equal(formatParam('0.1234'), '0.1234');
  assert.equal(formatParam('1234567'), '1234567');
  assert.equal(formatParam('balanced'), 'balanced');
  assert.equal(formatParam('1.2.3456789'), '1.2.3456789');
  assert.equal(formatParam(undefined), '—');
});
