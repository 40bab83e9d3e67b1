/**
 * SIGKILL at every journal transition of a run, chosen by the harness: a trigger on the journal
 * table blocks the n-th transition on an advisory lock the test holds, the test sees the
 * process waiting there, kills it, and runs `maint run` again. Every time the second run must
 * converge: completed, each migration applied exactly once, banner off.
 */
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createJournalSql } from '../../src/core/journal/journal-sql.js';
import { freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { json, runCli, startCli, waitFor, writePlan } from '../helpers/run-cli.js';

const MIGRATIONS = {
  '001_effects.sql':
    'create table "effects" ("migration" text not null);\ninsert into "effects" values (\'001\');\ncreate table "orders" ("id" integer primary key);\ninsert into "orders" values (1), (2);',
  '001_effects.down.sql': 'drop table "orders";\ndrop table "effects";',
  '002_status.sql':
    'alter table "orders" add column "status" text default \'paid\';\ninsert into "effects" values (\'002\');',
  '002_status.down.sql':
    'alter table "orders" drop column "status";\ndelete from "effects" where "migration" = \'002\';',
  '003_index.sql':
    'create index "orders_status_idx" on "orders" ("status");\ninsert into "effects" values (\'003\');',
  '003_index.down.sql': 'drop index "orders_status_idx";\ndelete from "effects" where "migration" = \'003\';',
};
const STEPS = 7;
const BLOCK_KEY = 424242;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function killAt(transition: number): Promise<{
  first: string;
  second: Record<string, unknown>;
  db: FreshDatabase;
  sql: pg.Client;
  bannerYaml: string;
}> {
  const db = await freshPostgres();
  cleanups.push(() => db.drop());
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  cleanups.push(() => sql.end());
  const plan = await writePlan({
    engine: 'postgres',
    url: db.url,
    migrations: MIGRATIONS,
    // A daily window that began an hour ago: the run never meets its end (it once ran across
    // midnight UTC with the default 00:00 window and was refused for lack of time).
    window: `  timezone: UTC\n  days: [daily]\n  start: "${String((new Date().getUTCHours() + 23) % 24).padStart(2, '0')}:00"\n  duration: 24h`,
    extra:
      'post:\n  analyze: true\nchecks:\n  - name: orders kept\n    sql: select count(*) from orders\n    expect: 2\n',
  });
  for (const ddl of createJournalSql('postgres')) await sql.query(ddl);
  await sql.query(`
    create table "harness_counter" ("n" integer not null);
    insert into "harness_counter" values (0);
    create function "harness_block"() returns trigger language plpgsql as $$
    declare c integer;
    begin
      update "harness_counter" set "n" = "n" + 1 returning "n" into c;
      if c = ${transition} then
        perform pg_advisory_lock(${BLOCK_KEY});
        perform pg_advisory_unlock(${BLOCK_KEY});
      end if;
      return new;
    end $$;
    create trigger "harness_block" after insert or update on "maint_run_steps" for each row execute function "harness_block"();`);
  await sql.query('select pg_advisory_lock($1)', [BLOCK_KEY]);

  const { child, done } = startCli(['run', plan.file, '--json']);
  // The run is frozen inside its n-th journal write: a backend waits for our advisory lock.
  await waitFor(`transition ${transition} to block`, async () => {
    const r = await sql.query(
      "select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = $1 and not granted",
      [BLOCK_KEY],
    );
    if (r.rows[0].n > 0) return true;
    if (child.exitCode !== null)
      throw new Error(`the run ended before transition ${transition}: ${(await done).stdout}`);
    return undefined;
  });
  const frozenAt = (
    await sql.query('select "name", "status" from "maint_run_steps" order by "seq" desc, "status" limit 1')
  ).rows[0] as { name: string; status: string } | undefined;
  child.kill('SIGKILL');
  const killed = await done;
  expect(killed.signal).toBe('SIGKILL');
  await sql.query('select pg_advisory_unlock($1)', [BLOCK_KEY]);
  // Wait until the killed process's sessions are gone (the lock's too), then remove the trap.
  await waitFor("the killed run's sessions to end", async () => {
    const r = await sql.query(
      'select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
    );
    return r.rows[0].n === 0 ? true : undefined;
  });
  await sql.query('drop trigger "harness_block" on "maint_run_steps"');

  const again = await runCli(['run', plan.file, '--json']);
  expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
  return {
    first: frozenAt ? `${frozenAt.name}:${frozenAt.status}` : 'none',
    second: json(again),
    db,
    sql,
    bannerYaml: plan.bannerYaml,
  };
}

describe('maint run after SIGKILL at each step boundary (PostgreSQL)', () => {
  // Each step has two transitions (running, done): kill before and after every step.
  it.each(Array.from({ length: STEPS * 2 }, (_, i) => i + 1))(
    'converges after a kill at journal transition %i',
    async (transition) => {
      const { first, second, sql, bannerYaml } = await killAt(transition);
      expect(second.status, `killed in the journal write after ${first}`).toBe('completed');
      const recovered = second.recovered as { action: string; reason: string } | null;
      expect(recovered?.action).toBe('resumed');
      expect(recovered?.reason).toMatch(/stopped (during step|before its first step)/);
      const effects = (
        await sql.query('select "migration", count(*)::int as n from "effects" group by 1 order by 1')
      ).rows;
      expect(effects).toEqual([
        { migration: '001', n: 1 },
        { migration: '002', n: 1 },
        { migration: '003', n: 1 },
      ]);
      const runs = (await sql.query('select "status" from "maint_runs" order by "started_at"')).rows.map(
        (r) => r.status,
      );
      expect(runs).toEqual(['resumed', 'completed']);
      expect(await readFile(bannerYaml, 'utf8')).toMatch(/^enabled: false$/m);
    },
  );
});
