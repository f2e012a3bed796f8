import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AlertRule, MlopsApiError, MlopsClient } from '../src/client';
import { RulesModel } from '../src/rulesmodel';
import { alert } from './alertfixtures';

function fakeClient(saved: AlertRule[]) {
  const puts: AlertRule[][] = [];
  let evaluations = 0;
  const client = {
    alertRules: async () => saved,
    setAlertRules: async (_name: string, rules: AlertRule[]) => {
      puts.push(rules);
      const bad = rules.find(
        r =>
          r.kind === 'drift_share' &&
          (r.threshold === undefined || r.threshold <= 0 || r.threshold > 1)
      );
      if (bad) {
        throw new MlopsApiError(
          400,
          'bad_request',
          'a drift_share rule needs a threshold in (0, 1]',
          undefined,
          {
            error: 'bad_request',
            message: 'a drift_share rule needs a threshold in (0, 1]',
            field: 'threshold'
          }
        );
      }
      saved = rules.map((r, i) => ({ id: r.id ?? `new${i}`, ...r }));
      return saved;
    },
    evaluateAlerts: async () => {
      evaluations++;
      if (evaluations > 1) {
        throw new MlopsApiError(
          404,
          'not_found',
          "deployment 'iris' does not exist"
        );
      }
      return [alert('a', 'firing', 1)];
    }
  } as unknown as MlopsClient;
  return { client, puts };
}

test('edit starts from the saved rules (or an example), save replaces them', async () => {
  const { client, puts } = fakeClient([]);
  const saved: AlertRule[][] = [];
  const model = new RulesModel({
    deployment: 'iris',
    client,
    onSaved: rules => saved.push(rules)
  });
  await model.refresh();
  assert.deepEqual(model.rules, []);
  model.edit();
  assert.equal(model.editing, true);
  assert.deepEqual(JSON.parse(model.text), [
    { kind: 'drift_share', threshold: 0.3, window: '1h' }
  ]);
  assert.equal(await model.save(), true);
  assert.equal(model.editing, false);
  assert.deepEqual(model.rules, [
    { id: 'new0', kind: 'drift_share', threshold: 0.3, window: '1h' }
  ]);
  assert.equal(puts.length, 1);
  assert.equal(saved.length, 1);
  // Editing again shows the saved rules with their ids.
  model.edit();
  assert.deepEqual(JSON.parse(model.text)[0].id, 'new0');
  model.dispose();
});

test("save: a JSON mistake is caught before sending; the server's 400 is readable", async () => {
  const { client, puts } = fakeClient([]);
  const model = new RulesModel({ deployment: 'iris', client });
  await model.refresh();
  model.edit();
  model.setText('[{"kind": "drift_share", "threshold": 0.3');
  assert.equal(await model.save(), false);
  assert.equal(puts.length, 0);
  assert.equal(model.saveError?.server, false);
  assert.match(model.saveError!.message, /^The rules are not valid JSON/);
  model.setText('[{"kind": "drift_share", "threshold": 3}]');
  assert.equal(await model.save(), false);
  assert.deepEqual(model.saveError, {
    message: 'a drift_share rule needs a threshold in (0, 1]',
    field: 'threshold',
    server: true
  });
  assert.equal(model.editing, true, 'the editor stays open with the text');
  assert.equal(model.text, '[{"kind": "drift_share", "threshold": 3}]');
  assert.deepEqual(model.rules, [], 'nothing saved');
  model.cancel();
  assert.equal(model.editing, false);
  assert.equal(model.saveError, null);
  model.dispose();
});

test('evaluate: summary of what changed, then a readable failure', async () => {
  const { client } = fakeClient([
    { id: 'r1', kind: 'drift_share', threshold: 0.3 }
  ]);
  const evaluated: number[] = [];
  const model = new RulesModel({
    deployment: 'iris',
    client,
    onEvaluated: changed => evaluated.push(changed.length)
  });
  const first = await model.evaluate();
  assert.equal(first?.length, 1);
  assert.deepEqual(model.evaluation, {
    ok: true,
    text: 'Evaluated: dataset drift fired.'
  });
  assert.deepEqual(evaluated, [1]);
  assert.equal(await model.evaluate(), null);
  assert.deepEqual(model.evaluation, {
    ok: false,
    text: "Not evaluated: deployment 'iris' does not exist"
  });
  assert.equal(model.evaluating, false);
  assert.deepEqual(evaluated, [1]);
  model.dispose();
});

test('rules are shown by kind, whatever order the server answers in', async () => {
  const { client } = fakeClient([
    { id: 'b', kind: 'error_rate', threshold: 0.05 },
    { id: 'a', kind: 'drift_share', threshold: 0.3 }
  ]);
  const model = new RulesModel({ deployment: 'iris', client });
  await model.refresh();
  assert.deepEqual(
    model.rules?.map(r => r.kind),
    ['drift_share', 'error_rate']
  );
  model.edit();
  assert.deepEqual(
    JSON.parse(model.text).map((r: { id: string }) => r.id),
    ['a', 'b']
  );
  model.dispose();
});
