/**
 * `maint run` (the built CLI, a real process) rolling an ECS service behind an ALB: the plan's
 * `fleet.endpoint` points the real SDK clients at the stateful fake (test/helpers/fake-aws.ts)
 * in this test process, the database is a fresh real PostgreSQL.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { FakeAws } from '../helpers/fake-aws.js';
import { json, runCli, startCli, waitFor, writePlan } from '../helpers/run-cli.js';

const MIGRATIONS = {
  '001_orders.sql': 'create table "orders" ("id" integer primary key);',
  '001_orders.down.sql': 'drop table "orders";',
};
const AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIDFAKE',
  AWS_SECRET_ACCESS_KEY: 'fake-secret-never-printed',
  AWS_EC2_METADATA_DISABLED: 'true',
};

interface Step {
  name: string;
  status: string;
  detail: Record<string, unknown>;
}

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

async function database(): Promise<FreshDatabase> {
  const db = await freshPostgres();
  cleanup.push(() => db.drop());
  return db;
}

async function tables(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query<{ t: string }>(
      "select table_name as t from information_schema.tables where table_schema = 'public' order by 1",
    );
    return r.rows.map((x) => x.t);
  } finally {
    await client.end();
  }
}

async function rig() {
  const fake = await FakeAws.start();
  cleanup.push(() => fake.close());
  const v1 = fake.registerTaskDefinition('app', 'registry.example/app:v1');
  const v2 = fake.registerTaskDefinition('app', 'registry.example/app:v2');
  const tg = fake.createTargetGroup('app');
  await fake.createService({
    cluster: 'prod',
    name: 'web',
    taskDefinition: v1,
    desiredCount: 3,
    targetGroupArn: tg,
  });
  return { fake, v1, v2, tg };
}

function fleetYaml(endpoint: string, taskDefinition: string, extra = ''): string {
  return [
    'release: ${RELEASE}',
    'fleet:',
    '  provider: ecs',
    '  region: eu-west-1',
    `  endpoint: ${endpoint}`,
    '  cluster: prod',
    '  service: web',
    `  taskDefinition: ${taskDefinition}`,
    '  healthTimeout: 30s',
    '  drainTimeout: 2s',
    '  pollInterval: 10ms',
    extra,
  ].join('\n');
}

describe('maint run with an ecs fleet', () => {
  it('an unreachable AWS endpoint is exit 2 before anything is changed', async () => {
    const db = await database();
    const { fake } = await rig();
    const closed = fake.url;
    await fake.close();
    const plan = await writePlan({
      engine: 'postgres',
      url: db.url,
      migrations: MIGRATIONS,
      extra: fleetYaml(closed, 'app:2'),
    });
    const r = await runCli(['run', plan.file, '--json'], { ...AWS_ENV, RELEASE: 'v2' });
    expect(r.code, r.stderr).toBe(2);
    const out = json<{ error: { code: string; message: string; hint: string } }>(r);
    expect(out.error.code).toBe('FLEET_UNREACHABLE');
    expect(out.error.message).toContain('nothing was changed');
    expect(out.error.hint).toContain('fleet.endpoint');
    expect(await tables(db.url)).toEqual([]);
    expect(`${r.stdout}${r.stderr}`).not.toContain('fake-secret-never-printed');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('no AWS credentials in the standard chain is exit 2 with a hint, nothing touched', async () => {
    const db = await database();
    const { fake } = await rig();
    const home = await mkdtemp(path.join(tmpdir(), 'maint-ecs-home-'));
    cleanup.push(() => rm(home, { recursive: true, force: true }));
    const plan = await writePlan({
      engine: 'postgres',
      url: db.url,
      migrations: MIGRATIONS,
      extra: fleetYaml(fake.url, 'app:2'),
    });
    const r = await runCli(['run', plan.file, '--json'], {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SESSION_TOKEN: '',
      AWS_PROFILE: '',
      AWS_EC2_METADATA_DISABLED: 'true',
      HOME: home,
      RELEASE: 'v2',
    });
    expect(r.code, r.stderr).toBe(2);
    expect(json<{ error: { code: string; hint: string } }>(r).error).toMatchObject({
      code: 'FLEET_AWS_CREDENTIALS',
      hint: expect.stringContaining('standard chain'),
    });
    expect(await tables(db.url)).toEqual([]);
    expect(fake.calls).toHaveLength(0);
  });

  it('a task definition of another release is exit 2 with the key path, nothing touched', async () => {
    const db = await database();
    const { fake } = await rig();
    const plan = await writePlan({
      engine: 'postgres',
      url: db.url,
      migrations: MIGRATIONS,
      extra: fleetYaml(fake.url, 'app:1'),
    });
    const r = await runCli(['run', plan.file, '--json'], { ...AWS_ENV, RELEASE: 'v2' });
    expect(r.code, r.stderr).toBe(2);
    const out = json<{ error: { code: string; message: string } }>(r);
    expect(out.error.code).toBe('FLEET_ECS_RELEASE_MISMATCH');
    expect(await tables(db.url)).toEqual([]);
    expect(fake.count('UpdateService')).toBe(0);
  });

  it('migrates, then rolls v1 → v2 (rolling); --json has the roll; maint plan reads v2 back', async () => {
    const db = await database();
    const { fake, v2, tg } = await rig();
    const plan = await writePlan({
      engine: 'postgres',
      url: db.url,
      migrations: MIGRATIONS,
      extra: fleetYaml(fake.url, 'app:2'),
    });
    fake.faults.throttle = 6;
    fake.faults.lagReads = 3;
    const r = await runCli(['run', plan.file, '--json'], { ...AWS_ENV, RELEASE: 'v2' });
    expect(r.code, r.stderr).toBe(0);
    const out = json<{ status: string; steps: Step[] }>(r);
    expect(out.status).toBe('completed');
    expect(await tables(db.url)).toContain('orders');
    const roll = out.steps.find((s) => s.name === 'fleet:roll')!;
    expect(roll.detail).toMatchObject({
      provider: 'ecs',
      mode: 'rolling',
      from: 'v1',
      to: 'v2',
      serving: 'v2',
    });
    expect((roll.detail.batches as Record<string, unknown>[])[0]).toMatchObject({
      healthyMs: expect.any(Number),
      drainedMs: expect.any(Number),
    });
    expect(fake.running('prod', 'web').map((t) => [t.taskDefinition, t.health])).toEqual([
      [v2, 'healthy'],
      [v2, 'healthy'],
      [v2, 'healthy'],
    ]);
    expect(fake.minHealthy.get(tg)).toBeGreaterThanOrEqual(3);
    expect(fake.calls.filter((c) => c.outcome === 'ThrottlingException')).toHaveLength(6);
    expect(`${r.stdout}${r.stderr}`).not.toContain('fake-secret-never-printed');

    // `maint plan` reads the fleet back: v2 serves, nothing left to roll.
    const preview = await runCli(['plan', plan.file, '--json'], { ...AWS_ENV, RELEASE: 'v2' });
    expect(json<{ fleet: Record<string, unknown> }>(preview).fleet).toMatchObject({
      mode: 'rolling',
      serving: 'v2',
      pending: false,
    });
  });

  it('a circuit-breaker trip is exit 5: the migration is rolled back and v1 serves, verified', async () => {
    const db = await database();
    const { fake, v1, tg } = await rig();
    const v3 = fake.registerTaskDefinition('app', 'registry.example/app:v3');
    fake.faults.crash.add(v3);
    const plan = await writePlan({
      engine: 'postgres',
      url: db.url,
      migrations: MIGRATIONS,
      extra: fleetYaml(fake.url, 'app:3'),
    });
    const r = await runCli(['run', plan.file, '--json'], { ...AWS_ENV, RELEASE: 'v3' });
    expect(r.code, r.stderr).toBe(5);
    const out = json<{ status: string; error: { code: string; message: string }; steps: Step[] }>(r);
    expect(out.error.code).toBe('FLEET_UNHEALTHY');
    expect(out.error.message).toContain('circuit breaker');
    const roll = out.steps.find((s) => s.name === 'fleet:roll')!;
    expect(roll.status).toBe('rolled_back');
    expect(fake.running('prod', 'web').map((t) => [t.taskDefinition, t.health])).toEqual([
      [v1, 'healthy'],
      [v1, 'healthy'],
      [v1, 'healthy'],
    ]);
    expect(fake.minHealthy.get(tg)).toBeGreaterThanOrEqual(3);
    expect(await tables(db.url)).not.toContain('orders');
  });

  it('blue-green through maint run: shifted, read back, the old side retired', async () => {
    const db = await database();
    const { fake, v1, v2, tg } = await rig();
    const green = fake.createTargetGroup('app-green');
    await fake.createService({
      cluster: 'prod',
      name: 'web-green',
      taskDefinition: v1,
      desiredCount: 0,
      targetGroupArn: green,
    });
    const rule = fake.createRule([
      { targetGroupArn: tg, weight: 100 },
      { targetGroupArn: green, weight: 0 },
    ]);
    const extra = fleetYaml(
      fake.url,
      'app:2',
      `  mode: blue-green\n  targetGroupArns: [${tg}]\n  greenService: web-green\n  greenTargetGroupArn: ${green}\n  listenerRuleArn: ${rule}`,
    );
    const plan = await writePlan({ engine: 'postgres', url: db.url, migrations: MIGRATIONS, extra });
    fake.faults.lagReads = 3;
    const r = await runCli(['run', plan.file, '--json'], { ...AWS_ENV, RELEASE: 'v2' });
    expect(r.code, r.stderr).toBe(0);
    expect(fake.weights(rule)).toEqual({ [tg]: 0, [green]: 100 });
    expect(fake.healthyTargets(green)).toEqual([v2, v2, v2]);
    expect(fake.service('prod', 'web').desiredCount).toBe(0);
    expect(fake.minHealthy.get(tg)).toBe(3);
    expect(fake.minHealthy.get(green)).toBe(3);
  });

  it('SIGKILL after the shift, before the read-back: the next run resumes and converges on v2', async () => {
    const db = await database();
    const { fake, v1, v2, tg } = await rig();
    const green = fake.createTargetGroup('app-green');
    await fake.createService({
      cluster: 'prod',
      name: 'web-green',
      taskDefinition: v1,
      desiredCount: 0,
      targetGroupArn: green,
    });
    const rule = fake.createRule([
      { targetGroupArn: tg, weight: 100 },
      { targetGroupArn: green, weight: 0 },
    ]);
    const extra = fleetYaml(
      fake.url,
      'app:2',
      `  mode: blue-green\n  targetGroupArns: [${tg}]\n  greenService: web-green\n  greenTargetGroupArn: ${green}\n  listenerRuleArn: ${rule}`,
    );
    const plan = await writePlan({ engine: 'postgres', url: db.url, migrations: MIGRATIONS, extra });
    // The first read of the rule after the write never comes back: maint is killed right there.
    fake.faults.hold = (action) => action === 'DescribeRules' && fake.count('ModifyRule') > 0;
    const first = startCli(['run', plan.file, '--json'], { ...AWS_ENV, RELEASE: 'v2' });
    await waitFor(
      'maint to hang on the read-back',
      () => Promise.resolve(fake.held > 0 ? true : undefined),
      120_000,
    );
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    fake.faults.hold = null;
    expect(fake.weights(rule)).toEqual({ [tg]: 0, [green]: 100 });
    expect(fake.service('prod', 'web').desiredCount).toBe(3); // blue still up: not retired yet

    const again = await runCli(['run', plan.file, '--json'], { ...AWS_ENV, RELEASE: 'v2' });
    expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
    expect(json<{ recovered: { action: string } | null }>(again).recovered).toMatchObject({
      action: 'resumed',
    });
    expect(fake.count('ModifyRule')).toBe(1); // the shift was not written twice
    expect(fake.weights(rule)).toEqual({ [tg]: 0, [green]: 100 });
    expect(fake.healthyTargets(green)).toEqual([v2, v2, v2]);
    expect(fake.service('prod', 'web').desiredCount).toBe(0);
    expect(fake.minHealthy.get(tg)).toBe(3);
    expect(fake.minHealthy.get(green)).toBe(3);
  });
});
