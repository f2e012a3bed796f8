/**
 * Pure helpers of the deployment views: the status light, traffic summaries and
 * validation (mirroring the server's rule), and the example body of "Try it".
 */
import {
  DatasetColumn,
  Deployment,
  InputExample,
  MlopsApiError,
  ModelSignature,
  ObservedReplica,
  PredictRequest,
  TrafficSplit
} from './client';

/**
 * The replicas this server's controller observes, or null when it runs no controller
 * (the server then sends no `observed`, or one without `replicas`).
 */
export function observedReplicas(
  deployment: Pick<Deployment, 'observed'>
): ObservedReplica[] | null {
  const replicas = deployment.observed?.replicas;
  return Array.isArray(replicas) ? replicas : null;
}

/**
 * The status light of a deployment:
 * - `green`: active, every observed replica ready and alive;
 * - `amber`: active, some replica not ready (starting, restarting) or none observed yet;
 * - `red`: active with no live replica;
 * - `grey`: stopped (or any other status).
 */
export type StatusLight = 'green' | 'amber' | 'red' | 'grey';

export function statusLight(
  deployment: Pick<Deployment, 'status' | 'observed'>
): StatusLight {
  if (deployment.status !== 'active') {
    return 'grey';
  }
  const replicas = observedReplicas(deployment);
  if (!replicas) {
    // This server does not run the controller: nothing to judge by.
    return 'amber';
  }
  if (!replicas.some(r => r.alive)) {
    return 'red';
  }
  return replicas.every(r => r.ready && r.alive) ? 'green' : 'amber';
}

/** The tooltip of a status light. */
export function statusLightTitle(
  deployment: Pick<Deployment, 'status' | 'observed'>
): string {
  const light = statusLight(deployment);
  const replicas = observedReplicas(deployment);
  const ready = (replicas ?? []).filter(r => r.ready && r.alive).length;
  switch (light) {
    case 'grey':
      return `${deployment.status}`;
    case 'red':
      return 'active, but no replica is alive';
    default:
      return replicas
        ? `active: ${ready}/${replicas.length} replicas ready`
        : 'active (replicas not observed by this server)';
  }
}

/** `v1 90% · v2 10%` */
export function trafficSummary(
  traffic: TrafficSplit[] | null | undefined
): string {
  return (traffic ?? []).map(t => `v${t.version} ${t.weight}%`).join(' · ');
}

/** The replica count shown in the panel: `ready/desired` when observed, else desired. */
export function replicaSummary(deployment: Deployment): string {
  const desired = deployment.desired?.replicas ?? 0;
  const observed = observedReplicas(deployment);
  if (!observed || deployment.status !== 'active') {
    return `${desired}`;
  }
  const ready = observed.filter(r => r.ready && r.alive).length;
  return `${ready}/${desired}`;
}

/**
 * The client-side check of a traffic edit, the server's rule (`check_traffic`):
 * a non-empty list, each version a positive integer appearing once, each weight an
 * integer percent 1-100, the weights adding up to 100. Returns the problem, or null.
 */
export function trafficError(
  traffic: { version: number; weight: number | string }[]
): string | null {
  if (!traffic.length) {
    return 'traffic must list at least one version';
  }
  const seen = new Set<number>();
  let sum = 0;
  for (const t of traffic) {
    if (!Number.isInteger(t.version) || t.version < 1) {
      return `traffic version must be a positive integer: ${t.version}`;
    }
    if (seen.has(t.version)) {
      return `each version may appear once in traffic (v${t.version})`;
    }
    seen.add(t.version);
    const raw = typeof t.weight === 'string' ? t.weight.trim() : t.weight;
    const weight = typeof raw === 'string' ? Number(raw) : raw;
    if (raw === '' || !Number.isInteger(weight) || weight < 1 || weight > 100) {
      return `the weight of v${t.version} must be an integer percent 1-100`;
    }
    sum += weight;
  }
  if (sum !== 100) {
    return `traffic weights must add up to 100 (now ${sum})`;
  }
  return null;
}

/** Parse edited weights (strings from inputs) into the PATCH body's traffic. */
export function parseTraffic(
  traffic: { version: number; weight: number | string }[]
): TrafficSplit[] {
  return traffic.map(t => ({
    version: t.version,
    weight: typeof t.weight === 'string' ? Number(t.weight.trim()) : t.weight
  }));
}

/** A placeholder value of a signature column's dtype (zero, false, empty string). */
export function exampleValue(dtype: string): number | boolean | string {
  const d = (dtype ?? '').toLowerCase();
  if (d.startsWith('int') || d.startsWith('uint') || d.startsWith('float')) {
    return 0;
  }
  if (d.startsWith('bool')) {
    return false;
  }
  if (d.startsWith('datetime')) {
    return '1970-01-01T00:00:00';
  }
  return '';
}

/**
 * The body "Try it" starts from: `{"inputs": [one row]}` with a placeholder per
 * signature column; `{"inputs": [{}]}` without a signature.
 */
export function exampleBody(
  signature: Pick<ModelSignature, 'inputs'> | null | undefined
): PredictRequest {
  const row: Record<string, unknown> = {};
  for (const col of (signature?.inputs ?? []) as DatasetColumn[]) {
    row[col.name] = exampleValue(col.dtype);
  }
  return { inputs: [row] };
}

/** The example body as the textarea shows it (one column per line). */
export function formatExampleBody(
  signature: Pick<ModelSignature, 'inputs'> | null | undefined
): string {
  return JSON.stringify(exampleBody(signature), null, 2);
}

/**
 * The first `rows` rows of a model's input example as `{"inputs": [{column: value}]}`,
 * or null when the model has no usable example.
 */
export function bodyFromInputExample(
  example: InputExample | null | undefined,
  rows = 1
): PredictRequest | null {
  if (
    !example ||
    !Array.isArray(example.columns) ||
    !example.columns.length ||
    !Array.isArray(example.data) ||
    !example.data.length
  ) {
    return null;
  }
  return {
    inputs: example.data.slice(0, rows).map(row => {
      const record: Record<string, unknown> = {};
      example.columns.forEach((column, i) => {
        record[column] = Array.isArray(row) ? (row[i] ?? null) : null;
      });
      return record;
    })
  };
}

/** Where the body "Try it" starts from came from. */
export type TryItSource = 'example' | 'signature' | 'none';

/** The body "Try it" starts from, and where it came from. */
export interface TryItStart {
  /** Pretty-printed JSON (one column per line). */
  body: string;
  source: TryItSource;
  /** The number of input columns (of the example or the signature). */
  columns: number;
}

/**
 * The body "Try it" starts from: the first row of the model's input example when
 * the model has one, else a placeholder per signature column, else an empty row.
 */
export function tryItStart(
  example: InputExample | null | undefined,
  signature: Pick<ModelSignature, 'inputs'> | null | undefined
): TryItStart {
  const fromExample = bodyFromInputExample(example);
  if (fromExample) {
    return {
      body: JSON.stringify(fromExample, null, 2),
      source: 'example',
      columns: example!.columns.length
    };
  }
  const columns = signature?.inputs?.length ?? 0;
  return {
    body: formatExampleBody(signature),
    source: columns ? 'signature' : 'none',
    columns
  };
}

/** An error answer in readable parts (never the raw JSON body). */
export interface ErrorDetail {
  /** The HTTP status, 0 when there was no answer. */
  status: number;
  /** The machine code of the body (`schema_mismatch`, `invalid`…), or ''. */
  code: string;
  /** The message, without the problems it lists when `problems` repeats them. */
  message: string;
  /** One line per problem (e.g. each column a prediction request gets wrong). */
  problems: string[];
}

/** Split an error (usually an `MlopsApiError`) into a message and its problems. */
export function errorDetail(reason: unknown): ErrorDetail {
  if (!(reason instanceof MlopsApiError)) {
    return {
      status: 0,
      code: '',
      message: reason instanceof Error ? reason.message : String(reason),
      problems: []
    };
  }
  const problems = reason.problems;
  let message = reason.message;
  const joined = problems.join('; ');
  if (problems.length && message.endsWith(joined)) {
    // "input does not match the model signature: a; b" -> the lead, a list below
    message = message.slice(0, message.length - joined.length);
    message = message.replace(/[\s:;,]+$/, '');
  }
  return {
    status: reason.status,
    code: reason.error.startsWith('http_') ? '' : reason.error,
    message,
    problems
  };
}

/** The version "Try it" takes the signature from: the heaviest in the traffic split. */
export function mainVersion(
  traffic: TrafficSplit[] | null | undefined
): number | null {
  let best: TrafficSplit | null = null;
  for (const t of traffic ?? []) {
    if (!best || t.weight > best.weight) {
      best = t;
    }
  }
  return best?.version ?? null;
}

/** The coloured icon of an event kind. */
export function eventIcon(kind: string): { icon: string; tone: string } {
  switch (kind) {
    case 'deployed':
    case 'started':
      return { icon: '▶', tone: 'info' };
    case 'ready':
      return { icon: '✓', tone: 'ok' };
    case 'updated':
      return { icon: '✎', tone: 'info' };
    case 'rolled_back':
      return { icon: '↶', tone: 'warn' };
    case 'restarted':
      return { icon: '↻', tone: 'warn' };
    case 'crashed':
      return { icon: '✗', tone: 'error' };
    case 'stopped':
      return { icon: '■', tone: 'muted' };
    case 'token_rotated':
      return { icon: '⚿', tone: 'muted' };
    default:
      return { icon: '•', tone: 'muted' };
  }
}
