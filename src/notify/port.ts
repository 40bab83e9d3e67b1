/**
 * The notification port as the core sees it: build an event, create the plan's channels,
 * deliver an event to them (never throws). Types only; default-port.ts loads the real ones.
 */
import type { Clock } from '../core/clock.js';
import type { MaintenanceEvent } from '../core/maintenance-event.js';
import type { Plan } from '../plan/schema.js';
import type { Logger } from '../support/logger.js';
import type { Channel, DeliveryOutcome } from './channel.js';
import type { MakeEventInput } from './event-factory.js';
import type { BackoffOptions } from './notifier.js';

export interface NotifyPort {
  makeEvent(input: MakeEventInput, clock: Clock): MaintenanceEvent;
  createChannels(plan: Plan, planDir: string): Promise<Channel[]>;
  deliver(
    channels: readonly Channel[],
    event: MaintenanceEvent,
    options: { logger?: Logger; backoff?: Partial<BackoffOptions> },
  ): Promise<DeliveryOutcome[]>;
}
