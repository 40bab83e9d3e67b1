/**
 * Acceptance 2 of the fleet roll, on the real HAProxy rig under wrk load: a release that never
 * becomes healthy, and one healthy on HAProxy's check but failing maint's probe, are rolled
 * back within healthTimeout with 0 failed requests, exit 5, the journal saying why, and every
 * response naming the previous release afterwards (rolling and blue-green). Then maint is
 * killed with SIGKILL mid-roll: the backend always keeps a server in service, and the next run
 * converges.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { fleetYaml, startRig, type Rig } from '../helpers/fleet-rig.js';
import { json, runCli, startCli, waitFor, writePlan, type WrittenPlan } from '../helpers/run-cli.js';

const HEALTH_TIMEOUT_MS = 6000;
const hourAgo = () => String((new Date().getUTCHours() + 23) % 24).padStart(2, '0');

let rig: Rig;
let db: FreshDatabase;
let sql: pg.Client;

beforeAll(async () => {
  db = await freshPostgres();
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  rig = await startRig({ active: 3, spare: 2, release: 'v2' });
}, 60_000);

afterAll(async () => {
  await rig?.stop();
  await sql?.end();
  await db?.drop();
});

async function plan(mode: string): Promise<WrittenPlan> {
  return writePlan({
    engine: 'postgres',
    url: db.url,
    migrations: { '001_t.sql': 'create table t (id int);', '001_t.down.sql': 'drop table t;' },
    banner: false,
    window: `  timezone: UTC\n  days: [daily]\n  start: "${hourAgo()}:00"\n  duration: 24h`,
    extra: `release: \${RELEASE}\n${fleetYaml(rig, mode).replace('healthTimeout: 15s', `healthTimeout: ${HEALTH_TIMEOUT_MS}ms`)}`,
  });
}

async function lastRun(): Promise<{
  status: string;
  error: { code: string; message: string } | null;
  state: Record<string, unknown>;
}> {
  const r = await sql.query('select status, error, state from maint_runs order by started_at desc limit 1');
  const row = r.rows[0] as { status: string; error: string | null; state: string | null };
  return {
    status: row.status,
    error: row.error ? JSON.parse(row.error) : null,
    state: JSON.parse(row.state ?? '{}'),
  };
}

async function expectEveryResponse(release: string): Promise<void> {
  const seen = await rig.sample(30);
  expect([...seen.keys()]).toEqual([`200:${release}`]);
}

async function failingRoll(p: WrittenPlan, release: string, serving: string) {
  const load = rig.load();
  await new Promise((r) => setTimeout(r, 300));
  const started = Date.now();
  const r = await runCli(['run', p.file, '--json'], { ...rig.env, RELEASE: release });
  const ms = Date.now() - started;
  const measured = await load.stop();
  expect(r.code, `${r.stderr}\n${await rig.logs()}`).toBe(5);
  const result = json<{ status: string; error: { code: string; message: string } }>(r);
  expect(result.status).toBe('rolled_back');
  expect(result.error.code).toBe('FLEET_UNHEALTHY');
  expect({ non2xx: measured.non2xx, socketErrors: measured.socketErrors }).toEqual({
    non2xx: 0,
    socketErrors: 0,
  });
  expect(measured.requests).toBeGreaterThan(1000);
  await expectEveryResponse(serving);
  const run = await lastRun();
  expect(run.status).toBe('rolled_back');
  expect(run.error?.code).toBe('FLEET_UNHEALTHY');
  expect(run.error?.message).toContain(release);
  expect(run.state.release).toMatchObject({ before: serving, after: serving });
  // The table the migration made was reverted with the rest of the run.
  expect((await sql.query("select to_regclass('t') as t")).rows[0].t).toBeNull();
  console.log(
    `${release}: rolled back in ${ms} ms, ${measured.requests} requests, 0 failed; ${run.error?.message}`,
  );
  return ms;
}

describe('fleet rollback: HAProxy under wrk load', () => {
  it('rolling: a never-healthy release and a probe-failing one are rolled back with 0 failed requests', async () => {
    const p = await plan('  mode: rolling');
    await failingRoll(p, 'v3-never', 'v2');
    await failingRoll(p, 'v3-noprobe', 'v2');
  }, 120_000);

  it('blue-green: the same two are rolled back before any traffic shifts, blue untouched', async () => {
    const p = await plan('  mode: blue-green\n  green: [web4, web5]');
    await failingRoll(p, 'v3-never', 'v2');
    await failingRoll(p, 'v3-noprobe', 'v2');
    const up = (await rig.stat()).filter((s) => s.status === 'UP').map((s) => s.server);
    expect(up).toEqual(['web1', 'web2', 'web3']);
  }, 120_000);

  it('a maint killed with SIGKILL mid-roll leaves a server in service, and the next run converges', async () => {
    const p = await plan('  mode: rolling');
    const load = rig.load();
    let minUp = Infinity;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const up = (await rig.stat()).filter((s) => s.status === 'UP').length;
        minUp = Math.min(minUp, up);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    let second: Awaited<ReturnType<typeof runCli>>;
    try {
      const first = startCli(['run', p.file, '--json'], { ...rig.env, RELEASE: 'v4' });
      let log = '';
      first.child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      // Second batch drained: web2 is out, about to be stopped and started on v4.
      await waitFor('the second batch to drain', async () =>
        /"msg":"batch 2 \(web2\) drained[^\n]*"code":"fleet\.batch\.drained"/.test(log) ? true : undefined,
      );
      first.child.kill('SIGKILL');
      const killed = await first.done;
      expect(killed.signal).toBe('SIGKILL');
      second = await runCli(['run', p.file, '--json'], { ...rig.env, RELEASE: 'v4' });
    } finally {
      watching = false;
      await watcher;
    }
    const measured = await load.stop();
    expect(second.code, `${second.stderr}\n${await rig.logs()}`).toBe(0);
    const result = json<{ status: string; recovered: { action: string } }>(second);
    expect(result.recovered.action).toBe('resumed');
    await expectEveryResponse('v4');
    expect(minUp).toBeGreaterThanOrEqual(1);
    expect({ non2xx: measured.non2xx, socketErrors: measured.socketErrors }).toEqual({
      non2xx: 0,
      socketErrors: 0,
    });
    const run = await lastRun();
    expect(run.status).toBe('completed');
    expect(run.state.release).toMatchObject({ before: 'v2', after: 'v4', lastMigration: '001_t' });
    console.log(
      `kill -9 mid-roll: resumed; min servers UP ${minUp}; ${measured.requests} requests, 0 failed`,
    );
  }, 120_000);
});
