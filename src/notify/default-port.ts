/**
 * The real notification port. Its modules are imported when the port is built, not when this
 * file is loaded, so the event factory, the registry and delivery stay off the start-up path of
 * commands that never notify.
 */
import type { NotifyPort } from './port.js';

/** The port backed by event-factory.ts, registry.ts and deliver.ts. */
export async function defaultNotifyPort(): Promise<NotifyPort> {
  const [factory, registry, delivery] = await Promise.all([
    import('./event-factory.js'),
    import('./registry.js'),
    import('./deliver.js'),
  ]);
  return {
    makeEvent: (input, clock) => factory.makeEvent(input, clock),
    createChannels: (plan, planDir) => registry.createChannels(plan, planDir),
    deliver: (channels, event, options) => delivery.deliver(channels, event, options),
  };
}
