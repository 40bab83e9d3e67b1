import { describe, expect, it } from 'vitest';
import { createRunState } from '../../src/core/engine/state.js';
import type { StepContext } from '../../src/core/engine/step.js';
import { cloneTarget } from '../../src/clone/target.js';
import { OperatorActionError } from '../../src/errors.js';
import type { Fleet, FleetMember, FleetState, RollProgress } from '../../src/fleet/fleet.js';
import { parsePlanText } from '../../src/plan/parse.js';
import type { CloneFreezeConfig } from '../../src/plan/schema.js';
import { freezeTimer } from '../../src/strategies/steps/clone-cutover-step.js';
import { FLEET_PROGRESS, type FleetStepInput } from '../../src/strategies/steps/fleet-step.js';
import { fleetShiftStep } from '../../src/strategies/steps/fleet-shift-step.js';
import { FakeClock } from '../helpers/fakes.js';

const PLAN = parsePlanText(
  `version: 1
name: s
window: { timezone: UTC, days: [daily], start: "00:00", duration: 24h }
database: { engine: postgres, url: "postgres://maint:pw@db/shop" }
release: v2
strategy: { kind: clone-freeze, clone: { method: logical } }
`,
  'p.yaml',
);
const target = cloneTarget(PLAN.strategy as CloneFreezeConfig, PLAN.database);

/** Blue web1 serving v1, green web2 warm in drain; cutOver moves them like the haproxy provider. */
function fakeFleet(options: { greenAdmin?: FleetMember['admin']; failAfterReady?: boolean } = {}) {
  const members: FleetMember[] = [
    {
      id: 'web1',
      addr: null,
      admin: 'ready',
      health: 'up',
      check: 'L7OK',
      sessions: 0,
      release: 'v1',
      inService: true,
    },
    {
      id: 'web2',
      addr: null,
      admin: options.greenAdmin ?? 'drain',
      health: 'up',
      check: 'L7OK',
      sessions: 0,
      release: 'v2',
      inService: options.greenAdmin === 'ready',
    },
  ];
  const state = (): FleetState => {
    const releases = [...new Set(members.filter((m) => m.inService).map((m) => m.release!))];
    return { provider: 'haproxy', release: releases.length === 1 ? releases[0]! : null, releases, members };
  };
  const fleet: Fleet = {
    provider: 'haproxy',
    mode: 'blue-green',
    describe: async () => state(),
    preview: () => ({ mode: 'blue-green', from: 'v1', to: 'v2', batches: [], estimateMs: 0 }),
    roll: async () => ({ state: state() }),
    rollback: async () => ({ state: state() }),
    async cutOver(input, hooks) {
      const data = { target: ['web2'], blue: ['web1'] };
      const progress = (phase: string): RollProgress => ({
        mode: 'blue-green',
        from: 'v1',
        to: 'v2',
        phase,
        data,
      });
      await hooks.checkpoint(progress('shifting'));
      Object.assign(members[1]!, { admin: 'ready', inService: true });
      hooks.batch({ index: 0, phase: 'shifted', members: ['web2'], release: input.release, elapsedMs: 5 });
      if (options.failAfterReady) throw new Error('web1 did not drain');
      await hooks.checkpoint(progress('draining'));
      Object.assign(members[0]!, { admin: 'maint', inService: false });
      hooks.batch({ index: 0, phase: 'drained', members: ['web1'], release: input.release, elapsedMs: 9 });
      await hooks.checkpoint(progress('done'));
      return { state: state() };
    },
    close: async () => undefined,
  };
  return fleet;
}

async function shift(fleet: Fleet, initial: Record<string, unknown> = {}) {
  const state = await fleet.describe();
  const input: FleetStepInput = {
    fleet,
    state,
    release: 'v2',
    previous: 'v1',
    preview: fleet.preview(state, 'v2'),
    lastPending: '002_b',
    planPath: 'p.yaml',
  };
  const timer = freezeTimer();
  const now = performance.now();
  Object.assign(timer, {
    t0: now - 100,
    last: now - 10,
    phases: [
      { name: 'freeze on', ms: 20 },
      { name: 'in-flight drained', ms: 30 },
      { name: 'caught up', ms: 20 },
      { name: 'finalized', ms: 20 },
    ],
  });
  const step = fleetShiftStep(input, target, timer);
  const events: Array<{ code: string; data: unknown }> = [];
  const runState = createRunState(initial, async () => undefined);
  const ctx = {
    signal: new AbortController().signal,
    runId: 'r',
    plan: { name: 's', path: 'p.yaml', dir: '/tmp' },
    clock: new FakeClock('2026-11-29T10:00:00Z'),
    state: runState,
    progress: () => undefined,
    report: (code: string, data: unknown) => void events.push({ code, data }),
  } as unknown as StepContext;
  return { step, ctx, events, runState };
}

describe('fleet:shift (clone-freeze with a blue-green fleet)', () => {
  it('ends the freeze with the phase traffic shifted and reports the whole freeze and the clone URL', async () => {
    const { step, ctx, events, runState } = await shift(fakeFleet());
    const detail = (await step.run(ctx)) as {
      freeze: { totalMs: number; phases: Array<{ name: string; ms: number }> };
      databaseUrl: string;
      next: string;
    };
    expect(detail.freeze.phases.map((p) => p.name)).toEqual([
      'freeze on',
      'in-flight drained',
      'caught up',
      'finalized',
      'traffic shifted',
    ]);
    expect(detail.freeze.totalMs).toBeGreaterThanOrEqual(100);
    expect(detail.databaseUrl).toBe('postgres://maint:***@db/shop_clone');
    expect(detail.next).toMatch(/database\.url still names the old database/);
    // The human summary says it too (the renderer prints summaries, not `next`).
    expect((detail as unknown as { summary: string }).summary).toMatch(
      /database\.url still names the old database: point it at postgres:\/\/maint:\*\*\*@db\/shop_clone/,
    );
    expect(JSON.stringify(detail)).not.toContain(':pw@');
    const frozen = events.find((e) => e.code === 'clone.frozen')!;
    expect(frozen.data).toMatchObject({
      databaseUrl: 'postgres://maint:***@db/shop_clone',
      phases: detail.freeze.phases,
    });
    expect(events.map((e) => e.code)).toEqual([
      'fleet.batch.shifted',
      'fleet.batch.drained',
      'clone.frozen',
      'fleet.rolled',
    ]);
    expect(runState.get(FLEET_PROGRESS)?.phase).toBe('done');
  });

  it('rollback before any traffic moved is a no-op (fleet:warm, the unfreeze and the clone drop follow)', async () => {
    const warm = {
      mode: 'blue-green',
      from: 'v1',
      to: 'v2',
      phase: 'warm',
      data: { target: ['web2'], blue: ['web1'] },
    };
    const { step, ctx } = await shift(fakeFleet(), { 'fleet.progress': warm });
    expect(await step.rollback!(ctx)).toEqual({ summary: 'no traffic had moved' });
    // Checkpointed 'shifting' but the new server never went in service: still nothing moved.
    const shifting = { ...warm, phase: 'shifting' };
    const again = await shift(fakeFleet({ greenAdmin: 'maint' }), { 'fleet.progress': shifting });
    expect(await again.step.rollback!(again.ctx)).toEqual({
      summary: 'no traffic had moved (the new servers never went in service)',
    });
  });

  it('once a new server took traffic the rollback refuses (exit 6, CLONE_SHIFTED): the clone holds writes', async () => {
    const { step, ctx } = await shift(fakeFleet({ failAfterReady: true }));
    await expect(step.run(ctx)).rejects.toThrow(/did not drain/);
    const error = await step.rollback!(ctx).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OperatorActionError);
    expect(error).toMatchObject({ code: 'CLONE_SHIFTED', exitCode: 6 });
    expect((error as Error).message).toMatch(
      /already took traffic on the clone postgres:\/\/maint:\*\*\*@db\/shop_clone/,
    );
  });
});
