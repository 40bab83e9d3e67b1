/**
 * The Channel port: one way of telling people (webhook, slack, email, intercom, status page).
 * A channel never throws into the engine: `deliver` (notifier.ts) wraps every send with a
 * timeout and retries and reports a DeliveryOutcome instead.
 */
import type { MaintenanceEvent } from '../engine/events.js';
import type { ChannelConfig } from '../plan/schema-notify.js';

export interface RenderedMessage {
  /** Short description of where it goes, secrets masked: `webhook https://hooks.example.com/***`. */
  target: string;
  subject?: string;
  text: string;
  html?: string;
  /** The JSON body sent, when there is one. */
  body?: unknown;
}

export interface SendContext {
  /** Aborted when the attempt's timeout passes; a channel must stop then. */
  signal: AbortSignal;
  /** 1 for the first attempt. */
  attempt: number;
}

export interface Channel {
  readonly type: ChannelConfig['type'];
  /** Stable label in results: `webhook#0`, `slack#1`, … */
  readonly id: string;
  /** What would be sent, without sending (`maint notify --dry-run`). */
  render(event: MaintenanceEvent): Promise<RenderedMessage>;
  /** Send one attempt. Throw to fail the attempt; `ChannelGoneError` disables it for the run. */
  send(event: MaintenanceEvent, context: SendContext): Promise<{ status?: number }>;
  /** Optional check run by `maint plan` (e.g. SMTP verify). */
  preflight?(signal: AbortSignal): Promise<void>;
}

export interface DeliveryOutcome {
  channel: string;
  type: ChannelConfig['type'];
  event: MaintenanceEvent['type'];
  eventId: string;
  ok: boolean;
  attempts: number;
  durationMs: number;
  status?: number;
  /** Redacted reason of the last failure. */
  error?: string;
  /** Not sent: disabled (410), or this event is not subscribed. */
  skipped?: 'disabled' | 'not-subscribed';
}
