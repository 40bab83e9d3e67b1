/**
 * An applied migration edited afterwards (issue 9): the read-only views still show the state and
 * name the changed file with both checksums (`status`, `migrate status`, `plan`), `gate` refuses
 * with exit 7 `MIGRATION_CHANGED`, `run` and `migrate` refuse with exit 2 touching nothing, and
 * `maint migrate accept` records the file as it is now after a review, under the lock, journaled.
 * Also: the header comment `migrate create` writes is not statement 1.
 */
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freshMysql, freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { runCli, writePlan } from './migrate-support.js';

const cases = [
  { engine: 'postgres' as const, fresh: freshPostgres },
  { engine: 'mysql' as const, fresh: freshMysql },
];

interface Changed {
  name: string;
  file: string;
  state: string;
  appliedAt: string | null;
  appliedChecksum: string;
  currentChecksum: string;
}

describe.each(cases)('$engine: a migration edited after it was applied', ({ engine, fresh }) => {
  let fdb: FreshDatabase | undefined;
  afterEach(async () => {
    await fdb?.drop();
    fdb = undefined;
  });

  it('is shown by the views, refused by gate (7) and run/migrate (2), and accepted with a journaled reason', async () => {
    fdb = await fresh();
    const { plan, dir } = await writePlan({
      engine,
      url: fdb.url,
      migrations: { '001_a.sql': 'create table a (id int);\n', '002_b.sql': 'create table b (id int);\n' },
    });
    expect((await runCli(['migrate', plan])).code).toBe(0);
    const file = path.join(dir, 'migrations', '001_a.sql');
    await writeFile(file, '-- orders: the first table\ncreate table a (id int);\n');
    await writeFile(path.join(dir, 'migrations', '003_c.sql'), 'create table c (id int);\n');

    // migrate status: shown, not refused.
    const ms = await runCli(['migrate', 'status', plan, '--json']);
    expect(ms.code).toBe(0);
    const msOut = JSON.parse(ms.stdout) as {
      applied: Array<{ name: string; checksum: string }>;
      pending: Array<{ name: string }>;
      changed: Changed[];
      warnings: string[];
    };
    expect(msOut.pending.map((p) => p.name)).toEqual(['003_c']);
    expect(msOut.changed).toHaveLength(1);
    const [changed] = msOut.changed;
    expect(changed).toMatchObject({
      name: '001_a',
      file: path.join('migrations', '001_a.sql'),
      state: 'applied',
    });
    expect(changed!.appliedChecksum).toBe(msOut.applied.find((a) => a.name === '001_a')!.checksum);
    expect(changed!.currentChecksum).not.toBe(changed!.appliedChecksum);
    expect(changed!.currentChecksum).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.parse(changed!.appliedAt ?? '')).toBeGreaterThan(0);
    expect(msOut.warnings[0]).toContain(`maint migrate accept ${plan} 001_a --reason`);
    const human = await runCli(['migrate', 'status', plan]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/changed\s+001_a/);
    expect(human.stdout).toContain(
      `warning: ${path.join('migrations', '001_a.sql')} was edited after it was applied`,
    );
    expect(human.stdout).toContain(changed!.appliedChecksum.slice(0, 12));
    expect(human.stdout).toContain(changed!.currentChecksum.slice(0, 12));

    // maint status: shown with the warning.
    const st = await runCli(['status', plan, '--json']);
    expect(st.code).toBe(0);
    const stOut = JSON.parse(st.stdout) as { changed: Changed[]; warnings: string[]; pending: string[] };
    expect(stOut.changed.map((c) => c.name)).toEqual(['001_a']);
    expect(stOut.pending).toEqual(['003_c']);
    const stHuman = await runCli(['status', plan]);
    expect(stHuman.code).toBe(0);
    expect(stHuman.stdout).toContain('warning: ' + path.join('migrations', '001_a.sql'));
    expect(stHuman.stdout).toContain('maint migrate accept');

    // maint plan: the whole preview, and the refusal `maint run` would give (exit 2).
    const pl = await runCli(['plan', plan, '--json']);
    expect(pl.code).toBe(2);
    const plOut = JSON.parse(pl.stdout) as {
      status: string;
      changed: Changed[];
      warnings: string[];
      pending: Array<{ name: string }>;
      steps: unknown[];
      error: { code: string };
    };
    expect(plOut).toMatchObject({ status: 'refused', error: { code: 'MIGRATION_CHANGED' } });
    expect(plOut.pending.map((p) => p.name)).toEqual(['003_c']);
    expect(plOut.steps.length).toBeGreaterThan(0);
    expect(plOut.warnings.some((w) => w.includes('001_a.sql was edited'))).toBe(true);

    // gate: exit 7 with the reason.
    const gate = await runCli(['gate', plan, '--json']);
    expect(gate.code).toBe(7);
    const gateOut = JSON.parse(gate.stdout) as { allowed: boolean; reason: string; message: string };
    expect(gateOut).toMatchObject({ allowed: false, reason: 'MIGRATION_CHANGED' });
    expect(gateOut.message).toContain('maint migrate accept');

    // run and migrate: exit 2, nothing applied, nothing journaled.
    const run = await runCli(['run', plan, '--json']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout).error.code).toBe('MIGRATION_CHANGED');
    const mig = await runCli(['migrate', plan, '--json']);
    expect(mig.code).toBe(2);
    const migErr = JSON.parse(mig.stdout).error as { code: string; hint: string };
    expect(migErr.code).toBe('MIGRATION_CHANGED');
    expect(migErr.hint).toContain('maint migrate accept');
    const still = JSON.parse((await runCli(['migrate', 'status', plan, '--json'])).stdout) as {
      pending: Array<{ name: string }>;
    };
    expect(still.pending.map((p) => p.name)).toEqual(['003_c']);
    expect(JSON.parse((await runCli(['status', plan, '--json'])).stdout).runs).toEqual([]);

    // accept: bad input first (exit 2, nothing written).
    const blank = await runCli(['migrate', 'accept', plan, '001_a', '--reason', '   ', '--json']);
    expect(blank.code).toBe(2);
    expect(JSON.parse(blank.stdout).error.code).toBe('USAGE');
    const typo = await runCli(['migrate', 'accept', plan, '001_aa', '--reason', 'comment only', '--json']);
    expect(typo.code).toBe(2);
    const typoErr = JSON.parse(typo.stdout).error as { code: string; message: string };
    expect(typoErr.code).toBe('MIGRATION_UNKNOWN');
    expect(typoErr.message).toContain('did you mean "001_a"?');
    const unchanged = await runCli([
      'migrate',
      'accept',
      plan,
      '002_b',
      '--reason',
      'comment only',
      '--json',
    ]);
    expect(unchanged.code).toBe(2);
    expect(JSON.parse(unchanged.stdout).error.message).toContain('"002_b" has not changed');
    expect((await runCli(['gate', plan])).code).toBe(7);

    // accept: the checksum is recorded, journaled, and said.
    const acc = await runCli(['migrate', 'accept', plan, '001_a.sql', '--reason', 'PR 42: comment only']);
    expect(acc.stderr).toBe('');
    expect(acc.code).toBe(0);
    expect(acc.stdout).toContain('accepted 1 changed migration');
    expect(acc.stdout).toContain(
      `${path.join('migrations', '001_a.sql')}: checksum ${changed!.appliedChecksum.slice(0, 12)} → ${changed!.currentChecksum.slice(0, 12)}`,
    );
    const runId = /journaled as (run_\w+)/.exec(acc.stdout)?.[1];
    expect(runId).toBeTruthy();

    const after = JSON.parse((await runCli(['migrate', 'status', plan, '--json'])).stdout) as {
      applied: Array<{ name: string; checksum: string }>;
      changed: Changed[];
      warnings: string[];
    };
    expect(after.changed).toEqual([]);
    expect(after.warnings).toEqual([]);
    expect(after.applied.find((a) => a.name === '001_a')!.checksum).toBe(changed!.currentChecksum);

    const journal = JSON.parse((await runCli(['status', plan, '--json'])).stdout) as {
      last: unknown;
      runs: Array<{ runId: string; kind: string; note: string; status: string }>;
    };
    expect(journal.last).toBeNull();
    expect(journal.runs).toHaveLength(1);
    expect(journal.runs[0]).toMatchObject({ runId, kind: 'accept', status: 'completed' });
    expect(journal.runs[0]!.note).toContain('reason: PR 42: comment only');
    expect(journal.runs[0]!.note).toContain(changed!.currentChecksum.slice(0, 12));

    expect((await runCli(['gate', plan])).code).toBe(0);
    const migrated = await runCli(['migrate', plan, '--json']);
    expect(migrated.code).toBe(0);
    expect(JSON.parse(migrated.stdout).steps.map((s: { name: string }) => s.name)).toEqual(['003_c']);
  });

  it('does not count the header comment `migrate create` writes as statement 1', async () => {
    fdb = await fresh();
    const { plan, dir } = await writePlan({ engine, url: fdb.url, migrations: {} });
    const created = await runCli(['migrate', 'create', plan, 'two_tables', '--json']);
    expect(created.code).toBe(0);
    const up = path.join(dir, 'migrations', '001_two_tables.sql');
    const header = await readFile(up, 'utf8');
    expect(header).toMatch(/^-- 001_two_tables\.sql: apply/);
    // Statement by statement (MySQL always; PostgreSQL outside a transaction): statement 2 fails.
    await appendFile(
      up,
      `${engine === 'postgres' ? '-- maint:no-transaction\n' : ''}create table t1 (id int);\ninsert into no_such_table values (1);\n`,
    );
    const failed = await runCli(['migrate', plan, '--json']);
    expect(failed.code).toBe(6);
    const error = JSON.parse(failed.stdout).error as {
      code: string;
      message: string;
      statement: number;
      statementsDone: number;
      statements: number;
    };
    expect(error).toMatchObject({
      code: 'MIGRATION_PARTIAL',
      statement: 2,
      statementsDone: 1,
      statements: 2,
    });
    expect(error.message).toContain('stopped at statement 2 of 2; statement 1 is applied');
    expect(error.message).toContain(
      `${path.join('migrations', '001_two_tables.sql')}:${engine === 'postgres' ? 4 : 3}`,
    );
  });
});
