import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/index.js';
import type { Database } from '../../src/db/database.js';
import { createJournalSql } from '../../src/core/journal/journal-sql.js';
import type { DatabaseConfig } from '../../src/plan/schema.js';
import { freshMysql, freshPostgres, type FreshDatabase } from '../helpers/databases.js';

interface Target {
  engine: DatabaseConfig['engine'];
  make(): Promise<{ config: DatabaseConfig; dir: string; drop(): Promise<void> }>;
}

const fromFresh = (engine: 'postgres' | 'mysql', fresh: () => Promise<FreshDatabase>) => async () => {
  const db = await fresh();
  return { config: { engine, url: db.url }, dir: process.cwd(), drop: db.drop };
};

const targets: Target[] = [
  { engine: 'postgres', make: fromFresh('postgres', freshPostgres) },
  { engine: 'mysql', make: fromFresh('mysql', freshMysql) },
  {
    engine: 'pglite',
    make: async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'maint-pglite-'));
      return {
        config: { engine: 'pglite', url: './data' },
        dir,
        drop: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
];

describe.each(targets)('$engine adapter', (target) => {
  const opened: Database[] = [];
  const drops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close();
    for (const drop of drops.splice(0)) await drop();
  });
  async function open(): Promise<[Database, () => Promise<Database>]> {
    const t = await target.make();
    drops.push(t.drop);
    const another = async () => {
      const db = await openDatabase(t.config, t.dir, { heartbeatMs: 100 });
      opened.push(db);
      return db;
    };
    return [await another(), another];
  }

  it('queries, rolls back failed transactions and lists tables', async () => {
    const [db] = await open();
    await db.query('create table items (id int primary key, label varchar(20))');
    await db.query("insert into items (id, label) values (1, 'a')");
    await expect(
      db.transaction(async (tx) => {
        await tx.query("insert into items (id, label) values (2, 'b')");
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const rows = await db.query<{ n: number | string }>('select count(*) as n from items');
    expect(Number(rows[0]?.n)).toBe(1);
    expect(await db.listTables()).toEqual(['items']);
    const skew = Math.abs((await db.serverTime()).getTime() - Date.now());
    expect(skew).toBeLessThan(5000);
    const report = await db.analyze({ mode: 'stages', vacuum: true });
    expect(report.tables).toEqual(['items']);
    expect(report.stages.length).toBe(target.engine === 'mysql' ? 1 : 3);
  });

  it('gives the lock to one session, reports its holder and frees it on release', async () => {
    const [a, another] = await open();
    const b = await another();
    expect(await a.lockStatus('plan-x')).toBeNull();
    const first = await a.acquireLock('plan-x', { wait: false, purpose: 'test' });
    expect(first).not.toBeNull();
    expect(await b.acquireLock('plan-x', { wait: false, purpose: 'test' })).toBeNull();
    const holder = await b.lockStatus('plan-x');
    expect(holder?.lockId).toBe(first!.holder.lockId);
    expect(holder?.pid).toBe(process.pid);
    expect(holder?.purpose).toBe('test');
    await first!.verify();
    await expect(b.releaseLock('plan-x', first!.holder.lockId)).rejects.toMatchObject({
      code: 'LOCK_HOLDER_ALIVE',
      exitCode: 4,
    });
    await expect(b.releaseLock('plan-x', 'nope')).rejects.toMatchObject({
      code: 'LOCK_ID_UNKNOWN',
      exitCode: 2,
    });
    const waiting = b.acquireLock('plan-x', { wait: true, purpose: 'waiter' });
    await first!.release();
    const second = await waiting;
    expect(second?.holder.purpose).toBe('waiter');
    expect((await a.lockStatus('plan-x'))?.lockId).toBe(second!.holder.lockId);
    await second!.release();
    expect(await a.lockStatus('plan-x')).toBeNull();
  });
});

describe.each([
  {
    engine: 'postgres' as const,
    fresh: freshPostgres,
    sleep: 'select pg_sleep(30)',
    running:
      "select count(*) as n from pg_stat_activity where query = 'select pg_sleep(30)' and state = 'active'",
  },
  {
    engine: 'mysql' as const,
    fresh: freshMysql,
    sleep: 'select sleep(30)',
    running: "select count(*) as n from information_schema.processlist where info = 'select sleep(30)'",
  },
])('$engine: aborting a statement', ({ engine, fresh, sleep, running }) => {
  it('cancels it on the server', async () => {
    const fdb = await fresh();
    const db = await openDatabase({ engine, url: fdb.url }, process.cwd());
    const watcher = await openDatabase({ engine, url: fdb.url }, process.cwd());
    try {
      const controller = new AbortController();
      const pending = db.query(sleep, [], { signal: controller.signal }).catch((e: unknown) => e);
      const deadline = Date.now() + 10_000;
      while (Number((await watcher.query<{ n: number | string }>(running))[0]?.n) === 0) {
        if (Date.now() > deadline) throw new Error('the statement never started');
      }
      const abortedAt = Date.now();
      controller.abort();
      expect(await pending).toMatchObject({ code: 'DB_QUERY_CANCELLED' });
      expect(Date.now() - abortedAt).toBeLessThan(3000);
      expect(Number((await watcher.query<{ n: number | string }>(running))[0]?.n)).toBe(0);
    } finally {
      await db.close();
      await watcher.close();
      await fdb.drop();
    }
  });
});

describe.each([
  {
    engine: 'postgres' as const,
    fresh: freshPostgres,
    kill: 'select pg_terminate_backend(session_id::int) from maint_lock_holders',
  },
  { engine: 'mysql' as const, fresh: freshMysql, kill: 'select session_id as id from maint_lock_holders' },
])('$engine: a lost lock', ({ engine, fresh, kill }) => {
  it('makes verify() throw LOCK_LOST (exit 6) and frees the lock for others', async () => {
    const fdb = await fresh();
    const db = await openDatabase({ engine, url: fdb.url }, process.cwd());
    const other = await openDatabase({ engine, url: fdb.url }, process.cwd());
    try {
      const session = await db.acquireLock('plan-y', { wait: false, purpose: 'test' });
      await session!.verify();
      const rows = await other.query<{ id?: number }>(kill);
      if (engine === 'mysql') await other.query(`kill connection ${Number(rows[0]!.id)}`);
      await expect(session!.verify()).rejects.toMatchObject({ code: 'LOCK_LOST', exitCode: 6 });
      const taken = await other.acquireLock('plan-y', { wait: false, purpose: 'next' });
      expect(taken?.holder.purpose).toBe('next');
      await taken!.release();
      await session!.release();
    } finally {
      await db.close();
      await other.close();
      await fdb.drop();
    }
  });
});

describe.each([
  { engine: 'postgres' as const, fresh: freshPostgres },
  { engine: 'mysql' as const, fresh: freshMysql },
])('$engine: first-time lockers at once', ({ engine, fresh }) => {
  // Two plans (or a plan and its agent) taking their first lock on a fresh database at the same
  // moment both create the holders table; on PostgreSQL concurrent `create table if not exists`
  // fails one of them with 23505 on pg_type. Five fresh databases, eight lockers each.
  it('each gets its own lock; none fails creating the holders table', async () => {
    for (let round = 0; round < 5; round++) {
      const fdb = await fresh();
      const dbs = await Promise.all(
        Array.from({ length: 8 }, () => openDatabase({ engine, url: fdb.url }, process.cwd())),
      );
      try {
        const sessions = await Promise.all(
          dbs.map((db, i) => db.acquireLock(`plan-${i}`, { wait: false, purpose: 'test' })),
        );
        expect(sessions.map((s) => s?.holder.purpose)).toEqual(Array(8).fill('test'));
        await Promise.all(sessions.map((s) => s!.release()));
        // The same race for the journal's tables, created by each plan's first run.
        await Promise.all(
          dbs.map(async (db) => {
            for (const sql of createJournalSql(db.dialect)) await db.query(sql);
          }),
        );
      } finally {
        await Promise.all(dbs.map((db) => db.close()));
        await fdb.drop();
      }
    }
  });
});
