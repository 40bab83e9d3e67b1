/**
 * Maintenance events of the contract (docs/SPEC.md): what channels deliver (webhooks, Slack,
 * email...). They travel through the core's event sink as the `maintenance` coded event.
 * Payloads are plain objects, serialised, never templated.
 */
import type { EventType } from '../plan/schema-common.js';
import type { MaintenanceState } from './status.js';

export { EVENT_TYPES, type EventType } from '../plan/schema-common.js';
export type { MaintenanceState } from './status.js';

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
  /** The plan's `release`: what this maintenance rolls out (absent when the plan names none). */
  release?: string;
  /** Present when the run was started outside its window. */
  emergency?: { reason: string };
  error?: { code: string; message: string };
  /** For `maintenance_rescheduled` (and refusals): the window it moves to. */
  nextWindow?: EventWindow;
  steps?: Array<{ name: string; status: string; durationMs?: number }>;
}
