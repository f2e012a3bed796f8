import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AlertsModel } from '../src/alertsmodel';
import { Alert, AlertsQuery, MlopsApiError, MlopsClient } from '../src/client';
import { alert } from './alertfixtures';

/** A fake client with a mutable store of alerts. */
function fakeClient(store: Alert[]) {
  const queries: AlertsQuery[] = [];
  const acks: string[] = [];
  let fail: Error | null = null;
  const client = {
    alerts: async (query: AlertsQuery) => {
      queries.push(query);
      if (fail) {
        throw fail;
      }
      return store.filter(
        a =>
          (!query.deployment || a.deployment === query.deployment) &&
          (query.status === 'open'
            ? a.status === 'firing' || a.status === 'acknowledged'
            : !query.status || a.status === query.status)
      );
    },
    acknowledgeAlert: async (id: string) => {
      acks.push(id);
      const found = store.find(a => a.id === id)!;
      if (found.status === 'resolved') {
        throw new MlopsApiError(
          422,
          'invalid',
          `alert ${id} is already resolved`
        );
      }
      found.status = 'acknowledged';
      found.acknowledged_by = 'galata';
      return { ...found };
    }
  } as unknown as MlopsClient;
  return {
    client,
    queries,
    acks,
    setFail: (error: Error | null) => (fail = error)
  };
}

test('refresh loads the open alerts sorted; re-renders only on change', async () => {
  const store = [
    alert('ack', 'acknowledged', 5),
    alert('fire', 'firing', 1),
    alert('gone', 'resolved', 9)
  ];
  const { client, queries } = fakeClient(store);
  const model = new AlertsModel({ client });
  let emits = 0;
  model.changed.connect(() => emits++);
  const before = model.open;
  assert.equal(before, null);
  await model.refresh();
  assert.deepEqual(
    model.open?.map(a => a.id),
    ['fire', 'ack']
  );
  assert.equal(model.resolved, null);
  assert.equal(model.firingCount, 1);
  assert.deepEqual(queries, [
    { deployment: undefined, status: 'open', limit: 200 }
  ]);
  assert.equal(emits, 1);
  await model.refresh();
  assert.equal(emits, 1, 'same data: no re-render');
  model.dispose();
});

test('a deployment model asks for its alerts only; show resolved loads them', async () => {
  const store = [
    alert('a', 'firing', 2),
    alert('b', 'resolved', 1),
    alert('other', 'firing', 3, { deployment: 'churn' })
  ];
  const { client, queries } = fakeClient(store);
  const model = new AlertsModel({ client, deployment: 'iris' });
  await model.refresh();
  assert.deepEqual(
    model.open?.map(a => a.id),
    ['a']
  );
  await model.setShowResolved(true);
  assert.equal(model.showResolved, true);
  assert.deepEqual(
    model.resolved?.map(a => a.id),
    ['b']
  );
  assert.deepEqual(queries.slice(-2), [
    { deployment: 'iris', status: 'open', limit: 200 },
    { deployment: 'iris', status: 'resolved', limit: 50 }
  ]);
  await model.setShowResolved(false);
  assert.equal(model.resolved, null);
  model.dispose();
});

test('acknowledge replaces the alert, drops the firing count and tells', async () => {
  const store = [alert('a', 'firing', 2), alert('b', 'firing', 1)];
  const { client, acks } = fakeClient(store);
  const told: Alert[] = [];
  const model = new AlertsModel({ client, onAcknowledged: a => told.push(a) });
  await model.refresh();
  assert.equal(model.firingCount, 2);
  const pending = model.acknowledge('b');
  assert.equal(model.isBusy('b'), true);
  assert.equal(await pending, true);
  assert.equal(model.isBusy('b'), false);
  assert.deepEqual(acks, ['b']);
  assert.equal(model.firingCount, 1);
  assert.deepEqual(
    model.open?.map(a => [a.id, a.status]),
    [
      ['a', 'firing'],
      ['b', 'acknowledged']
    ]
  );
  assert.deepEqual(
    told.map(a => a.id),
    ['b']
  );
  model.dispose();
});

test('acknowledging a resolved alert: readable error on it, then the list reloads', async () => {
  const store = [alert('a', 'firing', 2)];
  const { client } = fakeClient(store);
  const model = new AlertsModel({ client });
  await model.refresh();
  store[0].status = 'resolved';
  assert.equal(await model.acknowledge('a'), false);
  assert.equal(
    model.errorOf('a'),
    'Not acknowledged: alert a is already resolved'
  );
  assert.deepEqual(model.open, [], 'reloaded: no longer open');
  model.dispose();
});

test('a failed load keeps what was shown and says why, readably', async () => {
  const store = [alert('a', 'firing', 2)];
  const { client, setFail } = fakeClient(store);
  const model = new AlertsModel({ client });
  await model.refresh();
  setFail(new MlopsApiError(500, 'server_error', 'database is locked'));
  await model.refresh();
  assert.equal(model.error, 'database is locked');
  assert.equal(model.open?.length, 1);
  setFail(new MlopsApiError(404, 'http_404', 'Not Found'));
  await model.refresh();
  assert.equal(
    model.error,
    'Alerts are not available on this server (Not Found).'
  );
  setFail(null);
  await model.refresh();
  assert.equal(model.error, null);
  model.dispose();
});

test('displayUser: the current user is "you"', () => {
  const { client } = fakeClient([]);
  const model = new AlertsModel({ client, currentUser: () => 'ab12' });
  assert.equal(model.displayUser('ab12'), 'you');
  assert.equal(model.displayUser('carol'), 'carol');
  assert.equal(model.displayUser(null), '—');
  const anonymous = new AlertsModel({ client });
  assert.equal(anonymous.displayUser('ab12'), 'ab12');
});
