/**
 * Honest outcomes of `maint run` (issue 9, points 1, 2 and 7), with the built CLI on a real
 * PostgreSQL and a real MariaDB:
 *
 * - a migration run statement by statement and stopped after its first statement (Ctrl-C, or a
 *   syntax error in statement 2) is MIGRATION_PARTIAL, exit 6, naming the file and the
 *   statements done — never "rolled back, nothing changed";
 * - after exit 6 the banner stays `active`, `maint gate` refuses (exit 7, RUN_FAILED), `plan`
 *   and `migrate status` show the migration as `partial`, and the recovery docs/run.md
 *   describes (`maint run PLAN` again) works exactly as written;
 * - a failed rollback (MariaDB, no down file, a failing check) is not forgotten by the next run.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { freshMysql, freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { json, runCli, startCli, waitFor, writePlan } from '../helpers/run-cli.js';

interface Sql {
  q(text: string): Promise<Array<Record<string, unknown>>>;
  end(): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function pgFresh(): Promise<{ db: FreshDatabase; sql: Sql }> {
  const db = await freshPostgres();
  cleanups.push(() => db.drop());
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const sql = { q: async (t: string) => (await client.query(t)).rows, end: () => client.end() };
  cleanups.push(() => sql.end());
  return { db, sql };
}

async function myFresh(): Promise<{ db: FreshDatabase; sql: Sql }> {
  const db = await freshMysql();
  cleanups.push(() => db.drop());
  const conn = await mysql.createConnection({ uri: db.url });
  const sql = {
    q: async (t: string) => (await conn.query(t))[0] as Array<Record<string, unknown>>,
    end: () => conn.end(),
  };
  cleanups.push(() => sql.end());
  return { db, sql };
}

interface RunJson {
  runId: string;
  status: string;
  error: { code: string; message: string; hint: string | null } | null;
  recovered: { action: string } | null;
}

interface PendingJson {
  name: string;
  state: string;
  statementsDone: number;
  statements: number | null;
}

const ENGINES = [
  {
    engine: 'postgres' as const,
    fresh: pgFresh,
    table:
      'create table items (id int primary key, a int, b int);\ncreate table sleep_gate (x int);\ninsert into sleep_gate values (1);',
    indexes: [
      '-- maint:no-transaction',
      'create index concurrently idx_a on items (a);',
      'select pg_sleep(case when exists (select 1 from sleep_gate) then 60 else 0 end);',
      'create index concurrently idx_b on items (b);',
      '',
    ].join('\n'),
    sleeping:
      "select 1 as x from pg_stat_activity where state = 'active' and pid <> pg_backend_pid() and query like 'select pg_sleep(case%'",
    indexNames:
      "select indexname as n from pg_indexes where tablename = 'items' and indexname like 'idx%' order by 1",
  },
  {
    engine: 'mysql' as const,
    fresh: myFresh,
    table:
      'create table items (id int primary key, a int, b int);\ncreate table sleep_gate (x int);\ninsert into sleep_gate values (1);',
    indexes: [
      'create index idx_a on items (a);',
      'select sleep(case when exists (select 1 from sleep_gate) then 60 else 0 end);',
      'create index idx_b on items (b);',
      '',
    ].join('\n'),
    sleeping:
      "select 1 as x from information_schema.processlist where db = database() and info like 'select sleep(case%'",
    indexNames:
      "select distinct index_name as n from information_schema.statistics where table_schema = database() and table_name = 'items' and index_name like 'idx%' order by 1",
  },
];

describe.each(ENGINES)('$engine: Ctrl-C after statement 1 of a statement-by-statement migration', (c) => {
  it('exit 6 MIGRATION_PARTIAL naming what is left; gate refuses; plan and migrate status say partial; `maint run` again finishes it', async () => {
    const { db, sql } = await c.fresh();
    const plan = await writePlan({
      engine: c.engine,
      url: db.url,
      migrations: {
        '001_items.sql': c.table,
        '001_items.down.sql': 'drop table items;\ndrop table sleep_gate;',
        '002_indexes.sql': c.indexes,
      },
    });
    cleanups.push(() => rm(plan.dir, { recursive: true, force: true }));
    const { child, done } = startCli(['run', plan.file, '--json']);
    await waitFor('statement 2 to sleep', async () =>
      (await sql.q(c.sleeping)).length > 0 ? true : undefined,
    );
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(6);
    const out = json<RunJson>(r);
    expect(out.status).toBe('failed');
    expect(out.error?.code).toBe('MIGRATION_PARTIAL');
    expect(out.error?.message).toContain('002_indexes.sql');
    expect(out.error?.message).toMatch(/statement 1 of 3 (is|are) applied|statements? 1 of 3/);
    expect(out.error?.message).not.toMatch(/nothing (was )?changed|everything was rolled back/);
    // What is true: index a exists, the file is half-applied, 001 was not reverted under it.
    expect((await sql.q(c.indexNames)).map((x) => x.n)).toEqual(['idx_a']);
    const rows = await sql.q('select name, state, statements_done from maint_migrations order by name');
    expect(rows.map((x) => [x.name, x.state])).toEqual([
      ['001_items', 'applied'],
      ['002_indexes', 'running'],
    ]);
    expect(Number(rows[1]?.statements_done)).toBe(1);
    const journal = await sql.q(`select status, error from maint_runs where run_id = '${out.runId}'`);
    expect(journal[0]?.status).toBe('failed');
    const error = typeof journal[0]?.error === 'string' ? JSON.parse(journal[0].error) : journal[0]?.error;
    expect(error.code).toBe('MIGRATION_PARTIAL');
    // The banner says what is true: the maintenance is not over.
    expect(await readFile(plan.bannerYaml, 'utf8')).toMatch(/^state: "active"$/m);

    const gate = await runCli(['gate', plan.file, '--json']);
    expect(gate.code, gate.stdout).toBe(7);
    expect(json<{ reason: string; message: string }>(gate).reason).toBe('RUN_FAILED');

    const status = await runCli(['migrate', 'status', plan.file, '--json']);
    expect(status.code, status.stderr).toBe(0);
    const pending = json<{ pending: PendingJson[] }>(status).pending;
    expect(pending).toEqual([
      expect.objectContaining({ name: '002_indexes', state: 'partial', statementsDone: 1, statements: 3 }),
    ]);
    const human = await runCli(['migrate', 'status', plan.file]);
    expect(human.stdout).toMatch(/partial\s+002_indexes \(statement 1 of 3 done\)/);
    const preview = await runCli(['plan', plan.file, '--json']);
    expect(json<{ pending: PendingJson[] }>(preview).pending[0]).toMatchObject({
      state: 'partial',
      statementsDone: 1,
    });

    // docs/run.md: "fix the cause, then `maint run PLAN` again: it resumes at the statement".
    await sql.q('delete from sleep_gate');
    const again = await runCli(['run', plan.file, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const second = json<RunJson>(again);
    expect(second.status).toBe('completed');
    expect(second.recovered?.action).toBe('resumed');
    expect((await sql.q(c.indexNames)).map((x) => x.n)).toEqual(['idx_a', 'idx_b']);
    expect(await readFile(plan.bannerYaml, 'utf8')).toMatch(/^state: "off"$/m);
    const old = await sql.q(`select status from maint_runs where run_id = '${out.runId}'`);
    expect(old[0]?.status).toBe('resumed');
    expect((await runCli(['gate', plan.file])).code).toBe(0);
  });
});

describe('mysql: a syntax error in statement 2', () => {
  it('exit 6 MIGRATION_PARTIAL (statement 1 stays); fixing statement 2 and `maint run` again completes it', async () => {
    const { db, sql } = await myFresh();
    const plan = await writePlan({
      engine: 'mysql',
      url: db.url,
      migrations: {
        '001_items.sql': 'create table items (id int primary key, a int, b int);',
        '001_items.down.sql': 'drop table items;',
        '002_indexes.sql': 'create index idx_a on items (a);\ncreat index idx_b on items (b);\n',
        '002_indexes.down.sql': 'drop index idx_a on items;\ndrop index idx_b on items;\n',
      },
    });
    cleanups.push(() => rm(plan.dir, { recursive: true, force: true }));
    const r = await runCli(['run', plan.file, '--json']);
    expect(r.code, r.stderr).toBe(6);
    const out = json<RunJson>(r);
    expect(out.error?.code).toBe('MIGRATION_PARTIAL');
    expect(out.error?.message).toContain('002_indexes.sql');
    expect(out.error?.hint).toContain('run');
    const idx = await sql.q(
      "select distinct index_name as n from information_schema.statistics where table_schema = database() and table_name = 'items' and index_name like 'idx%'",
    );
    expect(idx.map((x) => x.n)).toEqual(['idx_a']);
    expect((await runCli(['gate', plan.file])).code).toBe(7);

    await writeFile(
      path.join(plan.migrationsDir, '002_indexes.sql'),
      'create index idx_a on items (a);\ncreate index idx_b on items (b);\n',
    );
    const again = await runCli(['run', plan.file, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(json<RunJson>(again).status).toBe('completed');
    const rows = await sql.q("select state from maint_migrations where name = '002_indexes'");
    expect(rows[0]?.state).toBe('applied');
    expect((await runCli(['gate', plan.file])).code).toBe(0);
  });
});

describe('mysql: a failing check and a migration without a down file', () => {
  it('exit 6; the banner stays active, gate refuses, the next run does not say "nothing is pending"; writing the down file and `maint run` finishes the rollback', async () => {
    const { db, sql } = await myFresh();
    const plan = await writePlan({
      engine: 'mysql',
      url: db.url,
      migrations: { '001_items.sql': 'create table items (id int primary key);' },
      extra: 'checks:\n  - name: items are there\n    sql: select count(*) from items\n    expect: ">= 1"\n',
    });
    cleanups.push(() => rm(plan.dir, { recursive: true, force: true }));
    const r = await runCli(['run', plan.file, '--json']);
    expect(r.code, r.stderr).toBe(6);
    const out = json<RunJson>(r);
    expect(out.status).toBe('failed');
    expect(out.error?.code).toBe('ROLLBACK_FAILED');
    expect(await readFile(plan.bannerYaml, 'utf8')).toMatch(/^state: "active"$/m);

    const gate = await runCli(['gate', plan.file, '--json']);
    expect(gate.code).toBe(7);
    expect(json<{ reason: string }>(gate).reason).toBe('RUN_FAILED');

    // Unfixed, the next run tries the rollback again and says so: exit 6, not "nothing is pending".
    const unfixed = await runCli(['run', plan.file]);
    expect(unfixed.code, unfixed.stdout).toBe(6);
    expect(unfixed.stdout + unfixed.stderr).not.toContain('nothing is pending');

    // docs/run.md: write the missing down file, then `maint run PLAN` finishes the rollback.
    await writeFile(path.join(plan.migrationsDir, '001_items.down.sql'), 'drop table items;\n');
    const fixed = await runCli(['run', plan.file, '--json']);
    expect(fixed.code, fixed.stderr).toBe(5);
    const settled = json<RunJson>(fixed);
    expect(settled.status).toBe('rolled_back');
    expect(settled.error?.code).toBe('FAILED_RUN_ROLLED_BACK');
    const tables = await sql.q(
      "select table_name as t from information_schema.tables where table_schema = database() and table_name = 'items'",
    );
    expect(tables).toEqual([]);
    expect(await readFile(plan.bannerYaml, 'utf8')).toMatch(/^state: "off"$/m);
    const journal = await sql.q(`select status from maint_runs where run_id = '${out.runId}'`);
    expect(journal[0]?.status).toBe('rolled_back');
    expect((await runCli(['gate', plan.file])).code).toBe(0);
  });
});
