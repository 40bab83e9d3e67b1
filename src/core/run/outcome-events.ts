/** Which maintenance event tells people how a run ended. */
import type { EventType } from '../maintenance-event.js';
import type { EngineOutcome } from '../status.js';
import type { StepResult } from '../engine/engine.js';

export const EVENT_OF_OUTCOME = {
  completed: 'maintenance_completed',
  rescheduled: 'maintenance_rescheduled',
  rolled_back: 'maintenance_rolled_back',
  failed: 'maintenance_failed',
} as const satisfies Record<EngineOutcome, EventType>;

/** The steps as a maintenance event lists them. */
export function stepsForEvent(
  steps: readonly StepResult[],
): Array<{ name: string; status: string; durationMs?: number }> {
  return steps.map((s) => ({
    name: s.name,
    status: s.status,
    ...(s.durationMs !== null ? { durationMs: s.durationMs } : {}),
  }));
}
