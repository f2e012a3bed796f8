/**
 * Pure formatting helpers (no DOM, no JupyterLab): unit-tested in Node.
 */

/**
 * Format a duration given in seconds: `850 ms`, `4.2 s`, `3 min 05 s`, `2 h 07 min`, `3 d 04 h`.
 */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) {
    return '—';
  }
  if (seconds < 0) {
    seconds = 0;
  }
  if (seconds < 1) {
    return `${Math.round(seconds * 1000)} ms`;
  }
  if (seconds < 60) {
    const s =
      seconds < 10 ? seconds.toFixed(1) : Math.round(seconds).toString();
    return `${s.replace(/\.0$/, '')} s`;
  }
  const total = Math.round(seconds);
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  if (days > 0) {
    return `${days} d ${pad2(hours)} h`;
  }
  if (hours > 0) {
    return `${hours} h ${pad2(minutes)} min`;
  }
  return `${minutes} min ${pad2(secs)} s`;
}

/**
 * The duration of a run: the server's `duration`, else (running) now - start.
 */
export function runDuration(
  run: {
    duration?: number | null;
    start_time?: number | null;
    end_time?: number | null;
    status?: string;
  },
  now: number = Date.now()
): number | null {
  if (typeof run.duration === 'number') {
    return run.duration;
  }
  if (typeof run.start_time === 'number') {
    const end = typeof run.end_time === 'number' ? run.end_time : now;
    return Math.max(0, (end - run.start_time) / 1000);
  }
  return null;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/**
 * Format an epoch-milliseconds time as local `YYYY-MM-DD HH:MM:SS`.
 */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) {
    return '—';
  }
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
  );
}

/**
 * Compact start time for tables: `HH:MM:SS` today, `MM-DD HH:MM` this year, else the date.
 */
export function formatShortTime(
  ms: number | null | undefined,
  now: number = Date.now()
): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) {
    return '—';
  }
  const d = new Date(ms);
  const n = new Date(now);
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  if (
    d.getFullYear() === n.getFullYear() &&
    d.getMonth() === n.getMonth() &&
    d.getDate() === n.getDate()
  ) {
    return `${time}:${pad2(d.getSeconds())}`;
  }
  if (d.getFullYear() === n.getFullYear()) {
    return `${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${time}`;
  }
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}

/**
 * Relative time: `just now`, `5 min ago`, `3 h ago`, `2 d ago`, else the date.
 */
export function formatRelative(
  ms: number | null | undefined,
  now: number = Date.now()
): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) {
    return 'never';
  }
  const delta = Math.max(0, (now - ms) / 1000);
  if (delta < 45) {
    return 'just now';
  }
  if (delta < 3600) {
    return `${Math.max(1, Math.round(delta / 60))} min ago`;
  }
  if (delta < 86400) {
    return `${Math.round(delta / 3600)} h ago`;
  }
  if (delta < 86400 * 30) {
    return `${Math.round(delta / 86400)} d ago`;
  }
  return formatTime(ms).slice(0, 10);
}

/**
 * Format a metric value: integers as is, otherwise 4 significant digits,
 * scientific notation for very small or very large magnitudes.
 */
export function formatMetric(value: number | null | undefined): string {
  if (value === null || value === undefined) {
    return '—';
  }
  if (typeof value !== 'number') {
    return String(value);
  }
  if (Number.isNaN(value)) {
    return 'NaN';
  }
  if (!Number.isFinite(value)) {
    return value > 0 ? '∞' : '-∞';
  }
  if (Number.isInteger(value) && Math.abs(value) < 1e15) {
    return value.toString();
  }
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) {
    return value.toExponential(3).replace(/\.?0+e/, 'e');
  }
  // toPrecision then drop trailing zeros: 0.9700 -> 0.97
  const s = value.toPrecision(4);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/**
 * A param value for a narrow column: a long decimal number (an optimizer's draw such
 * as `0.049081153028267474`) as a metric is shown; anything else as logged.
 */
export function formatParam(value: string | null | undefined): string {
  if (value === null || value === undefined) {
    return '—';
  }
  const text = value.trim();
  if (/^[-+]?\d*\.\d{7,}(e[-+]?\d+)?$/i.test(text)) {
    const n = Number(text);
    if (Number.isFinite(n)) {
      return formatMetric(n);
    }
  }
  return value;
}

/**
 * Human-readable byte size: `512 B`, `1.2 KiB`, `3.4 MiB`.
 */
export function formatBytes(size: number | null | undefined): string {
  if (size === null || size === undefined || !Number.isFinite(size)) {
    return '—';
  }
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = size;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0
    ? `${v} B`
    : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/**
 * Short form of a long id (hash, uuid): the first 8 characters.
 */
export function shortId(id: string | null | undefined, length = 8): string {
  if (!id) {
    return '';
  }
  return id.length > length ? id.slice(0, length) : id;
}

/** "10,000 runs", or "500 of 10,000 runs loaded" while pages remain. */
export function formatRunCount(
  loaded: number,
  total: number | null,
  hasMore: boolean
): string {
  const n = total ?? loaded;
  const noun = n === 1 ? 'run' : 'runs';
  if (hasMore && total !== null && loaded < total) {
    return `${n.toLocaleString('en-US')} ${noun} (${loaded.toLocaleString('en-US')} loaded)`;
  }
  return `${n.toLocaleString('en-US')} ${noun}`;
}

/** Terminal colour codes (some tracebacks still carry them). */
const ANSI = new RegExp(String.fromCharCode(27) + '\\[[0-9;?]*[A-Za-z]', 'g');

/** Text without terminal colour codes. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}
