import type { NotifyPort } from './port.js';

/** The real notification modules, loaded only when a command needs them (handlebars, SDKs). */
export async function defaultNotifyPort(): Promise<NotifyPort> {
  const [factory, notifier] = await Promise.all([import('./event-factory.js'), import('./notifier.js')]);
  return {
    makeEvent: (input, clock) => factory.makeEvent(input, clock),
    createChannels: (plan, dir) => notifier.createChannels(plan, dir),
    deliver: (channels, event, options) => notifier.deliver(channels, event, options),
  };
}
