/**
 * Builds the events of the contract. Every channel, the journal and the renderers read the
 * same object, so everything a person or a receiver needs (plan, run, window in UTC and in the
 * plan's zone, a sentence) is decided here, once, and redacted before it leaves.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import {
  STATE_OF_EVENT,
  type EventType,
  type EventWindow,
  type MaintenanceEvent,
} from '../core/maintenance-event.js';
import { MaintError } from '../errors.js';
import { formatDuration } from '../plan/duration.js';
import { redact, redactDeep } from '../support/redact.js';
import type { Plan } from '../plan/schema.js';
import { formatLocal, isoLocal, type WindowInstance } from '../window/window.js';

export interface MakeEventInput {
  plan: Plan;
  runId: string;
  type: EventType;
  window: WindowInstance;
  /** One sentence for people. @default a summary per event type */
  summary?: string;
  /** Set when the run was started outside its window. */
  emergency?: { reason: string };
  /** The failure behind `maintenance_failed` / `_rolled_back`: a MaintError, an Error or `{ code, message }`. */
  error?: unknown;
  /** Where a rescheduled maintenance moves to. */
  nextWindow?: WindowInstance;
  steps?: Array<{ name: string; status: string; durationMs?: number }>;
}

/** A fresh event id: the Standard Webhooks `webhook-id` and the receivers' idempotency key. */
export function newEventId(): string {
  return `evt_${randomBytes(12).toString('hex')}`;
}

export function eventWindow(window: WindowInstance, zone: string): EventWindow {
  return {
    start: window.start.toISOString(),
    end: window.end.toISOString(),
    startLocal: isoLocal(window.start, zone),
    endLocal: isoLocal(window.end, zone),
    timezone: zone,
  };
}

export function makeEvent(input: MakeEventInput, clock: Clock): MaintenanceEvent {
  const zone = input.plan.window.timezone;
  const event: MaintenanceEvent = {
    id: newEventId(),
    type: input.type,
    plan: input.plan.name,
    runId: input.runId,
    occurredAt: clock.now().toISOString(),
    state: STATE_OF_EVENT[input.type],
    window: eventWindow(input.window, zone),
    summary: input.summary ?? defaultSummary(input),
  };
  if (input.plan.release) event.release = input.plan.release;
  if (input.emergency) event.emergency = { reason: input.emergency.reason };
  if (input.error !== undefined) event.error = describeError(input.error);
  if (input.nextWindow) event.nextWindow = eventWindow(input.nextWindow, zone);
  if (input.steps) event.steps = input.steps.map((s) => ({ ...s }));
  // Summaries and reasons come from people and error messages; either may quote a secret.
  return redactDeep(event);
}

function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof MaintError) return { code: error.code, message: redact(error.message) };
  if (error !== null && typeof error === 'object') {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (typeof message === 'string') {
      return { code: typeof code === 'string' ? code : 'INTERNAL', message: redact(message) };
    }
  }
  return { code: 'INTERNAL', message: redact(String(error)) };
}

/** The sentence people read when the caller gives none. */
export function defaultSummary(
  input: Pick<MakeEventInput, 'plan' | 'type' | 'window' | 'nextWindow' | 'emergency' | 'error'>,
): string {
  const zone = input.plan.window.timezone;
  const name = input.plan.name;
  const start = formatLocal(input.window.start, zone);
  const end = formatLocal(input.window.end, zone);
  switch (input.type) {
    case 'maintenance_planned':
      return `Maintenance ${name} is scheduled from ${start} to ${end}.`;
    case 'maintenance_started':
      // An emergency run has no window: its span is the run's estimate, so say how long, not an end.
      return input.emergency
        ? `Maintenance ${name} has started (emergency: no window applies); it is expected to take about ${formatDuration(input.window.end.getTime() - input.window.start.getTime())}.`
        : `Maintenance ${name} has started; the window ends ${end}.`;
    case 'maintenance_completed':
      return `Maintenance ${name} is complete.`;
    case 'maintenance_failed':
      return `Maintenance ${name} failed and needs attention.`;
    case 'maintenance_rolled_back': {
      // A migration run outside a transaction (a JS module with `transaction = false`) is not
      // undone by the rollback: what it wrote before failing stays, so "nothing changed" is untrue.
      const details = input.error instanceof MaintError ? input.error.details : undefined;
      if (details?.outsideTransaction === true)
        return `Maintenance ${name} was rolled back, except what ${String(details.migration)} wrote outside a transaction before it failed: that stays.`;
      return `Maintenance ${name} was rolled back; nothing changed.`;
    }
    case 'maintenance_rescheduled':
      return input.nextWindow
        ? `Maintenance ${name} moves to ${formatLocal(input.nextWindow.start, zone)}.`
        : `Maintenance ${name} was postponed to a later window.`;
  }
}
