/**
 * vitest globalSetup: one private temporary folder for the whole test run, `maint-testrun-*` in
 * the real temporary folder. Each test file gets its own folder inside it as TMPDIR
 * (tmp-sandbox.ts), so every `mkdtemp(tmpdir())` of a test, a helper or a CLI it spawns lands
 * there and is removed when the file ends. At the end of the run anything still in it (a folder
 * a process wrote after its file ended, or one a sandbox could not remove) fails the run loudly,
 * naming it. (Nothing in the tests or maint may write to a hard-coded /tmp path.)
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    maintTmpRoot: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = await mkdtemp(path.join(tmpdir(), 'maint-testrun-'));
  project.provide('maintTmpRoot', root);
  return async () => {
    const left = await readdir(root).catch(() => []);
    await rm(root, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
    if (left.length > 0) {
      // vitest reports a throwing teardown but keeps its exit code: fail the run ourselves.
      process.exitCode = 1;
      throw new Error(
        `The tests left temporary folders behind (removed now):\n${left.map((n) => `  ${path.join(root, n)}`).join('\n')}`,
      );
    }
  };
}
