import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ServerConnection } from '@jupyterlab/services';

import {
  auditFilterParams,
  dispositionFilename,
  MlopsApiError,
  MlopsClient
} from '../src/client';

interface Call {
  url: string;
  init: RequestInit;
}

const BASE = 'http://localhost:8888/lab-base/mlops/api';

function fakeClient(respond: (url: string, init: RequestInit) => Response): {
  client: MlopsClient;
  calls: Call[];
} {
  const calls: Call[] = [];
  const serverSettings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/lab-base/',
    wsUrl: 'ws://localhost:8888/lab-base/'
  });
  const client = new MlopsClient({
    serverSettings,
    makeRequest: async (url, init) => {
      calls.push({ url, init });
      return respond(url, init);
    }
  });
  return { client, calls };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' }
  });
}

const PROMOTION = {
  id: 'abc',
  model: 'cancer',
  version: 3,
  alias: 'production',
  requester: 'bob',
  comment: 'beats v2',
  status: 'pending',
  created_at: 1,
  decided_at: null,
  required_approvals: 1,
  approvals: 0,
  self_approval: false,
  decisions: []
};

test('me() and users() read the identity routes', async () => {
  const { client, calls } = fakeClient(url =>
    url.endsWith('/me')
      ? json({ user: 'alice', role: 'admin', can: { approve: true } })
      : json({ users: [{ name: 'bob', role: 'viewer' }] })
  );
  const me = await client.me();
  assert.equal(me.user, 'alice');
  assert.equal(me.can.approve, true);
  const users = await client.users();
  assert.deepEqual(
    users.map(u => u.name),
    ['bob']
  );
  assert.deepEqual(
    calls.map(c => c.url),
    [`${BASE}/me`, `${BASE}/users`]
  );
});

test('me() refuses an answer that is not an mlops identity', async () => {
  // Jupyter's own /api/me shape (what a mock or proxy might send instead).
  const { client } = fakeClient(() =>
    json({ identity: { username: 'x' }, permissions: {} })
  );
  await assert.rejects(
    client.me(),
    (err: unknown) =>
      err instanceof MlopsApiError &&
      err.error === 'bad_response' &&
      !err.isUnavailable
  );
});

test('setUserRole() PUTs the role to users/{name}', async () => {
  const { client, calls } = fakeClient(() =>
    json({ name: 'bob smith', role: 'approver' })
  );
  await client.setUserRole('bob smith', 'approver');
  assert.equal(calls[0].url, `${BASE}/users/bob%20smith`);
  assert.equal(calls[0].init.method, 'PUT');
  assert.deepEqual(JSON.parse(String(calls[0].init.body)), {
    role: 'approver'
  });
});

test('promotions() passes status, model and limit; missing list is empty', async () => {
  const { client, calls } = fakeClient(() => json({}));
  assert.deepEqual(
    await client.promotions({ status: 'pending', model: 'a b', limit: 10 }),
    []
  );
  const url = new URL(calls[0].url);
  assert.equal(url.pathname, '/lab-base/mlops/api/promotions');
  assert.equal(url.searchParams.get('status'), 'pending');
  assert.equal(url.searchParams.get('model'), 'a b');
  assert.equal(url.searchParams.get('limit'), '10');
  await client.promotions();
  assert.equal(calls[1].url, `${BASE}/promotions`);
});

test('promotion requests: request, get, approve, reject, cancel', async () => {
  const { client, calls } = fakeClient((url, init) =>
    json(
      init.method === 'POST' && url.endsWith('/promotions')
        ? PROMOTION
        : { ...PROMOTION, status: 'approved' },
      init.method === 'POST' && url.endsWith('/promotions') ? 201 : 200
    )
  );
  const made = await client.requestPromotion('cancer', 3, 'beats v2');
  assert.equal(made.id, 'abc');
  await client.promotion('abc');
  await client.approvePromotion('abc', 'ok');
  await client.rejectPromotion('abc', 'no');
  await client.cancelPromotion('abc');
  assert.deepEqual(
    calls.map(c => [c.init.method, c.url.slice(BASE.length)]),
    [
      ['POST', '/models/cancer/promotions'],
      ['GET', '/promotions/abc'],
      ['POST', '/promotions/abc/approve'],
      ['POST', '/promotions/abc/reject'],
      ['POST', '/promotions/abc/cancel']
    ]
  );
  assert.deepEqual(JSON.parse(String(calls[0].init.body)), {
    version: 3,
    comment: 'beats v2'
  });
  assert.deepEqual(JSON.parse(String(calls[2].init.body)), { comment: 'ok' });
  assert.deepEqual(JSON.parse(String(calls[3].init.body)), { comment: 'no' });
  assert.equal(calls[4].init.body, undefined);
});

test('a 403 names the role needed; 409 and 422 keep their codes', async () => {
  let answer: Response = json(
    {
      error: 'permission_denied',
      message: 'bob may not approve',
      needed: 'approver'
    },
    403
  );
  const { client } = fakeClient(() => answer);
  await assert.rejects(client.approvePromotion('abc', 'ok'), (err: unknown) => {
    assert.ok(err instanceof MlopsApiError);
    assert.equal(err.status, 403);
    assert.equal(err.error, 'permission_denied');
    assert.equal(err.needed, 'approver');
    return true;
  });
  answer = json({ error: 'conflict', message: 'pending already' }, 409);
  await assert.rejects(
    client.requestPromotion('cancer', 3, ''),
    (err: unknown) =>
      err instanceof MlopsApiError &&
      err.status === 409 &&
      err.needed === undefined
  );
});

test('policy and permissions of models and experiments', async () => {
  const { client, calls } = fakeClient((_url, init) =>
    json(
      init.body
        ? JSON.parse(String(init.body))
        : { required_approvals: 2, allow_self_approval: false }
    )
  );
  const policy = await client.modelPolicy('cancer');
  assert.equal(policy.required_approvals, 2);
  await client.setModelPolicy('cancer', {
    required_approvals: 1,
    allow_self_approval: true
  });
  await client.permissions('models', 'cancer');
  await client.setPermissions('experiments', 'e1', {
    readers: ['bob'],
    writers: []
  });
  assert.deepEqual(
    calls.map(c => [c.init.method, c.url.slice(BASE.length)]),
    [
      ['GET', '/models/cancer/policy'],
      ['PUT', '/models/cancer/policy'],
      ['GET', '/models/cancer/permissions'],
      ['PUT', '/experiments/e1/permissions']
    ]
  );
  assert.deepEqual(JSON.parse(String(calls[3].init.body)), {
    readers: ['bob'],
    writers: []
  });
});

test('auditFilterParams trims text, rounds times and drops empty values', () => {
  assert.deepEqual(
    auditFilterParams({
      actor: ' bob ',
      action: '',
      target: 'cancer/',
      since: 1000.4,
      until: NaN
    }),
    {
      actor: 'bob',
      action: undefined,
      target_type: undefined,
      target: 'cancer/',
      since: 1000,
      until: undefined
    }
  );
});

test('audit() sends the filter and the page; next is normalised', async () => {
  const { client, calls } = fakeClient(() =>
    json({ events: [{ seq: 5 }], next: 4 })
  );
  const page = await client.audit({
    actor: 'bob',
    action: 'alias',
    target_type: 'model',
    target: 'cancer',
    since: 10,
    until: 20,
    limit: 50,
    before: 100
  });
  assert.deepEqual(page, { events: [{ seq: 5 }], next: 4 });
  const url = new URL(calls[0].url);
  assert.equal(url.pathname, '/lab-base/mlops/api/audit');
  assert.deepEqual(Object.fromEntries(url.searchParams), {
    actor: 'bob',
    action: 'alias',
    target_type: 'model',
    target: 'cancer',
    since: '10',
    until: '20',
    limit: '50',
    before: '100'
  });
  const empty = fakeClient(() => json({ events: [] }));
  assert.deepEqual(await empty.client.audit(), { events: [], next: null });
  assert.equal(empty.calls[0].url, `${BASE}/audit`);
});

test('auditExportUrl() carries the format and the filter', () => {
  const { client } = fakeClient(() => json({}));
  assert.equal(client.auditExportUrl('csv'), `${BASE}/audit/export?format=csv`);
  assert.equal(
    client.auditExportUrl('json', { actor: 'bob', since: 5 }),
    `${BASE}/audit/export?format=json&actor=bob&since=5`
  );
});

test('exportAudit() downloads through the connection with the file name', async () => {
  const { client, calls } = fakeClient(
    () =>
      new Response('seq,actor\n1,bob\n', {
        status: 200,
        headers: {
          'Content-Type': 'text/csv',
          'Content-Disposition': 'attachment; filename="audit-2024.csv"'
        }
      })
  );
  const result = await client.exportAudit('csv', { action: 'run' });
  assert.equal(result.filename, 'audit-2024.csv');
  assert.equal(await result.blob.text(), 'seq,actor\n1,bob\n');
  assert.equal(calls[0].init.method, 'GET');
  assert.equal(calls[0].url, `${BASE}/audit/export?format=csv&action=run`);

  const bare = fakeClient(() => new Response('[]', { status: 200 }));
  assert.equal((await bare.client.exportAudit('json')).filename, 'audit.json');

  const refused = fakeClient(() =>
    json({ error: 'permission_denied', message: 'no' }, 403)
  );
  await assert.rejects(
    refused.client.exportAudit('csv'),
    (err: unknown) => err instanceof MlopsApiError && err.status === 403
  );
});

test('dispositionFilename reads quoted, bare and RFC 5987 names', () => {
  assert.equal(dispositionFilename(null), null);
  assert.equal(dispositionFilename('attachment'), null);
  assert.equal(
    dispositionFilename('attachment; filename="a b.csv"'),
    'a b.csv'
  );
  assert.equal(dispositionFilename('attachment; filename=a.json'), 'a.json');
  assert.equal(
    dispositionFilename("attachment; filename*=UTF-8''audit%20%C3%A9.csv"),
    'audit é.csv'
  );
});

test('verifyAudit(), modelCard() and setIntendedUse()', async () => {
  const { client, calls } = fakeClient((url, init) => {
    if (url.endsWith('/verify')) {
      return json({ ok: true, events: 3, head: { seq: 3, hash: 'h' } });
    }
    if (init.method === 'PUT') {
      return json(JSON.parse(String(init.body)));
    }
    return json({ html: '<h1>cancer</h1>' });
  });
  assert.equal((await client.verifyAudit()).events, 3);
  assert.equal(
    (await client.modelCard('cancer', 3, 'html')).html,
    '<h1>cancer</h1>'
  );
  assert.deepEqual(await client.setIntendedUse('cancer', 'production', 'x'), {
    intended_use: 'x'
  });
  assert.deepEqual(
    calls.map(c => [c.init.method, c.url.slice(BASE.length)]),
    [
      ['GET', '/audit/verify'],
      ['GET', '/models/cancer/versions/3/card?format=html'],
      ['PUT', '/models/cancer/versions/production/card']
    ]
  );
  assert.deepEqual(JSON.parse(String(calls[2].init.body)), {
    intended_use: 'x'
  });
});
