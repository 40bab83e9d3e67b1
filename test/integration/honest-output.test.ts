/**
 * What maint says is what happened (issue 9): pino's level numbers on real `--json` output, a
 * blank emergency reason refused, a JS migration's `transaction = false` shown, human `status`
 * listing recent runs (and `--limit`), MAINT_NOW rehearsals marked and ordered by real time,
 * and `migrate --wait` with nothing pending never touching the lock. Real PostgreSQL, the built
 * CLI.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { json, runCli, writePlan } from '../helpers/run-cli.js';

const dbs: FreshDatabase[] = [];
const clients: pg.Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.end().catch(() => undefined);
  for (const d of dbs.splice(0)) await d.drop();
});

async function fresh(): Promise<{ db: FreshDatabase; sql: pg.Client }> {
  const db = await freshPostgres();
  dbs.push(db);
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  clients.push(sql);
  return { db, sql };
}

interface LogLine {
  level: number;
  msg: string;
  code?: string;
}

const logLines = (stderr: string): LogLine[] =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);

describe('--json log lines', () => {
  it("use pino's level numbers: 30 info, 40 warn, 50 error", async () => {
    const { db } = await fresh();
    const plan = await writePlan({
      engine: 'postgres',
      url: db.url,
      migrations: {
        '001_t.sql': 'create table t (id int);',
        '001_t.down.sql': 'drop table t;',
        '002_bad.sql': 'select 1 / 0;',
      },
      banner: false,
    });
    const r = await runCli(['run', plan.file, '--json']);
    expect(r.code, r.stderr).toBe(5);
    const lines = logLines(r.stderr);
    expect(lines.length).toBeGreaterThan(3);
    for (const l of lines) expect([20, 30, 40, 50]).toContain(l.level);
    const levelOf = (code: string) => lines.find((l) => l.code === code)?.level;
    expect(levelOf('run.started')).toBe(30);
    expect(levelOf('step.running')).toBe(30);
    expect(levelOf('step.rolling_back')).toBe(40);
    expect(levelOf('step.failed')).toBe(50);
  });
});

describe('--emergency with a blank reason', () => {
  for (const [label, window] of [
    ['an open window', undefined],
    ['a closed window', '  timezone: UTC\n  days: [mon]\n  start: "00:00"\n  duration: 1m'],
  ] as const) {
    for (const reason of ['   ', '']) {
      it(`is exit 2 with a hint in ${label} (reason ${JSON.stringify(reason)}), touching nothing`, async () => {
        const { db, sql } = await fresh();
        const plan = await writePlan({
          engine: 'postgres',
          url: db.url,
          migrations: { '001_t.sql': 'create table t (id int);' },
          banner: false,
          ...(window ? { window } : {}),
        });
        const r = await runCli(['run', plan.file, '--emergency', '--reason', reason]);
        expect(r.code, r.stdout + r.stderr).toBe(2);
        expect(r.stderr).toMatch(/--reason/);
        expect(r.stderr).toMatch(/hint: .*--emergency --reason/);
        const { rows } = await sql.query("select tablename from pg_tables where schemaname = 'public'");
        expect(rows).toEqual([]);
      });
    }
  }
});

describe('a JS migration exporting transaction = false', () => {
  it('is shown as transactional: false by plan and migrate status', async () => {
    const { db } = await fresh();
    const plan = await writePlan({ engine: 'postgres', url: db.url, migrations: {}, banner: false });
    await writeFile(
      path.join(plan.migrationsDir, '001_backfill.js'),
      "export const transaction = false;\nexport async function up({ db }) { await db.query('create table t (id int)'); }\nexport async function down({ db }) { await db.query('drop table t'); }\n",
    );
    await writeFile(
      path.join(plan.migrationsDir, '002_tx.js'),
      "export async function up({ db }) { await db.query('create table u (id int)'); }\nexport async function down({ db }) { await db.query('drop table u'); }\n",
    );
    const planned = json<{ pending: Array<{ name: string; transactional: boolean }> }>(
      await runCli(['plan', plan.file, '--json']),
    );
    expect(planned.pending.map((p) => [p.name, p.transactional])).toEqual([
      ['001_backfill', false],
      ['002_tx', true],
    ]);
    expect((await runCli(['migrate', plan.file])).code).toBe(0);
    const status = json<{ applied: Array<{ name: string; transactional: boolean }> }>(
      await runCli(['migrate', 'status', plan.file, '--json']),
    );
    expect(status.applied.map((p) => [p.name, p.transactional])).toEqual([
      ['001_backfill', false],
      ['002_tx', true],
    ]);
  });
});

describe('maint status', () => {
  it('lists recent runs in human output too, --limit applies, rehearsals are marked and ordered by real time', async () => {
    const { db } = await fresh();
    const plan = await writePlan({
      engine: 'postgres',
      url: db.url,
      migrations: { '001_a.sql': 'create table a (id int);' },
      banner: false,
    });
    const ids: string[] = [];
    const run = async (env: Record<string, string> = {}) => {
      const r = await runCli(['run', plan.file, '--json'], env);
      expect(r.code, r.stderr).toBe(0);
      ids.push(json<{ runId: string }>(r).runId);
    };
    await run();
    await writeFile(path.join(plan.migrationsDir, '002_b.sql'), 'create table b (id int);');
    await run();
    // A rehearsal pinned to a morning long ago, run last in real time.
    await writeFile(path.join(plan.migrationsDir, '003_c.sql'), 'create table c (id int);');
    await run({ MAINT_NOW: '2026-01-05T10:00:00Z' });

    const all = await runCli(['status', plan.file]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toContain('recent runs');
    for (const id of ids) expect(all.stdout).toContain(id);

    const two = await runCli(['status', plan.file, '--limit', '2']);
    expect(two.code).toBe(0);
    const listed = two.stdout.slice(two.stdout.indexOf('recent runs'));
    expect(listed).toContain(ids[2]);
    expect(listed).toContain(ids[1]);
    expect(listed).not.toContain(ids[0]);
    expect(listed).toMatch(new RegExp(`${ids[2]}.*rehearsal under MAINT_NOW`));

    const j = json<{
      runs: Array<{ runId: string; rehearsal: boolean; startedAt: string; recordedAt: string }>;
    }>(await runCli(['status', plan.file, '--limit', '2', '--json']));
    expect(j.runs.map((r) => r.runId)).toEqual([ids[2], ids[1]]);
    expect(j.runs.map((r) => r.rehearsal)).toEqual([true, false]);
    expect(j.runs[0]!.startedAt.startsWith('2026-01-05T10:00')).toBe(true);
    expect(Date.parse(j.runs[0]!.recordedAt)).toBeGreaterThan(Date.parse(j.runs[1]!.recordedAt));
  });
});

describe('migrate --wait with nothing pending', () => {
  it('does not take the lock at all (no holder row inserted or deleted)', async () => {
    const { db, sql } = await fresh();
    const plan = await writePlan({
      engine: 'postgres',
      url: db.url,
      migrations: { '001_a.sql': 'create table a (id int);' },
      banner: false,
    });
    expect((await runCli(['migrate', plan.file])).code).toBe(0);
    // Every write to the holders table, recorded by the server itself.
    await sql.query(`
      create table lock_audit (op text, at timestamptz default now());
      create function lock_audit() returns trigger language plpgsql as
        $$ begin insert into lock_audit (op) values (tg_op); return null; end $$;
      create trigger lock_audit after insert or update or delete on maint_lock_holders
        for each row execute function lock_audit();`);
    const noop = await runCli(['migrate', plan.file, '--wait', '--json']);
    expect(noop.code, noop.stderr).toBe(0);
    expect((await sql.query('select op from lock_audit')).rows).toEqual([]);

    // The audit sees a real acquisition: something pending takes the lock.
    await writeFile(path.join(plan.migrationsDir, '002_b.sql'), 'create table b (id int);');
    const work = await runCli(['migrate', plan.file, '--wait', '--json']);
    expect(work.code, work.stderr).toBe(0);
    const ops = (await sql.query<{ op: string }>('select op from lock_audit')).rows.map((r) => r.op);
    expect(ops).toContain('INSERT');
  });
});
