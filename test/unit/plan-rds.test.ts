/** The RDS settings of a plan (strategy.clone.rds, kind: rds-upgrade): strict, positioned errors. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PlanError } from '../../src/errors.js';
import { loadPlan } from '../../src/plan/loader.js';

const HEAD = `version: 1
name: orders
window: { timezone: UTC, days: [daily], start: "00:00", duration: 24h }
database: { engine: postgres, url: "postgres://u:p@db.example.com:5432/orders" }
`;

async function load(text: string) {
  const dir = await mkdtemp(path.join(tmpdir(), 'maint-plan-rds-'));
  try {
    await writeFile(path.join(dir, 'plan.yaml'), HEAD + text);
    return await loadPlan(path.join(dir, 'plan.yaml'), { env: {} });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function issues(text: string): Promise<Array<{ path?: string; line?: number; message: string }>> {
  const error = await load(text).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PlanError);
  return (error as PlanError).issues as Array<{ path?: string; line?: number; message: string }>;
}

describe('strategy.clone.rds', () => {
  it('takes the defaults', async () => {
    const { plan } = await load(
      'strategy:\n  kind: clone-freeze\n  clone:\n    method: rds-blue-green\n    rds: { instance: orders-db }\n',
    );
    const s = plan.strategy as { clone: { rds: Record<string, unknown> } };
    expect(s.clone.rds).toMatchObject({
      instance: 'orders-db',
      switchoverTimeout: 300_000,
      pollInterval: 10_000,
      waitTimeout: 7_200_000,
      deleteOld: false,
    });
  });

  it('an rds method without the instance, at the method', async () => {
    const [i] = await issues('strategy:\n  kind: clone-freeze\n  clone:\n    method: rds-snapshot\n');
    expect(i).toMatchObject({ path: 'strategy.clone.method', line: 8 });
    expect(i!.message).toContain('clone.rds.instance');
  });

  it('clone.url with an rds method, rds with another method, a switchover timeout RDS refuses, unknown keys', async () => {
    const found = await issues(
      'strategy:\n  kind: clone-freeze\n  clone:\n    method: rds-blue-green\n    url: postgres://x@h/db\n    rds: { instance: orders-db, switchoverTimeout: 10s }\n',
    );
    expect(found.map((i) => i.path).sort()).toEqual([
      'strategy.clone.rds.switchoverTimeout',
      'strategy.clone.url',
    ]);
    const other = await issues(
      'strategy:\n  kind: clone-freeze\n  clone:\n    method: dump\n    rds: { instance: a }\n',
    );
    expect(other.map((i) => i.path)).toEqual(['strategy.clone.rds']);
    const typo = await issues(
      'strategy:\n  kind: clone-freeze\n  clone:\n    method: rds-blue-green\n    rds: { instance: a, instanse: b }\n',
    );
    expect(typo[0]!.path).toBe('strategy.clone.rds.instanse');
    const bad = await issues(
      'strategy:\n  kind: clone-freeze\n  clone:\n    method: rds-blue-green\n    rds: { instance: "1-bad_id" }\n',
    );
    expect(bad[0]!.path).toBe('strategy.clone.rds.instance');
  });
});

describe('kind: rds-upgrade', () => {
  it('parses, and refuses run/rollback keys', async () => {
    const { plan } = await load(
      'operations:\n  - { name: pg16, kind: rds-upgrade, instance: orders-db, engineVersion: "16.4" }\n',
    );
    expect(plan.operations[0]).toMatchObject({
      kind: 'rds-upgrade',
      allowMajorVersionUpgrade: false,
      pollInterval: 10_000,
    });
    const found = await issues(
      'operations:\n  - { name: pg16, kind: rds-upgrade, instance: orders-db, engineVersion: "16.4", rollback: "x" }\n',
    );
    expect(found[0]!.path).toBe('operations[0].rollback');
    const missing = await issues('operations:\n  - { name: pg16, kind: rds-upgrade, instance: orders-db }\n');
    expect(missing[0]!.path).toBe('operations[0].engineVersion');
  });
});
