/**
 * clone-freeze for MariaDB (`method: replica`) on two private mariadbd servers this file starts
 * (binary log, binlog_format=ROW, distinct server_id), with a blue-green fleet on the real
 * HAProxy rig. The demo servers talk to MariaDB as the application user `app` (no SUPER):
 * readers (wrk) and writers (a loop recording each write's outcome) go through HAProxy while the
 * built CLI runs as a plan user `maint` with a password. Happy path: the new fleet ends serving
 * from the migrated clone, 0 failed reads, no write lost. Failures before the shift (a migration
 * failing on the clone, the freeze passing maxDuration, kill -9 mid-freeze then a re-run) end
 * as before: live writable, clone and replication gone, the old fleet served throughout.
 * Preflight refusals: the machine's MariaDB (binlog off), a table without a primary key and an
 * application user with READ_ONLY ADMIN.
 */
import { Agent, request as httpRequest } from 'node:http';
import type { Connection } from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runtimeCommand } from '../../src/fleet/haproxy-api.js';
import { freshMysql } from '../helpers/databases.js';
import { fleetYaml, startRig, type Rig } from '../helpers/fleet-rig.js';
import { startMariadb, type MariadbServer } from '../helpers/mariadb-server.js';
import { json, runCli, startCli, waitFor, writePlan } from '../helpers/run-cli.js';

const PASSWORD = 's3cret-mdb-pw';
let live: MariadbServer;
let clone: MariadbServer;
let rig: Rig | null = null;
let n = 0;

beforeAll(async () => {
  const settings = { log_bin: 'mysql-bin', binlog_format: 'ROW', innodb_lock_wait_timeout: '5' };
  [live, clone] = await Promise.all([
    startMariadb({ ...settings, server_id: '101' }),
    startMariadb({ ...settings, server_id: '102' }),
  ]);
  for (const server of [live, clone]) {
    // maint's plan user (all privileges, a password) and the application user (no SUPER).
    await server.query(`create user maint@'127.0.0.1' identified by '${PASSWORD}'`);
    await server.query(`grant all privileges on *.* to maint@'127.0.0.1' with grant option`);
    await server.query(`create user app@'%'`);
  }
}, 120_000);
afterEach(async () => {
  await rig?.stop();
  rig = null;
  // A frozen old database leaves the live server read-only (the fleet run): writable for the next test.
  await live?.query('set global read_only = 0');
});
afterAll(async () => {
  await Promise.all([live?.stop(), clone?.stop()]);
});

const BASE = `create table items (id int auto_increment primary key, v int not null default 0, payload varchar(64) not null) engine=InnoDB;
create table events (id bigint auto_increment primary key, item int not null, at timestamp(6) not null default current_timestamp(6)) engine=InnoDB;
insert into items (v, payload) select seq % 7, md5(seq) from seq_1_to_5000;`;
const MIGRATE = `alter table items add column note varchar(20) not null default 'migrated';
create index items_v on items (v);`;
const FAILING = `alter table items add column note varchar(20) not null default 'migrated';
insert into no_such_table values (1);`;

interface Setup {
  name: string;
  plan: string;
  env: Record<string, string>;
}

/** A live database migrated to the base schema, a rig whose blue servers use it, and the plan. */
async function setup(options: { freeze?: string; migration?: string } = {}): Promise<Setup> {
  const name = `live${++n}`;
  await live.query(`create database ${name}`);
  for (const server of [live, clone])
    await server.query(`grant select, insert, update, delete on ${name}.* to app@'%'`);
  const url = live.url(name, 'maint', PASSWORD);
  const cloneUrl = clone.url(name, 'maint', PASSWORD);
  const files = {
    name: `clone-mariadb-${name}`,
    engine: 'mysql' as const,
    url: '${LIVE_URL}',
    banner: false,
    migrations: { '001_base.sql': BASE },
  };
  const written = await writePlan(files);
  const env = { LIVE_URL: url, CLONE_URL: cloneUrl, RELEASE: 'v2', DEMO_DB_ROLE: 'app' };
  const m = await runCli(['migrate', written.file, '--json'], env);
  expect(m.code, m.stderr).toBe(0);
  rig = await startRig({
    active: 2,
    spare: 2,
    release: 'v1',
    serverEnv: { MAINT_DATABASE_URL: live.url(name), DEMO_DB_ROLE: 'app' },
    // The checks run `select 1` on MariaDB: on a loaded shared machine one can take more than
    // the 100 ms `inter`, and HAProxy would take both servers down (503s no maint step caused).
    checkTimeout: '1s',
  });
  const freeze = options.freeze ?? '    grace: 1s\n    maxDuration: 20s\n';
  await writePlan(
    {
      ...files,
      migrations: { '001_base.sql': BASE, '002_note.sql': options.migration ?? MIGRATE },
      extra:
        `release: \${RELEASE}\nstrategy:\n  kind: clone-freeze\n  clone:\n    method: replica\n    url: \${CLONE_URL}\n  freeze:\n${freeze}` +
        fleetYaml(rig, '  mode: blue-green\n  green: [web3, web4]\n'),
    },
    written.dir,
  );
  return { name, plan: written.file, env: { ...rig.env, ...env } };
}

interface Reply {
  status: number;
  database: string;
  release: string;
  body: { id?: number; refused?: boolean; code?: string; error?: string };
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

function call(url: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        let body: Reply['body'] = {};
        try {
          body = JSON.parse(text) as Reply['body'];
        } catch {
          body = { error: text };
        }
        resolve({
          status: res.statusCode ?? 0,
          database: String(res.headers['x-database']),
          release: String(res.headers['x-release']),
          body,
        });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Writers through HAProxy: every write's fate is kept (committed where, refused how, or else). */
function writers(url: string, count = 2) {
  const committed: Array<{ id: number; database: string }> = [];
  const refused: Record<string, number> = {};
  const unexpected: string[] = [];
  let stop = false;
  const loop = async () => {
    while (!stop) {
      try {
        const r = await call(`${url}write`, 'POST');
        if (r.status === 200 && typeof r.body.id === 'number')
          committed.push({ id: r.body.id, database: r.database });
        else if (r.status === 503 && r.body.refused)
          refused[r.body.code ?? '?'] = (refused[r.body.code ?? '?'] ?? 0) + 1;
        else unexpected.push(`${r.status} ${r.release} ${r.database}: ${JSON.stringify(r.body)}`);
      } catch (error) {
        unexpected.push(`request: ${(error as Error).message}`);
      }
      // Pace the writers (load shape, not synchronisation).
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const running = Array.from({ length: count }, loop);
  return {
    committed,
    refused,
    unexpected,
    async end() {
      stop = true;
      await Promise.all(running);
    },
  };
}

/** Replication state left on either server, the clone database, and whether live is read-only. */
async function leftovers(s: Setup) {
  const replicas = async (server: MariadbServer) => (await server.query('show all slaves status')).length;
  const users = async (server: MariadbServer) =>
    (await server.query("select 1 from mysql.user where user like 'maint\\_repl%'")).length;
  return {
    replicas: (await replicas(live)) + (await replicas(clone)),
    replicationUsers: (await users(live)) + (await users(clone)),
    clone: (await clone.query('select 1 from information_schema.schemata where schema_name = ?', [s.name]))
      .length,
    liveReadOnly: Number((await live.query<{ ro: number }>('select @@global.read_only as ro'))[0]!.ro),
  };
}

/**
 * For a failing read assertion: the demo servers' logs and HAProxy's own counters (failed and
 * down checks, 5xx answers per server, 503s of the backend with no server up).
 */
async function diagnostics(): Promise<string> {
  const csv = await runtimeCommand(rig!.runtimeApi, 'show stat');
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const cols = lines[0]!.replace(/^# /, '').split(',');
  const keep = ['svname', 'status', 'chkfail', 'chkdown', 'downtime', 'hrsp_5xx', 'eresp', 'econ'];
  const rows = lines
    .slice(1)
    .map((l) => l.split(','))
    .filter((f) => f[cols.indexOf('pxname')] === 'app')
    .map((f) => keep.map((k) => `${k}=${f[cols.indexOf(k)] ?? ''}`).join(' '));
  return `${await rig!.logs()}\n== haproxy\n${rows.join('\n')}`;
}

/** What every response through the load balancer names now: `release@database`. */
async function serving(url: string, count = 20): Promise<string[]> {
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const r = await call(url);
    seen.add(`${r.status} ${r.release}@${r.database}`);
  }
  return [...seen].sort();
}

/**
 * Once the clone is migrated (its last statement, the index, exists), every row of items is
 * locked on it: the replica blocks on the next replicated UPDATE, so the catch-up (and the
 * freeze) cannot end. Row locks block neither ANALYZE nor the new fleet's reads.
 */
async function stallCatchUp(s: Setup): Promise<Connection> {
  await waitFor(
    'the migrated clone',
    async () => {
      const index = await clone.query(
        "select 1 from information_schema.statistics where table_schema = ? and index_name = 'items_v'",
        [s.name],
      );
      return index.length > 0 ? true : undefined;
    },
    60_000,
  );
  const blocker = await clone.connect(s.name);
  blocker.on('error', () => undefined);
  await blocker.query('start transaction');
  await blocker.query('select id from items for update');
  return blocker;
}

/** The old fleet still serves the live database, the new servers are out. */
async function oldFleetServes(s: Setup): Promise<void> {
  expect(await serving(rig!.url)).toEqual([`200 v1@${s.name}`]);
  const stat = new Map((await rig!.stat()).map((x) => [x.server, x.status]));
  expect([stat.get('web1'), stat.get('web2'), stat.get('web3'), stat.get('web4')]).toEqual([
    'UP',
    'UP',
    'MAINT',
    'MAINT',
  ]);
}

const SUM = (cols: string) =>
  `select count(*) as n, md5(group_concat(concat_ws(':', ${cols}) order by id separator ',')) as sum from `;

async function hashed(server: MariadbServer, database: string, sql: string) {
  const conn = await server.connect(database);
  try {
    await conn.query('set session group_concat_max_len = 1073741824');
    const [rows] = await conn.query(sql);
    return rows;
  } finally {
    await conn.end();
  }
}

interface Freeze {
  totalMs: number;
  phases: Array<{ name: string; ms: number }>;
}

describe('clone-freeze method replica, two private MariaDB servers, blue-green HAProxy fleet', () => {
  it('under live reads and writes: the new fleet serves from the migrated clone, 0 failed reads, no write lost', async () => {
    const s = await setup();
    const url = rig!.url;
    expect(await serving(url)).toEqual([`200 v1@${s.name}`]);
    const reads = rig!.load(150, 4);
    const w = writers(url);
    await waitFor('some writes', async () => (w.committed.length > 30 ? true : undefined));
    const r = await runCli(['run', s.plan, '--json'], s.env);
    const before = w.committed.length;
    await waitFor('writes after the run', async () => (w.committed.length > before + 30 ? true : undefined));
    await w.end();
    const measured = await reads.stop();
    expect(r.code, `${r.stderr}\n${r.stdout}\n${await rig!.logs()}`).toBe(0);
    const out = json<{
      status: string;
      applied: string[];
      steps: Array<{ name: string; detail?: { freeze?: Freeze; databaseUrl?: string; next?: string } }>;
      freeze: Freeze;
      databaseUrl: string;
    }>(r);
    expect(out.status).toBe('completed');
    expect(out.applied).toEqual(['002_note']);
    expect(out.steps.map((x) => x.name)).toEqual([
      'lock',
      'clone:prepare',
      'clone:migrate',
      'clone:analyze',
      'fleet:warm',
      'clone:cutover',
      'fleet:shift',
    ]);
    const shift = out.steps.find((x) => x.name === 'fleet:shift')!.detail!;
    expect(shift.freeze!.phases.map((p) => p.name)).toEqual([
      'freeze on',
      'in-flight drained',
      'caught up',
      'finalized',
      'traffic shifted',
    ]);
    expect(out.freeze).toEqual(shift.freeze);
    expect(out.freeze.totalMs).toBeGreaterThanOrEqual(
      out.freeze.phases.reduce((sum, p) => sum + p.ms, 0) - out.freeze.phases.length,
    );
    expect(out.databaseUrl).toBe(clone.url(s.name, 'maint', '***'));
    expect(shift.next).toMatch(/database\.url still names the old database/);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    const [journal] = await live.query<{ n: number }>(
      `select (select count(*) from maint_runs where concat_ws(',', run_id, state, error, note, notifications) like ?)
            + (select count(*) from maint_run_steps where concat_ws(',', name, detail) like ?) as n`,
      [`%${PASSWORD}%`, `%${PASSWORD}%`],
      s.name,
    );
    expect(Number(journal!.n)).toBe(0);
    console.log(
      `freeze ${out.freeze.totalMs} ms ${JSON.stringify(out.freeze.phases)}; reads ${measured.requests} (p99 ${measured.p99Ms} ms), writes committed ${w.committed.length}, refused ${JSON.stringify(w.refused)}`,
    );

    // Reads never failed; every write committed or was refused by read_only (1290), none otherwise.
    expect({ non2xx: measured.non2xx, socketErrors: measured.socketErrors }, await diagnostics()).toEqual({
      non2xx: 0,
      socketErrors: 0,
    });
    expect(measured.requests).toBeGreaterThan(200);
    expect(w.unexpected).toEqual([]);
    expect(Object.keys(w.refused).every((code) => code === '1290')).toBe(true);
    expect(Object.values(w.refused).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // Every committed write is in the clone: those on the old database before the freeze, and
    // those the new fleet made on the clone after the shift (same database name, other server).
    const onClone = new Set(
      (await clone.query<{ id: number }>('select id from events', [], s.name)).map((x) => Number(x.id)),
    );
    expect(w.committed.filter((c) => !onClone.has(c.id))).toEqual([]);
    expect(w.committed.some((c) => c.id > 0)).toBe(true);
    const [{ max }] = (await live.query<{ max: number }>(
      'select max(id) as max from events',
      [],
      s.name,
    )) as [{ max: number }];
    const events = `${SUM('id, item, at')} (select id, item, at from events where id <= ${Number(max)}) t`;
    expect(await hashed(clone, s.name, events)).toEqual(await hashed(live, s.name, events));
    const items = (delta: string) =>
      `${SUM('id, v, payload')} (select i.id, i.v - ${delta} as v, i.payload from items i left join (select item, count(*) as k from events where id > ${Number(max)} group by item) d on d.item = i.id) t`;
    expect(await hashed(clone, s.name, items('coalesce(d.k, 0)'))).toEqual(
      await hashed(live, s.name, items('0')),
    );
    // The new fleet's writes went to the clone, whose AUTO_INCREMENT is above every id.
    expect(new Set(w.committed.map((c) => c.database))).toEqual(new Set([s.name]));
    expect(w.committed.some((c) => c.id > Number(max))).toBe(true);
    for (const table of ['items', 'events']) {
      const [a] = await clone.query<{ next: number; max: number }>(
        `select (select auto_increment from information_schema.tables where table_schema = ? and table_name = ?) as next, (select max(id) from ${s.name}.${table}) as max`,
        [s.name, table],
      );
      expect(Number(a!.next)).toBeGreaterThanOrEqual(Number(a!.max) + 1);
    }
    // The clone is migrated; the new fleet serves from it; the old fleet is out and stopped.
    expect((await clone.query<{ note: string }>('select note from items limit 1', [], s.name))[0]!.note).toBe(
      'migrated',
    );
    const after = await serving(url);
    expect(after).toEqual([`200 v2@${s.name}`]);
    const stat = new Map((await rig!.stat()).map((x) => [x.server, x.status]));
    expect([stat.get('web1'), stat.get('web2')]).toEqual(['MAINT', 'MAINT']);
    expect([stat.get('web3'), stat.get('web4')]).toEqual(['UP', 'UP']);
    // The new servers really use the clone server: a write now lands there, not on live.
    const probe = await call(`${url}write`, 'POST');
    expect(probe.status).toBe(200);
    expect(await clone.query('select 1 from events where id = ?', [probe.body.id], s.name)).toHaveLength(1);
    expect(await live.query('select 1 from events where id = ?', [probe.body.id], s.name)).toHaveLength(0);
    // The old database stays frozen (read-only), like PostgreSQL's; no replication left anywhere.
    expect(await leftovers(s)).toEqual({ replicas: 0, replicationUsers: 0, clone: 1, liveReadOnly: 1 });
  }, 240_000);

  it('without a fleet: the clone is final, the result names it, the live server stays read-only', async () => {
    const name = `live${++n}`;
    await live.query(`create database ${name}`);
    await live.query(`grant select, insert, update, delete on ${name}.* to app@'%'`);
    const env = {
      LIVE_URL: live.url(name, 'maint', PASSWORD),
      CLONE_URL: clone.url(name, 'maint', PASSWORD),
    };
    const files = {
      name: `clone-mariadb-${name}`,
      engine: 'mysql' as const,
      url: '${LIVE_URL}',
      banner: false,
      migrations: { '001_base.sql': BASE },
    };
    const written = await writePlan(files);
    expect((await runCli(['migrate', written.file, '--json'], env)).code).toBe(0);
    await writePlan(
      {
        ...files,
        migrations: { '001_base.sql': BASE, '002_note.sql': MIGRATE },
        extra: `strategy:\n  kind: clone-freeze\n  clone:\n    method: replica\n    url: \${CLONE_URL}\n  freeze:\n    grace: 500ms\n    maxDuration: 10s\n`,
      },
      written.dir,
    );
    // One writer as the application user, straight to the live server.
    const app = await live.connect(name, 'app');
    const outcome = { committed: [] as number[], refused: 0, other: [] as string[] };
    let stop = false;
    const writer = (async () => {
      while (!stop) {
        try {
          const [r] = await app.query('insert into events (item) values (1)');
          outcome.committed.push((r as { insertId: number }).insertId);
        } catch (error) {
          if ((error as { errno?: number }).errno === 1290) outcome.refused++;
          else outcome.other.push((error as Error).message);
        }
        // Pace the writer (load shape, not synchronisation).
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    try {
      const r = await runCli(['run', written.file, '--json'], env);
      await waitFor('writes refused after the freeze', async () => (outcome.refused > 5 ? true : undefined));
      stop = true;
      await writer;
      expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0);
      const out = json<{
        status: string;
        steps: Array<{ name: string }>;
        freeze: Freeze;
        databaseUrl: string;
      }>(r);
      expect(out.steps.map((x) => x.name)).toEqual([
        'lock',
        'clone:prepare',
        'clone:migrate',
        'clone:analyze',
        'clone:cutover',
      ]);
      expect(out.freeze.phases.map((p) => p.name)).toEqual([
        'freeze on',
        'in-flight drained',
        'caught up',
        'finalized',
      ]);
      expect(out.databaseUrl).toBe(clone.url(name, 'maint', '***'));
      expect(r.stdout + r.stderr).not.toContain(PASSWORD);
      expect(outcome.other).toEqual([]);
      const onClone = new Set(
        (await clone.query<{ id: number }>('select id from events', [], name)).map((x) => Number(x.id)),
      );
      expect(outcome.committed.length).toBeGreaterThan(0);
      expect(outcome.committed.filter((id) => !onClone.has(id))).toEqual([]);
      expect(onClone.size).toBe(outcome.committed.length);
      expect(await leftovers({ name, plan: '', env: {} })).toEqual({
        replicas: 0,
        replicationUsers: 0,
        clone: 1,
        liveReadOnly: 1,
      });
    } finally {
      stop = true;
      await writer;
      await app.end();
    }
  }, 120_000);

  it('a migration that fails on the clone: rolled back before any freeze, live writable, clone and replication gone', async () => {
    const s = await setup({ migration: FAILING });
    const url = rig!.url;
    const reads = rig!.load(150, 4);
    const w = writers(url);
    await waitFor('some writes', async () => (w.committed.length > 30 ? true : undefined));
    const r = await runCli(['run', s.plan, '--json'], s.env);
    const before = w.committed.length;
    await waitFor('writes after the run', async () => (w.committed.length > before + 20 ? true : undefined));
    await w.end();
    const measured = await reads.stop();
    expect(r.code, `${r.stderr}\n${r.stdout}\n${await rig!.logs()}`).toBe(5);
    const out = json<{ status: string; steps: Array<{ name: string; status: string }> }>(r);
    expect(out.status).toBe('rolled_back');
    expect(out.steps.map((x) => `${x.name}:${x.status}`)).toEqual([
      'lock:rolled_back',
      'clone:prepare:rolled_back',
      'clone:migrate:rolled_back',
      'clone:analyze:skipped',
      'fleet:warm:skipped',
      'clone:cutover:skipped',
      'fleet:shift:skipped',
    ]);
    expect({ non2xx: measured.non2xx, socketErrors: measured.socketErrors }, await diagnostics()).toEqual({
      non2xx: 0,
      socketErrors: 0,
    });
    expect(w.unexpected).toEqual([]);
    expect(w.refused).toEqual({});
    const onLive = new Set(
      (await live.query<{ id: number }>('select id from events', [], s.name)).map((x) => Number(x.id)),
    );
    expect(w.committed.filter((c) => !onLive.has(c.id))).toEqual([]);
    expect(await leftovers(s)).toEqual({ replicas: 0, replicationUsers: 0, clone: 0, liveReadOnly: 0 });
    await oldFleetServes(s);
  }, 240_000);

  it('the freeze passes maxDuration: unfrozen, the new fleet stopped, clone and replication gone, the old fleet served throughout', async () => {
    const s = await setup({ freeze: '    grace: 500ms\n    maxDuration: 3s\n' });
    const url = rig!.url;
    const reads = rig!.load(150, 4);
    const w = writers(url);
    await waitFor('some writes', async () => (w.committed.length > 30 ? true : undefined));
    const run = startCli(['run', s.plan, '--json'], s.env);
    const blocker = await stallCatchUp(s);
    const r = await run.done;
    await blocker.end().catch(() => undefined);
    const before = w.committed.length;
    await waitFor('writes after the rollback', async () =>
      w.committed.length > before + 20 ? true : undefined,
    );
    await w.end();
    const measured = await reads.stop();
    expect(r.code, `${r.stderr}\n${r.stdout}\n${await rig!.logs()}`).toBe(5);
    const out = json<{
      status: string;
      error: { message: string };
      steps: Array<{ name: string; status: string }>;
    }>(r);
    expect(out.status).toBe('rolled_back');
    expect(out.error.message).toMatch(/clone:cutover/);
    expect(out.steps.map((x) => `${x.name}:${x.status}`)).toEqual([
      'lock:rolled_back',
      'clone:prepare:rolled_back',
      'clone:migrate:rolled_back',
      'clone:analyze:rolled_back',
      'fleet:warm:rolled_back',
      'clone:cutover:rolled_back',
      'fleet:shift:skipped',
    ]);
    expect({ non2xx: measured.non2xx, socketErrors: measured.socketErrors }, await diagnostics()).toEqual({
      non2xx: 0,
      socketErrors: 0,
    });
    // Refused during the freeze, never lost.
    expect(w.unexpected).toEqual([]);
    expect(Object.keys(w.refused)).toEqual(['1290']);
    const onLive = new Set(
      (await live.query<{ id: number }>('select id from events', [], s.name)).map((x) => Number(x.id)),
    );
    expect(w.committed.filter((c) => !onLive.has(c.id))).toEqual([]);
    expect(await leftovers(s)).toEqual({ replicas: 0, replicationUsers: 0, clone: 0, liveReadOnly: 0 });
    await oldFleetServes(s);
  }, 240_000);

  it('kill -9 mid-freeze, then a re-run: the freeze is undone (not resumed), the new fleet stopped, the old one served throughout', async () => {
    const s = await setup({ freeze: '    grace: 500ms\n    maxDuration: 60s\n' });
    const url = rig!.url;
    const reads = rig!.load(150, 4);
    const w = writers(url);
    await waitFor('some writes', async () => (w.committed.length > 30 ? true : undefined));
    const run = startCli(['run', s.plan, '--json'], s.env);
    const blocker = await stallCatchUp(s);
    await waitFor('the freeze', async () => ((await leftovers(s)).liveReadOnly === 1 ? true : undefined));
    run.child.kill('SIGKILL');
    await run.done;
    await blocker.end().catch(() => undefined);
    expect((await leftovers(s)).liveReadOnly).toBe(1);
    const again = await runCli(['run', s.plan, '--json'], s.env);
    const before = w.committed.length;
    await waitFor('writes after the rollback', async () =>
      w.committed.length > before + 20 ? true : undefined,
    );
    await w.end();
    const measured = await reads.stop();
    expect(again.code, `${again.stderr}\n${again.stdout}\n${await rig!.logs()}`).toBe(5);
    expect(json<{ error: { code: string } }>(again).error.code).toBe('CLONE_FREEZE_INTERRUPTED');
    expect({ non2xx: measured.non2xx, socketErrors: measured.socketErrors }, await diagnostics()).toEqual({
      non2xx: 0,
      socketErrors: 0,
    });
    expect(w.unexpected).toEqual([]);
    const onLive = new Set(
      (await live.query<{ id: number }>('select id from events', [], s.name)).map((x) => Number(x.id)),
    );
    expect(w.committed.filter((c) => !onLive.has(c.id))).toEqual([]);
    expect(await leftovers(s)).toEqual({ replicas: 0, replicationUsers: 0, clone: 0, liveReadOnly: 0 });
    await oldFleetServes(s);
  }, 240_000);

  it('preflight on the machine MariaDB (binary log off): exit 2, nothing created', async () => {
    const db = await freshMysql();
    try {
      const written = await writePlan({
        name: 'clone-mariadb-binlog-off',
        engine: 'mysql',
        url: db.url,
        banner: false,
        migrations: { '001_base.sql': 'create table t (id int primary key) engine=InnoDB;' },
        extra: `strategy:\n  kind: clone-freeze\n  clone:\n    method: replica\n    url: ${clone.url('binlog_off_clone', 'maint', PASSWORD)}\n`,
      });
      const r = await runCli(['run', written.file, '--json']);
      expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(2);
      const out = json<{ error: { code: string; message: string; hint: string } }>(r);
      expect(out.error.code).toBe('CLONE_PREFLIGHT');
      expect(out.error.message).toMatch(/binary log is off on the live server \(log_bin = 0\)/);
      expect(out.error.hint).toMatch(/nothing was changed/);
      expect(r.stdout + r.stderr).not.toContain(PASSWORD);
      expect(
        await clone.query("select 1 from information_schema.schemata where schema_name = 'binlog_off_clone'"),
      ).toHaveLength(0);
      expect(await clone.query('show all slaves status')).toHaveLength(0);
      const admin = await import('mysql2/promise').then((m) => m.createConnection({ uri: db.url }));
      try {
        const [tables] = await admin.query('show tables');
        expect(tables).toEqual([]);
        const [users] = await admin.query("select 1 from mysql.user where user like 'maint\\_repl%'");
        expect(users).toEqual([]);
      } finally {
        await admin.end();
      }
    } finally {
      await db.drop();
    }
  }, 60_000);

  it('preflight on a private server: a table without a primary key and an app user with READ_ONLY ADMIN, both listed; exit 2, nothing created', async () => {
    const name = `live${++n}`;
    await live.query(`create database ${name}`);
    await live.query(`create table ${name}.nokey (v int) engine=InnoDB`);
    await live.query(`create table ${name}.keyed (id int primary key) engine=InnoDB`);
    await live.query(`create user ro_app@'%'`);
    try {
      await live.query(`grant select, insert, update, delete on ${name}.* to ro_app@'%'`);
      await live.query(`grant read_only admin on *.* to ro_app@'%'`);
      const written = await writePlan({
        name: `clone-mariadb-${name}`,
        engine: 'mysql',
        url: live.url(name, 'maint', PASSWORD),
        banner: false,
        migrations: { '001_x.sql': 'create table x (id int primary key) engine=InnoDB;' },
        extra: `strategy:\n  kind: clone-freeze\n  clone:\n    method: replica\n    url: ${clone.url(name, 'maint', PASSWORD)}\n`,
      });
      const r = await runCli(['run', written.file, '--json']);
      expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(2);
      const out = json<{ error: { code: string; message: string } }>(r);
      expect(out.error.code).toBe('CLONE_PREFLIGHT');
      expect(out.error.message).toMatch(/tables without a primary key: nokey \(/);
      expect(out.error.message).not.toMatch(/keyed/);
      expect(out.error.message).toMatch(
        /application user ro_app holds READ_ONLY ADMIN: it bypasses read_only/,
      );
      expect(out.error.message).not.toMatch(/binary log/);
      expect(r.stdout + r.stderr).not.toContain(PASSWORD);
      expect(
        await clone.query('select 1 from information_schema.schemata where schema_name = ?', [name]),
      ).toHaveLength(0);
      expect(await clone.query('show all slaves status')).toHaveLength(0);
      expect(await live.query("select 1 from mysql.user where user like 'maint\\_repl%'")).toHaveLength(0);
      expect(
        (
          await live.query<{ t: string }>(
            `select table_name as t from information_schema.tables where table_schema = ? order by 1`,
            [name],
          )
        ).map((x) => x.t),
      ).toEqual(['keyed', 'nokey']);
      expect(Number((await live.query<{ ro: number }>('select @@global.read_only as ro'))[0]!.ro)).toBe(0);

      // A clone URL on the live server itself (same server_id) naming a database maint did not make.
      await live.query(`create database ${name}_theirs`);
      const same = await writePlan(
        {
          name: `clone-mariadb-${name}-same`,
          engine: 'mysql',
          url: live.url(name, 'maint', PASSWORD),
          banner: false,
          migrations: { '001_x.sql': 'create table x (id int primary key) engine=InnoDB;' },
          extra: `strategy:\n  kind: clone-freeze\n  clone:\n    method: replica\n    url: ${live.url(`${name}_theirs`, 'maint', PASSWORD)}\n`,
        },
        written.dir,
      );
      const r2 = await runCli(['run', same.file, '--json']);
      expect(r2.code, `${r2.stderr}\n${r2.stdout}`).toBe(2);
      const message = json<{ error: { code: string; message: string } }>(r2).error.message;
      expect(message).toMatch(/the same server_id \(101\)/);
      expect(message).toMatch(new RegExp(`already has a database ${name}_theirs \\(not one maint made\\)`));
      expect(await live.query('show all slaves status')).toHaveLength(0);
    } finally {
      await live.query(`drop user if exists ro_app@'%'`);
      await live.query(`drop database if exists ${name}_theirs`);
    }
  }, 60_000);
});
