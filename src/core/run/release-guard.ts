/**
 * The expand/contract guard (`src/lint/guard.ts`) wired to a plan that rolls a fleet: what
 * `maint run` (exit 2, before anything changes), `maint gate` (exit 7) and `maint plan` (shown)
 * ask before a roll. Reads only: the fleet as described, the journal's runs, the migration files.
 *
 * The release history comes from the journal: each completed run's `release` record
 * (`{before, after, lastMigration}`) says what served after it; a run that left the same release
 * serving (`before === after`) applied its migrations while that release served, and the contract
 * ones among them are what a rollback past that release would break.
 */
import type { MaintError } from '../../errors.js';
import type { FleetState } from '../../fleet/fleet.js';
import {
  guardRoll,
  guardRollback,
  type GuardCaller,
  type GuardVerdict,
  type ReleaseRecord as HistoryEntry,
} from '../../lint/guard.js';
import type { LoadedPlan } from '../../plan/loader.js';
import { BASELINE, RELEASE, type Baseline, type ReleaseRecord } from '../engine/state.js';
import { classifyMigrations } from '../inspect/lint.js';

/** How many runs of the journal the history reads (newest first). */
export const HISTORY_RUNS = 200;

interface JournaledRun {
  status: string;
  state: Record<string, unknown> | null;
}

/** The guard's answer, as JSON for `run`, `gate` and `plan`. */
export interface GuardReport {
  /** What the plan rolls to, and what serves now. */
  target: string;
  serving: string[];
  /** Pending SQL migrations classified as contract. */
  contract: string[];
  roll: { allowed: boolean; code: string; message: string };
  /** Null when the plan's release is not a return to one that served before. */
  rollback: { allowed: boolean; code: string; message: string } | null;
  /** `--force-rollback --reason`: what was refused and why it ran anyway (journaled). */
  override?: { reason: string; refused: string };
}

export interface GuardCheck {
  report: GuardReport;
  /** The refusal (exit 7 for gate, 2 for run), or null. */
  error: MaintError | null;
}

interface Span {
  release: ReleaseRecord;
  /** The migrations the run applied (in plan order). */
  applied: string[];
}

/** Completed runs that journaled a release, oldest first, with the migrations each applied. */
export function releaseSpans(runs: readonly JournaledRun[], order: readonly string[]): Span[] {
  const at = (name: string | null) => (name === null ? -1 : order.indexOf(name));
  const spans: Span[] = [];
  let previous: string | null = null;
  for (const run of [...runs].reverse()) {
    const release = run.state?.[RELEASE.name] as ReleaseRecord | undefined;
    if (run.status !== 'completed' || !release?.after) continue;
    const baseline = run.state?.[BASELINE.name] as Baseline | undefined;
    const from = at(baseline ? baseline.appliedBefore : previous);
    const to = at(release.lastMigration);
    spans.push({ release, applied: to > from ? order.slice(from + 1, to + 1) : [] });
    previous = release.lastMigration;
  }
  return spans;
}

/**
 * Releases as they served, oldest first: a run's `before` (when it is not the last entry), then
 * its `after`; the contract migrations of a run that left the release unchanged belong to it.
 */
export function releaseHistory(spans: readonly Span[], contract: ReadonlySet<string>): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  const enter = (release: string | null) => {
    if (release && out.at(-1)?.release !== release) out.push({ release, lastContractMigration: null });
  };
  for (const { release, applied } of spans) {
    enter(release.before);
    enter(release.after);
    if (release.before !== release.after) continue;
    const last = applied.filter((name) => contract.has(name)).at(-1);
    if (last) out.at(-1)!.lastContractMigration = last;
  }
  return out;
}

function summary(v: GuardVerdict): { allowed: boolean; code: string; message: string } {
  return v.allowed
    ? { allowed: true, code: v.code, message: v.message }
    : { allowed: false, code: v.error.code, message: v.error.message };
}

export interface GuardInput {
  caller: GuardCaller;
  loaded: LoadedPlan;
  fleet: FleetState;
  /** The journal's runs, newest first. */
  runs: readonly JournaledRun[];
  /** Pending migration names, in order. */
  pending: readonly string[];
  /** Every migration name of the plan, in order. */
  order: readonly string[];
  force?: { reason: string };
}

/** Null when the plan rolls no fleet (no `fleet:` or no `release`). */
export async function checkReleaseGuard(input: GuardInput): Promise<GuardCheck | null> {
  const target = input.loaded.plan.release;
  if (!input.loaded.plan.fleet || !target) return null;
  const serving = input.fleet.releases;
  const spans = releaseSpans(input.runs, input.order);
  const sameRelease = spans.filter((s) => s.release.before === s.release.after).flatMap((s) => s.applied);
  const wanted = [...new Set([...input.pending, ...sameRelease])];
  // The parser loads only when there is something to classify.
  const classified = wanted.length > 0 ? await classifyMigrations(input.loaded, wanted) : [];
  const contract = new Set(classified.filter((c) => c.classification === 'contract').map((c) => c.name));
  const pendingSet = new Set(input.pending);
  const roll = guardRoll({
    caller: input.caller,
    pending: classified.filter((c) => pendingSet.has(c.name)),
    serving,
    target,
  });
  const report: GuardReport = {
    target,
    serving: [...serving],
    contract: input.pending.filter((n) => contract.has(n)),
    roll: summary(roll),
    rollback: null,
  };
  if (!roll.allowed) return { report, error: roll.error };
  const history = releaseHistory(spans, contract);
  // A return to a release that served before and does not serve now.
  if (serving.includes(target) || !history.some((h) => h.release === target)) return { report, error: null };
  const back = guardRollback({
    caller: input.caller,
    to: target,
    history,
    ...(input.force ? { force: input.force } : {}),
  });
  report.rollback = summary(back);
  if (!back.allowed) return { report, error: back.error };
  if (back.override) report.override = back.override;
  return { report, error: null };
}
