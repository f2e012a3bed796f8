/**
 * Axis arithmetic of the SVG charts: linear scales, "nice" ticks for numbers and
 * local times. Pure (no DOM): unit-tested in Node.
 */

/** A linear map from a domain onto a range (pixels). */
export function linearScale(
  domain: [number, number],
  range: [number, number]
): (value: number) => number {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0;
  if (!Number.isFinite(span) || span === 0) {
    const middle = (r0 + r1) / 2;
    return () => middle;
  }
  return value => r0 + ((value - d0) / span) * (r1 - r0);
}

/** The tick step for about `count` ticks over `span`: 1, 2, 2.5 or 5 times a power of 10. */
export function niceStep(span: number, count = 5): number {
  if (!Number.isFinite(span) || span <= 0) {
    return 1;
  }
  const raw = span / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const fraction = raw / power;
  const nice =
    fraction <= 1
      ? 1
      : fraction <= 2
        ? 2
        : fraction <= 2.5
          ? 2.5
          : fraction <= 5
            ? 5
            : 10;
  return nice * power;
}

/**
 * Round ticks covering [min, max] (about `count` of them); the first and last
 * enclose the data, so they make a good domain.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    return [0, 1];
  }
  if (min > max) {
    [min, max] = [max, min];
  }
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const step = niceStep(max - min, count);
  const first = Math.floor(min / step + 1e-9) * step;
  const last = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; first + i * step <= last + step * 1e-9 && i < 100; i++) {
    // Round away binary noise (0.30000000000000004).
    ticks.push(Number((first + i * step).toPrecision(12)));
  }
  return ticks;
}

/** A tick label: no more decimals than the step needs. */
export function formatTick(value: number, step: number): string {
  if (!Number.isFinite(value)) {
    return '';
  }
  const abs = Math.abs(step);
  if (abs >= 1e6 || (abs > 0 && abs < 1e-4)) {
    return value === 0 ? '0' : value.toExponential(1).replace(/\.0e/, 'e');
  }
  const decimals =
    abs >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(abs) - 1e-9) + 1);
  const text = value.toFixed(decimals);
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** A share (0-1) as a percent label: `35%`, `2.5%`, `0.4%`. */
export function formatShare(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return '—';
  }
  const percent = value * 100;
  if (percent === 0 || percent >= 10 || Number.isInteger(percent)) {
    return `${Math.round(percent)}%`;
  }
  return `${percent.toFixed(1).replace(/\.0$/, '')}%`;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Steps of time ticks, from a minute to a week. */
const TIME_STEPS = [
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY
];

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/** `HH:MM` for steps under a day, `MM-DD` from a day up. */
export function formatTimeTick(ms: number, step: number): string {
  const d = new Date(ms);
  if (step >= DAY) {
    return `${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  }
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/**
 * About `count` ticks of local time over [min, max] (ms since the epoch), on round
 * minutes, hours or local midnights; each with its label.
 */
export function timeTicks(
  min: number,
  max: number,
  count = 6
): { value: number; label: string }[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || max <= min) {
    return Number.isFinite(min)
      ? [{ value: min, label: formatTimeTick(min, MINUTE) }]
      : [];
  }
  const span = max - min;
  const step =
    TIME_STEPS.find(s => span / s <= count) ??
    TIME_STEPS[TIME_STEPS.length - 1];
  const ticks: { value: number; label: string }[] = [];
  if (step >= DAY) {
    const d = new Date(min);
    d.setHours(0, 0, 0, 0);
    if (d.getTime() < min) {
      d.setDate(d.getDate() + 1);
    }
    const days = Math.round(step / DAY);
    while (d.getTime() <= max && ticks.length < 100) {
      ticks.push({
        value: d.getTime(),
        label: formatTimeTick(d.getTime(), step)
      });
      d.setDate(d.getDate() + days);
    }
    return ticks;
  }
  // Round in local time: shift by the zone offset so hours fall on local hours.
  const offset = new Date(min).getTimezoneOffset() * MINUTE;
  let t = Math.ceil((min - offset) / step) * step + offset;
  while (t <= max && ticks.length < 100) {
    ticks.push({ value: t, label: formatTimeTick(t, step) });
    t += step;
  }
  return ticks;
}
