/** `classifyMigrations`: what the run hands the expand/contract guard, read from the plan's files. */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyMigrations, lintSelected } from '../../src/core/inspect/lint.js';
import { guardRoll } from '../../src/lint/guard.js';
import { loadPlan, type LoadedPlan } from '../../src/plan/loader.js';

describe('classifyMigrations', () => {
  let dir: string;
  let loaded: LoadedPlan;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'maint-classify-'));
    await mkdir(path.join(dir, 'migrations'));
    const files: Record<string, string> = {
      '001_orders.sql': 'CREATE TABLE orders (id bigint PRIMARY KEY, status text);\n',
      '002_state.sql': 'ALTER TABLE orders ADD COLUMN state text;\n',
      '003_drop_status.sql': 'ALTER TABLE orders DROP COLUMN status;\n',
      '004_marked.sql': '-- maint:expand\nDROP VIEW IF EXISTS never_used;\n',
      '005_backfill.js': 'export async function up() {}\n',
    };
    for (const [name, text] of Object.entries(files))
      await writeFile(path.join(dir, 'migrations', name), text);
    await writeFile(
      path.join(dir, 'plan.yaml'),
      'version: 1\nname: shop\nwindow:\n  timezone: UTC\n  days: [daily]\n  start: "00:00"\n  duration: 1h\ndatabase:\n  engine: postgres\n  url: postgres://127.0.0.1:1/none\nmigrations:\n  dir: ./migrations\n',
    );
    loaded = await loadPlan(path.join(dir, 'plan.yaml'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('classifies the named SQL migrations in order, honouring overrides, and feeds the guard', async () => {
    const pending = await classifyMigrations(loaded, [
      '002_state',
      '003_drop_status',
      '004_marked',
      '005_backfill',
    ]);
    expect(pending).toEqual([
      { name: '002_state', classification: 'expand' },
      { name: '003_drop_status', classification: 'contract' },
      { name: '004_marked', classification: 'expand' },
    ]);
    const v = guardRoll({ caller: 'gate', pending, serving: ['v1'], target: 'v2' });
    expect(v.allowed).toBe(false);
    if (!v.allowed) expect(v.error.details).toMatchObject({ contract: ['003_drop_status'] });
  });
});

describe('lintSelected', () => {
  it('lints nothing (rather than failing) for a plan made only of operations, without a migrations folder', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'maint-ops-only-'));
    try {
      const yaml =
        'version: 1\nname: ops\nwindow:\n  timezone: UTC\n  days: [daily]\n  start: "00:00"\n  duration: 1h\n' +
        'database:\n  engine: postgres\n  url: postgres://127.0.0.1:1/none\n' +
        'operations:\n  - name: analyze\n    kind: sql\n    run: analyze\n';
      await writeFile(path.join(dir, 'plan.yaml'), yaml);
      const r = await lintSelected(await loadPlan(path.join(dir, 'plan.yaml')), null, null);
      expect(r.files).toEqual([]);
      expect(r.errors).toBe(0);
      // Without operations the missing folder stays an input error.
      await writeFile(path.join(dir, 'plan.yaml'), yaml.replace(/operations:[\s\S]*$/, ''));
      await expect(
        lintSelected(await loadPlan(path.join(dir, 'plan.yaml')), null, null),
      ).rejects.toMatchObject({
        code: 'MIGRATIONS_DIR',
        exitCode: 2,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
