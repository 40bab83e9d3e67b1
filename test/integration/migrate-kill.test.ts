/**
 * Acceptance 2: SIGKILL the process while it migrates. The lock is free at once, PostgreSQL
 * shows no half-applied migration, MariaDB resumes at the statement that did not finish, and
 * the re-run applies the migration exactly once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/index.js';
import type { Database } from '../../src/db/database.js';
import { freshMysql, freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { runCli, startCli, waitUntil, writePlan } from './migrate-support.js';

const cases = [
  {
    engine: 'postgres' as const,
    fresh: freshPostgres,
    sleep: 'select pg_sleep(case when exists (select 1 from sleep_gate) then 30 else 0 end)',
    // The whole migration travels as one multi-statement text, so match inside it.
    sleeping:
      "select count(*) as n from pg_stat_activity where state = 'active' and pid <> pg_backend_pid() and query like '%pg_sleep(case%'",
  },
  {
    engine: 'mysql' as const,
    fresh: freshMysql,
    sleep: 'select sleep(case when exists (select 1 from sleep_gate) then 30 else 0 end)',
    sleeping:
      "select count(*) as n from information_schema.processlist where db = database() and info like 'select sleep(case%'",
  },
];

describe.each(cases)('$engine: SIGKILL while migrating', ({ engine, fresh, sleep, sleeping }) => {
  let fdb: FreshDatabase | undefined;
  let db: Database | undefined;
  afterEach(async () => {
    await db?.close();
    await fdb?.drop();
  });

  it('frees the lock at once and the re-run applies the migration exactly once', async () => {
    fdb = await fresh();
    const { plan } = await writePlan({
      engine,
      url: fdb.url,
      migrations: {
        '001_gate.sql':
          'create table sleep_gate (x int);\ninsert into sleep_gate values (1);\ncreate table runs_log (step varchar(10));\n',
        '002_slow.sql': `insert into runs_log values ('s1');\ncreate table slow_t (id int);\n${sleep};\ninsert into runs_log values ('s2');\n`,
      },
    });
    db = await openDatabase({ engine, url: fdb.url }, process.cwd());
    const conn = db;
    const count = async (sql: string): Promise<number> =>
      Number((await conn.query<{ n: number | string }>(sql))[0]?.n);

    const victim = startCli(['migrate', plan]);
    await waitUntil('the migration to sleep', async () => (await count(sleeping)) > 0);
    const shown = await runCli(['lock', plan, '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      held: true,
      holder: { pid: victim.child.pid, purpose: 'migrate' },
    });

    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    await victim.done;
    await waitUntil('the lock to be free', async () => (await conn.lockStatus('itest')) === null, 3000);
    expect(Date.now() - killedAt).toBeLessThan(3000);

    if (engine === 'postgres') {
      // The transaction died with its client: nothing of 002 is visible, and it is not recorded.
      await waitUntil('the killed transaction to end', async () => (await count(sleeping)) === 0, 5000);
      expect(await count("select count(*) as n from runs_log where step = 's1'")).toBe(0);
      expect(
        await count("select count(*) as n from information_schema.tables where table_name = 'slow_t'"),
      ).toBe(0);
      expect(await count("select count(*) as n from maint_migrations where name = '002_slow'")).toBe(0);
    } else {
      // Statements 1 and 2 are done and recorded; the sleep (statement 3) is where it resumes.
      expect(await count("select count(*) as n from runs_log where step = 's1'")).toBe(1);
      expect(
        await count(
          "select statements_done as n from maint_migrations where name = '002_slow' and state = 'running'",
        ),
      ).toBe(2);
    }

    await conn.query('delete from sleep_gate');
    // Not --wait: the lock must be free now, or this exits 4.
    const rerun = await runCli(['migrate', plan, '--json']);
    expect({ code: rerun.code, stderr: rerun.stderr }).toMatchObject({ code: 0 });
    expect(JSON.parse(rerun.stdout).steps).toEqual([
      { name: '002_slow', status: 'done', durationMs: expect.any(Number) },
    ]);
    expect(await count("select count(*) as n from runs_log where step = 's1'")).toBe(1);
    expect(await count("select count(*) as n from runs_log where step = 's2'")).toBe(1);
    expect(await count("select count(*) as n from maint_migrations where state = 'applied'")).toBe(2);
  });
});
