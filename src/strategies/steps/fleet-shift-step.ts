/**
 * `fleet:shift` (clone-freeze with a blue-green fleet), right after `clone:cutover`: the warm
 * new fleet is put in service (read back), which ends the freeze for the application (it now
 * writes to the clone); then the old fleet is drained, set `maint` and stopped. The whole
 * freeze is reported here (`clone.frozen`, the step's detail, the run's `freeze`), with the
 * phase `traffic shifted`.
 *
 * Once a new server is in service the clone takes writes the old database never sees, so from
 * there the run cannot go back (no reverse replication): the rollback refuses (exit 6) and
 * names what is left. Before that, nothing moved and the rollback is a no-op (fleet:warm
 * stops the new servers, clone:cutover unfreezes, clone:prepare drops the clone).
 */
import { performance } from 'node:perf_hooks';
import { RELEASE } from '../../core/engine/state.js';
import type { Step } from '../../core/engine/step.js';
import type { Phase } from '../../clone/pg-logical.js';
import { CLONE_FINAL, FREEZE, type CloneTarget } from '../../clone/target.js';
import { OperatorActionError } from '../../errors.js';
import type { BatchReport } from '../../fleet/fleet.js';
import { act, hint } from '../../hints.js';
import type { FreezeTimer } from './clone-cutover-step.js';
import { FLEET_PROGRESS, rollHooks, type FleetStepInput } from './fleet-step.js';

/** Phases of a blue-green checkpoint from which a new server may be in service. */
const MOVED = new Set(['shifting', 'draining', 'done']);

export function fleetShiftStep(input: FleetStepInput, target: CloneTarget, timer: FreezeTimer): Step {
  const { fleet, release } = input;
  const batches: BatchReport[] = [];
  return {
    name: 'fleet:shift',
    defaultEstimateMs: 2000 + 1000 * input.state.members.length,
    defaultRollbackMs: 0,
    async run(ctx) {
      const journaled = ctx.state.get(RELEASE);
      const previous = journaled?.before ?? input.previous;
      const started = performance.now();
      // In the process that froze, the freeze's phases so far. A run resumed after the cutover
      // takes them from the journal, and counts the freeze from when it went on (wall clock:
      // the time the interrupted run lay dead is part of it).
      const resumed = timer.t0 === null ? (ctx.state.get(CLONE_FINAL) ?? null) : null;
      const phases: Phase[] = resumed ? [...resumed.freeze.phases] : [...timer.phases];
      const t0 = timer.t0 ?? started;
      const frozenSince = resumed ? Date.parse(ctx.state.get(FREEZE)?.startedAt ?? '') : NaN;
      let shiftedAt: number | null = null;
      let shiftedWall: number | null = null;
      const out = await fleet.cutOver!(
        { release, previous, resume: ctx.state.get(FLEET_PROGRESS) ?? null },
        rollHooks(ctx, batches, 0, (e) => {
          if (e.phase !== 'shifted' || shiftedAt !== null) return;
          shiftedAt = performance.now();
          shiftedWall = Date.now();
          phases.push({
            name: 'traffic shifted',
            ms: Math.round(shiftedAt - (timer.t0 ? timer.last : started)),
          });
        }),
      );
      await ctx.state.set(RELEASE, {
        before: previous,
        after: out.state.release ?? release,
        lastMigration: journaled?.lastMigration ?? input.lastPending,
      });
      const totalMs =
        resumed && Number.isFinite(frozenSince)
          ? Math.max(0, Math.round((shiftedWall ?? Date.now()) - frozenSince))
          : Math.round((shiftedAt ?? performance.now()) - t0);
      ctx.report(
        'clone.frozen',
        { totalMs, phases, databaseUrl: target.masked },
        `writes were frozen ${totalMs} ms (${phases.map((p) => `${p.name} ${p.ms} ms`).join(', ')})${resumed ? ', the interrupted run lying dead included' : ''}; the new fleet serves from ${target.masked}`,
      );
      ctx.report(
        'fleet.rolled',
        { release, previous, durationMs: Math.round(performance.now() - started) },
        `the fleet serves ${release} (read back)`,
      );
      return {
        summary: `the new fleet (${release}) serves from ${target.masked}; writes were frozen ${totalMs} ms; the old fleet is stopped. The plan's database.url still names the old database: point it at ${target.masked} before the next run`,
        freeze: { totalMs, phases },
        ...(resumed ? { resumedAfterCutover: true } : {}),
        databaseUrl: target.masked,
        provider: fleet.provider,
        mode: fleet.mode,
        from: previous,
        to: release,
        batches,
        serving: out.state.release,
        members: out.state.members.map((m) => ({ id: m.id, release: m.release, inService: m.inService })),
        next:
          `The new fleet uses ${target.masked}, but the plan's database.url still names the old database (frozen, read-only for the application). ` +
          `Point the plan's database.url at ${target.masked} (for example by setting the variable it reads) before the next run, so maint journals and migrates the database in use; drop the old database when you no longer need it.`,
      };
    },
    async rollback(ctx) {
      const progress = ctx.state.get(FLEET_PROGRESS);
      if (!progress || !MOVED.has(progress.phase)) return { summary: 'no traffic had moved' };
      const state = await fleet.describe(ctx.signal);
      const green = (progress.data.target as string[] | undefined) ?? [];
      const moved = state.members.filter((m) => green.includes(m.id) && m.admin === 'ready');
      if (progress.phase === 'shifting' && moved.length === 0)
        return { summary: 'no traffic had moved (the new servers never went in service)' };
      throw new OperatorActionError(
        'CLONE_SHIFTED',
        `the new fleet (${release}) already took traffic on the clone ${target.masked}; going back to the old database would lose the writes made since, so the run stops here`,
        {
          hint: hint(
            'The new fleet serves from the clone. Finish by hand: drain and stop the old fleet, point the plan at the clone, then see {status}.',
            { status: act('status', input.planPath) },
          ),
        },
      );
    },
  };
}
