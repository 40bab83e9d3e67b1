/**
 * Telling people: the run's maintenance events go out to the plan's channels here, and only
 * here. Delivery runs in the background (a slow or failing channel never blocks or fails the
 * maintenance); the outcomes are collected for the run's result and journal.
 */
import type { Channel, DeliveryOutcome } from '../notify/channel.js';
import type { MakeEventInput } from '../notify/event-factory.js';
import type { Logger } from '../output/logger.js';
import type { Plan } from '../plan/schema.js';
import type { Clock } from './clock.js';
import type { MaintenanceEvent, RunProgressEvent } from './events.js';

/** What a step or the run says happened; the event factory turns it into an event. */
export type EventInput = MakeEventInput;

/** The notification subsystem as the run sees it (injected in tests). */
export interface NotifyDeps {
  makeEvent(input: EventInput, clock: Clock): MaintenanceEvent;
  createChannels(plan: Plan, planDir: string): Promise<Channel[]>;
  deliver(
    channels: readonly Channel[],
    event: MaintenanceEvent,
    options: { logger?: Logger },
  ): Promise<DeliveryOutcome[]>;
}

export async function defaultNotifyDeps(): Promise<NotifyDeps> {
  const [factory, notifier] = await Promise.all([
    import('../notify/event-factory.js'),
    import('../notify/default-port.js').then((port) => port.defaultNotifyPort()),
  ]);
  return {
    makeEvent: (input, clock) => factory.makeEvent(input, clock),
    createChannels: (plan, dir) => notifier.createChannels(plan, dir),
    deliver: (channels, event, options) => notifier.deliver(channels, event, options),
  };
}

export class Publisher {
  private readonly pending: Array<Promise<DeliveryOutcome[]>> = [];
  readonly events: MaintenanceEvent[] = [];

  constructor(
    private readonly deps: NotifyDeps,
    private readonly channels: readonly Channel[],
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly onProgress?: (event: RunProgressEvent) => void,
  ) {}

  publish(input: EventInput): MaintenanceEvent {
    const event = this.deps.makeEvent(input, this.clock);
    this.events.push(event);
    this.onProgress?.({ type: 'maintenance', event });
    if (this.channels.length > 0) {
      this.pending.push(
        this.deps.deliver(this.channels, event, { logger: this.logger }).catch((error: unknown) => {
          // deliver() promises never to throw; if it does anyway, the run must not fail for it.
          this.logger.warn(`notification of ${event.type} failed: ${(error as Error).message}`);
          return [];
        }),
      );
    }
    return event;
  }

  /** Wait for every delivery started so far. */
  async settle(): Promise<DeliveryOutcome[]> {
    return (await Promise.all(this.pending)).flat();
  }
}
