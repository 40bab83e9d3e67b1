/**
 * clone-freeze with the PostgreSQL `dump` method, on a private cluster this file starts: the
 * copy (pg_dump | psql) and the migrations run during the freeze, under live load from an
 * application role (2 writers, 2 readers); and the preflight refusing a dump whose estimate
 * does not fit freeze.maxDuration, before anything changes.
 */
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { json, runCli, waitFor, writePlan } from '../helpers/run-cli.js';

const PASSWORD = 's3cret-dump-pw';
let cluster: PgCluster;
let n = 0;

beforeAll(async () => {
  // The dump method needs no logical replication: the server runs the shared server's setting.
  cluster = await startPgCluster({ wal_level: 'replica' });
  await cluster.query('create role app login');
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

const BASE = (
  rows: number,
) => `create table items (id serial primary key, v integer not null default 0, payload text not null);
create table events (id bigserial primary key, item integer not null, at timestamptz not null default now());
create table scratch (a int);
insert into items (v, payload) select g % 7, md5(g::text) from generate_series(1, ${rows}) g;
grant select, insert, update, delete on items, events to app;
grant usage on all sequences in schema public to app;`;
const MIGRATE = `alter table items add column note text not null default 'migrated';`;

async function live(freeze: string, rows = 20000, migration = MIGRATE) {
  const name = `live${++n}`;
  await cluster.query(`create database ${name}`);
  const url = cluster.url(name, 'postgres', PASSWORD);
  const cloneName = `${name}_copy`;
  const env = { LIVE_URL: url, CLONE_URL: cluster.url(cloneName, 'postgres', PASSWORD) };
  const written = await writePlan({
    name: `dump-${name}`,
    engine: 'postgres',
    url: '${LIVE_URL}',
    banner: false,
    migrations: { '001_base.sql': BASE(rows) },
    extra: `strategy:\n  kind: clone-freeze\n  clone:\n    method: dump\n    url: \${CLONE_URL}\n  freeze:\n${freeze}`,
  });
  const m = await runCli(['migrate', written.file, '--json'], env);
  expect(m.code, m.stderr).toBe(0);
  await writeFile(path.join(written.migrationsDir, '002_note.sql'), migration);
  const app = new pg.Pool({ connectionString: cluster.url(name, 'app'), max: 4 });
  app.on('error', () => undefined);
  return { name, cloneName, plan: written.file, env, app };
}

/** Writers and readers as the application: every write's fate and every failed read are kept. */
function load(app: pg.Pool) {
  const committed: number[] = [];
  const refused: Record<string, number> = {};
  const unexpected: string[] = [];
  const failedReads: string[] = [];
  let reads = 0;
  let stop = false;
  const writer = async () => {
    while (!stop) {
      try {
        const item = 1 + Math.floor(Math.random() * 20000);
        const r = await app.query<{ id: string }>(
          'with e as (insert into events (item) values ($1) returning id, item) update items set v = v + 1 from e where items.id = e.item returning e.id',
          [item],
        );
        committed.push(Number(r.rows[0]!.id));
      } catch (error) {
        const code = (error as { code?: string }).code ?? 'none';
        if (code === '25006' || code === '42501') refused[code] = (refused[code] ?? 0) + 1;
        else unexpected.push(`${code}: ${(error as Error).message}`);
        // Pace a refused writer (load shape, not synchronisation).
        await new Promise((r) => setTimeout(r, 2));
      }
    }
  };
  const reader = async () => {
    while (!stop) {
      try {
        await app.query('select v from items where id = $1', [1 + Math.floor(Math.random() * 20000)]);
        reads++;
      } catch (error) {
        failedReads.push((error as Error).message);
      }
    }
  };
  const running = [writer(), writer(), reader(), reader()];
  return {
    committed,
    refused,
    unexpected,
    failedReads,
    reads: () => reads,
    async end() {
      stop = true;
      await Promise.all(running);
    },
  };
}

const checksum = (table: string) =>
  `select count(*)::text as n, md5(string_agg(t::text, ',' order by id)) as sum from (select id, ${table === 'items' ? 'v, payload' : 'item, at'} from ${table}) t`;

async function rows<T>(database: string, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await cluster.query(sql, params, database)).rows as T[];
}

describe('clone-freeze, PostgreSQL dump, private cluster', () => {
  it('under live load: copied and migrated during the freeze, no write lost, 0 failed reads', async () => {
    const l = await live('    grace: 1s\n    maxDuration: 60s\n');
    const traffic = load(l.app);
    await waitFor('some traffic', async () =>
      traffic.committed.length > 50 && traffic.reads() > 50 ? true : undefined,
    );
    const r = await runCli(['run', l.plan, '--json'], l.env);
    await traffic.end();
    await l.app.end();
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = json<{
      status: string;
      applied: string[];
      steps: Array<{ name: string }>;
      freeze: { totalMs: number; phases: Array<{ name: string; ms: number }> };
      databaseUrl: string;
    }>(r);
    expect(out.status).toBe('completed');
    expect(out.applied).toEqual(['002_note']);
    expect(out.steps.map((s) => s.name)).toEqual(['lock', 'clone:prepare', 'clone:cutover', 'clone:analyze']);
    expect(out.freeze.phases.map((p) => p.name)).toEqual([
      'freeze on',
      'in-flight drained',
      'copied',
      'migrated',
    ]);
    expect(out.databaseUrl).toBe(cluster.url(l.cloneName, 'postgres', '***'));
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    console.log(
      `dump freeze ${out.freeze.totalMs} ms ${JSON.stringify(out.freeze.phases)}; committed ${traffic.committed.length}, refused ${JSON.stringify(traffic.refused)}, reads ${traffic.reads()}`,
    );
    expect(traffic.failedReads).toEqual([]);
    expect(traffic.unexpected).toEqual([]);
    expect(Object.values(traffic.refused).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const ids = new Set(
      (await rows<{ id: string }>(l.cloneName, 'select id from events')).map((x) => Number(x.id)),
    );
    expect(traffic.committed.filter((id) => !ids.has(id))).toEqual([]);
    for (const table of ['items', 'events'])
      expect(await rows(l.cloneName, checksum(table))).toEqual(await rows(l.name, checksum(table)));
    expect((await rows<{ note: string }>(l.cloneName, 'select note from items limit 1'))[0]!.note).toBe(
      'migrated',
    );
    for (const [seq, table] of [
      ['events_id_seq', 'events'],
      ['items_id_seq', 'items'],
    ] as const) {
      const [s] = await rows<{ last: string; max: string }>(
        l.cloneName,
        `select (select last_value from ${seq})::text as last, (select max(id) from ${table})::text as max`,
      );
      expect(BigInt(s!.last)).toBeGreaterThanOrEqual(BigInt(s!.max));
    }
    // maint's journal is not copied: the clone's starts empty.
    expect(await rows(l.cloneName, 'select count(*)::int as n from maint_runs')).toEqual([{ n: 0 }]);
    // The clone takes the application's writes.
    const c = new pg.Client({ connectionString: cluster.url(l.cloneName, 'app') });
    await c.connect();
    try {
      await c.query('insert into events (item) values (2)');
      await c.query('update items set v = v + 1 where id = 1');
    } finally {
      await c.end();
    }
  }, 180_000);

  it('a migration failing on the copy during the freeze: unfrozen, the clone dropped, every write committed or refused', async () => {
    const l = await live(
      '    grace: 500ms\n    maxDuration: 60s\n',
      20000,
      'alter table items add column broken nosuchtype;',
    );
    const traffic = load(l.app);
    await waitFor('some traffic', async () => (traffic.committed.length > 50 ? true : undefined));
    const r = await runCli(['run', l.plan, '--json'], l.env);
    // Writes again once unfrozen, from the same pool.
    const before = traffic.committed.length;
    await waitFor('writes after the rollback', async () =>
      traffic.committed.length > before + 20 ? true : undefined,
    );
    await traffic.end();
    await l.app.end();
    expect(r.code, r.stderr).toBe(5);
    const out = json<{ status: string; error: { message: string } }>(r);
    expect(out.status).toBe('rolled_back');
    expect(out.error.message).toMatch(
      /002_note\.sql:1 \(statement 1 of 1\): .*type "nosuchtype" does not exist/,
    );
    expect(traffic.failedReads).toEqual([]);
    // A session the unfreeze ends (opened read-only during the freeze) fails its statement
    // with 57P01: refused loudly, like 25006/42501, never committed.
    expect(traffic.unexpected.filter((u) => !u.startsWith('57P01:'))).toEqual([]);
    expect(Object.values(traffic.refused).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const ids = new Set(
      (await rows<{ id: string }>(l.name, 'select id from events')).map((x) => Number(x.id)),
    );
    expect(traffic.committed.filter((id) => !ids.has(id))).toEqual([]);
    expect(
      (await cluster.query('select 1 from pg_database where datname = $1', [l.cloneName])).rows,
    ).toHaveLength(0);
    expect(
      (
        await cluster.query(
          "select 1 from pg_db_role_setting s join pg_roles r on r.oid = s.setrole join pg_database d on d.oid = s.setdatabase where r.rolname = 'app' and d.datname = $1",
          [l.name],
        )
      ).rows,
    ).toHaveLength(0);
  }, 180_000);

  it('preflight refuses a dump whose estimate exceeds freeze.maxDuration; nothing is made or frozen', async () => {
    const l = await live('    grace: 200ms\n    maxDuration: 1s\n', 20000);
    const r = await runCli(['run', l.plan, '--json'], l.env);
    await l.app.end();
    expect(r.code, r.stderr).toBe(2);
    const error = json<{ error: { code: string; message: string; hint: string } }>(r).error;
    expect(error.code).toBe('CLONE_PREFLIGHT');
    expect(error.message).toMatch(
      /the dump method copies the database while writes are frozen: about \d.*longer than freeze\.maxDuration \(1s\); raise maxDuration, or use method: logical/,
    );
    expect(error.hint).toMatch(/nothing was changed/);
    expect(
      (await cluster.query('select 1 from pg_database where datname = $1', [l.cloneName])).rows,
    ).toHaveLength(0);
    const status = await runCli(['status', l.plan, '--json'], l.env);
    expect(status.code, status.stderr).toBe(0);
    expect(json<{ runs?: unknown[] }>(status).runs ?? []).toEqual([]);
    expect(
      (
        await cluster.query(
          "select 1 from pg_db_role_setting s join pg_roles r on r.oid = s.setrole join pg_database d on d.oid = s.setdatabase where r.rolname = 'app' and d.datname = $1",
          [l.name],
        )
      ).rows,
    ).toHaveLength(0);
  }, 120_000);
});
