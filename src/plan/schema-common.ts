import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from './duration.js';

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
  .transform((text, ctx) => {
    const parsed = parseDuration(text);
    if (typeof parsed === 'number') return parsed;
    ctx.addIssue({ code: 'custom', message: parsed.error, input: text });
    return z.NEVER;
  });

const COMPARISON = /^(>=|<=|==|!=|>|<)\s*-?\d+(\.\d+)?$/;

/** What a check (or an operation's verify) expects of its query's value. */
export const expectValue = z
  .union([
    z.literal('unchanged'),
    z.number(),
    // A value that starts like a comparison but is not one is a typo, not an exact value.
    z
      .string()
      .min(1)
      .refine((s) => !/^(>=|<=|==|!=|>|<)/.test(s) || COMPARISON.test(s), {
        message: 'a comparison is an operator (>=, <=, ==, !=, >, <) followed by a number, like ">= 1"',
      }),
  ])
  .meta({
    description: '`unchanged` (same as before the run), an exact value, or a comparison like ">= 1".',
  });
