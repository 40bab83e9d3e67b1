/**
 * Telling people: the run's maintenance events reach the plan's channels here, and only here.
 * The publisher is a sink of the run's coded events; delivery runs in the background (a slow or
 * failing channel never blocks or fails the maintenance) and the outcomes are collected for
 * the run's result and journal.
 */
import type { Channel, DeliveryOutcome } from '../../notify/channel.js';
import type { MakeEventInput } from '../../notify/event-factory.js';
import type { NotifyPort } from '../../notify/port.js';
import type { Logger } from '../../support/logger.js';
import type { Clock } from '../clock.js';
import type { AnyCoreEvent, Emitter, EventSink } from '../events.js';
import type { MaintenanceEvent } from '../maintenance-event.js';

export class Publisher implements EventSink {
  private readonly pending: Array<Promise<DeliveryOutcome[]>> = [];

  constructor(
    private readonly port: NotifyPort,
    private readonly channels: readonly Channel[],
    private readonly logger: Logger,
  ) {}

  emit(event: AnyCoreEvent): void {
    if (event.code !== 'maintenance' || this.channels.length === 0) return;
    const maintenance = event.data.event;
    this.pending.push(
      this.port.deliver(this.channels, maintenance, { logger: this.logger }).catch((error: unknown) => {
        // deliver() promises never to throw; if it does anyway, the run must not fail for it.
        this.logger.warn(`notification of ${maintenance.type} failed: ${(error as Error).message}`);
        return [];
      }),
    );
  }

  /** Wait for every delivery started so far. */
  async settle(): Promise<DeliveryOutcome[]> {
    return (await Promise.all(this.pending)).flat();
  }
}

/** Build a maintenance event and emit it (the publisher, among the sinks, delivers it). */
export function announce(
  port: NotifyPort,
  clock: Clock,
  events: Emitter,
  input: MakeEventInput,
): MaintenanceEvent {
  const event = port.makeEvent(input, clock);
  events.tell('maintenance', { event }, { message: `${event.type}: ${event.summary}` });
  return event;
}

/** Report the deliveries that failed after their retries (the run itself goes on). */
export function reportFailedDeliveries(events: Emitter, outcomes: readonly DeliveryOutcome[]): void {
  for (const o of outcomes.filter((x) => !x.ok && !x.skipped)) {
    events.tell(
      'notification.failed',
      { channel: o.channel, eventType: o.event, error: o.error ?? 'not delivered' },
      { message: `${o.channel} did not take ${o.event}: ${o.error ?? 'not delivered'}` },
    );
  }
}
