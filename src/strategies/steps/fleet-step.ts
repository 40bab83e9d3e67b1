/**
 * `fleet:roll`: roll the application to the plan's release through the fleet provider, after
 * the database work. Every piece of progress the provider checkpoints is journaled (run state
 * `fleet.progress`) before it acts, so a run killed mid-roll is resumed or rolled back from
 * there. The rollback returns the previous release to service and verifies it by read-back.
 */
import { performance } from 'node:perf_hooks';
import { BASELINE, RELEASE, stateKey } from '../../core/engine/state.js';
import type { Step, StepContext, StepDetail } from '../../core/engine/step.js';
import { OperatorActionError } from '../../errors.js';
import { act, hint } from '../../hints.js';
import { FleetHealthError } from '../../fleet/errors.js';
import type {
  BatchEvent,
  BatchReport,
  Fleet,
  FleetState,
  RollHooks,
  RollPreview,
  RollProgress,
} from '../../fleet/fleet.js';

export const FLEET_PROGRESS = stateKey<RollProgress>('fleet.progress');
const FLEET_BATCHES = stateKey<BatchReport[]>('fleet.batches');

export interface FleetStepInput {
  fleet: Fleet;
  /** As read when the run was prepared. */
  state: FleetState;
  release: string;
  /** The release serving before (journaled by the last run, else read from the servers). */
  previous: string | null;
  preview: RollPreview;
  /** The newest migration once the migrate step has run (null: none applied by this run). */
  lastPending: string | null;
  planPath: string;
}

/**
 * The hooks a provider rolls with: checkpoints journaled (`fleet.progress`), each batch
 * transition recorded in `batches` and reported as `fleet.batch.<phase>`.
 */
export function rollHooks(
  ctx: StepContext,
  batches: BatchReport[],
  phaseOffset: number,
  onBatch?: (e: BatchEvent) => void,
): RollHooks {
  return {
    signal: ctx.signal,
    checkpoint: (progress) => ctx.state.set(FLEET_PROGRESS, progress),
    progress: (message) => ctx.progress(message),
    batch(e) {
      onBatch?.(e);
      const index = e.index + phaseOffset;
      let b = batches.find((x) => x.index === index);
      if (!b) {
        b = { index, members: e.members, release: e.release, startedAt: ctx.clock.now().toISOString() };
        batches.push(b);
      }
      if (e.phase === 'healthy') b.healthyMs = e.elapsedMs;
      if (e.phase === 'shifted') b.shiftedMs = e.elapsedMs;
      if (e.phase === 'drained') b.drainedMs = e.elapsedMs;
      b.totalMs = e.elapsedMs;
      ctx.report(
        `fleet.batch.${e.phase}`,
        { ...e, index },
        `batch ${index + 1} (${e.members.join(', ')}) ${e.phase} on ${e.release} after ${e.elapsedMs} ms`,
      );
    },
  };
}

export function fleetRollStep(input: FleetStepInput): Step {
  const { fleet, release } = input;
  const batches: BatchReport[] = [];
  const hooks = (ctx: StepContext, phaseOffset: number): RollHooks => rollHooks(ctx, batches, phaseOffset);

  const detail = (state: FleetState | null): StepDetail => ({
    provider: fleet.provider,
    mode: fleet.mode,
    from: input.previous,
    to: release,
    batches,
    ...(state
      ? {
          serving: state.release,
          members: state.members.map((m) => ({ id: m.id, release: m.release, inService: m.inService })),
        }
      : {}),
  });

  return {
    name: 'fleet:roll',
    defaultEstimateMs: input.preview.estimateMs,
    defaultRollbackMs: input.preview.estimateMs,
    async run(ctx) {
      const journaled = ctx.state.get(RELEASE);
      const previous = journaled?.before ?? input.previous;
      const baseline = ctx.state.get(BASELINE);
      // A resumed run finds the migrations applied already: the interrupted run journaled the newest.
      const lastMigration = journaled?.lastMigration ?? input.lastPending ?? baseline?.appliedBefore ?? null;
      await ctx.state.set(RELEASE, { before: previous, after: null, lastMigration });
      const started = performance.now();
      const now = await fleet.describe(ctx.signal);
      if (now.release === release && now.releases.length === 1 && !ctx.state.get(FLEET_PROGRESS)) {
        await ctx.state.set(RELEASE, { before: previous, after: release, lastMigration });
        ctx.progress(`the fleet already serves ${release}`);
        return { ...detail(now), summary: `already serving ${release}` };
      }
      try {
        const out = await fleet.roll(
          { release, previous, resume: ctx.state.get(FLEET_PROGRESS) ?? null },
          hooks(ctx, 0),
        );
        await ctx.state.set(FLEET_BATCHES, batches);
        await ctx.state.set(RELEASE, {
          before: previous,
          after: out.state.release ?? release,
          lastMigration,
        });
        const durationMs = Math.round(performance.now() - started);
        ctx.report(
          'fleet.rolled',
          { release, previous, durationMs },
          `the fleet serves ${release} (read back)`,
        );
        return {
          ...detail(out.state),
          summary: `${previous ?? '?'} → ${release} in ${batches.length} batch(es)`,
        };
      } catch (error) {
        await ctx.state.set(FLEET_BATCHES, batches).catch(() => undefined);
        if (error instanceof FleetHealthError) Object.assign(error.stepDetail, detail(null));
        throw error;
      }
    },
    async rollback(ctx) {
      const progress = ctx.state.get(FLEET_PROGRESS);
      const record = ctx.state.get(RELEASE);
      const previous = record?.before ?? input.previous;
      if (!progress) return { summary: 'the fleet was not changed' };
      if (!previous) {
        throw new OperatorActionError(
          'FLEET_PREVIOUS_UNKNOWN',
          'the release served before the roll is not known, so the fleet cannot be returned to it',
          {
            hint: hint('Roll the fleet back by hand, then see {status}.', {
              status: act('status', input.planPath),
            }),
          },
        );
      }
      const started = performance.now();
      ctx.report(
        'fleet.rolling_back',
        { release, previous, reason: 'the run is rolling back' },
        `returning the fleet to ${previous}`,
      );
      const out = await fleet.rollback({ previous, failed: release, progress }, hooks(ctx, batches.length));
      const durationMs = Math.round(performance.now() - started);
      await ctx.state.set(RELEASE, {
        before: previous,
        after: out.state.release ?? previous,
        lastMigration: record?.lastMigration ?? null,
      });
      ctx.report(
        'fleet.rolled_back',
        { release, previous, durationMs },
        `the fleet serves ${previous} again (read back)`,
      );
      return { ...detail(out.state), summary: `back on ${previous} in ${durationMs} ms` };
    },
    rollbackFailedHint: hint(
      'Return the fleet to the previous release by hand (the journal has the servers and their state), then run {status}.',
      { status: act('status', input.planPath) },
    ),
  };
}
