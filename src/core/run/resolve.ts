/**
 * `maint resolve`: an operator records that a failed run was finished (or undone) by hand, and
 * why. The run stays `failed` in the journal (that is what happened); its `resolution` (reason,
 * who, when) is journaled in its own `maint_runs.state` and note, so it no longer holds `maint
 * gate` or the next `maint run`, and `maint status` shows it resolved. Under the plan's lock, so
 * no run is acting meanwhile. A point of no return needs it (no run can undo it); any other
 * failed run may be resolved this way too when an operator settled it by hand instead of
 * letting `maint run` resume it or finish its rollback. The banner goes off when the resolved
 * run was the one holding the plan (the maintenance is over).
 */
import { describeHolder } from '../../db/identity.js';
import { InputError, LockHeldError, UsageError, toMaintError } from '../../errors.js';
import { act, hint } from '../../hints.js';
import type { LoadedPlan } from '../../plan/loader.js';
import { nearest } from '../../support/nearest.js';
import { redact } from '../../support/redact.js';
import { RESOLUTION, resolutionOf, type Resolution } from '../engine/state.js';
import { withDatabase } from '../inspect/snapshot.js';
import type { RunRecord } from '../journal/journal.js';
import { runToSettle } from '../journal/unresolved.js';
import type { Ports } from '../ports.js';
import { errorJson, type ErrorJson } from '../result.js';

export interface ResolveOptions {
  runId: string;
  /** What was finished by hand (journaled). */
  reason: string;
}

export interface ResolveResult {
  plan: string;
  runId: string;
  status: 'resolved' | 'refused';
  /** The failure that was resolved, as journaled. */
  failure: { code: string; message: string } | null;
  resolution: Resolution | null;
  /** `off` when the banner was turned off (the resolved run held the plan); null otherwise. */
  banner: 'off' | null;
  error: ErrorJson | null;
}

export async function resolveRun(
  ports: Ports,
  loaded: LoadedPlan,
  options: ResolveOptions,
): Promise<ResolveResult> {
  const { plan } = loaded;
  const result: ResolveResult = {
    plan: plan.name,
    runId: options.runId,
    status: 'refused',
    failure: null,
    resolution: null,
    banner: null,
    error: null,
  };
  try {
    const reason = options.reason.trim();
    if (!reason)
      throw new UsageError('resolve needs a --reason that says what was finished by hand; it was blank.', {
        hint: hint('Say what you did, e.g. {resolve}; the reason is journaled.', {
          resolve: act('resolve', undefined, {
            run: options.runId,
            reason: 'ran analyze and the checks by hand',
          }),
        }),
      });
    await withDatabase(ports, loaded, async (db) => {
      const lock = await db.acquireLock(plan.name, { wait: false, purpose: 'resolve' });
      if (!lock) {
        const holder = await db.lockStatus(plan.name).catch(() => null);
        throw new LockHeldError(
          `another run holds the lock of ${plan.name}${holder ? `: ${describeHolder(holder)}` : ''}; a run in progress is not resolved by hand`,
          {
            hint: hint('Wait for it to finish ({status}), or see {lock}.', {
              status: act('status'),
              lock: act('lock'),
            }),
            details: { holder },
          },
        );
      }
      try {
        const journal = ports.journal(db);
        const runs = await journal.runs(plan.name, 200);
        const target = findFailedRun(runs, options.runId);
        const holding = (await runToSettle(journal, plan.name))?.runId === target.runId;
        const resolution: Resolution = {
          reason: redact(reason),
          at: (ports.clock.realNow?.() ?? ports.clock.now()).toISOString(),
          by: {
            host: ports.host.host,
            pid: ports.host.pid,
            ...(ports.host.job ? { job: ports.host.job } : {}),
          },
        };
        await lock.verify();
        await journal.updateRun(target.runId, {
          state: { ...(target.state ?? {}), [RESOLUTION.name]: resolution },
          note: [
            target.note,
            `resolved by hand (${resolution.by.host} pid ${resolution.by.pid}, ${resolution.at}): ${resolution.reason}`,
          ]
            .filter(Boolean)
            .join('; '),
        });
        result.status = 'resolved';
        result.failure = target.error;
        result.resolution = resolution;
        const { bannerConfigs, setBanner } = await import('../../notify/banner.js');
        if (holding && bannerConfigs(plan).length > 0) {
          await setBanner(loaded, 'off', ports.clock);
          result.banner = 'off';
        }
      } finally {
        await lock.release();
      }
    });
  } catch (error) {
    result.error = errorJson(toMaintError(error).bindPlan(loaded.path));
  }
  return result;
}

/** The failed, unresolved run named `runId`; otherwise exit 2 saying why, nothing written. */
function findFailedRun(runs: RunRecord[], runId: string): RunRecord {
  const run = runs.find((r) => r.runId === runId);
  const failed = runs.filter((r) => r.status === 'failed' && !resolutionOf(r));
  const list =
    failed.length > 0
      ? `unresolved failed runs: ${failed.map((r) => r.runId).join(', ')}`
      : 'no run is failed and unresolved';
  if (!run) {
    const near = nearest(runId, failed.length > 0 ? failed.map((r) => r.runId) : runs.map((r) => r.runId));
    throw new InputError(
      'RUN_UNKNOWN',
      `no run ${runId} in the journal of this plan${near ? ` (did you mean "${near}"?)` : ''}; ${list}`,
      [{ path: '--run', message: 'not a run of this plan' }],
      { hint: hint('{status} lists the runs.', { status: act('status') }) },
    );
  }
  const resolved = resolutionOf(run);
  if (resolved)
    throw new InputError(
      'RUN_ALREADY_RESOLVED',
      `run ${runId} was already resolved at ${resolved.at} by ${resolved.by.host} pid ${resolved.by.pid}: ${resolved.reason}`,
      [{ path: '--run', message: 'already resolved' }],
      { hint: hint('{status} shows the journal.', { status: act('status') }) },
    );
  if (run.status !== 'failed')
    throw new InputError(
      'RUN_NOT_FAILED',
      `run ${runId} is ${run.status}, not failed: there is nothing to resolve (${list})`,
      [{ path: '--run', message: `is ${run.status}` }],
      {
        hint:
          run.status === 'running' || run.status === 'rolling_back'
            ? hint('An interrupted run is settled by {run} (it resumes it or rolls it back).', {
                run: act('run'),
              })
            : hint('{status} shows the journal.', { status: act('status') }),
      },
    );
  return run;
}
