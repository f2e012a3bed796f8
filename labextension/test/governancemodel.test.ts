import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AuditModel } from '../src/auditmodel';
import {
  AuditEvent,
  AuditQuery,
  MlopsApiError,
  MlopsClient,
  Promotion
} from '../src/client';
import { GovernanceModel, versionKey } from '../src/governancemodel';

function promotion(overrides: Partial<Promotion> = {}): Promotion {
  return {
    id: 'p1',
    model: 'cancer',
    version: 3,
    alias: 'production',
    requester: 'bob',
    comment: 'beats v2',
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

/** A fake server holding promotion requests, with the rules that matter here. */
function fakeGovernanceClient(store: Promotion[]) {
  const calls: string[] = [];
  const client = {
    me: async () => {
      calls.push('me');
      return {
        user: 'alice',
        role: 'admin',
        can: { approve: true, admin: true, request_promotion: true }
      };
    },
    promotions: async () => {
      calls.push('promotions');
      return store.map(p => ({ ...p }));
    },
    promotion: async (id: string) => {
      calls.push(`promotion ${id}`);
      const p = store.find(x => x.id === id)!;
      return {
        ...p,
        validation: { passed: true, created_at: 1, results: [] },
        production_version: 2,
        metrics_diff: []
      };
    },
    requestPromotion: async (
      model: string,
      version: number,
      comment: string
    ) => {
      calls.push(`request ${model} ${version} ${comment}`);
      if (store.some(p => p.version === version && p.status === 'pending')) {
        throw new MlopsApiError(409, 'conflict', 'a request is pending');
      }
      const made = promotion({
        id: `p${store.length + 1}`,
        version,
        comment,
        requester: 'alice',
        created_at: 200
      });
      store.push(made);
      return made;
    },
    approvePromotion: async (id: string, comment: string) => {
      calls.push(`approve ${id} ${comment}`);
      const p = store.find(x => x.id === id)!;
      p.approvals += 1;
      p.decisions = [
        ...p.decisions,
        { user: 'alice', decision: 'approve', comment, at: 300 }
      ];
      if (p.approvals >= p.required_approvals) {
        p.status = 'approved';
      }
      return { ...p };
    },
    rejectPromotion: async (id: string) => {
      calls.push(`reject ${id}`);
      throw new MlopsApiError(
        403,
        'permission_denied',
        'not an approver',
        undefined,
        {
          needed: 'approver'
        }
      );
    },
    cancelPromotion: async (id: string) => {
      calls.push(`cancel ${id}`);
      const p = store.find(x => x.id === id)!;
      p.status = 'cancelled';
      return { ...p };
    }
  } as unknown as MlopsClient;
  return { client, calls };
}

test('refresh loads the identity and the requests, pending first', async () => {
  const { client } = fakeGovernanceClient([
    promotion({ id: 'done', status: 'approved', created_at: 500 }),
    promotion({ id: 'open', created_at: 100 })
  ]);
  const model = new GovernanceModel({ client });
  let emits = 0;
  model.changed.connect(() => emits++);
  await model.refresh();
  assert.equal(model.me?.user, 'alice');
  assert.deepEqual(
    model.promotions?.map(p => p.id),
    ['open', 'done']
  );
  const after = emits;
  assert.ok(after > 0);
  await model.refresh();
  assert.equal(emits, after, 'same data: no re-render');
  model.dispose();
});

test('approving completes the request, reloads its detail and tells the views', async () => {
  const store = [promotion()];
  const { client, calls } = fakeGovernanceClient(store);
  const model = new GovernanceModel({ client });
  const changed: Promotion[] = [];
  model.promotionChanged.connect((_, p) => changed.push(p));
  await model.refresh();
  await model.loadDetail('p1');
  assert.equal(model.detailOf('p1')?.production_version, 2);

  const result = await model.decide('p1', 'approve', '  fine by me ');
  assert.equal(result?.status, 'approved');
  assert.ok(calls.includes('approve p1 fine by me'));
  assert.equal(model.promotions?.[0].status, 'approved');
  assert.equal(model.detailOf('p1')?.status, 'approved');
  assert.deepEqual(
    changed.map(p => p.status),
    ['approved']
  );
  assert.equal(model.errorOf('p1'), null);
  assert.equal(model.isBusy('p1'), false);
  model.dispose();
});

test('a decision needs a comment; refusals are kept as readable errors', async () => {
  const { client, calls } = fakeGovernanceClient([promotion()]);
  const model = new GovernanceModel({ client });
  await model.refresh();
  assert.equal(await model.decide('p1', 'approve', '   '), null);
  assert.match(model.errorOf('p1')!, /comment is required/);
  assert.ok(!calls.some(c => c.startsWith('approve')));

  assert.equal(await model.decide('p1', 'reject', 'no'), null);
  assert.equal(
    model.errorOf('p1'),
    'Not allowed to reject this request (needs the approver role): not an approver'
  );
  model.dispose();
});

test('requesting a promotion: errors under the version key, success lists it', async () => {
  const store = [promotion({ version: 3 })];
  const { client } = fakeGovernanceClient(store);
  const model = new GovernanceModel({ client });
  await model.refresh();
  assert.equal(await model.request('cancer', 3, 'again'), null);
  assert.equal(
    model.errorOf(versionKey('cancer', 3)),
    'Cannot request the promotion: a request is pending'
  );
  const made = await model.request('cancer', 4, ' better ');
  assert.equal(made?.version, 4);
  assert.equal(made?.comment, 'better');
  assert.ok(model.promotions?.some(p => p.id === made!.id));
  model.clearError(versionKey('cancer', 3));
  assert.equal(model.errorOf(versionKey('cancer', 3)), null);

  const cancelled = await model.cancel(made!.id);
  assert.equal(cancelled?.status, 'cancelled');
  model.dispose();
});

test('without governance routes the model says so instead of failing', async () => {
  const client = {
    me: async () => {
      throw new MlopsApiError(404, 'http_404', 'Not Found');
    },
    promotions: async () => {
      throw new MlopsApiError(404, 'http_404', 'Not Found');
    }
  } as unknown as MlopsClient;
  const model = new GovernanceModel({ client });
  await model.refresh();
  assert.equal(model.me, null);
  assert.match(model.meError!, /not available/);
  assert.match(model.promotionsError!, /not available/);
  model.dispose();
});

// ---------- audit ----------

function event(seq: number): AuditEvent {
  return {
    seq,
    time: seq,
    actor: seq % 2 ? 'bob' : 'alice',
    action: seq % 2 ? 'alias.set' : 'run.create',
    target_type: 'model',
    target: `cancer/${seq}`,
    before: null,
    after: { version: seq },
    prev_hash: `h${seq - 1}`,
    hash: `h${seq}`
  };
}

/** A fake audit trail of `count` events, filtered and paged like the server. */
function fakeAuditClient(trail: AuditEvent[]) {
  const queries: AuditQuery[] = [];
  let verifies = 0;
  const client = {
    audit: async (query: AuditQuery) => {
      queries.push(query);
      const matching = trail
        .filter(e => !query.actor || e.actor === query.actor)
        .filter(e => !query.action || e.action.startsWith(query.action))
        .filter(e => query.before === undefined || e.seq < query.before)
        .sort((a, b) => b.seq - a.seq);
      const limit = query.limit ?? 100;
      const events = matching.slice(0, limit);
      return {
        events,
        next: matching.length > limit ? events[events.length - 1].seq : null
      };
    },
    verifyAudit: async () => {
      verifies++;
      return {
        ok: true,
        events: trail.length,
        head: { seq: trail.length, hash: `h${trail.length}` },
        problems: []
      };
    },
    auditExportUrl: (format: string) => `/export?format=${format}`
  } as unknown as MlopsClient;
  return { client, queries, verifies: () => verifies };
}

test('the audit model pages back, merges new events and re-verifies a grown chain', async () => {
  const trail = Array.from({ length: 5 }, (_, i) => event(i + 1));
  const { client, queries, verifies } = fakeAuditClient(trail);
  const model = new AuditModel({ client, pageSize: 2 });
  await model.refresh();
  assert.deepEqual(
    model.events?.map(e => e.seq),
    [5, 4]
  );
  assert.equal(model.hasMore, true);
  assert.equal(model.verification?.events, 5);
  assert.equal(verifies(), 1);

  await model.loadMore();
  assert.deepEqual(
    model.events?.map(e => e.seq),
    [5, 4, 3, 2]
  );
  assert.equal(queries[queries.length - 1].before, 4);

  // A new event: on top, the older pages stay, the chain is verified again.
  trail.push(event(6));
  await model.refresh();
  assert.deepEqual(
    model.events?.map(e => e.seq),
    [6, 5, 4, 3, 2]
  );
  assert.equal(model.hasMore, true);
  assert.equal(verifies(), 2);
  // Nothing new: no second verification.
  await model.refresh();
  assert.equal(verifies(), 2);
  model.dispose();
});

test('a new filter starts from its first page', async () => {
  const trail = Array.from({ length: 6 }, (_, i) => event(i + 1));
  const { client, queries } = fakeAuditClient(trail);
  const model = new AuditModel({ client, pageSize: 10 });
  await model.refresh();
  await model.setFilter({ actor: 'bob', action: 'alias' });
  assert.deepEqual(
    model.events?.map(e => e.seq),
    [5, 3, 1]
  );
  assert.equal(model.hasMore, false);
  assert.deepEqual(queries[queries.length - 1], {
    actor: 'bob',
    action: 'alias',
    limit: 10
  });
  assert.equal(model.exportUrl('csv'), '/export?format=csv');
  model.dispose();
});
