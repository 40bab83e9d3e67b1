/**
 * PostgreSQL specifics and the embedded engine: CREATE INDEX CONCURRENTLY outside a transaction,
 * an INVALID index left by a failed build rebuilt on retry, JS migrations, down --to, create,
 * and the same plan on PGlite with its lock file.
 */
import { cp, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/index.js';
import { freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { runCli, startCli, waitUntil, writePlan } from './migrate-support.js';

const DEMO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/migrations/demo');

async function demoPlan(engine: 'postgres' | 'pglite', url: string): Promise<{ plan: string; dir: string }> {
  const made = await writePlan({ engine, url, migrations: {} });
  await cp(DEMO, path.join(made.dir, 'migrations'), { recursive: true });
  return made;
}

describe('postgres features', () => {
  let fdb: FreshDatabase | undefined;
  afterEach(async () => fdb?.drop());

  it('applies SQL, CONCURRENTLY and JS migrations, reverts with down --to, and creates the next files', async () => {
    fdb = await freshPostgres();
    const { plan, dir } = await demoPlan('postgres', fdb.url);
    const up = await runCli(['migrate', plan, '--json']);
    expect(up.code, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout).steps.map((s: { name: string }) => s.name)).toEqual([
      '001_orders',
      '002_orders_status_idx',
      '003_backfill',
    ]);
    const db = await openDatabase({ engine: 'postgres', url: fdb.url }, dir);
    try {
      expect(
        await db.query("select indisvalid as ok from pg_index where indexrelid = 'orders_status'::regclass"),
      ).toEqual([{ ok: true }]);
      expect(await db.query('select distinct note from orders')).toEqual([{ note: 'backfilled' }]);
      const status = JSON.parse((await runCli(['migrate', 'status', plan, '--json'])).stdout) as {
        applied: unknown[];
        pending: unknown[];
      };
      expect([status.applied.length, status.pending.length]).toEqual([3, 0]);

      const down = await runCli(['migrate', 'down', plan, '--to', '001_orders', '--json']);
      expect(down.code, down.stderr).toBe(0);
      expect(JSON.parse(down.stdout).steps.map((s: { name: string }) => s.name)).toEqual([
        '003_backfill',
        '002_orders_status_idx',
      ]);
      expect(await db.query("select to_regclass('orders_status') as idx")).toEqual([{ idx: null }]);
      expect(await db.query('select name from maint_migrations')).toEqual([{ name: '001_orders' }]);

      const created = await runCli(['migrate', 'create', plan, 'add_total', '--json']);
      expect(JSON.parse(created.stdout).files).toEqual([
        'migrations/004_add_total.sql',
        'migrations/004_add_total.down.sql',
      ]);
      expect((await readdir(path.join(dir, 'migrations'))).filter((f) => f.startsWith('004_'))).toHaveLength(
        2,
      );
    } finally {
      await db.close();
    }
  });

  it('drops an INVALID index left by a failed CREATE INDEX CONCURRENTLY and rebuilds it', async () => {
    fdb = await freshPostgres();
    const { plan, dir } = await writePlan({
      engine: 'postgres',
      url: fdb.url,
      migrations: {
        '001_idx.sql':
          '-- maint:no-transaction\ncreate unique index concurrently if not exists orders_status on orders (status);\n',
      },
    });
    const db = await openDatabase({ engine: 'postgres', url: fdb.url }, dir);
    try {
      await db.query('create table orders (id int primary key, status text)');
      await db.query("insert into orders select g, 'dup' from generate_series(1, 10) g");
      // A failed concurrent build leaves its index behind, INVALID (like a build killed midway).
      await expect(
        db.query('create unique index concurrently orders_status on orders (status)'),
      ).rejects.toThrow();
      expect(
        await db.query("select indisvalid as ok from pg_index where indexrelid = 'orders_status'::regclass"),
      ).toEqual([{ ok: false }]);
      await db.query('update orders set status = id::text');
      // IF NOT EXISTS alone would keep the invalid index; maint drops and rebuilds it.
      const run = await runCli(['migrate', plan]);
      expect(run.code, run.stderr).toBe(0);
      expect(
        await db.query("select indisvalid as ok from pg_index where indexrelid = 'orders_status'::regclass"),
      ).toEqual([{ ok: true }]);
    } finally {
      await db.close();
    }
  });
});

describe('pglite', () => {
  it('migrates a data folder and keeps a second process out with the lock file', async () => {
    const { plan, dir } = await demoPlan('pglite', './data');
    const first = await runCli(['migrate', plan]);
    expect(first.code, first.stderr).toBe(0);
    const status = JSON.parse((await runCli(['migrate', 'status', plan, '--json'])).stdout) as {
      applied: Array<{ name: string }>;
    };
    expect(status.applied.map((m) => m.name)).toEqual([
      '001_orders',
      '002_orders_status_idx',
      '003_backfill',
    ]);
    // Hold the lock from this process, as a running migration would.
    const db = await openDatabase({ engine: 'pglite', url: './data' }, dir);
    const lock = await db.acquireLock('itest', { wait: false, purpose: 'test' });
    try {
      expect(lock).not.toBeNull();
      const shown = JSON.parse((await runCli(['lock', plan, '--json'])).stdout) as {
        holder: { pid: number };
      };
      expect(shown.holder.pid).toBe(process.pid);
      const blocked = await runCli(['migrate', plan, '--json']);
      expect(blocked.code).toBe(4);
      // Reading the folder while another process owns it is refused too (it could corrupt it).
      const reading = await runCli(['migrate', 'status', plan, '--json']);
      expect(reading.code).toBe(4);
      expect(JSON.parse(reading.stdout).error.code).toBe('PGLITE_IN_USE');
      const waiting = startCli(['migrate', plan, '--wait', '--json']);
      await waitUntil('the waiter to start', async () => waiting.child.pid !== undefined);
      await lock!.release();
      const waited = await waiting.done;
      expect(waited.code, waited.stderr).toBe(0);
      expect(JSON.parse(waited.stdout).steps).toEqual([]);
    } finally {
      await lock?.release();
      await db.close();
    }
  });
});
