/**
 * Plan operations through `runPlan` with fakes (the database, migrator and journal are fakes;
 * commands are real /bin/sh processes): placement in the step list, pending semantics, the
 * point of no return, and what a failing command leaves in the result and the journal.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCore } from '../../src/core/core.js';
import type { ErrorJson } from '../../src/core/result.js';
import type { RunResult } from '../../src/core/run/run.js';
import { clearSecrets, redact } from '../../src/support/redact.js';
import type { LoadedPlan } from '../../src/plan/loader.js';
import { registerPlanSecrets } from '../../src/plan/secrets.js';
import { PlanSchema, type PlanInput } from '../../src/plan/schema.js';
import { FakeClock, collectingSink, fakePorts } from '../helpers/fakes.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'maint-ops-'));
});
afterEach(async () => {
  clearSecrets();
  await rm(dir, { recursive: true, force: true });
});

type Ops = NonNullable<PlanInput['operations']>;
type SqlOperationInput = Extract<Ops[number], { kind: 'sql' }>;

function loaded(operations: Ops, overrides: Partial<PlanInput> = {}): LoadedPlan {
  const input = {
    version: 1,
    name: 'ops',
    window: { timezone: 'UTC', days: ['daily'], start: '00:00', duration: '24h' },
    database: { engine: 'postgres', url: 'postgres://app:db-pass-1234@localhost/db' },
    post: { analyze: true },
    checks: [{ name: 'rows', sql: 'select count(*) from t', expect: 3 }],
    operations,
    ...overrides,
  };
  registerPlanSecrets(input);
  const plan = PlanSchema.parse(input);
  return { plan, path: 'plan.yaml', file: path.join(dir, 'plan.yaml'), dir };
}

function harness(now = '2026-11-29T10:00:00Z') {
  const clock = new FakeClock(now);
  const ports = fakePorts({ clock, migrations: [{ name: '001_a' }] });
  const { db, migrator, memoryJournal: journal } = ports;
  const rows = { count: 3 };
  db.answers.set('select count(*) from t', () => [{ count: String(rows.count) }]);
  const run = (plan: LoadedPlan) => createCore(ports, collectingSink()).run(plan);
  return { clock, db, rows, journal, migrator, run };
}

async function failure(p: Promise<RunResult>): Promise<ErrorJson & { result: RunResult }> {
  const result = await p;
  if (!result.error) throw new Error(`expected the run to fail, it ended ${result.status}`);
  return { ...result.error, result };
}

const names = (r: RunResult) => r.steps.map((s) => s.name);

describe('operations in maint run (fakes)', () => {
  it('without a migrations folder: runs the operations in place of migrate, then nothing is pending', async () => {
    const h = harness();
    const plan = loaded([
      { name: 'make-t', kind: 'sql', run: 'create table t (id int); insert into t values (1)' },
      {
        name: 'marker',
        kind: 'command',
        run: 'echo "$MAINT_PLAN $MAINT_RUN_ID" > marker',
        when: 'before-migrations',
      },
    ]);
    const result = await h.run(plan);
    expect(result.status).toBe('completed');
    expect(names(result)).toEqual([
      'lock',
      'baseline',
      'operation:marker',
      'operation:make-t',
      'analyze',
      'checks',
    ]);
    expect(h.db.queries).toEqual(
      expect.arrayContaining(['create table t (id int)', 'insert into t values (1)']),
    );
    expect(await readFile(path.join(dir, 'marker'), 'utf8')).toBe(`ops ${result.runId}\n`);
    expect(h.migrator.upCalls).toBe(0);
    const marker = result.steps.find((s) => s.name === 'operation:marker')!;
    expect(marker.detail).toMatchObject({
      exitCode: 0,
      output: '',
      kind: 'command',
      checksum: expect.any(String),
    });

    const again = await h.run(plan);
    expect(again.status).toBe('nothing_pending');
  });

  it('with a migrations folder: before-migrations after baseline, the rest after migrate; a changed operation is pending again', async () => {
    await mkdir(path.join(dir, 'migrations'));
    const h = harness();
    const ops: Ops = [
      { name: 'first', kind: 'sql', run: 'select 1', when: 'before-migrations' },
      { name: 'second', kind: 'sql', run: 'select 2' },
    ];
    const result = await h.run(loaded(ops));
    expect(names(result)).toEqual([
      'lock',
      'baseline',
      'operation:first',
      'migrate',
      'operation:second',
      'analyze',
      'checks',
    ]);
    expect((await h.run(loaded(ops))).status).toBe('nothing_pending');

    const changed = await h.run(loaded([ops[0]!, { ...(ops[1] as SqlOperationInput), run: 'select 3' }]));
    expect(changed.status).toBe('completed');
    expect(names(changed)).toEqual(['lock', 'baseline', 'migrate', 'operation:second', 'analyze', 'checks']);
  });

  it('keeps the redacted output of a failing command in the result and the journal', async () => {
    const h = harness();
    const plan = loaded([
      {
        name: 'leaky',
        kind: 'command',
        run: 'echo "url $MAINT_DATABASE_URL token $TOKEN"; echo boom >&2; exit 4',
        env: { TOKEN: 'tok-Canary-42' },
      },
    ]);
    const error = await failure(h.run(plan));
    expect(error.exitCode).toBe(5);
    expect(error.message).toContain('operation "leaky" failed: the command exited with code 4; last output:');
    const step = error.result.steps.find((s) => s.name === 'operation:leaky')!;
    expect(step.status).toBe('failed');
    expect(step.detail).toMatchObject({
      exitCode: 4,
      output: 'url postgres://app:***@localhost/db token ***\nboom\n',
      error: { code: 'OPERATION_FAILED' },
    });
    const journaled = await h.journal.steps(error.result.runId!);
    const row = journaled.find((s) => s.name === 'operation:leaky')!;
    expect(row.detail).toMatchObject({ exitCode: 4, output: step.detail!.output });
    expect(JSON.stringify(journaled)).not.toMatch(/tok-Canary-42|db-pass-1234/);
  });

  it('a failing SQL operation whose name looks like a secret key keeps its message readable', async () => {
    const h = harness();
    h.db.answers.set('alter role app password $$x$$', () => {
      throw new Error('role "app" does not exist');
    });
    const plan = loaded([{ name: 'rotate-password', kind: 'sql', run: 'alter role app password $$x$$' }]);
    const error = await failure(h.run(plan));
    expect(error.exitCode).toBe(5);
    expect(redact(error.message)).toContain('operation "rotate-password" failed: role "app" does not exist');
    const step = error.result.steps.find((s) => s.name === 'operation:rotate-password')!;
    expect(step.detail).toMatchObject({ kind: 'sql', error: { code: 'OPERATION_FAILED' } });
  });

  it('fails a step whose verify does not hold, saying expected and got, and rolls it back', async () => {
    const h = harness();
    h.db.answers.set('show password_encryption', () => [{ password_encryption: 'md5' }]);
    const plan = loaded([
      {
        name: 'scram',
        kind: 'sql',
        run: "alter system set password_encryption = 'scram-sha-256'",
        rollback: 'alter system reset password_encryption',
        transaction: false,
        verify: { sql: 'show password_encryption', expect: 'scram-sha-256' },
      },
    ]);
    const error = await failure(h.run(plan));
    expect(error.exitCode).toBe(5);
    expect(error.code).toBe('OPERATION_VERIFY_FAILED');
    expect(error.message).toContain('operation "scram" failed its verify: expected scram-sha-256, got md5');
    expect(error.result.steps.find((s) => s.name === 'operation:scram')!.status).toBe('rolled_back');
    expect(h.db.queries).toContain('alter system reset password_encryption');
  });

  it('verify `unchanged` compares with the value read just before the operation', async () => {
    const h = harness();
    const kept = { n: 3 };
    h.db.answers.set('select count(*) from kept', () => [{ n: String(kept.n) }]);
    h.db.answers.set('delete from kept where id = 1', () => {
      kept.n -= 1;
      return [];
    });
    const verify = { sql: 'select count(*) from kept', expect: 'unchanged' };
    const harmless = loaded([
      { name: 'harmless', kind: 'sql', run: 'select 1', rollback: 'select 0', verify },
    ]);
    expect((await h.run(harmless)).status).toBe('completed');

    const lossy = loaded([
      { name: 'lossy', kind: 'sql', run: 'delete from kept where id = 1', rollback: 'select 0', verify },
    ]);
    const error = await failure(h.run(lossy));
    expect(error.message).toContain('operation "lossy" failed its verify: expected unchanged (3), got 2');
  });

  it('a failure after an operation without rollback ends in exit 6 naming what is left to do', async () => {
    const h = harness();
    h.rows.count = 2;
    const plan = loaded([
      { name: 'undoable', kind: 'sql', run: 'select 1', rollback: 'select 0' },
      { name: 'upgrade', kind: 'sql', run: 'select 2' },
    ]);
    const error = await failure(h.run(plan));
    expect(error.exitCode).toBe(6);
    expect(error.code).toBe('POINT_OF_NO_RETURN');
    expect(error.message).toContain('step "operation:upgrade" cannot be undone');
    expect(error.message).toContain('Left to do: analyze, checks');
    expect(error).toMatchObject({ leftToDo: ['analyze', 'checks'] });
    expect(h.db.queries).not.toContain('select 0');
  });

  it('does not start a point of no return when the rest of the run would not fit after it', async () => {
    // 30 minutes left: the whole estimate (about 21m) fits at the start.
    const h = harness('2026-11-29T23:30:00Z');
    // The first operation takes 15 minutes instead of 1: 15 are left, the upgrade and the rest need 20.
    h.db.answers.set('select 1', () => {
      h.clock.advance(15 * 60_000);
      return [];
    });
    const plan = loaded(
      [
        { name: 'slow', kind: 'sql', run: 'select 1', rollback: 'select 0', estimate: '1m' },
        { name: 'upgrade', kind: 'sql', run: 'select 2', estimate: '10m' },
        { name: 'after', kind: 'sql', run: 'select 3', rollback: 'select 4', estimate: '10m' },
      ],
      { checks: [] },
    );
    const error = await failure(h.run(plan));
    expect(error.exitCode).toBe(3);
    expect(error.code).toBe('WINDOW_TOO_SHORT');
    expect(error.message).toContain('stopped before "operation:upgrade"');
    expect(error.message).toContain('(a point of no return) and the steps after it');
    expect(h.db.queries).not.toContain('select 2');
    expect(h.db.queries).toContain('select 0');
  });
});
