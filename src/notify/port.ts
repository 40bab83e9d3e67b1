/**
 * The notification port: what the core needs from notify, as types only. The core is given an
 * implementation (defaultNotifyPort, or a fake in tests) and never imports notify's modules, so
 * it neither loads the channel libraries at start-up nor depends on how delivery works.
 */
import type { Clock } from '../core/clock.js';
import type { MaintenanceEvent } from '../core/maintenance-event.js';
import type { Logger } from '../support/logger.js';
import type { Plan } from '../plan/schema.js';
import type { Channel, DeliveryOutcome } from './channel.js';
import type { BackoffOptions } from './deliver.js';
import type { MakeEventInput } from './event-factory.js';

/** Builds maintenance events, the plan's channels, and delivers events to them. */
export interface NotifyPort {
  /** One event of the contract, redacted. */
  makeEvent(input: MakeEventInput, clock: Clock): MaintenanceEvent;
  /** The plan's channels; rejects with an InputError (exit 2) for a bad template path. */
  createChannels(plan: Plan, planDir: string): Promise<Channel[]>;
  /** Sends the event to every channel; one outcome per channel, never a rejection. */
  deliver(
    channels: readonly Channel[],
    event: MaintenanceEvent,
    options: { logger?: Logger; backoff?: Partial<BackoffOptions> },
  ): Promise<DeliveryOutcome[]>;
}
