/**
 * The ecs provider against the stateful ECS + ELBv2 fake (test/helpers/fake-aws.ts) over HTTP:
 * the real SDK v3 clients serialise every call. Each scenario ends in done, or rolled back with
 * the previous release verified serving, and the fake's own truth (never lagged) is asserted:
 * tasks, target health, the listener rule's weights, and that no target group taking traffic
 * ever had 0 healthy targets.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, MaintError } from '../../src/errors.js';
import { openEcsFleet } from '../../src/fleet/ecs.js';
import type { Fleet, RollHooks, RollProgress } from '../../src/fleet/fleet.js';
import type { LoadedPlan } from '../../src/plan/loader.js';
import { FleetSchema, type EcsFleetConfig } from '../../src/plan/schema-fleet.js';
import { FakeAws } from '../helpers/fake-aws.js';

const CLUSTER = 'prod';
const saved = { ...process.env };

beforeAll(() => {
  // The standard chain reads these; no instance metadata lookups on a CI box.
  process.env.AWS_ACCESS_KEY_ID = 'AKIDFAKE';
  process.env.AWS_SECRET_ACCESS_KEY = 'fake-secret';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  delete process.env.AWS_PROFILE;
});
afterAll(() => {
  process.env = saved;
});

interface Rig {
  fake: FakeAws;
  v1: string;
  v2: string;
  blueTg: string;
  greenTg: string;
  rule: string;
}

let rig: Rig | undefined;
let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
  await rig?.fake.close();
  rig = undefined;
});

async function start(): Promise<Rig> {
  const fake = await FakeAws.start();
  const v1 = fake.registerTaskDefinition('app', 'registry.example/app:v1');
  const v2 = fake.registerTaskDefinition('app', 'registry.example/app:v2');
  const blueTg = fake.createTargetGroup('app-blue');
  const greenTg = fake.createTargetGroup('app-green');
  const rule = fake.createRule([
    { targetGroupArn: blueTg, weight: 100 },
    { targetGroupArn: greenTg, weight: 0 },
  ]);
  await fake.createService({
    cluster: CLUSTER,
    name: 'web',
    taskDefinition: v1,
    desiredCount: 3,
    targetGroupArn: blueTg,
  });
  await fake.createService({
    cluster: CLUSTER,
    name: 'web-green',
    taskDefinition: v1,
    desiredCount: 0,
    targetGroupArn: greenTg,
  });
  rig = { fake, v1, v2, blueTg, greenTg, rule };
  return rig;
}

function config(r: Rig, extra: Record<string, unknown> = {}): EcsFleetConfig {
  return FleetSchema.parse({
    provider: 'ecs',
    region: 'eu-west-1',
    endpoint: r.fake.url,
    cluster: CLUSTER,
    service: 'web',
    taskDefinition: 'app:2',
    healthTimeout: '3s',
    drainTimeout: '2s',
    pollInterval: '5ms',
    ...extra,
  }) as EcsFleetConfig;
}

function blueGreen(r: Rig, extra: Record<string, unknown> = {}): EcsFleetConfig {
  return config(r, {
    mode: 'blue-green',
    targetGroupArns: [r.blueTg],
    greenService: 'web-green',
    greenTargetGroupArn: r.greenTg,
    listenerRuleArn: r.rule,
    ...extra,
  });
}

const plan = (release: string) =>
  ({ plan: { release }, path: 'plan.yaml', file: '/p/plan.yaml', dir: '/p' }) as unknown as LoadedPlan;

function recorder(r: Rig) {
  const checkpoints: { progress: RollProgress; writesBefore: number }[] = [];
  const phases: string[] = [];
  const lines: string[] = [];
  const writes = () => r.fake.count('UpdateService') + r.fake.count('ModifyRule');
  const hooks: RollHooks = {
    signal: AbortSignal.timeout(60_000),
    checkpoint: (progress) => {
      checkpoints.push({ progress: structuredClone(progress), writesBefore: writes() });
      return Promise.resolve();
    },
    batch: (e) => phases.push(e.phase),
    progress: (m) => lines.push(m),
  };
  return { hooks, checkpoints, phases, lines, last: () => checkpoints.at(-1)?.progress ?? null };
}

async function rejection(p: Promise<unknown>): Promise<MaintError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MaintError);
  return error as MaintError;
}

function runningOf(r: Rig, service: string) {
  return r.fake.running(CLUSTER, service).map((t) => `${t.taskDefinition.split('/').pop()}:${t.health}`);
}

describe('ecs rolling', () => {
  it('rolls v1 → v2 with min 100 / max 200 and the circuit breaker, gated on rollout and target health', async () => {
    const r = await start();
    fleet = await openEcsFleet(config(r), plan('v2'));
    expect((await fleet.describe()).release).toBe('v1');
    const rec = recorder(r);
    const out = await fleet.roll({ release: 'v2', previous: 'v1', resume: null }, rec.hooks);

    expect(out.state.release).toBe('v2');
    expect(out.state.members.filter((m) => m.inService)).toHaveLength(3);
    expect(runningOf(r, 'web')).toEqual(['app:2:healthy', 'app:2:healthy', 'app:2:healthy']);
    const service = r.fake.service(CLUSTER, 'web');
    expect(service.deployments.map((d) => [d.taskDefinition, d.rolloutState])).toEqual([[r.v2, 'COMPLETED']]);
    const update = r.fake.calls.find((c) => c.action === 'UpdateService')!;
    expect(update.params).toMatchObject({
      taskDefinition: r.v2,
      deploymentConfiguration: {
        minimumHealthyPercent: 100,
        maximumPercent: 200,
        deploymentCircuitBreaker: { enable: true, rollback: true },
      },
    });
    // Journaled before the first write, with what a rollback needs.
    expect(rec.checkpoints[0]).toMatchObject({
      writesBefore: 0,
      progress: { phase: 'update', data: { previousTaskDefinition: r.v1 } },
    });
    expect(rec.phases).toEqual(['started', 'healthy', 'shifted', 'drained']);
    expect(r.fake.minHealthy.get(r.blueTg)).toBeGreaterThanOrEqual(3);
  });

  it('a circuit-breaker trip is exit 5, and the rollback verifies v1 serving', async () => {
    const r = await start();
    const bad = r.fake.registerTaskDefinition('app', 'registry.example/app:v3');
    r.fake.faults.crash.add(bad);
    fleet = await openEcsFleet(config(r, { taskDefinition: bad, healthTimeout: '20s' }), plan('v3'));
    const rec = recorder(r);
    const error = await rejection(fleet.roll({ release: 'v3', previous: 'v1', resume: null }, rec.hooks));
    expect(error.code).toBe('FLEET_UNHEALTHY');
    expect(error.exitCode).toBe(ExitCode.rolledBack);
    expect(error.message).toContain('circuit breaker');

    const back = await fleet.rollback({ previous: 'v1', failed: 'v3', progress: rec.last() }, rec.hooks);
    expect(back.state.release).toBe('v1');
    expect(runningOf(r, 'web')).toEqual(['app:1:healthy', 'app:1:healthy', 'app:1:healthy']);
    expect(r.fake.minHealthy.get(r.blueTg)).toBeGreaterThanOrEqual(3);
  });

  it('tasks failing the ALB check (ECS never notices) time out the gate, and v1 is verified back', async () => {
    const r = await start();
    const bad = r.fake.registerTaskDefinition('app', 'registry.example/app:v3');
    r.fake.faults.albUnhealthy.add(bad);
    fleet = await openEcsFleet(config(r, { taskDefinition: bad, healthTimeout: '1s' }), plan('v3'));
    const rec = recorder(r);
    const error = await rejection(fleet.roll({ release: 'v3', previous: 'v1', resume: null }, rec.hooks));
    expect(error.code).toBe('FLEET_UNHEALTHY');
    expect(error.message).toMatch(/IN_PROGRESS|targets healthy/);
    // ECS alone still calls it in progress, with no failed task: the gate is what saw it.
    const during = r.fake.service(CLUSTER, 'web').deployments[0]!;
    expect([during.rolloutState, during.failedTasks]).toEqual(['IN_PROGRESS', 0]);

    await fleet.rollback({ previous: 'v1', failed: 'v3', progress: rec.last() }, { ...rec.hooks });
    expect(runningOf(r, 'web')).toEqual(['app:1:healthy', 'app:1:healthy', 'app:1:healthy']);
    expect(r.fake.healthyTargets(r.blueTg)).toEqual([r.v1, r.v1, r.v1]);
    expect(r.fake.minHealthy.get(r.blueTg)).toBeGreaterThanOrEqual(3);
  });

  it('ECS calling the rollout COMPLETED while the targets fail the ALB check is caught by the target gate', async () => {
    const r = await start();
    const bad = r.fake.registerTaskDefinition('app', 'registry.example/app:v3');
    r.fake.faults.albUnhealthy.add(bad);
    r.fake.faults.ecsIgnoresAlb = true;
    fleet = await openEcsFleet(config(r, { taskDefinition: bad, healthTimeout: '1s' }), plan('v3'));
    const rec = recorder(r);
    const error = await rejection(fleet.roll({ release: 'v3', previous: 'v1', resume: null }, rec.hooks));
    expect(error.code).toBe('FLEET_UNHEALTHY');
    expect(error.message).toContain('0/3 targets healthy');
    expect(r.fake.service(CLUSTER, 'web').deployments.map((d) => d.rolloutState)).toEqual(['COMPLETED']);

    r.fake.faults.ecsIgnoresAlb = false;
    const back = await fleet.rollback({ previous: 'v1', failed: 'v3', progress: rec.last() }, rec.hooks);
    expect(back.state.release).toBe('v1');
    expect(r.fake.healthyTargets(r.blueTg)).toEqual([r.v1, r.v1, r.v1]);
  });

  it('throttling is retried with backoff and the roll completes', async () => {
    const r = await start();
    fleet = await openEcsFleet(config(r), plan('v2'));
    r.fake.faults.throttle = 10; // more than the SDK's own 3 attempts
    const rec = recorder(r);
    const out = await fleet.roll({ release: 'v2', previous: 'v1', resume: null }, rec.hooks);
    expect(out.state.release).toBe('v2');
    expect(r.fake.calls.filter((c) => c.outcome === 'ThrottlingException')).toHaveLength(10);
    expect(r.fake.count('UpdateService')).toBeGreaterThanOrEqual(1);
  });

  it('describes that lag the write are read until they show it; the roll completes', async () => {
    const r = await start();
    fleet = await openEcsFleet(config(r), plan('v2'));
    r.fake.faults.lagReads = 5;
    const rec = recorder(r);
    const out = await fleet.roll({ release: 'v2', previous: 'v1', resume: null }, rec.hooks);
    expect(out.state.release).toBe('v2');
    // One write: the stale reads were waited out, not answered with a second UpdateService.
    expect(r.fake.count('UpdateService')).toBe(1);
    expect(rec.lines.some((l) => l.includes('reading it back'))).toBe(true);
    expect(runningOf(r, 'web')).toEqual(['app:2:healthy', 'app:2:healthy', 'app:2:healthy']);
  });
});

describe('ecs blue-green', () => {
  it('starts v2 on the idle service, shifts the rule, reads it back, then retires the old side', async () => {
    const r = await start();
    r.fake.faults.lagReads = 3;
    fleet = await openEcsFleet(blueGreen(r), plan('v2'));
    expect(fleet.preview(await fleet.describe(), 'v2').batches[0]!.members).toEqual(['web-green']);
    const rec = recorder(r);
    const out = await fleet.roll({ release: 'v2', previous: 'v1', resume: null }, rec.hooks);
    expect(out.state.release).toBe('v2');
    expect(fleet.preview(out.state, 'v3').batches[0]!.members).toEqual(['web']);
    expect(r.fake.weights(r.rule)).toEqual({ [r.blueTg]: 0, [r.greenTg]: 100 });
    expect(r.fake.healthyTargets(r.greenTg)).toEqual([r.v2, r.v2, r.v2]);
    expect(r.fake.service(CLUSTER, 'web').desiredCount).toBe(0);
    expect(rec.phases).toEqual(['started', 'healthy', 'shifted', 'drained']);
    expect(rec.checkpoints.map((c) => c.progress.phase)).toEqual(['launch', 'shift', 'retire']);
    // The shift was journaled before the rule changed, the retire before blue was scaled down.
    const modify = r.fake.calls.findIndex((c) => c.action === 'ModifyRule');
    expect(modify).toBeGreaterThan(0);
    expect(rec.checkpoints[1]!.writesBefore).toBe(1);
    expect(r.fake.minHealthy.get(r.blueTg)).toBe(3);
    expect(r.fake.minHealthy.get(r.greenTg)).toBe(3);

    // A second roll goes the other way: the live side is green now.
    const v3 = r.fake.registerTaskDefinition('app', 'registry.example/app:v3');
    await fleet.close();
    fleet = await openEcsFleet(blueGreen(r, { taskDefinition: v3 }), plan('v3'));
    await fleet.roll({ release: 'v3', previous: 'v2', resume: null }, recorder(r).hooks);
    expect(r.fake.weights(r.rule)).toEqual({ [r.blueTg]: 100, [r.greenTg]: 0 });
    expect(r.fake.healthyTargets(r.blueTg)).toEqual([v3, v3, v3]);
  });

  it('green failing the ALB check never gets traffic; blue is never touched', async () => {
    const r = await start();
    const bad = r.fake.registerTaskDefinition('app', 'registry.example/app:v3');
    r.fake.faults.albUnhealthy.add(bad);
    const blueTasks = r.fake.running(CLUSTER, 'web');
    fleet = await openEcsFleet(blueGreen(r, { taskDefinition: bad, healthTimeout: '1s' }), plan('v3'));
    const rec = recorder(r);
    const error = await rejection(fleet.roll({ release: 'v3', previous: 'v1', resume: null }, rec.hooks));
    expect(error.code).toBe('FLEET_UNHEALTHY');
    expect(r.fake.count('ModifyRule')).toBe(0);
    await fleet.rollback({ previous: 'v1', failed: 'v3', progress: rec.last() }, rec.hooks);
    expect(r.fake.weights(r.rule)).toEqual({ [r.blueTg]: 100, [r.greenTg]: 0 });
    expect(r.fake.service(CLUSTER, 'web-green').desiredCount).toBe(0);
    expect(r.fake.running(CLUSTER, 'web')).toEqual(blueTasks);
    expect(r.fake.minHealthy.get(r.blueTg)).toBe(3);
  });

  it("green healthy on the ALB but failing maint's probe is rolled back", async () => {
    const r = await start();
    const bad = r.fake.registerTaskDefinition('app', 'registry.example/app:v3');
    r.fake.faults.probeFails.add(bad);
    const probe = { path: '/healthz', expectRelease: true };
    fleet = await openEcsFleet(blueGreen(r, { taskDefinition: bad, healthTimeout: '1s', probe }), plan('v3'));
    const rec = recorder(r);
    const error = await rejection(fleet.roll({ release: 'v3', previous: 'v1', resume: null }, rec.hooks));
    expect(error.message).toContain("maint's probe");
    expect(error.message).toContain('HTTP 503');
    await fleet.rollback({ previous: 'v1', failed: 'v3', progress: rec.last() }, rec.hooks);
    expect(r.fake.weights(r.rule)).toEqual({ [r.blueTg]: 100, [r.greenTg]: 0 });
  });

  it('a rollback after the shift and retire brings blue back, verifies it, shifts back, then retires green', async () => {
    const r = await start();
    fleet = await openEcsFleet(
      blueGreen(r, { probe: { path: '/healthz', expectRelease: true } }),
      plan('v2'),
    );
    const rec = recorder(r);
    await fleet.roll({ release: 'v2', previous: 'v1', resume: null }, rec.hooks);
    expect(rec.last()!.phase).toBe('retire');
    r.fake.faults.throttle = 5;
    r.fake.faults.lagReads = 2;
    const back = await fleet.rollback({ previous: 'v1', failed: 'v2', progress: rec.last() }, rec.hooks);
    expect(back.state.release).toBe('v1');
    expect(r.fake.weights(r.rule)).toEqual({ [r.blueTg]: 100, [r.greenTg]: 0 });
    expect(r.fake.healthyTargets(r.blueTg)).toEqual([r.v1, r.v1, r.v1]);
    expect(r.fake.service(CLUSTER, 'web-green').desiredCount).toBe(0);
    // Green kept serving until blue was back: neither group was ever empty while it had weight.
    expect(r.fake.minHealthy.get(r.greenTg)).toBe(3);
    expect(r.fake.minHealthy.get(r.blueTg)).toBe(3);
  });
});

describe('ecs: a run killed mid-roll resumes from its journaled progress', () => {
  /** Hooks whose journal write at `phase` fails: the process "dies" there, before acting on it. */
  function dyingAt(r: Rig, phase: string) {
    const rec = recorder(r);
    const checkpoint = rec.hooks.checkpoint;
    rec.hooks.checkpoint = async (progress) => {
      if (progress.phase === phase) throw new Error(`killed before ${phase}`);
      await checkpoint(progress);
    };
    return rec;
  }

  it('blue-green killed after the shift: the next process finishes the retire, no second shift', async () => {
    const r = await start();
    fleet = await openEcsFleet(blueGreen(r), plan('v2'));
    const first = dyingAt(r, 'retire');
    await expect(fleet.roll({ release: 'v2', previous: 'v1', resume: null }, first.hooks)).rejects.toThrow(
      'killed',
    );
    await fleet.close();
    expect(r.fake.weights(r.rule)).toEqual({ [r.blueTg]: 0, [r.greenTg]: 100 });
    expect(r.fake.service(CLUSTER, 'web').desiredCount).toBe(3);

    // The next run opens the fleet afresh: green is live now, but the journal says where it was.
    fleet = await openEcsFleet(blueGreen(r), plan('v2'));
    const second = recorder(r);
    await fleet.roll({ release: 'v2', previous: 'v1', resume: first.last() }, second.hooks);
    expect(r.fake.count('ModifyRule')).toBe(1);
    expect(r.fake.weights(r.rule)).toEqual({ [r.blueTg]: 0, [r.greenTg]: 100 });
    expect(r.fake.service(CLUSTER, 'web').desiredCount).toBe(0);
    expect(r.fake.healthyTargets(r.greenTg)).toEqual([r.v2, r.v2, r.v2]);
  });

  it('blue-green killed after the shift, then rolled back: blue verified before the weights return', async () => {
    const r = await start();
    fleet = await openEcsFleet(blueGreen(r), plan('v2'));
    const first = dyingAt(r, 'retire');
    await expect(fleet.roll({ release: 'v2', previous: 'v1', resume: null }, first.hooks)).rejects.toThrow(
      'killed',
    );
    await fleet.close();
    fleet = await openEcsFleet(blueGreen(r), plan('v2'));
    const back = await fleet.rollback(
      { previous: 'v1', failed: 'v2', progress: first.last() },
      recorder(r).hooks,
    );
    expect(back.state.release).toBe('v1');
    expect(r.fake.weights(r.rule)).toEqual({ [r.blueTg]: 100, [r.greenTg]: 0 });
    expect(r.fake.service(CLUSTER, 'web-green').desiredCount).toBe(0);
    expect(r.fake.minHealthy.get(r.blueTg)).toBe(3);
    expect(r.fake.minHealthy.get(r.greenTg)).toBe(3);
  });

  it('rolling killed after UpdateService: the next process waits on the same deployment', async () => {
    const r = await start();
    fleet = await openEcsFleet(config(r), plan('v2'));
    const first = recorder(r);
    const controller = new AbortController();
    first.hooks.signal = controller.signal;
    first.hooks.progress = (m) => {
      if (m.includes('reading it back')) controller.abort(new Error('killed'));
    };
    await expect(fleet.roll({ release: 'v2', previous: 'v1', resume: null }, first.hooks)).rejects.toThrow();
    expect(r.fake.count('UpdateService')).toBe(1);
    await fleet.close();
    fleet = await openEcsFleet(config(r), plan('v2'));
    const out = await fleet.roll({ release: 'v2', previous: 'v1', resume: first.last() }, recorder(r).hooks);
    expect(out.state.release).toBe('v2');
    expect(r.fake.count('UpdateService')).toBe(1);
    expect(r.fake.minHealthy.get(r.blueTg)).toBeGreaterThanOrEqual(3);
  });
});

describe('ecs open: exit 2 before anything changes', () => {
  it('an unreachable endpoint', async () => {
    const r = await start();
    const url = r.fake.url;
    await r.fake.close();
    rig = undefined;
    const error = await rejection(openEcsFleet(config({ ...r, fake: { url } as FakeAws }), plan('v2')));
    expect([error.code, error.exitCode]).toEqual(['FLEET_UNREACHABLE', ExitCode.invalidInput]);
  });

  it.each([
    ['a missing service', { service: 'nope' }, 'FLEET_ECS_SERVICE'],
    ['a task definition of another release', { taskDefinition: 'app:1' }, 'FLEET_ECS_RELEASE_MISMATCH'],
    ['an unknown task definition', { taskDefinition: 'app:9' }, 'FLEET_AWS_REFUSED'],
  ])('%s', async (_name, extra, code) => {
    const r = await start();
    const error = await rejection(openEcsFleet(config(r, extra), plan('v2')));
    expect([error.code, error.exitCode]).toEqual([code, ExitCode.invalidInput]);
    expect(r.fake.count('UpdateService') + r.fake.count('ModifyRule')).toBe(0);
  });

  it('a rule that does not forward to the green target group', async () => {
    const r = await start();
    const other = r.fake.createRule([{ targetGroupArn: r.blueTg, weight: 1 }]);
    const error = await rejection(openEcsFleet(blueGreen(r, { listenerRuleArn: other }), plan('v2')));
    expect([error.code, error.exitCode]).toEqual(['FLEET_ECS_RULE', ExitCode.invalidInput]);
  });
});
