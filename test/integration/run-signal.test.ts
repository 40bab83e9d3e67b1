/**
 * An operator's Ctrl-C (SIGINT) or a supervisor's SIGTERM during `maint run`: the running
 * statement is cancelled on the server, everything done is rolled back, the banner goes off,
 * and the exit code is 5 — on a real PostgreSQL, with real processes.
 */
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { startCli, waitFor, writePlan } from '../helpers/run-cli.js';

describe.each(['SIGTERM', 'SIGINT'] as const)('maint run interrupted by %s', (signal) => {
  let database: FreshDatabase | undefined;
  afterEach(async () => {
    await database?.drop();
    database = undefined;
  });

  it('cancels the running statement, rolls back, turns the banner off and exits 5', async () => {
    database = await freshPostgres();
    const plan = await writePlan({
      engine: 'postgres',
      url: database.url,
      migrations: {
        '001_first.sql': 'create table first_table (id int);',
        '001_first.down.sql': 'drop table first_table;',
        '002_slow.sql': 'select pg_sleep(120); create table slow_table (id int);',
        '002_slow.down.sql': 'drop table slow_table;',
      },
    });
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { child, done } = startCli(['run', plan.file, '--json']);
      // The harness waits until the slow statement is really running on the server.
      await waitFor('the slow migration to run', async () => {
        const r = await client.query(
          "select 1 from pg_stat_activity where query like '%pg_sleep(120)%' and state = 'active' and pid <> pg_backend_pid()",
        );
        return r.rowCount ? true : undefined;
      });
      child.kill(signal);
      const result = await done;

      expect(result.code, result.stderr).toBe(5);
      const body = JSON.parse(result.stdout) as { status: string; error: { code: string } | null };
      expect(body.status).toBe('rolled_back');
      expect(body.error).not.toBeNull();

      const sleeping = await client.query(
        "select 1 from pg_stat_activity where query like '%pg_sleep(120)%' and state = 'active' and pid <> pg_backend_pid()",
      );
      expect(sleeping.rowCount).toBe(0);
      const tables = await client.query(
        "select tablename from pg_tables where tablename in ('first_table', 'slow_table')",
      );
      expect(tables.rows).toEqual([]);
      expect(await readFile(plan.bannerYaml, 'utf8')).toMatch(/^enabled: false$/m);
    } finally {
      await client.end();
    }
  });
});
