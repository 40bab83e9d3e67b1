/**
 * Lock-timeout retries name the blocker (issue 9): while a transaction holds a lock on a table,
 * `maint migrate`'s retry events and its final MIGRATION_LOCK_TIMEOUT error name the session
 * holding it (pid / connection id, application, client, state, transaction age, its statement
 * with literals masked). Real PostgreSQL and MariaDB, a real blocker session, the built CLI.
 */
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { freshMysql, freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { runCli, writePlan } from './migrate-support.js';

const SECRET = 'hunter2-literal';

interface Blocker {
  pid: number;
  application: string | null;
  client: string | null;
  state: string | null;
  transactionAgeMs: number | null;
  query: string | null;
}

/** A session that read `hot` in a transaction and stays idle in it until `end()`. */
async function holdPostgres(url: string): Promise<{ pid: number; end(): Promise<void> }> {
  const c = new pg.Client({ connectionString: url, application_name: 'orders-report' });
  await c.connect();
  await c.query('create table hot (id int primary key, note text)');
  const pid = (await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
  await c.query('begin');
  // Its last statement, which pg_stat_activity shows while it idles in the transaction.
  await c.query(`select count(*) from hot where note <> '${SECRET}' and id > 42`);
  return { pid, end: () => c.query('rollback').then(() => c.end()) };
}

async function holdMysql(url: string): Promise<{ pid: number; end(): Promise<void> }> {
  const c = await mysql.createConnection({ uri: url });
  await c.query('create table hot (id int primary key, note text)');
  const [rows] = await c.query<mysql.RowDataPacket[]>('select connection_id() as pid');
  await c.query('start transaction');
  await c.query(`select count(*) from hot where note <> '${SECRET}' and id > 42`);
  return { pid: Number(rows[0]!.pid), end: () => c.query('rollback').then(() => c.end()) };
}

const cases = [
  { engine: 'postgres' as const, fresh: freshPostgres, hold: holdPostgres, lockTimeout: 300 },
  // MySQL/MariaDB lock_wait_timeout has whole seconds.
  { engine: 'mysql' as const, fresh: freshMysql, hold: holdMysql, lockTimeout: 1000 },
];

describe.each(cases)(
  '$engine: a lock timeout names who holds the lock',
  ({ engine, fresh, hold, lockTimeout }) => {
    let fdb: FreshDatabase | undefined;
    let blocker: { pid: number; end(): Promise<void> } | undefined;
    afterEach(async () => {
      await blocker?.end().catch(() => undefined);
      await fdb?.drop();
    });

    it('the retry event and the final error show the blocking session, its literals masked', async () => {
      fdb = await fresh();
      blocker = await hold(fdb.url);
      const { plan } = await writePlan({
        engine,
        url: fdb.url,
        lockTimeout: `${lockTimeout}ms`,
        retries: 1,
        migrations: { '001_extra.sql': 'alter table hot add column extra int;\n' },
      });
      const r = await runCli(['migrate', plan, '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(5);
      const out = JSON.parse(r.stdout) as {
        error: { code: string; message: string; hint: string; blockers: Blocker[] };
      };
      expect(out.error.code).toBe('MIGRATION_LOCK_TIMEOUT');
      const found = out.error.blockers.find((b) => b.pid === blocker!.pid);
      expect(found, JSON.stringify(out.error.blockers)).toBeDefined();
      expect(found!.transactionAgeMs).toBeGreaterThanOrEqual(lockTimeout);
      expect(found!.client).toMatch(/^127\.0\.0\.1/);
      if (engine === 'postgres') {
        expect(found).toMatchObject({ application: 'orders-report', state: 'idle in transaction' });
        // Its last statement, literals masked.
        expect(found!.query).toBe('select count(*) from hot where note <> ? and id > ?');
      } else {
        // MariaDB shows no application name, and no statement for an idle transaction.
        expect(found).toMatchObject({ application: null, state: 'Sleep', query: null });
      }
      expect(out.error.message).toContain(`held by pid ${blocker.pid} (`);
      expect(out.error.hint).toContain(`pid ${blocker.pid}`);
      // The retry's event (a --json log line on stderr) names it too.
      const retrying = r.stderr
        .split('\n')
        .filter((l) => l.includes('"code":"migration.retrying"'))
        .map((l) => JSON.parse(l) as { msg: string });
      expect(retrying.length).toBe(1);
      expect(retrying[0]!.msg).toContain(`held by pid ${blocker.pid} (`);
      // A literal of the blocker's statement never leaves.
      expect(r.stdout + r.stderr).not.toContain(SECRET);
    });
  },
);
