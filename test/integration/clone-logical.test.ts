/**
 * clone-freeze with the PostgreSQL `logical` method, on a private cluster this file starts
 * (initdb, wal_level=logical, its own port): the built CLI under live load from an application
 * role (2 writers, 2 readers), then the failures before the shift: a migration failing on the
 * clone, a freeze past maxDuration, and kill -9 mid-freeze then a re-run.
 */
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres } from '../helpers/databases.js';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { json, runCli, startCli, waitFor, writePlan } from '../helpers/run-cli.js';

const PASSWORD = 's3cret-clone-pw';
let cluster: PgCluster;
let n = 0;

beforeAll(async () => {
  cluster = await startPgCluster();
  await cluster.query('create role app login');
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

const BASE = `create table items (id serial primary key, v integer not null default 0, payload text not null);
create table events (id bigserial primary key, item integer not null, at timestamptz not null default now());
insert into items (v, payload) select g % 7, md5(g::text) from generate_series(1, 20000) g;
grant select, insert, update, delete on items, events to app;
grant usage on all sequences in schema public to app;`;
const NEW_TABLE = 'create table notes (id integer primary key, body text);';
const MIGRATE = `alter table items add column note text not null default 'migrated';
create index items_v on items (v);`;

interface Live {
  name: string;
  url: string;
  cloneName: string;
  cloneUrl: string;
  plan: string;
  app: pg.Pool;
}

/** A live database with the base schema applied by `maint migrate`, and an app pool. */
async function live(options: { migration?: string; freeze?: string } = {}): Promise<Live> {
  const name = `live${++n}`;
  await cluster.query(`create database ${name}`);
  const url = cluster.url(name, 'postgres', PASSWORD);
  const cloneName = `${name}_copy`;
  const cloneUrl = cluster.url(cloneName, 'postgres', PASSWORD);
  const written = await writePlan({
    name: `clone-${name}`,
    engine: 'postgres',
    url: '${LIVE_URL}',
    banner: false,
    migrations: { '001_base.sql': BASE },
    extra: `strategy:\n  kind: clone-freeze\n  clone:\n    method: logical\n    url: \${CLONE_URL}\n  freeze:\n${options.freeze ?? '    grace: 1s\n    maxDuration: 20s\n'}`,
  });
  const env = { LIVE_URL: url, CLONE_URL: cloneUrl };
  const m = await runCli(['migrate', written.file, '--json'], env);
  expect(m.code, m.stderr).toBe(0);
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path.join(written.migrationsDir, '002_note.sql'), options.migration ?? MIGRATE);
  const app = new pg.Pool({ connectionString: cluster.url(name, 'app'), max: 4 });
  app.on('error', () => undefined);
  return { name, url, cloneName, cloneUrl, plan: written.file, app };
}

const env = (l: Live) => ({ LIVE_URL: l.url, CLONE_URL: l.cloneUrl });

/** Writers and readers as the application: every write's fate and every failed read are kept. */
function load(app: pg.Pool) {
  const committed: number[] = [];
  const refused: Record<string, number> = {};
  const unexpected: string[] = [];
  const failedReads: string[] = [];
  // 57P01: a rollback's unfreeze ends the sessions opened read-only during the freeze (their
  // read-only default was fixed at connect), so the pool reconnects writable; a statement in
  // flight on such a session fails and is retried by the loop, as an application's pool would.
  let ended = 0;
  let reads = 0;
  let stop = false;
  const writer = async () => {
    while (!stop) {
      try {
        const r = await app.query<{ id: string }>('insert into events (item) values ($1) returning id', [
          1 + Math.floor(Math.random() * 20000),
        ]);
        committed.push(Number(r.rows[0]!.id));
        await app.query('update items set v = v + 1 where id = $1', [1 + Math.floor(Math.random() * 20000)]);
      } catch (error) {
        const code = (error as { code?: string }).code ?? 'none';
        // 25006: read-only transaction (sessions opened during the freeze); 42501: the
        // application's write grants revoked (sessions opened before it).
        if (code === '25006' || code === '42501') refused[code] = (refused[code] ?? 0) + 1;
        else if (code === '57P01') ended++;
        else unexpected.push(`${code}: ${(error as Error).message}`);
        // Pace a refused writer (load shape, not synchronisation).
        await new Promise((r) => setTimeout(r, 2));
      }
    }
  };
  const reader = async () => {
    while (!stop) {
      try {
        await app.query('select count(*) from items where id < $1', [1 + Math.floor(Math.random() * 20000)]);
        reads++;
      } catch (error) {
        if ((error as { code?: string }).code === '57P01') ended++;
        else failedReads.push((error as Error).message);
      }
    }
  };
  const running = [writer(), writer(), reader(), reader()];
  return {
    committed,
    refused,
    unexpected,
    failedReads,
    ended: () => ended,
    reads: () => reads,
    async end() {
      stop = true;
      await Promise.all(running);
    },
  };
}

async function one<T extends pg.QueryResultRow>(database: string, sql: string): Promise<T> {
  return (await cluster.query(sql, [], database)).rows[0] as T;
}

async function checksum(database: string, table: string): Promise<{ n: string; sum: string }> {
  return one(
    database,
    `select count(*)::text as n, md5(string_agg(t::text, ',' order by id)) as sum from (select id, ${table === 'items' ? 'v, payload' : 'item, at'} from ${table}) t`,
  );
}

async function leftovers(l: Live) {
  return {
    slots: (await cluster.query('select slot_name from pg_replication_slots')).rows.length,
    publications: (await cluster.query('select pubname from pg_publication', [], l.name)).rows.length,
    subscriptions: (await cluster.query('select subname from pg_subscription')).rows.length,
    clone: (await cluster.query('select 1 from pg_database where datname = $1', [l.cloneName])).rows.length,
    frozenSettings: (
      await cluster.query(
        "select 1 from pg_db_role_setting s join pg_roles r on r.oid = s.setrole join pg_database d on d.oid = s.setdatabase where r.rolname = 'app' and d.datname = $1",
        [l.name],
      )
    ).rows.length,
  };
}

/** The live database takes a write from a brand-new application session. */
async function writable(l: Live): Promise<boolean> {
  const c = new pg.Client({ connectionString: cluster.url(l.name, 'app') });
  await c.connect();
  try {
    await c.query('insert into events (item) values (1)');
    return true;
  } catch {
    return false;
  } finally {
    await c.end();
  }
}

interface CutoverDetail {
  freeze: { totalMs: number; phases: Array<{ name: string; ms: number }> };
  databaseUrl: string;
  next: string;
}

describe('clone-freeze, PostgreSQL logical, private cluster', () => {
  it('under live load: the clone is migrated, no write lost, 0 failed reads, nothing left behind', async () => {
    const l = await live();
    const traffic = load(l.app);
    await waitFor('some traffic', async () =>
      traffic.committed.length > 50 && traffic.reads() > 50 ? true : undefined,
    );
    const r = await runCli(['run', l.plan, '--json'], env(l));
    await traffic.end();
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = json<{
      status: string;
      steps: Array<{ name: string; status: string; detail?: CutoverDetail }>;
      freeze: CutoverDetail['freeze'];
      databaseUrl: string;
      applied: string[];
    }>(r);
    expect(out.status).toBe('completed');
    expect(out.applied).toEqual(['002_note']);
    expect(out.steps.map((s) => s.name)).toEqual([
      'lock',
      'clone:prepare',
      'clone:migrate',
      'clone:analyze',
      'clone:cutover',
    ]);
    const cut = out.steps.find((s) => s.name === 'clone:cutover')!.detail!;
    expect(cut.freeze.phases.map((p) => p.name)).toEqual([
      'freeze on',
      'in-flight drained',
      'caught up',
      'finalized',
    ]);
    expect(cut.freeze.totalMs).toBeGreaterThan(0);
    expect(cut.databaseUrl).toBe(cluster.url(l.cloneName, 'postgres', '***'));
    expect(cut.next).toMatch(/database\.url still names the old/);
    expect(out.freeze).toEqual(cut.freeze);
    expect(out.databaseUrl).toBe(cut.databaseUrl);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    // Neither the journal (run state, step details) nor the clone's catalog keeps the password.
    const journal = await cluster.query(
      `select (select count(*) from maint_runs r where r::text like '%' || $1 || '%')::int
            + (select count(*) from maint_run_steps s where s::text like '%' || $1 || '%')::int as n`,
      [PASSWORD],
      l.name,
    );
    expect(journal.rows[0]).toEqual({ n: 0 });
    console.log(
      `freeze ${cut.freeze.totalMs} ms ${JSON.stringify(cut.freeze.phases)}; committed ${traffic.committed.length}, refused ${JSON.stringify(traffic.refused)}, reads ${traffic.reads()}`,
    );

    expect(traffic.failedReads).toEqual([]);
    expect(traffic.unexpected).toEqual([]);
    expect(Object.values(traffic.refused).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // Every committed insert is in the clone.
    const ids = new Set(
      (await cluster.query('select id from events', [], l.cloneName)).rows.map((x: { id: string }) =>
        Number(x.id),
      ),
    );
    expect(traffic.committed.filter((id) => !ids.has(id))).toEqual([]);
    for (const table of ['items', 'events'])
      expect(await checksum(l.cloneName, table)).toEqual(await checksum(l.name, table));
    // The clone is migrated, the live database is not.
    expect((await one<{ note: string }>(l.cloneName, 'select note from items limit 1')).note).toBe(
      'migrated',
    );
    expect(
      (
        await cluster.query(
          "select 1 from information_schema.columns where table_name = 'items' and column_name = 'note'",
          [],
          l.name,
        )
      ).rows,
    ).toHaveLength(0);
    // Sequences ≥ max(id), and the clone takes new rows from the application.
    for (const [seq, table] of [
      ['events_id_seq', 'events'],
      ['items_id_seq', 'items'],
    ] as const) {
      const s = await one<{ last: string; max: string }>(
        l.cloneName,
        `select (select last_value from ${seq})::text as last, (select max(id) from ${table})::text as max`,
      );
      expect(BigInt(s.last)).toBeGreaterThanOrEqual(BigInt(s.max));
    }
    const appOnClone = new pg.Client({ connectionString: cluster.url(l.cloneName, 'app') });
    await appOnClone.connect();
    await appOnClone.query('insert into events (item) values (2)');
    await appOnClone.end();
    expect(await leftovers(l)).toEqual({
      slots: 0,
      publications: 0,
      subscriptions: 0,
      clone: 1,
      frozenSettings: 1,
    });
    // No fleet: the old database stays frozen for the application.
    expect(await writable(l)).toBe(false);
    await l.app.end();
  }, 180_000);

  it('a migration failing on the clone: the live database never froze, the clone and its replication are gone', async () => {
    const l = await live({ migration: 'alter table items add column broken nosuchtype;' });
    const traffic = load(l.app);
    await waitFor('some traffic', async () => (traffic.committed.length > 20 ? true : undefined));
    const r = await runCli(['run', l.plan, '--json'], env(l));
    await traffic.end();
    expect(r.code, r.stderr).toBe(5);
    expect(json<{ status: string }>(r).status).toBe('rolled_back');
    expect(traffic.failedReads).toEqual([]);
    expect(traffic.unexpected).toEqual([]);
    expect(traffic.refused).toEqual({});
    expect(await leftovers(l)).toEqual({
      slots: 0,
      publications: 0,
      subscriptions: 0,
      clone: 0,
      frozenSettings: 0,
    });
    expect(await writable(l)).toBe(true);
    await l.app.end();
  }, 180_000);

  /**
   * Once the initial copy is done, lock every row of `items` on the clone: the apply worker
   * blocks on the first replicated UPDATE, so catch-up stalls; ANALYZE and a migration that
   * leaves `items` alone are not blocked (row locks only).
   */
  async function stallCatchUp(l: Live): Promise<pg.Client> {
    await waitFor(
      'the initial copy',
      async () => {
        const exists = (await cluster.query('select 1 from pg_database where datname = $1', [l.cloneName]))
          .rows.length;
        if (!exists) return undefined;
        const r = await cluster.query(
          "select count(*)::int as n, count(*) filter (where srsubstate = 'r')::int as ready from pg_subscription_rel",
          [],
          l.cloneName,
        );
        const row = r.rows[0] as { n: number; ready: number };
        return row.n > 0 && row.n === row.ready ? true : undefined;
      },
      60_000,
    );
    const blocker = new pg.Client({ connectionString: cluster.url(l.cloneName) });
    blocker.on('error', () => undefined);
    await blocker.connect();
    await blocker.query('begin');
    await blocker.query('select id from items for update');
    return blocker;
  }

  it('a freeze past maxDuration is undone: writable again, clone, slot and publication gone', async () => {
    const l = await live({ freeze: '    grace: 500ms\n    maxDuration: 2s\n', migration: NEW_TABLE });
    const traffic = load(l.app);
    const run = startCli(['run', l.plan, '--json'], env(l));
    const blocker = await stallCatchUp(l);
    const r = await run.done;
    await blocker.end().catch(() => undefined);
    await traffic.end();
    expect(r.code, r.stderr).toBe(5);
    const out = json<{ status: string; error: { message: string } }>(r);
    expect(out.status).toBe('rolled_back');
    expect(out.error.message).toMatch(/clone:cutover/);
    expect(traffic.failedReads).toEqual([]);
    expect(traffic.unexpected).toEqual([]);
    expect(await leftovers(l)).toEqual({
      slots: 0,
      publications: 0,
      subscriptions: 0,
      clone: 0,
      frozenSettings: 0,
    });
    expect(await writable(l)).toBe(true);
    await l.app.end();
  }, 180_000);

  it('kill -9 mid-freeze, then a re-run: the freeze is undone, not resumed', async () => {
    const l = await live({ freeze: '    grace: 500ms\n    maxDuration: 60s\n', migration: NEW_TABLE });
    const traffic = load(l.app);
    const run = startCli(['run', l.plan, '--json'], env(l));
    const blocker = await stallCatchUp(l);
    // The freeze begins once clone:analyze has sat out its catch-up bound (20 s, the apply is
    // stalled) and, with a fleet, the new fleet is warm: longer than waitFor's default on a busy runner.
    await waitFor(
      'the freeze',
      async () => ((await leftovers(l)).frozenSettings > 0 ? true : undefined),
      90_000,
    );
    run.child.kill('SIGKILL');
    await run.done;
    await blocker.end().catch(() => undefined);
    expect(await writable(l)).toBe(false);
    const again = await runCli(['run', l.plan, '--json'], env(l));
    await traffic.end();
    expect(again.code, again.stderr).toBe(5);
    const out = json<{ recovered: { action: string } | null; error: { code: string } }>(again);
    expect(out.error.code).toBe('CLONE_FREEZE_INTERRUPTED');
    expect(traffic.failedReads).toEqual([]);
    expect(await leftovers(l)).toEqual({
      slots: 0,
      publications: 0,
      subscriptions: 0,
      clone: 0,
      frozenSettings: 0,
    });
    expect(await writable(l)).toBe(true);
    await l.app.end();
  }, 180_000);

  it('preflight refuses (exit 2, nothing made) a table without a key, an unlogged table, a superuser app', async () => {
    const l = await live();
    await cluster.query(
      'create table nokey (a int); create unlogged table scratch (id int primary key)',
      [],
      l.name,
    );
    await cluster.query('create role boss superuser login').catch(() => undefined);
    const boss = new pg.Client({ connectionString: cluster.url(l.name, 'boss') });
    await boss.connect();
    const r = await runCli(['run', l.plan, '--json'], env(l));
    await boss.end();
    expect(r.code, r.stderr).toBe(2);
    const msg = json<{ error: { code: string; message: string } }>(r).error;
    expect(msg.code).toBe('CLONE_PREFLIGHT');
    expect(msg.message).toMatch(/public\.nokey/);
    expect(msg.message).toMatch(/unlogged tables are not replicated: public\.scratch/);
    expect(msg.message).toMatch(/boss is a superuser/);
    expect(await leftovers(l)).toEqual({
      slots: 0,
      publications: 0,
      subscriptions: 0,
      clone: 0,
      frozenSettings: 0,
    });
    await l.app.end();
  }, 60_000);

  it('preflight refuses a server without wal_level = logical (the shared test server runs replica)', async () => {
    const db = await freshPostgres();
    try {
      const written = await writePlan({
        engine: 'postgres',
        url: db.url,
        banner: false,
        migrations: { '001_a.sql': 'create table a (id int primary key);' },
        extra: 'strategy: { kind: clone-freeze, clone: { method: logical } }\n',
      });
      const r = await runCli(['run', written.file, '--json']);
      expect(r.code, r.stderr).toBe(2);
      const error = json<{ error: { code: string; message: string; hint: string } }>(r).error;
      expect(error.code).toBe('CLONE_PREFLIGHT');
      expect(error.message).toMatch(/wal_level is replica: the logical method needs wal_level = logical/);
      expect(error.hint).toMatch(/nothing was changed/);
      const tables = await runCli(['status', written.file, '--json']);
      expect(tables.code, tables.stderr).toBe(0);
      expect(json<{ runs?: unknown[] }>(tables).runs ?? []).toEqual([]);
    } finally {
      await db.drop();
    }
  }, 60_000);
});
