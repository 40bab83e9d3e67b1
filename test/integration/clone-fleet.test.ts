/**
 * clone-freeze (PostgreSQL `logical`) with a blue-green fleet on the real HAProxy rig, on a
 * private cluster this file starts (initdb, wal_level=logical, its own port). The demo servers
 * talk to PostgreSQL as the application role: readers (wrk) and writers (a loop recording each
 * write's outcome) go through HAProxy while the built CLI runs. Happy path: the new fleet ends
 * serving from the migrated clone, 0 failed reads, no write lost. Failures before the shift:
 * the new fleet never gets healthy, the freeze passes maxDuration, and kill -9 mid-freeze then a
 * re-run; each ends as before (the old fleet never stopped serving). kill -9 between
 * clone:cutover and fleet:shift: the re-run resumes and shifts (the clone is final).
 */
import { Agent, request as httpRequest } from 'node:http';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fleetYaml, startRig, type Rig } from '../helpers/fleet-rig.js';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { json, runCli, startCli, waitFor, writePlan } from '../helpers/run-cli.js';

const PASSWORD = 's3cret-fleet-pw';
let cluster: PgCluster;
let rig: Rig | null = null;
let n = 0;

beforeAll(async () => {
  cluster = await startPgCluster();
  await cluster.query('create role app login');
}, 120_000);
afterEach(async () => {
  await rig?.stop();
  rig = null;
});
afterAll(async () => {
  await cluster?.stop();
});

const BASE = `create table items (id serial primary key, v integer not null default 0, payload text not null);
create table events (id bigserial primary key, item integer not null, at timestamptz not null default now());
insert into items (v, payload) select g % 7, md5(g::text) from generate_series(1, 5000) g;
grant select, insert, update, delete on items, events to app;
grant usage on all sequences in schema public to app;`;
const MIGRATE = `alter table items add column note text not null default 'migrated';
create index items_v on items (v);`;

interface Setup {
  name: string;
  cloneName: string;
  plan: string;
  env: Record<string, string>;
}

/** A live database migrated to the base schema, a rig whose blue servers use it, and the plan. */
async function setup(
  release: string,
  healthTimeout = '15s',
  freeze = '    grace: 1s\n    maxDuration: 20s\n',
): Promise<Setup> {
  const name = `live${++n}`;
  const cloneName = `${name}_copy`;
  await cluster.query(`create database ${name}`);
  const url = cluster.url(name, 'postgres', PASSWORD);
  const cloneUrl = cluster.url(cloneName, 'postgres', PASSWORD);
  const files = {
    name: `clone-fleet-${name}`,
    engine: 'postgres' as const,
    url: '${LIVE_URL}',
    banner: false,
    migrations: { '001_base.sql': BASE },
  };
  const written = await writePlan(files);
  const env = { LIVE_URL: url, CLONE_URL: cloneUrl, RELEASE: release, DEMO_DB_ROLE: 'app' };
  const m = await runCli(['migrate', written.file, '--json'], env);
  expect(m.code, m.stderr).toBe(0);
  rig = await startRig({
    active: 2,
    spare: 2,
    release: 'v1',
    serverEnv: { MAINT_DATABASE_URL: url, DEMO_DB_ROLE: 'app' },
  });
  await writePlan(
    {
      ...files,
      migrations: { '001_base.sql': BASE, '002_note.sql': MIGRATE },
      extra:
        `release: \${RELEASE}\nstrategy:\n  kind: clone-freeze\n  clone:\n    method: logical\n    url: \${CLONE_URL}\n  freeze:\n${freeze}` +
        fleetYaml(rig, '  mode: blue-green\n  green: [web3, web4]\n').replace(
          'healthTimeout: 15s',
          `healthTimeout: ${healthTimeout}`,
        ),
    },
    written.dir,
  );
  return { name, cloneName, plan: written.file, env: { ...rig.env, ...env } };
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

async function rows<T>(database: string, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await cluster.query(sql, params, database)).rows as T[];
}

async function leftovers(s: Setup) {
  const count = async (sql: string, params: unknown[] = [], db?: string) =>
    (await cluster.query(sql, params, db)).rows.length;
  return {
    slots: await count('select slot_name from pg_replication_slots'),
    publications: await count('select pubname from pg_publication', [], s.name),
    subscriptions: await count('select subname from pg_subscription'),
    clone: await count('select 1 from pg_database where datname = $1', [s.cloneName]),
    frozenSettings: await count(
      "select 1 from pg_db_role_setting s join pg_roles r on r.oid = s.setrole join pg_database d on d.oid = s.setdatabase where r.rolname = 'app' and d.datname = $1",
      [s.name],
    ),
  };
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
 * locked on it: the apply worker blocks on the next replicated UPDATE, so the catch-up (and the
 * freeze) cannot end. Row locks block neither ANALYZE nor the new fleet's reads.
 */
async function stallCatchUp(s: Setup): Promise<pg.Client> {
  await waitFor(
    'the migrated clone',
    async () => {
      const exists = (await cluster.query('select 1 from pg_database where datname = $1', [s.cloneName])).rows
        .length;
      if (!exists) return undefined;
      const index = await rows(s.cloneName, "select 1 from pg_indexes where indexname = 'items_v'");
      return index.length > 0 ? true : undefined;
    },
    60_000,
  );
  const blocker = new pg.Client({ connectionString: cluster.url(s.cloneName) });
  blocker.on('error', () => undefined);
  await blocker.connect();
  await blocker.query('begin');
  await blocker.query('select id from items for update');
  return blocker;
}

interface Freeze {
  totalMs: number;
  phases: Array<{ name: string; ms: number }>;
}

describe('clone-freeze with a blue-green HAProxy fleet, private cluster', () => {
  it('under live reads and writes: the new fleet serves from the migrated clone, 0 failed reads, no write lost', async () => {
    const s = await setup('v2');
    const url = rig!.url;
    expect(await serving(url)).toEqual([`200 v1@${s.name}`]);
    const reads = rig!.load(150, 4);
    const w = writers(url);
    await waitFor('some writes', async () => (w.committed.length > 30 ? true : undefined));
    const r = await runCli(['run', s.plan, '--json'], s.env);
    // A few more writes on the new fleet, then the load stops.
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
    expect(out.databaseUrl).toBe(cluster.url(s.cloneName, 'postgres', '***'));
    expect(shift.next).toMatch(/database\.url still names the old database/);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    const journal = await rows<{ n: number }>(
      s.name,
      `select (select count(*) from maint_runs r where r::text like '%' || $1 || '%')::int
            + (select count(*) from maint_run_steps s where s::text like '%' || $1 || '%')::int as n`,
      [PASSWORD],
    );
    expect(journal[0]).toEqual({ n: 0 });
    console.log(
      `freeze ${out.freeze.totalMs} ms ${JSON.stringify(out.freeze.phases)}; reads ${measured.requests} (p99 ${measured.p99Ms} ms), writes committed ${w.committed.length}, refused ${JSON.stringify(w.refused)}`,
    );

    // Reads never failed; every write committed or was refused by the freeze, none otherwise.
    expect({ non2xx: measured.non2xx, socketErrors: measured.socketErrors }, await rig!.logs()).toEqual({
      non2xx: 0,
      socketErrors: 0,
    });
    expect(measured.requests).toBeGreaterThan(200);
    expect(w.unexpected).toEqual([]);
    expect(Object.keys(w.refused).every((code) => code === '25006' || code === '42501')).toBe(true);
    expect(Object.values(w.refused).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // Every committed write is in the clone: those on the old database before the freeze, and
    // those the new fleet made on the clone after the shift.
    const onClone = new Set(
      (await rows<{ id: string }>(s.cloneName, 'select id from events')).map((x) => Number(x.id)),
    );
    expect(w.committed.filter((c) => !onClone.has(c.id))).toEqual([]);
    expect(new Set(w.committed.map((c) => c.database))).toEqual(new Set([s.name, s.cloneName]));
    // The clone is the old database at the freeze plus the new fleet's writes (ids above the
    // old database's last, sequences having moved up to it).
    const max = (await rows<{ max: string }>(s.name, 'select max(id)::text as max from events'))[0]!.max;
    const events = `select count(*)::text as n, md5(string_agg(t::text, ',' order by id)) as sum from (select id, item, at from events where id <= ${max}) t`;
    expect(await rows(s.cloneName, events)).toEqual(await rows(s.name, events));
    const items = (delta: string) =>
      `select count(*)::text as n, md5(string_agg(t::text, ',' order by id)) as sum from (select i.id, i.v - ${delta} as v, i.payload from items i left join (select item, count(*) as k from events where id > ${max} group by item) d on d.item = i.id) t`;
    expect(await rows(s.cloneName, items('coalesce(d.k, 0)'))).toEqual(await rows(s.name, items('0')));
    for (const [seq, table] of [
      ['events_id_seq', 'events'],
      ['items_id_seq', 'items'],
    ] as const) {
      const [q] = await rows<{ last: string; max: string }>(
        s.cloneName,
        `select (select last_value from ${seq})::text as last, (select max(id) from ${table})::text as max`,
      );
      expect(BigInt(q!.last)).toBeGreaterThanOrEqual(BigInt(q!.max));
    }
    // The clone is migrated; the new fleet serves from it; the old fleet is out and stopped.
    expect((await rows<{ note: string }>(s.cloneName, 'select note from items limit 1'))[0]!.note).toBe(
      'migrated',
    );
    expect(await serving(url)).toEqual([`200 v2@${s.cloneName}`]);
    const stat = new Map((await rig!.stat()).map((x) => [x.server, x.status]));
    expect([stat.get('web1'), stat.get('web2')]).toEqual(['MAINT', 'MAINT']);
    expect([stat.get('web3'), stat.get('web4')]).toEqual(['UP', 'UP']);
    expect(await leftovers(s)).toEqual({
      slots: 0,
      publications: 0,
      subscriptions: 0,
      clone: 1,
      frozenSettings: 1,
    });
  }, 240_000);

  it('the new fleet never gets healthy: rolled back before any freeze, the old fleet served throughout, clone and slots gone', async () => {
    const s = await setup('v2-never', '4s');
    const url = rig!.url;
    const reads = rig!.load(150, 4);
    const w = writers(url);
    await waitFor('some writes', async () => (w.committed.length > 30 ? true : undefined));
    const r = await runCli(['run', s.plan, '--json'], s.env);
    await w.end();
    const measured = await reads.stop();
    expect(r.code, `${r.stderr}\n${r.stdout}\n${await rig!.logs()}`).toBe(5);
    const out = json<{
      status: string;
      error: { code: string };
      steps: Array<{ name: string; status: string }>;
    }>(r);
    expect(out.status).toBe('rolled_back');
    expect(out.error.code).toBe('FLEET_UNHEALTHY');
    expect(out.steps.map((x) => `${x.name}:${x.status}`)).toEqual([
      'lock:rolled_back',
      'clone:prepare:rolled_back',
      'clone:migrate:rolled_back',
      'clone:analyze:rolled_back',
      'fleet:warm:rolled_back',
      'clone:cutover:skipped',
      'fleet:shift:skipped',
    ]);
    expect({ non2xx: measured.non2xx, socketErrors: measured.socketErrors }, await rig!.logs()).toEqual({
      non2xx: 0,
      socketErrors: 0,
    });
    expect(measured.requests).toBeGreaterThan(200);
    // Never frozen: no write refused, every one committed on the live database.
    expect(w.unexpected).toEqual([]);
    expect(w.refused).toEqual({});
    const onLive = new Set(
      (await rows<{ id: string }>(s.name, 'select id from events')).map((x) => Number(x.id)),
    );
    expect(w.committed.filter((c) => c.database !== s.name || !onLive.has(c.id))).toEqual([]);
    expect(await leftovers(s)).toEqual({
      slots: 0,
      publications: 0,
      subscriptions: 0,
      clone: 0,
      frozenSettings: 0,
    });
    expect(await serving(url)).toEqual([`200 v1@${s.name}`]);
    const stat = new Map((await rig!.stat()).map((x) => [x.server, x.status]));
    expect([stat.get('web1'), stat.get('web2'), stat.get('web3'), stat.get('web4')]).toEqual([
      'UP',
      'UP',
      'MAINT',
      'MAINT',
    ]);
  }, 240_000);

  it('the freeze passes maxDuration: unfrozen, the new fleet stopped, the clone and slots gone, the old fleet served throughout', async () => {
    const s = await setup('v2', '15s', '    grace: 500ms\n    maxDuration: 3s\n');
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
    expect({ non2xx: measured.non2xx, socketErrors: measured.socketErrors }, await rig!.logs()).toEqual({
      non2xx: 0,
      socketErrors: 0,
    });
    // Refused during the freeze (or, on a session the unfreeze ended, 57P01: loudly), never lost.
    expect(w.unexpected.filter((u) => !u.includes('"code":"57P01"'))).toEqual([]);
    expect(Object.values(w.refused).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const onLive = new Set(
      (await rows<{ id: string }>(s.name, 'select id from events')).map((x) => Number(x.id)),
    );
    expect(w.committed.filter((c) => c.database !== s.name || !onLive.has(c.id))).toEqual([]);
    expect(await leftovers(s)).toEqual({
      slots: 0,
      publications: 0,
      subscriptions: 0,
      clone: 0,
      frozenSettings: 0,
    });
    expect(await serving(url)).toEqual([`200 v1@${s.name}`]);
    const stat = new Map((await rig!.stat()).map((x) => [x.server, x.status]));
    expect([stat.get('web1'), stat.get('web2'), stat.get('web3'), stat.get('web4')]).toEqual([
      'UP',
      'UP',
      'MAINT',
      'MAINT',
    ]);
  }, 240_000);

  it('kill -9 after clone:cutover, before fleet:shift, then a re-run: resumed (it shifts), not undone', async () => {
    // A 60 s health gate: on a loaded runner green can take longer than 15 s to pass its checks.
    const s = await setup('v2', '60s');
    const url = rig!.url;
    const reads = rig!.load(150, 4);
    const w = writers(url);
    await waitFor('some writes', async () => (w.committed.length > 30 ? true : undefined));
    const run = startCli(['run', s.plan, '--json'], s.env);
    let ended: { code: number | null; stdout: string; stderr: string } | undefined;
    void run.done.then((r) => (ended = r));
    // fleet:shift (seq 6) is journaled before it acts: a row the test holds uncommitted under
    // the same key makes that journal write wait, so the process is stopped exactly between
    // the two steps (cutover journaled done, nothing of the shift begun).
    // Taken once fleet:warm runs: the replication slot exists by then (creating it waits for
    // open write transactions such as the holder's).
    let runId: string;
    let waiting: number;
    let holder: pg.Client;
    try {
      runId = await waitFor(
        'fleet:warm running',
        async () => {
          // A run that ended before fleet:warm is the failure to show, not a 120 s timeout.
          if (ended)
            throw new Error(
              `the run ended (exit ${ended.code}) before fleet:warm:\n${ended.stderr}\n${ended.stdout}`,
            );
          return (
            await rows<{ run_id: string }>(
              s.name,
              "select s.run_id from maint_run_steps s join maint_runs r using (run_id) where r.status = 'running' and s.name = 'fleet:warm'",
            ).catch(() => [])
          )[0]?.run_id;
        },
        120_000,
      );
      holder = new pg.Client({ connectionString: cluster.url(s.name) });
      holder.on('error', () => undefined);
      await holder.connect();
      await holder.query('begin');
      await holder.query(
        "insert into maint_run_steps (run_id, seq, name, status) values ($1, 6, 'fleet:shift', 'pending')",
        [runId],
      );
      waiting = await waitFor(
        'clone:cutover done and fleet:shift waiting to be journaled',
        async () => {
          const done = await rows(
            s.name,
            "select 1 from maint_run_steps where run_id = $1 and name = 'clone:cutover' and status = 'done'",
            [runId],
          );
          const blocked = await rows<{ pid: number }>(
            s.name,
            "select pid from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like '%maint_run_steps%'",
          );
          return done.length > 0 && blocked[0] ? blocked[0].pid : undefined;
        },
        120_000,
      );
    } catch (error) {
      run.child.kill('SIGKILL');
      await run.done;
      throw error;
    }
    run.child.kill('SIGKILL');
    const killed = await run.done;
    // The dead run's journal write must not land after it died.
    await cluster.query('select pg_terminate_backend($1)', [waiting]);
    await holder.query('rollback');
    await holder.end();
    expect(killed.signal).toBe('SIGKILL');
    expect(await leftovers(s)).toMatchObject({ slots: 0, subscriptions: 0, clone: 1, frozenSettings: 1 });
    expect(await serving(url)).toEqual([`200 v1@${s.name}`]);

    const again = await runCli(['run', s.plan, '--json'], s.env);
    const before = w.committed.length;
    await waitFor('writes after the shift', async () =>
      w.committed.length > before + 20 ? true : undefined,
    );
    await w.end();
    const measured = await reads.stop();
    expect(again.code, `${again.stderr}\n${again.stdout}\n${await rig!.logs()}`).toBe(0);
    const out = json<{
      status: string;
      recovered: { runId: string; action: string; reason: string };
      steps: Array<{ name: string; status: string; detail?: Record<string, unknown> }>;
      freeze: Freeze;
      databaseUrl: string;
    }>(again);
    expect(out.status).toBe('completed');
    expect(out.recovered).toMatchObject({ runId, action: 'resumed' });
    expect(out.recovered.reason).toMatch(/clone:cutover/);
    const byName = new Map(out.steps.map((x) => [x.name, x]));
    for (const name of ['clone:prepare', 'clone:migrate', 'clone:analyze', 'fleet:warm', 'clone:cutover'])
      expect(byName.get(name)!.detail, name).toMatchObject({ resumed: true });
    expect(byName.get('fleet:shift')!.detail).toMatchObject({ resumedAfterCutover: true });
    expect(out.freeze.phases.map((p) => p.name)).toEqual([
      'freeze on',
      'in-flight drained',
      'caught up',
      'finalized',
      'traffic shifted',
    ]);
    expect(out.databaseUrl).toBe(cluster.url(s.cloneName, 'postgres', '***'));
    // Reads never failed; writes were committed or refused (the freeze lasted through the kill).
    expect({ non2xx: measured.non2xx, socketErrors: measured.socketErrors }, await rig!.logs()).toEqual({
      non2xx: 0,
      socketErrors: 0,
    });
    expect(w.unexpected).toEqual([]);
    const onClone = new Set(
      (await rows<{ id: string }>(s.cloneName, 'select id from events')).map((x) => Number(x.id)),
    );
    expect(w.committed.filter((c) => !onClone.has(c.id))).toEqual([]);
    // The new fleet serves from the migrated clone, the old one is drained and stopped, the
    // live database stays frozen, no replication object is left.
    expect((await rows<{ note: string }>(s.cloneName, 'select note from items limit 1'))[0]!.note).toBe(
      'migrated',
    );
    expect(await serving(url)).toEqual([`200 v2@${s.cloneName}`]);
    const stat = new Map((await rig!.stat()).map((x) => [x.server, x.status]));
    expect([stat.get('web1'), stat.get('web2'), stat.get('web3'), stat.get('web4')]).toEqual([
      'MAINT',
      'MAINT',
      'UP',
      'UP',
    ]);
    expect(await leftovers(s)).toEqual({
      slots: 0,
      publications: 0,
      subscriptions: 0,
      clone: 1,
      frozenSettings: 1,
    });
  }, 300_000);

  it('kill -9 mid-freeze, then a re-run: the freeze is undone (not resumed), the new fleet stopped, the old one served throughout', async () => {
    // grace 2s: a read of the old fleet that began before the freeze and is still running after
    // the grace is ended (by design); on a loaded runner 500 ms was too short for some reads.
    const s = await setup('v2', '15s', '    grace: 2s\n    maxDuration: 60s\n');
    const url = rig!.url;
    const reads = rig!.load(150, 4);
    const w = writers(url);
    await waitFor('some writes', async () => (w.committed.length > 30 ? true : undefined));
    const run = startCli(['run', s.plan, '--json'], s.env);
    const blocker = await stallCatchUp(s);
    // The freeze begins once clone:analyze has sat out its catch-up bound (20 s, the apply is
    // stalled) and, with a fleet, the new fleet is warm: longer than waitFor's default on a busy runner.
    await waitFor(
      'the freeze',
      async () => ((await leftovers(s)).frozenSettings > 0 ? true : undefined),
      90_000,
    );
    run.child.kill('SIGKILL');
    await run.done;
    await blocker.end().catch(() => undefined);
    const again = await runCli(['run', s.plan, '--json'], s.env);
    const before = w.committed.length;
    await waitFor('writes after the rollback', async () =>
      w.committed.length > before + 20 ? true : undefined,
    );
    await w.end();
    const measured = await reads.stop();
    expect(again.code, `${again.stderr}\n${again.stdout}\n${await rig!.logs()}`).toBe(5);
    expect(json<{ error: { code: string } }>(again).error.code).toBe('CLONE_FREEZE_INTERRUPTED');
    expect({ non2xx: measured.non2xx, socketErrors: measured.socketErrors }, await rig!.logs()).toEqual({
      non2xx: 0,
      socketErrors: 0,
    });
    expect(w.unexpected.filter((u) => !u.includes('"code":"57P01"'))).toEqual([]);
    const onLive = new Set(
      (await rows<{ id: string }>(s.name, 'select id from events')).map((x) => Number(x.id)),
    );
    expect(w.committed.filter((c) => c.database !== s.name || !onLive.has(c.id))).toEqual([]);
    expect(await leftovers(s)).toEqual({
      slots: 0,
      publications: 0,
      subscriptions: 0,
      clone: 0,
      frozenSettings: 0,
    });
    expect(await serving(url)).toEqual([`200 v1@${s.name}`]);
    const stat = new Map((await rig!.stat()).map((x) => [x.server, x.status]));
    expect([stat.get('web1'), stat.get('web2'), stat.get('web3'), stat.get('web4')]).toEqual([
      'UP',
      'UP',
      'MAINT',
      'MAINT',
    ]);
  }, 240_000);
});
