import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  MlopsApiError,
  MlopsClient,
  Schedule,
  SchedulePatch,
  ScheduleRequest
} from '../src/client';
import { ScheduleEditorModel } from '../src/scheduleeditormodel';
import { schedule } from './schedulefixtures';

/** A preview endpoint that knows two-field mistakes and unknown zones. */
function previewClient() {
  const previews: [string, string | undefined, number | undefined][] = [];
  const client = {
    previewSchedule: async (
      cron: string,
      timezone?: string,
      count?: number
    ) => {
      previews.push([cron, timezone, count]);
      if (timezone === 'Mars/Olympus') {
        throw new MlopsApiError(
          400,
          'bad_request',
          "unknown timezone 'Mars/Olympus'",
          undefined,
          { field: 'timezone' }
        );
      }
      if (cron.split(/\s+/).length !== 5) {
        throw new MlopsApiError(
          400,
          'bad_request',
          'cron must have 5 fields (minute hour day month weekday)',
          undefined,
          { field: 'cron' }
        );
      }
      return {
        cron,
        timezone: timezone ?? 'UTC',
        description: 'At 02:00 every day',
        next: [1, 2, 3]
      };
    }
  } as unknown as MlopsClient;
  return { client, previews };
}

/** The preview's kind (a call: assertions do not narrow the model's state). */
function kindOf(editor: ScheduleEditorModel): string {
  return editor.preview.kind;
}

test('the preview follows the cron field: words and next times, or the server message', async () => {
  const { client, previews } = previewClient();
  const editor = new ScheduleEditorModel({
    client,
    save: async () => schedule('x', 'x'),
    path: 'examples/train.ipynb',
    previewDelay: 1
  });
  await editor.refreshPreview();
  assert.equal(kindOf(editor), 'ok');
  assert.deepEqual(previews[0], ['0 2 * * *', 'UTC', 3]);

  editor.set('cron', '0 2 * *');
  await new Promise(resolve => setTimeout(resolve, 20));
  assert.equal(kindOf(editor), 'error');
  assert.match((editor.preview as { message: string }).message, /5 fields/);
  editor.set('cron', '0 2 * * *');
  await editor.refreshPreview();
  assert.equal(kindOf(editor), 'ok');

  editor.set('timezone', 'Mars/Olympus');
  await editor.refreshPreview();
  assert.deepEqual(
    editor.preview.kind === 'error' ? editor.preview.field : null,
    'timezone'
  );
  editor.dispose();
});

test('a stale preview answer does not overwrite a newer one', async () => {
  let release: () => void = () => undefined;
  const client = {
    previewSchedule: async (cron: string) => {
      if (cron === 'slow') {
        await new Promise<void>(resolve => (release = resolve));
        throw new MlopsApiError(400, 'bad_request', 'slow is bad');
      }
      return { cron, timezone: 'UTC', description: 'ok', next: [] };
    }
  } as unknown as MlopsClient;
  const editor = new ScheduleEditorModel({
    client,
    save: async () => schedule('x', 'x')
  });
  editor.set('cron', 'slow');
  const slow = editor.refreshPreview();
  editor.set('cron', '* * * * *');
  await editor.refreshPreview();
  release();
  await slow;
  assert.equal(kindOf(editor), 'ok');
  editor.dispose();
});

test('save checks the form first, then keeps the server refusal beside its field', async () => {
  const { client } = previewClient();
  const sent: (ScheduleRequest | SchedulePatch)[] = [];
  let refuse: MlopsApiError | null = new MlopsApiError(
    400,
    'bad_request',
    "no such notebook: 'examples/nope.ipynb'",
    undefined,
    { field: 'target' }
  );
  const editor = new ScheduleEditorModel({
    client,
    save: async body => {
      sent.push(body);
      if (refuse) {
        throw refuse;
      }
      return schedule('new', (body as ScheduleRequest).name);
    },
    path: 'examples/nope.ipynb'
  });
  editor.set('parameters', '[1, 2]');
  assert.equal(await editor.save(), null);
  assert.equal(sent.length, 0, 'a local problem sends nothing');
  assert.match(editor.problemOf('parameters') ?? '', /JSON object/);

  editor.set('parameters', '{"alpha": 2}');
  assert.equal(editor.problemOf('parameters'), null);
  assert.equal(await editor.save(), null);
  assert.equal(sent.length, 1);
  assert.match(editor.problemOf('path') ?? '', /no such notebook/);
  // What was typed is still there.
  assert.equal(editor.form.parameters, '{"alpha": 2}');
  assert.equal(editor.form.path, 'examples/nope.ipynb');

  // Changing the path clears its problem; the next save succeeds.
  editor.set('path', 'examples/train.ipynb');
  assert.equal(editor.problemOf('path'), null);
  refuse = null;
  const saved = await editor.save();
  assert.equal(saved?.name, 'nope-nightly');
  assert.deepEqual((sent[1] as ScheduleRequest).parameters, { alpha: 2 });
  assert.equal(
    (sent[1] as ScheduleRequest).target.path,
    'examples/train.ipynb'
  );
  editor.dispose();
});

test('a refusal of the cron expression shows in the preview too', async () => {
  const { client } = previewClient();
  const editor = new ScheduleEditorModel({
    client,
    save: async () => {
      throw new MlopsApiError(
        400,
        'bad_request',
        "cron '61 * * * *': minute 61 out of range",
        undefined,
        { field: 'cron' }
      );
    },
    path: 'a.ipynb'
  });
  assert.equal(await editor.save(), null);
  assert.match(editor.problemOf('cron') ?? '', /out of range/);
  assert.equal(kindOf(editor), 'error');
  // A refusal naming no field shows under the form.
  editor.dispose();
});

test('editing sends only what changed (nothing: no request)', async () => {
  const { client } = previewClient();
  const existing = schedule('s1', 'nightly');
  const patches: [SchedulePatch, string | undefined][] = [];
  const editor = new ScheduleEditorModel({
    client,
    schedule: existing,
    save: async (body, id) => {
      patches.push([body as SchedulePatch, id]);
      return { ...existing, ...(body as Partial<Schedule>) };
    }
  });
  assert.equal(editor.isNew, false);
  assert.equal(await editor.save(), existing);
  assert.equal(patches.length, 0);
  editor.set('cron', '30 4 * * 1');
  const saved = await editor.save();
  assert.equal(saved?.cron, '30 4 * * 1');
  assert.deepEqual(patches, [[{ cron: '30 4 * * 1' }, 's1']]);
  editor.dispose();
});

test('a path of another kind switches the kind', () => {
  const { client } = previewClient();
  const editor = new ScheduleEditorModel({
    client,
    save: async () => schedule('x', 'x')
  });
  assert.equal(editor.form.kind, 'notebook');
  editor.set('path', 'pipelines/retrain.yaml');
  assert.equal(editor.form.kind, 'pipeline');
  editor.set('path', 'pipelines/retrain');
  assert.equal(editor.form.kind, 'pipeline');
  editor.dispose();
});
