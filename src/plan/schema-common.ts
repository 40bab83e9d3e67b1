import { z } from 'zod';
import { DURATION_PATTERN } from './duration.js';
import {
  durationToMs,
  isComparisonIfItLooksLikeOne,
  type RuleIssue,
  type TransformResult,
} from './schema-rules.js';

/**
 * The zod checks and transforms made by `rule()` and `transformRule()`, with the plain function
 * (from schema-rules.ts) each one runs: the validator generator (validator-gen.ts) reads this to
 * call the same function from the generated code.
 */
const RULES = new WeakMap<object, (value: never) => unknown>();

/** The plain function behind a check or transform made below; undefined for any other. */
export function ruleFunction(checkOrTransform: object): ((value: never) => unknown) | undefined {
  return RULES.get(checkOrTransform);
}

/** A cross-field check (what `.superRefine` does) whose rule is a plain function: `.check(rule(fn))`. */
export function rule<T>(fn: (value: T) => RuleIssue[]): z.core.$ZodCheck<T> {
  const check = z.superRefine<T>((value, ctx) => {
    for (const issue of fn(value)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });
  RULES.set(check, fn as (value: never) => unknown);
  return check;
}

/** A transform (`.transform(transformRule(fn))`) whose rule is a plain function. */
export function transformRule<I, O>(fn: (value: I) => TransformResult<O>) {
  const transform = (value: I, ctx: z.core.$RefinementCtx<I>): O => {
    const result = fn(value);
    if ('value' in result) return result.value;
    ctx.addIssue({ code: 'custom', message: result.error, input: value });
    return z.NEVER;
  };
  RULES.set(transform, fn as (value: never) => unknown);
  return transform;
}

export const EVENT_TYPES = [
  'maintenance_planned',
  'maintenance_started',
  'maintenance_completed',
  'maintenance_failed',
  'maintenance_rolled_back',
  'maintenance_rescheduled',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** A duration string (`40m`, `1h30m`) parsed to milliseconds. */
export const durationMs = z
  .string()
  .meta({ pattern: DURATION_PATTERN, description: 'A duration: 90s, 40m, 8h, 1h30m (units ms, s, m, h, d).' })
  .transform(transformRule(durationToMs));

/** What a check (or an operation's verify) expects of its query's value. */
export const expectValue = z
  .union([
    z.literal('unchanged'),
    z.number(),
    // A value that starts like a comparison but is not one is a typo, not an exact value.
    z.string().min(1).refine(isComparisonIfItLooksLikeOne, {
      message: 'a comparison is an operator (>=, <=, ==, !=, >, <) followed by a number, like ">= 1"',
    }),
  ])
  .meta({
    description: '`unchanged` (same as before the run), an exact value, or a comparison like ">= 1".',
  });
