/**
 * Pure helpers of the alert views: labels, the order of an alert list, a rule's
 * condition in words, webhook hosts, retrain outcomes, the icon badge text, the
 * rules editor's JSON. No DOM, no JupyterLab: unit-tested in Node.
 */
import {
  Alert,
  AlertRule,
  RetrainAction,
  RetrainOutcome,
  RetrainValidation
} from './client';
import { formatMetric } from './format';
import { formatShare } from './scales';

const KIND_LABELS: Record<string, string> = {
  drift_share: 'dataset drift',
  column_drift: 'column drift',
  metric: 'performance',
  latency_p99: 'p99 latency',
  error_rate: 'error rate'
};

/** A rule or alert kind in words: `dataset drift` for `drift_share`. */
export function kindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? kind;
}

const STATUS_RANK: Record<string, number> = {
  firing: 0,
  acknowledged: 1,
  resolved: 2
};

/** Firing first, then acknowledged, then resolved; newest first within each. */
export function sortAlerts(alerts: ReadonlyArray<Alert>): Alert[] {
  return [...alerts].sort(
    (a, b) =>
      (STATUS_RANK[a.status] ?? 3) - (STATUS_RANK[b.status] ?? 3) ||
      b.fired_at - a.fired_at ||
      a.id.localeCompare(b.id)
  );
}

/** Whether an alert is open (firing or acknowledged). */
export function isOpen(alert: Pick<Alert, 'status'>): boolean {
  return alert.status === 'firing' || alert.status === 'acknowledged';
}

/** How many of the alerts are firing. */
export function firingCount(alerts: ReadonlyArray<Alert> | null): number {
  return (alerts ?? []).filter(a => a.status === 'firing').length;
}

/** The text of the icon badge: empty for none, `99+` above 99. */
export function badgeText(count: number): string {
  if (!(count > 0)) {
    return '';
  }
  return count > 99 ? '99+' : String(Math.floor(count));
}

/** The caption (tooltip) of the panel's icon. */
export function panelCaption(firing: number): string {
  return firing > 0
    ? `MLOps: ${firing} firing alert${firing === 1 ? '' : 's'}`
    : 'MLOps';
}

const KIND_ORDER = [
  'drift_share',
  'column_drift',
  'metric',
  'latency_p99',
  'error_rate'
];

/**
 * Rules in a stable, readable order (the server keeps no order): by kind, then
 * column or metric, then id.
 */
export function sortRules(rules: ReadonlyArray<AlertRule>): AlertRule[] {
  const rank = (r: AlertRule) => {
    const i = KIND_ORDER.indexOf(r.kind);
    return i < 0 ? KIND_ORDER.length : i;
  };
  return [...rules].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      a.kind.localeCompare(b.kind) ||
      (a.column ?? a.metric ?? '').localeCompare(b.column ?? b.metric ?? '') ||
      (a.id ?? '').localeCompare(b.id ?? '')
  );
}

/** The window of a rule in words: `over 1h`, `over the newest 150 rows`. */
function spanText(rule: AlertRule): string {
  if (rule.rows) {
    return `over the newest ${rule.rows.toLocaleString('en-US')} rows`;
  }
  return `over ${rule.window || '1h'}`;
}

const LOWER_IS_BAD = new Set(['accuracy', 'f1']);

/**
 * When a rule fires, in words: `drift share ≥ 30% over 1h`,
 * `accuracy < 0.9 over 1h (≥ 30 labelled rows)`.
 */
export function ruleCondition(rule: AlertRule): string {
  const t = rule.threshold;
  const span = spanText(rule);
  switch (rule.kind) {
    case 'drift_share':
      return `drift share ≥ ${t === undefined ? '?' : formatShare(t)} ${span}`;
    case 'column_drift':
      return `column “${rule.column ?? '?'}” drifts ${span}`;
    case 'metric': {
      const metric = rule.metric ?? '?';
      const op = LOWER_IS_BAD.has(metric) ? '<' : '>';
      return `${metric} ${op} ${t === undefined ? '?' : formatMetric(t)} ${span} (≥ ${rule.min_rows ?? 30} labelled rows)`;
    }
    case 'latency_p99':
      return `p99 latency > ${t === undefined ? '?' : formatMetric(t)} ms ${span}`;
    case 'error_rate':
      return `refused requests > ${t === undefined ? '?' : formatShare(t)} ${span}`;
    default:
      return `${rule.kind}${t === undefined ? '' : ` threshold ${t}`} ${span}`;
  }
}

/** The host (and port) of a webhook URL, the text itself when it is no URL. */
export function webhookHost(url: string | null | undefined): string {
  if (!url) {
    return '';
  }
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}

/** The last part of a path (`/a/b/train.ipynb` → `train.ipynb`). */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts.length ? parts[parts.length - 1] : path;
}

/** A rule's action in words: `retrain train.ipynb (C=0.3, experiment=x)`. */
export function actionText(action: RetrainAction | null | undefined): string {
  if (!action) {
    return '';
  }
  const params = Object.entries(action.parameters ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const notebook = action.notebook ? ` ${baseName(action.notebook)}` : '';
  const into = action.register_as ? ` → ${action.register_as}` : '';
  return `${action.type}${notebook}${params.length ? ` (${params.join(', ')})` : ''}${into}`;
}

/** The measured value of an alert as its kind reads: `60%`, `812 ms`, `0.0042`. */
export function formatAlertValue(
  kind: string,
  value: number | null | undefined
): string {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return '—';
  }
  switch (kind) {
    case 'drift_share':
    case 'error_rate':
      return formatShare(value);
    case 'latency_p99':
      return `${formatMetric(value)} ms`;
    default:
      return formatMetric(value);
  }
}

/** The tone of a status chip (alert or retraining). */
export type Tone = 'error' | 'warn' | 'info' | 'ok' | 'muted';

const STATUS_TONES: Record<string, Tone> = {
  firing: 'error',
  acknowledged: 'warn',
  resolved: 'ok',
  queued: 'muted',
  running: 'info',
  succeeded: 'ok',
  failed: 'error',
  missed: 'warn'
};

export function statusTone(status: string): Tone {
  return STATUS_TONES[status] ?? 'muted';
}

/** The validation of a retrained candidate in words, with its state. */
export function validationText(
  validation: RetrainValidation | null | undefined
): { state: 'passed' | 'failed' | 'none'; text: string } {
  if (!validation) {
    return { state: 'none', text: 'not validated' };
  }
  const on = validation.on ? ` on ${validation.on}` : '';
  if (validation.passed === true) {
    return { state: 'passed', text: `validation passed${on}` };
  }
  if (validation.passed === false) {
    return { state: 'failed', text: `validation failed${on}` };
  }
  return {
    state: 'none',
    text: `not validated${validation.note ? `: ${validation.note}` : on}`
  };
}

/** One line about a retraining: `retrained in 14 s`, `retraining failed after 3 s`. */
export function retrainHeadline(retrain: RetrainOutcome): string {
  const took =
    typeof retrain.seconds === 'number'
      ? ` ${Math.max(0, Math.round(retrain.seconds))} s`
      : '';
  switch (retrain.status) {
    case 'queued':
      return 'retraining queued';
    case 'running':
      return 'retraining…';
    case 'succeeded':
      return took ? `retrained in${took}` : 'retrained';
    case 'failed':
      return took ? `retraining failed after${took}` : 'retraining failed';
    default:
      return `retraining ${retrain.status}`;
  }
}

/** The webhook delivery of an alert in words, or null when it has none. */
export function webhookText(
  alert: Pick<Alert, 'data'>
): { ok: boolean; text: string } | null {
  const hook = alert.data?.webhook;
  if (!hook) {
    return null;
  }
  if (hook.ok) {
    return {
      ok: true,
      text: `webhook delivered${hook.status ? ` (${hook.status})` : ''}`
    };
  }
  return {
    ok: false,
    text: `webhook failed: ${hook.error ?? (hook.status ? `HTTP ${hook.status}` : 'no answer')}`
  };
}

/** The text of a JupyterLab notification for a newly firing alert. */
export function notificationMessage(alert: Alert, max = 160): string {
  const text = `${alert.deployment}: ${kindLabel(alert.kind)} alert: ${alert.message}`;
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The copyable snippet that adds a rule from a notebook. */
export function ruleSnippet(deployment = 'name'): string {
  return `import mlops_jlab as mlops
mlops.set_alert_rules(${JSON.stringify(deployment)}, [{"kind": "drift_share", "threshold": 0.3}])`;
}

/** The rules as the editor shows them (ids kept: open alerts stay with their rule). */
export function rulesText(rules: ReadonlyArray<AlertRule>): string {
  return JSON.stringify(rules, null, 2);
}

/** The rules typed in the editor, or why they cannot be sent. */
export type ParsedRules = { rules: AlertRule[] } | { error: string };

/**
 * Read the editor's JSON: a list of rules, or `{"rules": [...]}`. Only the shape
 * is checked here; the server checks each rule and names what is wrong.
 */
export function parseRulesText(text: string): ParsedRules {
  if (!text.trim()) {
    return { rules: [] };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (reason) {
    const detail = reason instanceof Error ? reason.message : String(reason);
    return { error: `The rules are not valid JSON: ${detail}` };
  }
  if (
    value &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Array.isArray((value as { rules?: unknown }).rules)
  ) {
    value = (value as { rules: unknown[] }).rules;
  }
  if (!Array.isArray(value)) {
    return {
      error:
        'The rules must be a JSON list of objects, e.g. [{"kind": "drift_share", "threshold": 0.3}]'
    };
  }
  const bad = value.findIndex(
    r => !r || typeof r !== 'object' || Array.isArray(r)
  );
  if (bad >= 0) {
    return {
      error: `Rule ${bad + 1} is not an object: ${JSON.stringify(value[bad])}`
    };
  }
  const nokind = value.findIndex(
    r => typeof (r as AlertRule).kind !== 'string'
  );
  if (nokind >= 0) {
    return {
      error: `Rule ${nokind + 1} has no "kind" (drift_share, column_drift, metric, latency_p99 or error_rate)`
    };
  }
  return { rules: value as AlertRule[] };
}

/** What "Evaluate now" changed, in words. */
export function evaluationSummary(changed: ReadonlyArray<Alert>): string {
  if (!changed.length) {
    return 'Evaluated: no alert fired or resolved.';
  }
  const parts = changed.map(
    a =>
      `${kindLabel(a.kind)} ${a.status === 'resolved' ? 'resolved' : 'fired'}`
  );
  return `Evaluated: ${parts.join(', ')}.`;
}

/**
 * The alerts of a poll to notify about: firing ones not seen before. `seen` is
 * updated with every alert of the poll (one first seen acknowledged or resolved is
 * never notified; a rule that fires again raises a new alert, a new id).
 */
export function takeNewlyFiring(
  alerts: ReadonlyArray<Alert>,
  seen: Set<string>
): Alert[] {
  const fresh = alerts.filter(a => a.status === 'firing' && !seen.has(a.id));
  for (const a of alerts) {
    seen.add(a.id);
  }
  return fresh;
}

/**
 * Keep the seen ids bounded: those still in the latest poll first, then the most
 * recently added others, at most `max`.
 */
export function pruneSeen(
  seen: ReadonlyArray<string>,
  current: ReadonlyArray<Alert>,
  max = 500
): string[] {
  const live = new Set(current.map(a => a.id));
  const kept = seen.filter(id => live.has(id));
  const others = seen.filter(id => !live.has(id));
  const room = Math.max(0, max - kept.length);
  return [...kept, ...others.slice(Math.max(0, others.length - room))].slice(
    0,
    max
  );
}
