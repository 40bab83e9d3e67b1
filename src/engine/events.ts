/**
 * Events of the contract (docs/SPEC.md). The engine emits them; channels, the banner, the
 * journal and renderers subscribe. Payloads are plain objects, serialised, never templated.
 */
import type { EventType } from '../plan/schema-common.js';

export { EVENT_TYPES, type EventType } from '../plan/schema-common.js';

export type MaintenanceState = 'planned' | 'active' | 'completed' | 'failed' | 'rolled_back' | 'rescheduled';

export const STATE_OF_EVENT: Record<EventType, MaintenanceState> = {
  maintenance_planned: 'planned',
  maintenance_started: 'active',
  maintenance_completed: 'completed',
  maintenance_failed: 'failed',
  maintenance_rolled_back: 'rolled_back',
  maintenance_rescheduled: 'rescheduled',
};

export interface EventWindow {
  /** ISO-8601 UTC. */
  start: string;
  end: string;
  /** ISO-8601 with the plan zone's offset. */
  startLocal: string;
  endLocal: string;
  timezone: string;
}

export interface MaintenanceEvent {
  /** Unique per event; the webhook-id and idempotency key. */
  id: string;
  type: EventType;
  plan: string;
  runId: string;
  /** ISO-8601 UTC. */
  occurredAt: string;
  state: MaintenanceState;
  window: EventWindow;
  /** One sentence for people. */
  summary: string;
  /** Present when the run was started outside its window. */
  emergency?: { reason: string };
  error?: { code: string; message: string };
  /** For `maintenance_rescheduled` (and refusals): the window it moves to. */
  nextWindow?: EventWindow;
  steps?: Array<{ name: string; status: string; durationMs?: number }>;
}

/**
 * Progress of one run as it happens, for renderers (live step list, plain lines, logs).
 * Maintenance events (above) are what channels receive; these are for the person watching.
 */
export type RunProgressEvent =
  | {
      type: 'step';
      seq: number;
      name: string;
      status: import('./step.js').StepStatus;
      durationMs?: number;
      estimateMs?: number;
      /** One line of detail: the error of a failed step, what a done step did. */
      message?: string;
    }
  | { type: 'notice'; level: 'info' | 'warn'; message: string }
  | { type: 'maintenance'; event: MaintenanceEvent };
