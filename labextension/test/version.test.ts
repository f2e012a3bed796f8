import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { FRONTEND_VERSION } from '../src/version';

test('FRONTEND_VERSION matches package.json', () => {
  // lib-test/test/version.test.js -> repository root
  const pkg = JSON.parse(
    readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')
  );
  assert.equal(FRONTEND_VERSION, pkg.version);
});
