/**
 * clone-freeze with the PostgreSQL `template` method, on a private cluster this file starts:
 * an OFFLINE copy (CREATE DATABASE … TEMPLATE needs zero sessions on the live database), the
 * lock held from the `postgres` database (database.lockUrl). Happy path with an application
 * session open, a migration failing on the clone (rolled back: connections allowed, unfrozen,
 * clone dropped), a block left by a dead run lifted by the next run, and the preflight refusals.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { json, runCli, startCli, waitFor, writePlan } from '../helpers/run-cli.js';

const PASSWORD = 's3cret-template-pw';
let cluster: PgCluster;
let n = 0;

beforeAll(async () => {
  cluster = await startPgCluster({ wal_level: 'replica' });
  await cluster.query('create role app login');
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

const BASE = `create table items (id serial primary key, v integer not null default 0, payload text not null);
insert into items (v, payload) select g % 7, md5(g::text) from generate_series(1, 20000) g;
grant select, insert, update, delete on items to app;
grant usage on all sequences in schema public to app;`;
const MIGRATE = `alter table items add column note text not null default 'migrated';`;

interface Live {
  name: string;
  cloneName: string;
  plan: string;
  env: Record<string, string>;
}

async function live(
  freeze: string,
  options: { migration?: string; cloneUrl?: string; lockUrl?: boolean } = {},
): Promise<Live> {
  const name = `tlive${++n}`;
  await cluster.query(`create database ${name}`);
  const cloneName = `${name}_copy`;
  const env = {
    LIVE_URL: cluster.url(name, 'postgres', PASSWORD),
    LOCK_URL: cluster.url('postgres', 'postgres', PASSWORD),
    CLONE_URL: options.cloneUrl ?? cluster.url(cloneName, 'postgres', PASSWORD),
  };
  const written = await writePlan({
    name: `template-${name}`,
    engine: 'postgres',
    url: '${LIVE_URL}',
    banner: false,
    migrations: { '001_base.sql': BASE },
    extra: `strategy:\n  kind: clone-freeze\n  clone:\n    method: template\n    url: \${CLONE_URL}\n  freeze:\n${freeze}`,
  });
  if (options.lockUrl !== false) {
    const yaml = await readFile(written.file, 'utf8');
    await writeFile(
      written.file,
      yaml.replace('  url: "${LIVE_URL}"\n', '  url: "${LIVE_URL}"\n  lockUrl: "${LOCK_URL}"\n'),
    );
  }
  const m = await runCli(['migrate', written.file, '--json'], env);
  expect(m.code, m.stderr).toBe(0);
  await writeFile(path.join(written.migrationsDir, '002_note.sql'), options.migration ?? MIGRATE);
  return { name, cloneName, plan: written.file, env };
}

const checksum = `select count(*)::text as n, md5(string_agg(t::text, ',' order by id)) as sum from (select id, v, payload from items) t`;

async function rows<T>(database: string, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await cluster.query(sql, params, database)).rows as T[];
}

/** Connections allowed, maint's mark gone, no role setting of the freeze left (or left). */
async function liveState(name: string) {
  const [d] = await rows<{ allowed: boolean; settings: string[] | null }>(
    'postgres',
    `select d.datallowconn as allowed, (select array_agg(c order by c) from pg_db_role_setting s, unnest(s.setconfig) c where s.setdatabase = d.oid) as settings from pg_database d where d.datname = $1`,
    [name],
  );
  return d!;
}

const exists = async (database: string) =>
  (await cluster.query('select 1 from pg_database where datname = $1', [database])).rows.length > 0;

async function appSession(database: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: cluster.url(database, 'app') });
  c.on('error', () => undefined);
  await c.connect();
  await c.query('select count(*) from items');
  return c;
}

describe('clone-freeze, PostgreSQL template (offline), private cluster', () => {
  it('copies offline with an application session open: equal rows, migrated clone only, live reopened read-only for the app', async () => {
    const l = await live('    grace: 500ms\n    maxDuration: 30s\n');
    const p = await runCli(['plan', l.plan, '--json'], l.env);
    expect(p.code, p.stderr).toBe(0);
    expect(json<{ warnings: string[] }>(p).warnings.join('\n')).toMatch(
      /OFFLINE.*reads stop as well as writes/,
    );
    const session = await appSession(l.name);
    const before = await rows(l.name, checksum);
    const r = await runCli(['run', l.plan, '--json'], l.env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = json<{
      status: string;
      applied: string[];
      steps: Array<{ name: string; detail: Record<string, unknown> | null }>;
      freeze: { totalMs: number; phases: Array<{ name: string; ms: number }> };
      databaseUrl: string;
    }>(r);
    expect(out.status).toBe('completed');
    expect(out.applied).toEqual(['002_note']);
    expect(out.steps.map((s) => s.name)).toEqual(['lock', 'clone:cutover', 'clone:analyze']);
    expect(out.freeze.phases.map((ph) => ph.name)).toEqual([
      'freeze on',
      'in-flight drained',
      'connections blocked',
      'sessions ended',
      'copied',
      'reopened',
      'migrated',
    ]);
    for (const ph of out.freeze.phases) expect(ph.ms).toBeGreaterThanOrEqual(0);
    const cutover = out.steps[1]!.detail!;
    expect(cutover.endedSessions).toBeGreaterThanOrEqual(1);
    expect(String(cutover.next)).toMatch(/stays read-only for the application/);
    expect(out.databaseUrl).toBe(cluster.url(l.cloneName, 'postgres', '***'));
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    console.log(`template freeze ${out.freeze.totalMs} ms ${JSON.stringify(out.freeze.phases)}`);
    // The application's open session was ended for the copy.
    await expect(session.query('select 1')).rejects.toThrow();
    await session.end().catch(() => undefined);
    // Equal rows; the migration on the clone only; the clone's journal empty.
    expect(await rows(l.cloneName, checksum)).toEqual(before);
    expect(await rows(l.name, checksum)).toEqual(before);
    expect((await rows<{ note: string }>(l.cloneName, 'select note from items limit 1'))[0]!.note).toBe(
      'migrated',
    );
    expect(
      await rows(
        l.name,
        `select 1 from information_schema.columns where table_name = 'items' and column_name = 'note'`,
      ),
    ).toHaveLength(0);
    expect(await rows(l.cloneName, 'select count(*)::int as n from maint_runs')).toEqual([{ n: 0 }]);
    // Live accepts connections again, maint's mark gone; reads work, the app's writes are refused.
    const state = await liveState(l.name);
    expect(state.allowed).toBe(true);
    expect((state.settings ?? []).filter((s) => s.startsWith('maint.'))).toEqual([]);
    const again = await appSession(l.name);
    try {
      await expect(again.query('insert into items (payload) values ($1)', ['x'])).rejects.toMatchObject({
        code: expect.stringMatching(/^(25006|42501)$/),
      });
    } finally {
      await again.end();
    }
    // The clone takes the application's writes (grants given back, no read-only setting).
    const c = await appSession(l.cloneName);
    try {
      await c.query('insert into items (payload) values ($1)', ['on the clone']);
    } finally {
      await c.end();
    }
  }, 60_000);

  it('a migration failing on the clone: connections allowed, the live database writable, the clone dropped', async () => {
    const l = await live('    grace: 300ms\n    maxDuration: 30s\n', {
      migration: 'alter table items add column broken nosuchtype;',
    });
    const session = await appSession(l.name);
    const r = await runCli(['run', l.plan, '--json'], l.env);
    await session.end().catch(() => undefined);
    expect(r.code, r.stderr + r.stdout).toBe(5);
    const out = json<{ status: string; error: { message: string } }>(r);
    expect(out.status).toBe('rolled_back');
    expect(out.error.message).toMatch(/type "nosuchtype" does not exist/);
    expect(await exists(l.cloneName)).toBe(false);
    const state = await liveState(l.name);
    expect(state).toEqual({ allowed: true, settings: null });
    const c = await appSession(l.name);
    try {
      await c.query('insert into items (payload) values ($1)', ['after the rollback']);
    } finally {
      await c.end();
    }
  }, 60_000);

  /**
   * An open transaction that commented on the live database holds a lock CREATE DATABASE …
   * TEMPLATE waits for (blocking connections does not): the copy hangs inside the offline phase.
   */
  async function holdCopy(name: string): Promise<pg.Client> {
    const holder = new pg.Client({ connectionString: cluster.url('postgres') });
    await holder.connect();
    await holder.query('begin');
    await holder.query(`comment on database ${name} is 'held by the test'`);
    return holder;
  }
  const copyWaiting = (clone: string) => async () =>
    (
      await rows(
        'postgres',
        `select 1 from pg_stat_activity where wait_event_type = 'Lock' and query ilike $1`,
        [`create database "${clone}"%`],
      )
    ).length > 0
      ? true
      : undefined;

  it('a copy held past maxDuration: cancelled, connections allowed again, unfrozen, the clone absent (exit 5)', async () => {
    const l = await live('    grace: 200ms\n    maxDuration: 4s\n');
    const holder = await holdCopy(l.name);
    try {
      const r = await runCli(['run', l.plan, '--json'], l.env);
      expect(r.code, r.stderr + r.stdout).toBe(5);
      expect(json<{ status: string }>(r).status).toBe('rolled_back');
    } finally {
      await holder.query('rollback');
      await holder.end();
    }
    expect(await exists(l.cloneName)).toBe(false);
    expect(await liveState(l.name)).toEqual({ allowed: true, settings: null });
    const c = await appSession(l.name);
    try {
      await c.query('insert into items (payload) values ($1)', ['writable again']);
    } finally {
      await c.end();
    }
  }, 60_000);

  it('kill -9 during the offline copy: the live database stays closed; the re-run reopens it, undoes the freeze (exit 5); the next run completes', async () => {
    const l = await live('    grace: 200ms\n    maxDuration: 30s\n');
    const holder = await holdCopy(l.name);
    const run = startCli(['run', l.plan, '--json'], l.env);
    try {
      await waitFor('the copy waiting', copyWaiting(l.cloneName));
      run.child.kill('SIGKILL');
      expect((await run.done).signal).toBe('SIGKILL');
    } finally {
      run.child.kill('SIGKILL');
      await holder.query('rollback');
      await holder.end();
    }
    // The server finishes the orphaned CREATE DATABASE; the database stays closed.
    expect((await liveState(l.name)).allowed).toBe(false);
    await expect(appSession(l.name)).rejects.toThrow(/not currently accepting connections/);
    const again = await runCli(['run', l.plan, '--json'], l.env);
    expect(again.code, again.stderr + again.stdout).toBe(5);
    expect(json<{ error: { code: string } }>(again).error.code).toBe('CLONE_FREEZE_INTERRUPTED');
    expect(await exists(l.cloneName)).toBe(false);
    expect(await liveState(l.name)).toEqual({ allowed: true, settings: null });
    const c = await appSession(l.name);
    try {
      await c.query('insert into items (payload) values ($1)', ['writable after the re-run']);
    } finally {
      await c.end();
    }
    const third = await runCli(['run', l.plan, '--json'], l.env);
    expect(third.code, third.stderr + third.stdout).toBe(0);
    expect(await exists(l.cloneName)).toBe(true);
  }, 60_000);

  it('a maint lock session on the live database (lockUrl naming it by another host name): refused before the freeze (exit 5), nothing left', async () => {
    const l = await live('    grace: 200ms\n    maxDuration: 30s\n');
    const lockLike = new pg.Client({ connectionString: cluster.url(l.name), application_name: 'maint-lock' });
    await lockLike.connect();
    try {
      const r = await runCli(['run', l.plan, '--json'], l.env);
      expect(r.code, r.stderr + r.stdout).toBe(5);
      expect(json<{ error: { code: string } }>(r).error.code).toBe('CLONE_LOCK_ON_LIVE');
      await lockLike.query('select 1');
    } finally {
      await lockLike.end();
    }
    expect(await exists(l.cloneName)).toBe(false);
    expect(await liveState(l.name)).toEqual({ allowed: true, settings: null });
  }, 60_000);

  it('a block left by a run killed during the copy is lifted by the next run, which then completes', async () => {
    const l = await live('    grace: 200ms\n    maxDuration: 30s\n');
    // What a run killed between "connections blocked" and "reopened" leaves (its journal rows
    // are in the blocked database; this one has none, so the next run starts afresh).
    await cluster.query(`alter database ${l.name} set maint.connections_blocked_by = 'deadrun'`);
    await cluster.query(`alter database ${l.name} with allow_connections false`);
    await expect(appSession(l.name)).rejects.toThrow(/not currently accepting connections/);
    const r = await runCli(['run', l.plan, '--json'], l.env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect((await liveState(l.name)).allowed).toBe(true);
    expect(await exists(l.cloneName)).toBe(true);
  }, 60_000);

  it('an operator-closed database (no mark of maint) is not reopened: refused, nothing changed', async () => {
    const l = await live('    grace: 200ms\n    maxDuration: 30s\n');
    await cluster.query(`alter database ${l.name} with allow_connections false`);
    try {
      const r = await runCli(['run', l.plan, '--json'], l.env);
      expect(r.code, r.stderr + r.stdout).not.toBe(0);
      expect((await liveState(l.name)).allowed).toBe(false);
      expect(await exists(l.cloneName)).toBe(false);
    } finally {
      await cluster.query(`alter database ${l.name} with allow_connections true`);
    }
  }, 60_000);

  it.each([
    [
      'a clone on another server',
      { cloneUrl: 'postgres://postgres@127.0.0.1:1/elsewhere' },
      /copies within one PostgreSQL server/,
    ],
    ['no database.lockUrl', { lockUrl: false }, /the lock must be held from another database/],
    [
      'an estimate over maxDuration',
      {},
      /template method copies the database OFFLINE.*longer than freeze\.maxDuration \(1s\)/,
    ],
  ] as const)(
    'preflight refuses %s (exit 2), nothing changed',
    async (_what, options, message) => {
      const freeze = _what.startsWith('an estimate')
        ? '    grace: 200ms\n    maxDuration: 1s\n'
        : '    grace: 200ms\n    maxDuration: 30s\n';
      const l = await live(freeze, options);
      const session = await appSession(l.name);
      try {
        const r = await runCli(['run', l.plan, '--json'], l.env);
        expect(r.code, r.stderr + r.stdout).toBe(2);
        const error = json<{ error: { code: string; message: string; hint: string } }>(r).error;
        expect(error.code).toBe('CLONE_PREFLIGHT');
        expect(error.message).toMatch(message);
        expect(error.hint).toMatch(/nothing was changed/);
        expect(r.stdout + r.stderr).not.toContain(PASSWORD);
        // The application's session was not touched; nothing was made or frozen.
        await session.query('insert into items (payload) values ($1)', ['still writable']);
        expect(await exists(l.cloneName)).toBe(false);
        expect(await liveState(l.name)).toEqual({ allowed: true, settings: null });
        const status = await runCli(['status', l.plan, '--json'], l.env);
        expect(json<{ runs?: unknown[] }>(status).runs ?? []).toEqual([]);
      } finally {
        await session.end();
      }
    },
    60_000,
  );
});
