import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ServerConnection } from '@jupyterlab/services';

import { MlopsApiError, MlopsClient } from '../src/client';

function clientAnswering(response: () => Response): {
  client: MlopsClient;
  urls: string[];
  methods: string[];
} {
  const urls: string[] = [];
  const methods: string[] = [];
  const client = new MlopsClient({
    serverSettings: ServerConnection.makeSettings({
      baseUrl: 'http://localhost:8888/lab-base/',
      wsUrl: 'ws://localhost:8888/lab-base/'
    }),
    makeRequest: async (url, init) => {
      urls.push(url);
      methods.push(init.method ?? 'GET');
      return response();
    }
  });
  return { client, urls, methods };
}

test('runNotebookHtml returns the rendered document of the stored notebook', async () => {
  const html = '<!DOCTYPE html><html><body>cell</body></html>';
  const { client, urls, methods } = clientAnswering(
    () =>
      new Response(JSON.stringify({ run_id: 'ab12', sha256: 'f00', html }), {
        status: 200,
        headers: { 'Content-Type': 'application/json' }
      })
  );
  assert.equal(await client.runNotebookHtml('ab12'), html);
  assert.deepEqual(urls, [
    'http://localhost:8888/lab-base/mlops/api/runs/ab12/notebook?format=html'
  ]);
  assert.deepEqual(methods, ['GET']);
});

test('runNotebookHtml: a run without a stored notebook is a 404 not_found', async () => {
  const { client } = clientAnswering(
    () =>
      new Response(
        JSON.stringify({
          error: 'not_found',
          message: 'run ab12 has no stored notebook',
          run_id: 'ab12'
        }),
        { status: 404, headers: { 'Content-Type': 'application/json' } }
      )
  );
  await assert.rejects(client.runNotebookHtml('ab12'), (error: unknown) => {
    assert.ok(error instanceof MlopsApiError);
    assert.equal(error.status, 404);
    assert.equal(error.error, 'not_found');
    assert.equal(error.isUnavailable, false);
    assert.match(error.message, /no stored notebook/);
    return true;
  });
});
