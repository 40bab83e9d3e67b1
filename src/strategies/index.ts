/** Strategies by kind: each builds a step list from the plan; none executes anything. */
import type { Step } from '../core/engine/step.js';
import { InputError } from '../errors.js';
import type { Plan } from '../plan/schema.js';
import { STRATEGY_KINDS } from '../plan/schema.js';
import type { Fleet, FleetState } from '../fleet/fleet.js';
import type { PlanWork } from '../operations/pending.js';
import type { LoadedPlan } from '../plan/loader.js';
import { cloneFreezeSteps } from './clone-freeze.js';
import { inPlaceSteps, type StrategyInput } from './in-place.js';
import type { FleetStepInput } from './steps/fleet-step.js';

export type { StrategyInput } from './in-place.js';
type StrategyKind = (typeof STRATEGY_KINDS)[number];

interface Strategy {
  /** Absent while the strategy is not built: plans asking for it are refused before anything opens. */
  build?: (input: StrategyInput) => Step[];
}

const STRATEGIES = {
  'in-place': { build: inPlaceSteps },
  'clone-freeze': { build: cloneFreezeSteps },
} satisfies Record<StrategyKind, Strategy>;

export function strategyKind(plan: Plan): StrategyKind {
  return typeof plan.strategy === 'string' ? plan.strategy : plan.strategy.kind;
}

export function assertStrategySupported(kind: StrategyKind): void {
  if ((STRATEGIES[kind] as Strategy).build) return;
  throw new InputError(
    'STRATEGY_UNSUPPORTED',
    `the ${kind} strategy is not available in this version of maint`,
    [{ path: 'strategy', message: `${kind} is not implemented yet` }],
    { hint: 'Use `strategy: in-place` for now.' },
  );
}

/** What `fleet:roll` needs from an opened fleet, for the plan's release. */
export function fleetInput(
  opened: { fleet: Fleet; state: FleetState },
  loaded: LoadedPlan,
  work: PlanWork,
  served: string | null,
): FleetStepInput {
  const release = loaded.plan.release ?? '';
  return {
    fleet: opened.fleet,
    state: opened.state,
    release,
    previous: opened.state.release ?? served,
    preview: opened.fleet.preview(opened.state, release),
    lastPending: work.pending.at(-1)?.name ?? null,
    planPath: loaded.path,
  };
}

export function buildSteps(input: StrategyInput): Step[] {
  const kind = strategyKind(input.loaded.plan);
  assertStrategySupported(kind);
  return (STRATEGIES[kind] as Strategy).build!(input);
}
