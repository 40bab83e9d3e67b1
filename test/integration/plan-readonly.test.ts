/**
 * `maint plan`, `gate` and `status` change nothing: on a PGlite plan that never ran they must
 * not even create its data folder.
 */
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMaint } from '../helpers/receivers.js';

const repo = path.resolve(import.meta.dirname, '../..');

async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

describe('read-only commands on a never-run PGlite plan', () => {
  let dir: string;
  let before: string[];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'maint-readonly-'));
    await cp(path.join(repo, 'plans/demo.yaml'), path.join(dir, 'demo.yaml'));
    await cp(path.join(repo, 'plans/demo/migrations'), path.join(dir, 'demo/migrations'), {
      recursive: true,
    });
    await cp(path.join(repo, 'plans/demo/site'), path.join(dir, 'demo/site'), {
      recursive: true,
      filter: (src) => !/[\\/](_data|data|_site)$/.test(src),
    });
    before = await listTree(dir);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['plan', 0],
    ['gate', 0],
    ['status', 0],
  ])('maint %s answers (exit %i) and creates nothing', async (command, code) => {
    const run = await runMaint([command, path.join(dir, 'demo.yaml'), '--json']);
    expect(run.code, run.stderr).toBe(code);
    const result = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(JSON.stringify(result)).toContain('001_create_orders');
    expect(await listTree(dir)).toEqual(before);
  });
});
