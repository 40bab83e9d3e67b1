/**
 * The Channel port: one way of telling people (webhook, slack, email, intercom, status page).
 * A channel never throws into the engine: `deliver` (deliver.ts) wraps every send with a
 * timeout and retries and reports a DeliveryOutcome instead.
 *
 * Everything a channel module needs from the rest of notify lives here, so channels depend on
 * this file only and the registry (registry.ts) can depend on them without a circle.
 */
import { act, hint } from '../hints.js';
import type { EventType, MaintenanceEvent } from '../core/maintenance-event.js';
import { ConnectionError, type MaintErrorOptions } from '../errors.js';
import type { ChannelConfig } from '../plan/schema-notify.js';
import type { Plan } from '../plan/schema.js';

/** How `deliver` treats one channel: attempt timeout, retries and the events it wants. */
export interface DeliveryPolicy {
  /** Longest one attempt may take. @default 5000 */
  timeoutMs: number;
  /** Further attempts after the first. @default 3 */
  retries: number;
  /** Only these events are sent; every event when absent. */
  events?: readonly EventType[];
}

/** The delivery policy of a plan entry. */
export function policyOf(config: Pick<ChannelConfig, 'timeout' | 'retries' | 'events'>): DeliveryPolicy {
  return {
    timeoutMs: config.timeout,
    retries: config.retries,
    ...(config.events ? { events: config.events } : {}),
  };
}

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
  /** Timeout, retries and event filter; `deliver` uses its defaults when absent. */
  readonly delivery?: DeliveryPolicy;
}

/** What a channel factory is given besides its own plan entry. */
export interface ChannelContext {
  /** `webhook#0`: type and position in notify.channels. */
  id: string;
  plan: Plan;
  /** Folder the plan's relative paths resolve against. */
  planDir: string;
}

/** What each channel module exports: build a channel from its plan entry. */
export type ChannelFactory<C extends ChannelConfig = ChannelConfig> = (
  config: C,
  context: ChannelContext,
) => Promise<Channel>;

/**
 * One attempt failed. `status` is the HTTP (or SMTP) answer when there was one; `retryable`
 * false stops the retries (a 400 or 401 will not fix itself). It never leaves `deliver`: a
 * channel that fails never fails the maintenance.
 */
export class DeliveryError extends ConnectionError {
  readonly status: number | undefined;
  readonly retryable: boolean;
  constructor(message: string, options: MaintErrorOptions & { status?: number; retryable?: boolean } = {}) {
    super('NOTIFY_DELIVERY_FAILED', message, {
      hint:
        options.hint ??
        hint("Check the channel in the plan's notify.channels, then try {notify}.", {
          notify: act('notify', undefined, { event: 'maintenance_planned' }),
        }),
      ...options,
    });
    this.status = options.status;
    this.retryable = options.retryable ?? true;
  }
}

/** The receiver answered 410 Gone: it wants no more deliveries; the channel is off for the run. */
export class ChannelGoneError extends DeliveryError {
  constructor(message: string, options: MaintErrorOptions = {}) {
    super(message, { ...options, status: 410, retryable: false });
  }
}

/** Retry 5xx, 408 and 429; other 4xx answers are final. */
export function retryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
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
