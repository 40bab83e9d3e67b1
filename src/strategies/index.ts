/** Strategies by kind: each builds a step list from the plan; none executes anything. */
import type { Step } from '../engine/step.js';
import { InputError } from '../errors.js';
import type { Plan } from '../plan/schema.js';
import { STRATEGY_KINDS } from '../plan/schema.js';
import { inPlaceSteps, type StrategyInput } from './in-place.js';

export type { StrategyInput } from './in-place.js';
type StrategyKind = (typeof STRATEGY_KINDS)[number];
type StepBuilder = (input: StrategyInput) => Step[];

const STRATEGIES = {
  'in-place': inPlaceSteps,
  'clone-freeze': () => {
    throw new InputError(
      'STRATEGY_UNSUPPORTED',
      'the clone-freeze strategy is not available in this version of maint',
      [{ path: 'strategy', message: 'clone-freeze is not implemented yet' }],
      { hint: 'Use `strategy: in-place` for now.' },
    );
  },
} satisfies Record<StrategyKind, StepBuilder>;

export function strategyKind(plan: Plan): StrategyKind {
  return typeof plan.strategy === 'string' ? plan.strategy : plan.strategy.kind;
}

/**
 * Refuse, before anything is opened, a plan asking for what this version cannot do. Silently
 * skipping a configured fleet roll would leave the old release serving a migrated database.
 */
export function assertSupported(plan: Plan): void {
  if (plan.fleet) {
    throw new InputError(
      'FLEET_UNSUPPORTED',
      `the ${plan.fleet.provider} fleet provider is not available in this version of maint; the plan's fleet would not be rolled`,
      [{ path: 'fleet', message: 'fleet providers are not implemented yet' }],
      {
        hint: 'Remove `fleet:` and roll the fleet with your deploy tool after `maint run` (migrations must be backward-compatible).',
      },
    );
  }
  if (strategyKind(plan) !== 'in-place') STRATEGIES[strategyKind(plan)]({} as StrategyInput);
}

export function buildSteps(input: StrategyInput): Step[] {
  return STRATEGIES[strategyKind(input.plan)](input);
}
