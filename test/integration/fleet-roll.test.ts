/**
 * Acceptance 1 of the fleet roll: a real HAProxy, three (then two) demo servers, wrk load. Ten
 * consecutive `maint run`s migrate and roll rolling, then ten blue-green, each under ≥ 5k
 * requests: 0 non-2xx, 0 socket errors, and afterwards every response names the new release.
 * A negative control on the same rig (a server SIGKILLed without draining) must show failures.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { fleetYaml, startRig, type LoadResult, type Rig } from '../helpers/fleet-rig.js';
import { json, runCli, writePlan, type WrittenPlan } from '../helpers/run-cli.js';

const ROLLS = 10;
const hourAgo = () => String((new Date().getUTCHours() + 23) % 24).padStart(2, '0');

let rig: Rig;
let db: FreshDatabase;
let serving = 'v1';
let migration = 0;

beforeAll(async () => {
  db = await freshPostgres();
  rig = await startRig({ active: 3, spare: 2, release: 'v1' });
}, 60_000);

afterAll(async () => {
  await rig?.stop();
  await db?.drop();
});

async function plan(mode: string): Promise<WrittenPlan> {
  return writePlan({
    engine: 'postgres',
    url: db.url,
    migrations: {},
    banner: false,
    window: `  timezone: UTC\n  days: [daily]\n  start: "${hourAgo()}:00"\n  duration: 24h`,
    extra: `release: \${RELEASE}\n${fleetYaml(rig, mode)}`,
  });
}

interface Roll {
  release: string;
  load: LoadResult;
  result: Record<string, unknown>;
  ms: number;
}

/** One `maint run` under load: a new migration and a new release. */
async function roll(p: WrittenPlan, release: string): Promise<Roll> {
  migration++;
  const n = String(migration).padStart(3, '0');
  await writeFile(
    path.join(p.migrationsDir, `${n}_col.sql`),
    `create table if not exists t (id int);\nalter table t add column c${n} int;`,
  );
  await writeFile(path.join(p.migrationsDir, `${n}_col.down.sql`), `alter table t drop column c${n};`);
  const load = rig.load();
  await new Promise((r) => setTimeout(r, 300)); // the load runs before maint starts
  const started = Date.now();
  const r = await runCli(['run', p.file, '--json'], { ...rig.env, RELEASE: release });
  const ms = Date.now() - started;
  await new Promise((r) => setTimeout(r, 200)); // and goes on after it ended
  const measured = await load.stop();
  const result = json(r);
  expect(r.code, `${r.stderr}\n${await rig.logs()}`).toBe(0);
  serving = release;
  return { release, load: measured, result, ms };
}

function expectClean(rolls: Roll[]): void {
  for (const r of rolls) {
    expect(r.load.requests, `${r.release}: requests`).toBeGreaterThanOrEqual(5000);
    expect({ release: r.release, non2xx: r.load.non2xx, socketErrors: r.load.socketErrors }).toEqual({
      release: r.release,
      non2xx: 0,
      socketErrors: 0,
    });
  }
}

async function expectEveryResponse(release: string): Promise<void> {
  const seen = await rig.sample(30);
  expect([...seen.keys()]).toEqual([`200:${release}`]);
}

describe('fleet roll: HAProxy under wrk load', () => {
  it('rolls rolling ten times with 0 failed requests; servers restarted without a drain fail requests', async () => {
    const p = await plan('  mode: rolling\n  batch: 1');
    const rolls: Roll[] = [];
    for (let i = 0; i < ROLLS; i++) {
      const r = await roll(p, `v${i + 2}`);
      rolls.push(r);
      await expectEveryResponse(r.release);
    }
    expectClean(rolls);
    const step = (rolls[0]!.result.steps as Array<{ name: string; detail: Record<string, unknown> }>).find(
      (s) => s.name === 'fleet:roll',
    )!;
    const batches = step.detail.batches as Array<Record<string, unknown>>;
    expect(batches.map((b) => b.members)).toEqual([['web1'], ['web2'], ['web3']]);
    for (const b of batches)
      expect(b).toMatchObject({
        healthyMs: expect.any(Number),
        shiftedMs: expect.any(Number),
        drainedMs: expect.any(Number),
      });
    console.log(
      'rolling:',
      rolls.map((r) => `${r.release} ${r.load.requests} req ${r.ms} ms p99 ${r.load.p99Ms} ms`).join('; '),
    );

    // Negative control: the same rig and load see failures when servers are stopped without a
    // drain (a naive restart: each server killed and started again). One killed server alone
    // can go unseen when no request happens to be in flight on it at that instant (a quiet CI
    // runner saw 0 of 4358), so it restarts the three servers one after another, three times over.
    const load = rig.load();
    await new Promise((r) => setTimeout(r, 500));
    for (let pass = 0; pass < 3; pass++) {
      for (const s of ['web1', 'web2', 'web3']) {
        await rig.killServer(s);
        await rig.startServer(s, serving);
        await new Promise((r) => setTimeout(r, 300));
      }
      await rig.waitServing(['web1', 'web2', 'web3']);
    }
    const failed = await load.stop();
    expect(failed.non2xx + failed.socketErrors, failed.raw).toBeGreaterThan(0);
    console.log(
      `negative control: ${failed.non2xx} non-2xx, ${failed.socketErrors} socket errors of ${failed.requests}`,
    );
  }, 600_000);

  it('rolls blue-green ten times with 0 failed requests, alternating sides', async () => {
    const p = await plan('  mode: blue-green\n  green: [web4, web5]');
    const rolls: Roll[] = [];
    for (let i = 0; i < ROLLS; i++) {
      const r = await roll(p, `b${i + 1}`);
      rolls.push(r);
      await expectEveryResponse(r.release);
      const inService = (await rig.stat()).filter((s) => s.status === 'UP').map((s) => s.server);
      expect(inService).toEqual(i % 2 === 0 ? ['web4', 'web5'] : ['web1', 'web2', 'web3']);
    }
    expectClean(rolls);
    console.log(
      'blue-green:',
      rolls.map((r) => `${r.release} ${r.load.requests} req ${r.ms} ms p99 ${r.load.p99Ms} ms`).join('; '),
    );
  }, 600_000);
});
