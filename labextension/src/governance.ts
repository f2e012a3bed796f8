/**
 * Pure helpers of the governance views (audit trail, promotions, roles): the audit
 * filter form, before/after diffs of audit events, the chain verification status,
 * paging merges, who may decide a promotion, and readable action errors.
 * No DOM, no JupyterLab: unit-tested in Node.
 */

import {
  AuditEvent,
  AuditFilter,
  auditFilterParams,
  AuditPage,
  AuditVerification,
  buildQuery,
  Me,
  MlopsApiError,
  Promotion
} from './client';
import { messageOf } from './model';

// ---------- audit filter ----------

/** The audit filter as typed in the form (times as `datetime-local` values). */
export interface AuditForm {
  actor: string;
  /** An action prefix: `alias`, `promotion.approve`… */
  action: string;
  /** A target prefix: `cancer`, `cancer/3`… */
  target: string;
  /** `YYYY-MM-DDTHH:mm` in local time, or empty. */
  since: string;
  until: string;
}

export const EMPTY_AUDIT_FORM: AuditForm = {
  actor: '',
  action: '',
  target: '',
  since: '',
  until: ''
};

/** The action prefixes offered in the filter's suggestions. */
export const AUDIT_ACTION_PREFIXES = [
  'alias',
  'alert',
  'alert_rules',
  'card',
  'deployment',
  'experiment',
  'feedback',
  'model',
  'permissions',
  'policy',
  'promotion',
  'role',
  'rules',
  'run',
  'validation',
  'version'
];

/**
 * A `datetime-local` value (`2024-05-01T09:30`, seconds optional) as epoch ms in
 * local time; undefined when empty, NaN when not a date.
 */
export function parseLocalTime(text: string): number | undefined {
  const value = text.trim();
  if (!value) {
    return undefined;
  }
  const match =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(
      value
    );
  if (!match) {
    return NaN;
  }
  const [, y, mo, d, h, mi, s] = match;
  const date = new Date(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h ?? 0),
    Number(mi ?? 0),
    Number(s ?? 0)
  );
  // Reject dates JavaScript rolls over (2024-02-31 → March 2).
  if (date.getMonth() !== Number(mo) - 1 || date.getDate() !== Number(d)) {
    return NaN;
  }
  return date.getTime();
}

/** The audit filter of a form, or the reason the form is not valid. */
export function auditFilterFromForm(
  form: AuditForm
): { filter: AuditFilter; error: null } | { filter: null; error: string } {
  const since = parseLocalTime(form.since);
  const until = parseLocalTime(form.until);
  if (since !== undefined && Number.isNaN(since)) {
    return { filter: null, error: `"${form.since}" is not a date and time` };
  }
  if (until !== undefined && Number.isNaN(until)) {
    return { filter: null, error: `"${form.until}" is not a date and time` };
  }
  if (since !== undefined && until !== undefined && since > until) {
    return { filter: null, error: '"from" is after "to"' };
  }
  const filter: AuditFilter = {};
  if (form.actor.trim()) {
    filter.actor = form.actor.trim();
  }
  if (form.action.trim()) {
    filter.action = form.action.trim();
  }
  if (form.target.trim()) {
    filter.target = form.target.trim();
  }
  if (since !== undefined) {
    filter.since = since;
  }
  if (until !== undefined) {
    filter.until = until;
  }
  return { filter, error: null };
}

/** The query string of an audit filter: `?actor=bob&action=alias`. */
export function auditQueryString(filter: AuditFilter): string {
  return buildQuery(auditFilterParams(filter));
}

/** True when the filter selects every event. */
export function isFilterEmpty(filter: AuditFilter): boolean {
  return auditQueryString(filter) === '';
}

// ---------- audit event diff ----------

export type DiffKind = 'added' | 'removed' | 'changed';

/** One changed field of an audit event (nested fields as dotted paths). */
export interface DiffRow {
  path: string;
  kind: DiffKind;
  /** The formatted old value (absent when added). */
  before?: string;
  /** The formatted new value (absent when removed). */
  after?: string;
}

export interface EventDiff {
  rows: DiffRow[];
  /** Fields present before and after with the same value. */
  unchanged: string[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Nested objects as dotted paths (`traffic.0` stays one value: arrays are leaves). */
export function flattenRecord(
  value: Record<string, unknown> | null | undefined,
  prefix = '',
  out: Map<string, unknown> = new Map()
): Map<string, unknown> {
  for (const [key, inner] of Object.entries(value ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(inner) && Object.keys(inner).length) {
      flattenRecord(inner, path, out);
    } else {
      out.set(path, inner);
    }
  }
  return out;
}

/** A value of a diff as text: strings as they are, the rest as JSON. */
export function formatDiffValue(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  if (value === undefined) {
    return '';
  }
  return JSON.stringify(value);
}

/** The fields an audit event changed, sorted by path. */
export function eventDiff(
  before: Record<string, unknown> | null | undefined,
  after: Record<string, unknown> | null | undefined
): EventDiff {
  const old = flattenRecord(before);
  const now = flattenRecord(after);
  const paths = Array.from(new Set([...old.keys(), ...now.keys()])).sort();
  const rows: DiffRow[] = [];
  const unchanged: string[] = [];
  for (const path of paths) {
    const inOld = old.has(path);
    const inNew = now.has(path);
    if (inOld && !inNew) {
      rows.push({
        path,
        kind: 'removed',
        before: formatDiffValue(old.get(path))
      });
    } else if (!inOld && inNew) {
      rows.push({ path, kind: 'added', after: formatDiffValue(now.get(path)) });
    } else if (
      JSON.stringify(old.get(path)) !== JSON.stringify(now.get(path))
    ) {
      rows.push({
        path,
        kind: 'changed',
        before: formatDiffValue(old.get(path)),
        after: formatDiffValue(now.get(path))
      });
    } else {
      unchanged.push(path);
    }
  }
  return { rows, unchanged };
}

/** The family of an action (`promotion.approve` → `promotion`), for its color. */
export function actionFamily(action: string): string {
  return (action.split('.')[0] || 'other').replace(/[^a-z0-9_-]/gi, '');
}

// ---------- audit paging ----------

/**
 * Merge a fresh newest page into what is shown: new events go on top and the older
 * pages already loaded stay; when the fresh page does not reach what is shown (more
 * new events than a page), it replaces everything.
 */
export function mergeNewestPage(
  current: AuditPage | null,
  page: AuditPage
): AuditPage {
  if (!current || !current.events.length) {
    return page;
  }
  const newestShown = current.events[0].seq;
  const reaches =
    page.next === null || page.events.some(e => e.seq <= newestShown);
  if (!reaches) {
    return page;
  }
  const bySeq = new Map<number, AuditEvent>();
  for (const event of [...page.events, ...current.events]) {
    if (!bySeq.has(event.seq)) {
      bySeq.set(event.seq, event);
    }
  }
  const events = Array.from(bySeq.values()).sort((a, b) => b.seq - a.seq);
  return {
    events,
    next: current.next === null && page.next === null ? null : current.next
  };
}

/** Append an older page (loaded with `before`), without duplicates. */
export function appendOlderPage(
  current: AuditPage,
  page: AuditPage
): AuditPage {
  const known = new Set(current.events.map(e => e.seq));
  return {
    events: [...current.events, ...page.events.filter(e => !known.has(e.seq))],
    next: page.next
  };
}

// ---------- chain verification ----------

export interface VerifyStatus {
  state: 'ok' | 'broken' | 'unknown';
  label: string;
  /** The tooltip: every problem, one a line. */
  title: string;
}

/** The status line of a chain verification. */
export function verifyStatus(
  verification: AuditVerification | null
): VerifyStatus {
  if (!verification) {
    return { state: 'unknown', label: 'chain not verified yet', title: '' };
  }
  const n = verification.events;
  const events = `${n} event${n === 1 ? '' : 's'}`;
  const problems = [...(verification.problems ?? [])].sort(
    (a, b) => a.seq - b.seq
  );
  if (verification.ok && !problems.length) {
    const head = verification.head;
    return {
      state: 'ok',
      label: `chain verified · ${events}`,
      title: head
        ? `Every event's hash checks out up to #${head.seq} (${head.hash.slice(0, 16)}…)`
        : 'The audit trail is empty'
    };
  }
  const first = problems[0];
  const more = problems.length - 1;
  return {
    state: 'broken',
    label: first
      ? `chain broken at #${first.seq} (${first.kind})${more > 0 ? ` · ${more} more problem${more === 1 ? '' : 's'}` : ''}`
      : `chain broken · ${events}`,
    title: problems.map(p => `#${p.seq} ${p.kind}: ${p.message}`).join('\n')
  };
}

// ---------- promotions ----------

/** Pending requests first, then newest first. */
export function sortPromotions(promotions: Promotion[]): Promotion[] {
  return [...promotions].sort(
    (a, b) =>
      Number(b.status === 'pending') - Number(a.status === 'pending') ||
      b.created_at - a.created_at
  );
}

export function pendingCount(promotions: Promotion[] | null): number {
  return (promotions ?? []).filter(p => p.status === 'pending').length;
}

/** The pending request of a version, if any. */
export function pendingPromotionOf(
  promotions: Promotion[] | null,
  model: string,
  version: number
): Promotion | null {
  return (
    (promotions ?? []).find(
      p => p.model === model && p.version === version && p.status === 'pending'
    ) ?? null
  );
}

/** `1/2 approvals` */
export function approvalProgress(promotion: Promotion): string {
  const required = promotion.required_approvals;
  return `${promotion.approvals}/${required} approval${required === 1 ? '' : 's'}`;
}

/** What the current user may do with a promotion request (hidden otherwise). */
export interface PromotionRights {
  /** Approve or reject. */
  decide: boolean;
  cancel: boolean;
  /** Why a pending request cannot be decided by this user (a muted note). */
  note: string | null;
}

export function promotionRights(
  me: Me | null,
  promotion: Promotion
): PromotionRights {
  if (!me || promotion.status !== 'pending') {
    return { decide: false, cancel: false, note: null };
  }
  const own = me.user === promotion.requester;
  const cancel = own || Boolean(me.can?.admin);
  if (!me.can?.approve) {
    return {
      decide: false,
      cancel,
      note: 'Waiting for an approver.'
    };
  }
  if (own && !promotion.self_approval) {
    return {
      decide: false,
      cancel,
      note: 'You requested this promotion: another approver decides (four eyes).'
    };
  }
  if ((promotion.decisions ?? []).some(d => d.user === me.user)) {
    return {
      decide: false,
      cancel,
      note: 'You have decided already; waiting for other approvers.'
    };
  }
  return { decide: true, cancel, note: null };
}

/** Whether the "Request promotion to production" button shows for a version. */
export function canRequestPromotion(
  me: Me | null,
  version: { aliases?: string[] | null; archived?: boolean; status?: string },
  pending: Promotion | null
): boolean {
  return Boolean(
    me?.can?.request_promotion &&
    !pending &&
    !version.archived &&
    (version.status === undefined || version.status === 'ready') &&
    !(version.aliases ?? []).includes('production')
  );
}

/**
 * Whether the role allows an action, for showing its button: hidden while `GET me`
 * is loading; shown when the server has no roles (`me` failed: the server still
 * decides).
 */
export function allows(
  me: Me | null,
  meError: string | null,
  capability: keyof Me['can']
): boolean {
  if (me) {
    return Boolean(me.can?.[capability]);
  }
  return meError !== null;
}

/** `alice · admin` */
export function identityLabel(me: Me): string {
  return `${me.user} · ${me.role}`;
}

// ---------- metrics diff ----------

/** Metrics where a smaller value is better (losses, errors, latencies). */
export function lowerIsBetter(metric: string): boolean {
  return /loss|rmse|mse|mae|error|latency|perplexity/i.test(metric);
}

/** Whether a delta is an improvement, a regression or neither. */
export function deltaState(
  metric: string,
  delta: number | null | undefined
): 'better' | 'worse' | 'same' | 'none' {
  if (delta === null || delta === undefined || !Number.isFinite(delta)) {
    return 'none';
  }
  if (delta === 0) {
    return 'same';
  }
  return delta > 0 !== lowerIsBetter(metric) ? 'better' : 'worse';
}

/** `+0.0200`, `−0.0100` (a real minus sign), `—`. */
export function formatDelta(
  delta: number | null | undefined,
  format: (value: number) => string
): string {
  if (delta === null || delta === undefined || !Number.isFinite(delta)) {
    return '—';
  }
  if (delta === 0) {
    return '±0';
  }
  const text = format(Math.abs(delta));
  return delta > 0 ? `+${text}` : `−${text}`;
}

// ---------- errors ----------

/**
 * A refused governance action as one readable line: 403 names the role needed,
 * 409 and 422 say why the request conflicts or is refused.
 */
export function actionErrorMessage(reason: unknown, action: string): string {
  if (reason instanceof MlopsApiError) {
    if (reason.status === 403) {
      const needed = reason.needed;
      return `Not allowed to ${action}${needed ? ` (needs the ${needed} role)` : ''}: ${reason.message}`;
    }
    if (reason.status === 409) {
      return `Cannot ${action}: ${reason.message}`;
    }
    if (reason.status === 422) {
      return `Refused to ${action}: ${reason.message}`;
    }
    if (reason.status === 400) {
      return `Cannot ${action}: ${reason.message}`;
    }
  }
  return messageOf(reason);
}
