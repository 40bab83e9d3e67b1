/**
 * Acceptance 3: while a long transaction holds a lock on a table, a migration altering that
 * table never makes concurrent application queries wait longer than the lock timeout (+200 ms):
 * the DDL gives up its place in the lock queue, backs off and retries. It succeeds once the
 * blocker ends, or exits 5 cleanly when its retries run out. (The 20 s blocker runs in
 * bench/lock-queue.bench.js.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/index.js';
import type { Database } from '../../src/db/database.js';
import { freshMysql, freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { startCli, writePlan } from './migrate-support.js';

const cases = [
  { engine: 'postgres' as const, fresh: freshPostgres, lockTimeout: 300 },
  // MySQL/MariaDB lock_wait_timeout has whole seconds.
  { engine: 'mysql' as const, fresh: freshMysql, lockTimeout: 1000 },
];

describe.each(cases)('$engine: DDL behind a long transaction', ({ engine, fresh, lockTimeout }) => {
  let fdb: FreshDatabase | undefined;
  const open: Database[] = [];
  afterEach(async () => {
    for (const d of open.splice(0)) await d.close();
    await fdb?.drop();
  });

  async function scenario(blockerMs: number, retries: number) {
    fdb = await fresh();
    const setup = await openDatabase({ engine, url: fdb.url }, process.cwd());
    const app = await openDatabase({ engine, url: fdb.url }, process.cwd());
    open.push(setup, app);
    await setup.query('create table hot (id int primary key, v int)');
    await setup.query('insert into hot values (1, 1), (2, 2), (3, 3)');
    const { plan } = await writePlan({
      engine,
      url: fdb.url,
      lockTimeout: `${lockTimeout}ms`,
      retries,
      migrations: { '001_extra.sql': 'alter table hot add column extra int;\n' },
    });

    // The blocker: a transaction that read the table and stays open.
    const blocker = setup.transaction(async (tx) => {
      await tx.query('select count(*) from hot');
      await new Promise((r) => setTimeout(r, blockerMs));
    });
    const run = startCli(['migrate', plan, '--json']);
    let finished = false;
    const exit = run.done.then((r) => {
      finished = true;
      return r;
    });
    // The application: one query after another, timing each, for as long as the migration runs.
    let worst = 0;
    let queries = 0;
    while (!finished) {
      const started = performance.now();
      await app.query('select count(*) as n from hot where v > 0');
      worst = Math.max(worst, performance.now() - started);
      queries++;
    }
    await blocker;
    return { result: await exit, worst, queries, db: setup };
  }

  it('keeps application waits under the lock timeout and succeeds after the blocker ends', async () => {
    const { result, worst, queries, db } = await scenario(3000, 20);
    expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({
      code: 0,
      stderr: '',
    });
    expect(queries).toBeGreaterThan(10);
    // The queries did queue behind the waiting DDL (so the measurement sees the queue) ...
    expect(worst).toBeGreaterThan(lockTimeout * 0.3);
    // ... but never longer than the lock timeout.
    expect(worst).toBeLessThan(lockTimeout + 200);
    const cols = await db.query<{ n: number | string }>(
      "select count(*) as n from information_schema.columns where table_name = 'hot' and column_name = 'extra'",
    );
    expect(Number(cols[0]?.n)).toBe(1);
  });

  it('exits 5 naming the statement when retries run out, with waits still bounded', async () => {
    const { result, worst, db } = await scenario(6000, 1);
    expect(result.code).toBe(5);
    const out = JSON.parse(result.stdout) as { status: string; error: { code: string; message: string } };
    expect(out.status).toBe('rolled_back');
    expect(out.error.code).toBe('MIGRATION_LOCK_TIMEOUT');
    expect(out.error.message).toContain('alter table hot add column extra int');
    expect(worst).toBeLessThan(lockTimeout + 200);
    const cols = await db.query<{ n: number | string }>(
      "select count(*) as n from information_schema.columns where table_name = 'hot' and column_name = 'extra'",
    );
    expect(Number(cols[0]?.n)).toBe(0);
  });
});
