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
    throw new InputError('STRATEGY_UNSUPPORTED', 'the clone-freeze strategy is not available in this version of maint', [
      { path: 'strategy', message: 'clone-freeze is not implemented yet' },
    ], { hint: 'Use `strategy: in-place` for now.' });
  },
} satisfies Record<StrategyKind, StepBuilder>;

export function strategyKind(plan: Plan): StrategyKind {
  return typeof plan.strategy === 'string' ? plan.strategy : plan.strategy.kind;
}

export function buildSteps(input: StrategyInput): Step[] {
  return STRATEGIES[strategyKind(input.plan)](input);
}
