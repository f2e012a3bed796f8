import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Deployment, MlopsApiError, ObservedReplica } from '../src/client';
import {
  bodyFromInputExample,
  errorDetail,
  eventIcon,
  exampleBody,
  exampleValue,
  formatExampleBody,
  mainVersion,
  observedReplicas,
  parseTraffic,
  replicaSummary,
  statusLight,
  statusLightTitle,
  trafficError,
  trafficSummary,
  tryItStart
} from '../src/deployments';

function replica(ready: boolean, alive: boolean, index = 0): ObservedReplica {
  return { index, revision: 1, pid: 100 + index, ready, alive };
}

function deployment(
  status: string,
  replicas: ObservedReplica[] | null,
  desired = 2
): Deployment {
  return {
    name: 'iris-staging',
    model: 'iris',
    environment: 'staging',
    status,
    port: 41231,
    revision: 3,
    url: 'http://127.0.0.1:41231/v1/predict',
    desired: {
      traffic: [
        { version: 1, weight: 90 },
        { version: 2, weight: 10 }
      ],
      replicas: desired
    },
    ...(replicas ? { observed: { replicas } } : {}),
    created_at: 0,
    created_by: 'alice',
    updated_at: 0
  };
}

test('statusLight: green, amber, red and grey', () => {
  assert.equal(
    statusLight(
      deployment('active', [replica(true, true), replica(true, true, 1)])
    ),
    'green'
  );
  assert.equal(
    statusLight(
      deployment('active', [replica(true, true), replica(false, true, 1)])
    ),
    'amber'
  );
  // A dead replica among live ones is not "all ready and alive".
  assert.equal(
    statusLight(
      deployment('active', [replica(true, true), replica(true, false, 1)])
    ),
    'amber'
  );
  assert.equal(
    statusLight(deployment('active', [replica(false, false)])),
    'red'
  );
  assert.equal(statusLight(deployment('active', [])), 'red');
  assert.equal(
    statusLight(deployment('stopped', [replica(true, true)])),
    'grey'
  );
  assert.equal(statusLight(deployment('stopped', null)), 'grey');
  // Not observed by this server (no controller): nothing to judge by.
  assert.equal(statusLight(deployment('active', null)), 'amber');
});

test('a server without a controller sends observed {}: not observed, not red', () => {
  // What the server answers today when it runs no controller (`observed: {}`).
  const d: Deployment = { ...deployment('active', null), observed: {} };
  assert.equal(observedReplicas(d), null);
  assert.equal(statusLight(d), 'amber');
  assert.match(statusLightTitle(d), /not observed/);
  assert.equal(replicaSummary(d), '2');
  assert.equal(observedReplicas({ observed: null }), null);
  assert.deepEqual(observedReplicas(deployment('active', [])), []);
  assert.equal(
    statusLightTitle(
      deployment('active', [replica(true, true), replica(false, true, 1)])
    ),
    'active: 1/2 replicas ready'
  );
});

test('trafficSummary and replicaSummary', () => {
  assert.equal(
    trafficSummary([
      { version: 1, weight: 90 },
      { version: 2, weight: 10 }
    ]),
    'v1 90% · v2 10%'
  );
  assert.equal(trafficSummary([]), '');
  assert.equal(trafficSummary(undefined), '');
  assert.equal(
    replicaSummary(
      deployment('active', [replica(true, true), replica(false, true, 1)])
    ),
    '1/2'
  );
  assert.equal(replicaSummary(deployment('active', null)), '2');
  assert.equal(replicaSummary(deployment('stopped', [])), '2');
});

test('trafficError mirrors the server rule', () => {
  assert.equal(
    trafficError([
      { version: 1, weight: '90' },
      { version: 2, weight: 10 }
    ]),
    null
  );
  assert.equal(trafficError([{ version: 1, weight: 100 }]), null);
  assert.match(
    trafficError([
      { version: 1, weight: '90' },
      { version: 2, weight: '20' }
    ])!,
    /add up to 100 \(now 110\)/
  );
  assert.match(trafficError([])!, /at least one/);
  assert.match(trafficError([{ version: 1, weight: '' }])!, /1-100/);
  assert.match(
    trafficError([
      { version: 1, weight: '0' },
      { version: 2, weight: '100' }
    ])!,
    /v1 .*1-100/
  );
  assert.match(
    trafficError([
      { version: 1, weight: '50.5' },
      { version: 2, weight: '49.5' }
    ])!,
    /integer/
  );
  assert.match(trafficError([{ version: 1, weight: '101' }])!, /1-100/);
  assert.match(
    trafficError([
      { version: 1, weight: 50 },
      { version: 1, weight: 50 }
    ])!,
    /once/
  );
  assert.match(trafficError([{ version: 0, weight: 100 }])!, /positive/);
  assert.deepEqual(
    parseTraffic([
      { version: 1, weight: ' 60 ' },
      { version: 3, weight: 40 }
    ]),
    [
      { version: 1, weight: 60 },
      { version: 3, weight: 40 }
    ]
  );
});

test('exampleBody builds one placeholder row from a signature', () => {
  assert.deepEqual(
    exampleBody({
      inputs: [
        { name: 'sepal length (cm)', dtype: 'float64' },
        { name: 'count', dtype: 'int64' },
        { name: 'n', dtype: 'UInt8' },
        { name: 'flag', dtype: 'bool' },
        { name: 'city', dtype: 'object' },
        { name: 'kind', dtype: 'category' },
        { name: 'when', dtype: 'datetime64[ns]' }
      ]
    }),
    {
      inputs: [
        {
          'sepal length (cm)': 0,
          count: 0,
          n: 0,
          flag: false,
          city: '',
          kind: '',
          when: '1970-01-01T00:00:00'
        }
      ]
    }
  );
  assert.deepEqual(exampleBody(null), { inputs: [{}] });
  assert.deepEqual(exampleBody({ inputs: [] }), { inputs: [{}] });
  assert.equal(exampleValue('string'), '');
  const text = formatExampleBody({ inputs: [{ name: 'a', dtype: 'float32' }] });
  assert.deepEqual(JSON.parse(text), { inputs: [{ a: 0 }] });
  assert.ok(text.includes('\n'));
});

test('Try it starts from the input example, else the signature', () => {
  const example = {
    columns: ['a', 'b c'],
    data: [
      [5.1, 'x'],
      [4.9, null]
    ]
  };
  assert.deepEqual(bodyFromInputExample(example), {
    inputs: [{ a: 5.1, 'b c': 'x' }]
  });
  assert.deepEqual(bodyFromInputExample(example, 5), {
    inputs: [
      { a: 5.1, 'b c': 'x' },
      { a: 4.9, 'b c': null }
    ]
  });
  // A short row fills the missing columns with null.
  assert.deepEqual(bodyFromInputExample({ columns: ['a', 'b'], data: [[1]] }), {
    inputs: [{ a: 1, b: null }]
  });
  assert.equal(bodyFromInputExample({ columns: ['a'], data: [] }), null);
  assert.equal(bodyFromInputExample({ columns: [], data: [[1]] }), null);
  assert.equal(bodyFromInputExample(null), null);

  const signature = {
    inputs: [
      { name: 'a', dtype: 'float64' },
      { name: 'b c', dtype: 'object' }
    ]
  };
  const fromExample = tryItStart(example, signature);
  assert.equal(fromExample.source, 'example');
  assert.equal(fromExample.columns, 2);
  assert.deepEqual(JSON.parse(fromExample.body), {
    inputs: [{ a: 5.1, 'b c': 'x' }]
  });
  const fromSignature = tryItStart(null, signature);
  assert.equal(fromSignature.source, 'signature');
  assert.deepEqual(JSON.parse(fromSignature.body), {
    inputs: [{ a: 0, 'b c': '' }]
  });
  const empty = tryItStart(undefined, null);
  assert.equal(empty.source, 'none');
  assert.equal(empty.columns, 0);
  assert.deepEqual(JSON.parse(empty.body), { inputs: [{}] });
});

test('errorDetail: the message, then the problems it listed, never raw JSON', () => {
  const mismatch = new MlopsApiError(
    422,
    'schema_mismatch',
    "input does not match the model signature: missing column 'a'; extra column 'nope'",
    undefined,
    {
      error: 'schema_mismatch',
      message: '…',
      problems: ["missing column 'a'", "extra column 'nope'"]
    }
  );
  assert.deepEqual(errorDetail(mismatch), {
    status: 422,
    code: 'schema_mismatch',
    message: 'input does not match the model signature',
    problems: ["missing column 'a'", "extra column 'nope'"]
  });
  // Problems the message does not repeat stay beside the whole message.
  const other = new MlopsApiError(422, 'schema_mismatch', 'bad input', 0, {
    problems: ['shape (1, 3)']
  });
  assert.equal(errorDetail(other).message, 'bad input');
  assert.deepEqual(errorDetail(other).problems, ['shape (1, 3)']);
  // A stopped deployment: a plain 422 message, no problems.
  assert.deepEqual(
    errorDetail(
      new MlopsApiError(422, 'invalid', 'deployment d is stopped', undefined, {
        error: 'invalid',
        message: 'deployment d is stopped'
      })
    ),
    {
      status: 422,
      code: 'invalid',
      message: 'deployment d is stopped',
      problems: []
    }
  );
  // No JSON body: the status text, no made-up code.
  const proxy = new MlopsApiError(502, 'http_502', 'Bad Gateway');
  assert.equal(errorDetail(proxy).code, '');
  assert.equal(errorDetail(proxy).message, 'Bad Gateway');
  assert.deepEqual(errorDetail(new Error('offline')), {
    status: 0,
    code: '',
    message: 'offline',
    problems: []
  });
});

test('mainVersion picks the heaviest version; eventIcon colours kinds', () => {
  assert.equal(
    mainVersion([
      { version: 1, weight: 10 },
      { version: 2, weight: 90 }
    ]),
    2
  );
  assert.equal(mainVersion([]), null);
  assert.equal(eventIcon('ready').tone, 'ok');
  assert.equal(eventIcon('crashed').tone, 'error');
  assert.equal(eventIcon('rolled_back').tone, 'warn');
  assert.equal(eventIcon('something_new').tone, 'muted');
});
