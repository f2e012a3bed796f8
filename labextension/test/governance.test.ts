import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  AuditEvent,
  AuditVerification,
  Me,
  MlopsApiError,
  Promotion
} from '../src/client';
import {
  actionErrorMessage,
  actionFamily,
  allows,
  appendOlderPage,
  approvalProgress,
  auditFilterFromForm,
  auditQueryString,
  canRequestPromotion,
  deltaState,
  EMPTY_AUDIT_FORM,
  eventDiff,
  flattenRecord,
  formatDelta,
  formatDiffValue,
  identityLabel,
  isFilterEmpty,
  mergeNewestPage,
  parseLocalTime,
  pendingCount,
  pendingPromotionOf,
  promotionRights,
  sortPromotions,
  verifyStatus
} from '../src/governance';
import { cardDocument, themeColors } from '../src/modelcarddoc';

function me(user: string, role: string, can: Partial<Me['can']> = {}): Me {
  return {
    user,
    role,
    can: {
      track: false,
      register: false,
      deploy_staging: false,
      deploy_production: false,
      request_promotion: false,
      approve: false,
      admin: false,
      ...can
    }
  };
}

const ADMIN = me('alice', 'admin', {
  track: true,
  register: true,
  request_promotion: true,
  approve: true,
  admin: true
});
const APPROVER = me('carol', 'approver', {
  register: true,
  request_promotion: true,
  approve: true
});
const CONTRIBUTOR = me('bob', 'contributor', {
  register: true,
  request_promotion: true
});
const VIEWER = me('vic', 'viewer');

function promotion(overrides: Partial<Promotion> = {}): Promotion {
  return {
    id: 'p1',
    model: 'cancer',
    version: 3,
    alias: 'production',
    requester: 'bob',
    comment: '',
    status: 'pending',
    created_at: 100,
    decided_at: null,
    required_approvals: 1,
    approvals: 0,
    self_approval: false,
    decisions: [],
    ...overrides
  };
}

function event(seq: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    seq,
    time: seq * 1000,
    actor: 'alice',
    action: 'run.create',
    target_type: 'run',
    target: `r${seq}`,
    before: null,
    after: null,
    prev_hash: `h${seq - 1}`,
    hash: `h${seq}`,
    ...overrides
  };
}

// ---------- audit filter ----------

test('parseLocalTime reads datetime-local values in local time', () => {
  assert.equal(parseLocalTime(''), undefined);
  assert.equal(parseLocalTime('  '), undefined);
  assert.equal(
    parseLocalTime('2024-05-01T09:30'),
    new Date(2024, 4, 1, 9, 30).getTime()
  );
  assert.equal(
    parseLocalTime('2024-05-01T09:30:15'),
    new Date(2024, 4, 1, 9, 30, 15).getTime()
  );
  assert.equal(parseLocalTime('2024-05-01'), new Date(2024, 4, 1).getTime());
  assert.ok(Number.isNaN(parseLocalTime('yesterday')));
  assert.ok(Number.isNaN(parseLocalTime('2024-02-31T00:00')));
});

test('a form becomes a trimmed filter and then a query string', () => {
  const parsed = auditFilterFromForm({
    actor: ' bob ',
    action: 'alias',
    target: 'cancer/',
    since: '2024-05-01T09:00',
    until: '2024-05-02T09:00'
  });
  assert.equal(parsed.error, null);
  const since = new Date(2024, 4, 1, 9).getTime();
  const until = new Date(2024, 4, 2, 9).getTime();
  assert.deepEqual(parsed.filter, {
    actor: 'bob',
    action: 'alias',
    target: 'cancer/',
    since,
    until
  });
  assert.equal(
    auditQueryString(parsed.filter!),
    `?actor=bob&action=alias&target=cancer%2F&since=${since}&until=${until}`
  );
});

test('an empty form is an empty filter; bad times are refused', () => {
  const empty = auditFilterFromForm(EMPTY_AUDIT_FORM);
  assert.deepEqual(empty, { filter: {}, error: null });
  assert.equal(auditQueryString({}), '');
  assert.equal(isFilterEmpty({}), true);
  assert.equal(isFilterEmpty({ actor: '  ' }), true);
  assert.equal(isFilterEmpty({ since: 0 }), false);

  const bad = auditFilterFromForm({ ...EMPTY_AUDIT_FORM, since: 'soon' });
  assert.equal(bad.filter, null);
  assert.match(bad.error!, /"soon" is not a date/);
  const reversed = auditFilterFromForm({
    ...EMPTY_AUDIT_FORM,
    since: '2024-05-02T00:00',
    until: '2024-05-01T00:00'
  });
  assert.match(reversed.error!, /after/);
});

// ---------- event diff ----------

test('flattenRecord turns nested objects into dotted paths, arrays stay whole', () => {
  const flat = flattenRecord({
    alias: 'production',
    desired: { replicas: 2, traffic: [{ version: 1, weight: 100 }] },
    tags: {}
  });
  assert.deepEqual(Array.from(flat.entries()), [
    ['alias', 'production'],
    ['desired.replicas', 2],
    ['desired.traffic', [{ version: 1, weight: 100 }]],
    ['tags', {}]
  ]);
});

test('eventDiff lists added, removed and changed fields; keeps the unchanged ones', () => {
  const diff = eventDiff(
    { version: 2, alias: 'production', desired: { replicas: 1 }, old: true },
    { version: 3, alias: 'production', desired: { replicas: 2 }, note: 'x' }
  );
  assert.deepEqual(diff.rows, [
    { path: 'desired.replicas', kind: 'changed', before: '1', after: '2' },
    { path: 'note', kind: 'added', after: 'x' },
    { path: 'old', kind: 'removed', before: 'true' },
    { path: 'version', kind: 'changed', before: '2', after: '3' }
  ]);
  assert.deepEqual(diff.unchanged, ['alias']);
});

test('eventDiff of a creation, a deletion and an event without data', () => {
  assert.deepEqual(eventDiff(null, { name: 'cancer' }).rows, [
    { path: 'name', kind: 'added', after: 'cancer' }
  ]);
  assert.deepEqual(eventDiff({ version: 3 }, null).rows, [
    { path: 'version', kind: 'removed', before: '3' }
  ]);
  assert.deepEqual(eventDiff(null, null), { rows: [], unchanged: [] });
  // Arrays compare by value.
  assert.deepEqual(eventDiff({ a: [1, 2] }, { a: [1, 2] }).rows, []);
  assert.equal(eventDiff({ a: [1, 2] }, { a: [2, 1] }).rows[0].kind, 'changed');
});

test('formatDiffValue shows strings as they are and the rest as JSON', () => {
  assert.equal(formatDiffValue('a "b"'), 'a "b"');
  assert.equal(formatDiffValue(null), 'null');
  assert.equal(formatDiffValue([1, 'x']), '[1,"x"]');
  assert.equal(formatDiffValue({}), '{}');
  assert.equal(formatDiffValue(undefined), '');
});

test('actionFamily is the part before the dot, safe as a class name', () => {
  assert.equal(actionFamily('promotion.approve'), 'promotion');
  assert.equal(actionFamily('alert_rules.set'), 'alert_rules');
  assert.equal(actionFamily('"><x'), 'x');
  assert.equal(actionFamily(''), 'other');
});

// ---------- paging ----------

test('mergeNewestPage adds new events on top and keeps older pages', () => {
  const shown = { events: [event(5), event(4), event(3)], next: 3 };
  const fresh = { events: [event(7), event(6), event(5)], next: 5 };
  const merged = mergeNewestPage(shown, fresh);
  assert.deepEqual(
    merged.events.map(e => e.seq),
    [7, 6, 5, 4, 3]
  );
  assert.equal(merged.next, 3, 'the older pages still continue');
  // Nothing new: the same.
  assert.deepEqual(
    mergeNewestPage(shown, { events: [event(5), event(4)], next: 4 }),
    shown
  );
});

test('mergeNewestPage replaces what is shown after a gap or on first load', () => {
  const shown = { events: [event(5), event(4)], next: 4 };
  const fresh = { events: [event(9), event(8)], next: 8 };
  assert.deepEqual(mergeNewestPage(shown, fresh), fresh);
  assert.deepEqual(mergeNewestPage(null, fresh), fresh);
  // The whole trail fits the fresh page: no older page left.
  const all = { events: [event(6), event(5), event(4)], next: null };
  assert.equal(
    mergeNewestPage({ events: [event(5)], next: null }, all).next,
    null
  );
});

test('appendOlderPage adds the page without duplicates', () => {
  const page = appendOlderPage(
    { events: [event(5), event(4)], next: 4 },
    { events: [event(4), event(3)], next: null }
  );
  assert.deepEqual(
    page.events.map(e => e.seq),
    [5, 4, 3]
  );
  assert.equal(page.next, null);
});

// ---------- verification ----------

test('verifyStatus: verified chain, broken chain, not verified', () => {
  const ok: AuditVerification = {
    ok: true,
    events: 12,
    head: { seq: 12, hash: 'abcdef0123456789abcdef' },
    problems: []
  };
  assert.deepEqual(verifyStatus(ok).state, 'ok');
  assert.equal(verifyStatus(ok).label, 'chain verified · 12 events');
  assert.equal(
    verifyStatus({ ...ok, events: 1 }).label,
    'chain verified · 1 event'
  );
  const broken = verifyStatus({
    ok: false,
    events: 12,
    head: { seq: 12, hash: 'x' },
    problems: [
      { seq: 9, kind: 'deleted', message: 'event 9 is missing' },
      { seq: 4, kind: 'edited', message: 'hash mismatch at 4' }
    ]
  });
  assert.equal(broken.state, 'broken');
  assert.equal(broken.label, 'chain broken at #4 (edited) · 1 more problem');
  assert.equal(
    broken.title,
    '#4 edited: hash mismatch at 4\n#9 deleted: event 9 is missing'
  );
  assert.equal(verifyStatus(null).state, 'unknown');
});

// ---------- promotions ----------

test('sortPromotions puts pending first, then newest first', () => {
  const sorted = sortPromotions([
    promotion({ id: 'old-approved', status: 'approved', created_at: 1 }),
    promotion({ id: 'new-rejected', status: 'rejected', created_at: 9 }),
    promotion({ id: 'old-pending', created_at: 2 }),
    promotion({ id: 'new-pending', created_at: 5 })
  ]);
  assert.deepEqual(
    sorted.map(p => p.id),
    ['new-pending', 'old-pending', 'new-rejected', 'old-approved']
  );
  assert.equal(pendingCount(sorted), 2);
  assert.equal(pendingCount(null), 0);
});

test('pendingPromotionOf finds the pending request of a version', () => {
  const list = [
    promotion({ id: 'a', status: 'rejected' }),
    promotion({ id: 'b' }),
    promotion({ id: 'c', version: 4 })
  ];
  assert.equal(pendingPromotionOf(list, 'cancer', 3)?.id, 'b');
  assert.equal(pendingPromotionOf(list, 'cancer', 5), null);
  assert.equal(pendingPromotionOf(null, 'cancer', 3), null);
});

test('approvalProgress', () => {
  assert.equal(approvalProgress(promotion()), '0/1 approval');
  assert.equal(
    approvalProgress(promotion({ approvals: 1, required_approvals: 2 })),
    '1/2 approvals'
  );
});

test('promotionRights: four eyes, self-approval, roles, decided already', () => {
  const p = promotion({ requester: 'bob' });
  assert.deepEqual(promotionRights(ADMIN, p), {
    decide: true,
    cancel: true,
    note: null
  });
  assert.equal(promotionRights(APPROVER, p).decide, true);
  assert.equal(promotionRights(APPROVER, p).cancel, false);
  // The requester: cancel, but not decide (contributor cannot approve anyway).
  const own = promotionRights(CONTRIBUTOR, p);
  assert.equal(own.decide, false);
  assert.equal(own.cancel, true);
  assert.match(own.note!, /approver/);
  // An approver's own request: four eyes unless the policy allows self-approval.
  const mine = promotion({ requester: 'carol' });
  assert.equal(promotionRights(APPROVER, mine).decide, false);
  assert.match(promotionRights(APPROVER, mine).note!, /four eyes/);
  assert.equal(
    promotionRights(APPROVER, { ...mine, self_approval: true }).decide,
    true
  );
  // A second approval by the same approver is not offered.
  const decided = promotion({
    required_approvals: 2,
    approvals: 1,
    decisions: [{ user: 'carol', decision: 'approve', comment: 'ok', at: 1 }]
  });
  assert.equal(promotionRights(APPROVER, decided).decide, false);
  assert.equal(promotionRights(ADMIN, decided).decide, true);
  // Viewers and decided requests: nothing.
  assert.deepEqual(promotionRights(VIEWER, p), {
    decide: false,
    cancel: false,
    note: 'Waiting for an approver.'
  });
  assert.deepEqual(promotionRights(ADMIN, { ...p, status: 'approved' }), {
    decide: false,
    cancel: false,
    note: null
  });
  assert.equal(promotionRights(null, p).decide, false);
});

test('canRequestPromotion needs the right and a ready version not in production', () => {
  const version = { aliases: ['staging'], archived: false, status: 'ready' };
  assert.equal(canRequestPromotion(CONTRIBUTOR, version, null), true);
  assert.equal(canRequestPromotion(VIEWER, version, null), false);
  assert.equal(canRequestPromotion(null, version, null), false);
  assert.equal(canRequestPromotion(CONTRIBUTOR, version, promotion()), false);
  assert.equal(
    canRequestPromotion(
      CONTRIBUTOR,
      { ...version, aliases: ['production'] },
      null
    ),
    false
  );
  assert.equal(
    canRequestPromotion(CONTRIBUTOR, { ...version, archived: true }, null),
    false
  );
  assert.equal(
    canRequestPromotion(CONTRIBUTOR, { ...version, status: 'pending' }, null),
    false
  );
});

test('allows hides buttons while loading, shows them without roles on the server', () => {
  assert.equal(allows(CONTRIBUTOR, null, 'register'), true);
  assert.equal(allows(VIEWER, null, 'register'), false);
  assert.equal(allows(null, null, 'register'), false);
  assert.equal(allows(null, 'not available', 'register'), true);
});

test('identityLabel', () => {
  assert.equal(identityLabel(ADMIN), 'alice · admin');
});

// ---------- metrics diff ----------

test('deltaState knows which metrics are better lower', () => {
  assert.equal(deltaState('f1', 0.02), 'better');
  assert.equal(deltaState('accuracy', -0.01), 'worse');
  assert.equal(deltaState('rmse', -0.5), 'better');
  assert.equal(deltaState('val_loss', 0.1), 'worse');
  assert.equal(deltaState('f1', 0), 'same');
  assert.equal(deltaState('f1', null), 'none');
});

test('formatDelta signs the difference', () => {
  const f = (v: number) => v.toFixed(2);
  assert.equal(formatDelta(0.02, f), '+0.02');
  assert.equal(formatDelta(-0.01, f), '−0.01');
  assert.equal(formatDelta(0, f), '±0');
  assert.equal(formatDelta(null, f), '—');
});

// ---------- errors ----------

test('actionErrorMessage makes 403, 409 and 422 readable', () => {
  const denied = new MlopsApiError(
    403,
    'permission_denied',
    'bob is a viewer',
    undefined,
    {
      error: 'permission_denied',
      message: 'bob is a viewer',
      needed: 'approver'
    }
  );
  assert.equal(
    actionErrorMessage(denied, 'approve this request'),
    'Not allowed to approve this request (needs the approver role): bob is a viewer'
  );
  assert.equal(
    actionErrorMessage(
      new MlopsApiError(409, 'conflict', 'a request is pending'),
      'request the promotion'
    ),
    'Cannot request the promotion: a request is pending'
  );
  assert.equal(
    actionErrorMessage(
      new MlopsApiError(422, 'invalid', 'validation failed: f1 < 0.9'),
      'request the promotion'
    ),
    'Refused to request the promotion: validation failed: f1 < 0.9'
  );
  assert.equal(actionErrorMessage(new Error('boom'), 'x'), 'boom');
});

// ---------- model card ----------

test('the model card document wraps the fragment with theme colors only', () => {
  const colors = themeColors(name =>
    name === '--jp-layout-color0'
      ? ' #111111 '
      : name.includes('font-family')
        ? '</style><script>'
        : ''
  );
  assert.equal(colors.bg, '#111111');
  // Nothing from a variable can close the style element.
  assert.equal(colors.font, '/stylescript');
  assert.equal(colors.fg, '#212121', 'fallback when a variable is unset');
  const doc = cardDocument('<h1>cancer v3</h1>', colors);
  assert.match(doc, /^<!DOCTYPE html>/);
  assert.match(doc, /background: #111111/);
  assert.match(doc, /<body><h1>cancer v3<\/h1><\/body><\/html>$/);
  assert.equal(doc.split('</style>').length, 2);
});
