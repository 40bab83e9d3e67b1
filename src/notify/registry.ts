/**
 * The channel registry: one lazy factory per channel type, and the plan's channels built from
 * them. The map is checked against every ChannelType, so a channel added to the plan schema
 * without a factory here fails to compile.
 */
import type { ChannelConfig, ChannelType } from '../plan/schema-notify.js';
import type { Plan } from '../plan/schema.js';
import type { Channel, ChannelFactory } from './channel.js';

/** Loads the factory of one channel type; each key gets the factory of its own config. */
type Factories = { [K in ChannelType]: () => Promise<ChannelFactory<Extract<ChannelConfig, { type: K }>>> };

// Lazy: `maint window` must not pay for nodemailer or intercom-client at start-up.
const FACTORIES = {
  webhook: async () => (await import('./webhook.js')).createWebhookChannel,
  slack: async () => (await import('./slack.js')).createSlackChannel,
  email: async () => (await import('./email.js')).createEmailChannel,
  intercom: async () => (await import('./intercom.js')).createIntercomChannel,
  'status-page': async () => (await import('./status-page.js')).createStatusPageChannel,
} satisfies Factories;

/** Build the plan's channels. Throws an InputError (exit 2) for a bad template path. */
export async function createChannels(plan: Plan, planDir: string): Promise<Channel[]> {
  const channels: Channel[] = [];
  for (const [index, config] of plan.notify.channels.entries()) {
    const factory = (await FACTORIES[config.type]()) as ChannelFactory;
    channels.push(await factory(config, { id: `${config.type}#${index}`, plan, planDir }));
  }
  return channels;
}
