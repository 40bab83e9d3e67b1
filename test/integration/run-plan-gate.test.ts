import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/index.js';
import { createJournalSql } from '../../src/core/journal/journal-sql.js';
import { freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { json, runCli, writePlan, type WrittenPlan } from '../helpers/run-cli.js';

const MIGRATIONS = {
  '001_create_orders.sql': 'create table "orders" ("id" integer primary key);',
  '001_create_orders.down.sql': 'drop table "orders";',
  '002_add_status.sql': 'alter table "orders" add column "status" text;',
  '002_add_status.down.sql': 'alter table "orders" drop column "status";',
};
// Sundays 21:00–23:00 in Paris.
const WINDOW = '  timezone: Europe/Paris\n  days: [sun]\n  start: "21:00"\n  duration: 2h';
const OPEN = { MAINT_NOW: '2026-11-29T20:30:00Z' };
const CLOSED = { MAINT_NOW: '2026-11-25T12:00:00Z' };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function setup(extra = ''): Promise<{ db: FreshDatabase; sql: pg.Client; plan: WrittenPlan }> {
  const db = await freshPostgres();
  cleanups.push(() => db.drop());
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  cleanups.push(() => sql.end());
  const plan = await writePlan({
    engine: 'postgres',
    url: db.url,
    migrations: MIGRATIONS,
    window: WINDOW,
    extra,
  });
  return { db, sql, plan };
}

const tables = async (sql: pg.Client) =>
  (
    await sql.query<{ t: string }>(
      "select table_name as t from information_schema.tables where table_schema = 'public' order by 1",
    )
  ).rows.map((r) => r.t);

interface Preview {
  status: string;
  runId: null;
  steps: Array<{ name: string; status: string; estimateMs: number }>;
  pending: Array<{ name: string }>;
  totalEstimateMs: number;
  error: { code: string } | null;
  window: { open: boolean };
}

describe('maint plan (dry run)', () => {
  it('inside the window: exit 0, ordered steps with estimates, pending migrations; changes nothing', async () => {
    const { sql, plan } = await setup(
      'estimate: 10m\nchecks:\n  - name: c\n    sql: select 1\n    expect: 1\n',
    );
    const r = await runCli(['plan', plan.file, '--json'], OPEN);
    expect(r.code, r.stderr).toBe(0);
    const out = json<Preview>(r);
    expect(out.status).toBe('would_run');
    expect(out.runId).toBeNull();
    expect(out.error).toBeNull();
    expect(out.window.open).toBe(true);
    expect(out.steps.map((s) => s.name)).toEqual([
      'lock',
      'banner:active',
      'baseline',
      'migrate',
      'checks',
      'banner:off',
    ]);
    expect(out.steps.every((s) => s.status === 'planned' && s.estimateMs > 0)).toBe(true);
    expect(out.totalEstimateMs).toBeGreaterThanOrEqual(599_000);
    expect(out.totalEstimateMs).toBeLessThanOrEqual(601_000);
    expect(out.pending.map((p) => p.name)).toEqual(['001_create_orders', '002_add_status']);
    // Nothing was touched: no tables (not even the journal or the lock's), no banner.
    expect(await tables(sql)).toEqual([]);
    await expect(readFile(plan.bannerYaml, 'utf8')).rejects.toThrow(/ENOENT/);
    const human = await runCli(['plan', plan.file], OPEN);
    expect(human.stdout).toContain('would run now');
    expect(human.stdout).toMatch(/migrate\s+\S+/);
  });

  it('exit 3 when the window is closed or too short, with the error in the JSON', async () => {
    const { plan } = await setup('estimate: 3h\n');
    const closed = await runCli(['plan', plan.file, '--json'], CLOSED);
    expect(closed.code).toBe(3);
    expect(json<Preview>(closed)).toMatchObject({ status: 'refused', error: { code: 'WINDOW_CLOSED' } });
    const short = await runCli(['plan', plan.file, '--json'], OPEN);
    expect(short.code).toBe(3);
    expect(json<Preview>(short)).toMatchObject({ status: 'refused', error: { code: 'WINDOW_TOO_SHORT' } });
  });
});

interface GateJson {
  allowed: boolean;
  reason: string;
  pending: string[];
  error: null;
}

describe('maint gate', () => {
  it('allows inside the window, refuses pending migrations outside it (exit 7), allows an app-only deploy outside it', async () => {
    const { plan } = await setup();
    const inside = await runCli(['gate', plan.file, '--json'], OPEN);
    expect(inside.code).toBe(0);
    expect(json<GateJson>(inside)).toMatchObject({
      allowed: true,
      reason: 'ALLOWED',
      pending: ['001_create_orders', '002_add_status'],
    });

    const outside = await runCli(['gate', plan.file, '--json'], CLOSED);
    expect(outside.code).toBe(7);
    expect(json<GateJson>(outside)).toMatchObject({
      allowed: false,
      reason: 'MIGRATIONS_OUTSIDE_WINDOW',
      error: null,
    });

    expect((await runCli(['run', plan.file], OPEN)).code).toBe(0);
    const status = await runCli(['status', plan.file, '--json'], OPEN);
    expect(status.code).toBe(0);
    const report = json<{
      lock: unknown;
      current: unknown;
      last: { status: string; steps: Array<{ name: string; status: string }> };
    }>(status);
    expect(report).toMatchObject({ lock: null, current: null, last: { status: 'completed' } });
    expect(report.last.steps.map((s) => s.status)).toEqual(Array(5).fill('done'));
    const applied = await runCli(['gate', plan.file, '--json'], CLOSED);
    expect(applied.code).toBe(0);
    expect(json<GateJson>(applied)).toMatchObject({ allowed: true, reason: 'ALLOWED', pending: [] });
  });

  it('refuses while the lock is held and while an interrupted run is in the journal', async () => {
    const { db, sql, plan } = await setup();
    const holder = await openDatabase({ engine: 'postgres', url: db.url }, plan.dir);
    cleanups.push(() => holder.close());
    const lock = await holder.acquireLock('orders', { wait: false, purpose: 'migrate' });
    expect(lock).not.toBeNull();
    const held = await runCli(['gate', plan.file, '--json'], OPEN);
    expect(held.code).toBe(7);
    expect(json<GateJson>(held)).toMatchObject({ allowed: false, reason: 'LOCK_HELD' });
    const runHeld = await runCli(['run', plan.file, '--json'], OPEN);
    expect(runHeld.code).toBe(4);
    expect(json<{ error: { code: string } }>(runHeld).error.code).toBe('LOCK_HELD');
    await lock!.release();

    for (const ddl of createJournalSql('postgres')) await sql.query(ddl);
    await sql.query(
      `insert into "maint_runs" ("run_id", "plan", "status", "started_at", "host", "pid") values ('run_dead', 'orders', 'running', '2026-11-29T20:00:00.000Z', 'gone', 1)`,
    );
    const interrupted = await runCli(['gate', plan.file, '--json'], OPEN);
    expect(interrupted.code).toBe(7);
    expect(json<GateJson>(interrupted)).toMatchObject({ allowed: false, reason: 'RUN_INTERRUPTED' });
  });
});
