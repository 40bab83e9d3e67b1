/**
 * vitest setupFiles: this test file's own TMPDIR inside the run's private folder (tmp-root.ts).
 * Temporary plans, sites, receivers' folders and server data that tests and the CLIs they spawn
 * create under `tmpdir()` are removed when the file ends, after the file's own afterAll hooks
 * (servers are stopped there first).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, inject } from 'vitest';

const root = inject('maintTmpRoot');
const sandbox = await mkdtemp(path.join(root, 'maint-file-'));
const previous = process.env.TMPDIR;
process.env.TMPDIR = sandbox;

afterAll(async () => {
  if (previous === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = previous;
  await rm(sandbox, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
});
