/**
 * Fleet providers by name. Each opener connects to its load balancer and reads it once, so an
 * unreachable runtime API or endpoint is exit 2 before anything changes. Providers load lazily:
 * a plan without `fleet:` never loads one.
 */
import type { LoadedPlan } from '../plan/loader.js';
import type { FLEET_PROVIDERS, FleetConfig } from '../plan/schema.js';
import type { Fleet, FleetOpenOptions, FleetPort } from './fleet.js';

type Provider = (typeof FLEET_PROVIDERS)[number];
type ConfigOf<P extends Provider> = Extract<FleetConfig, { provider: P }>;
type Opener<P extends Provider> = (
  config: ConfigOf<P>,
  plan: LoadedPlan,
  options: FleetOpenOptions,
) => Promise<Fleet>;

const haproxy: Opener<'haproxy'> = async (config, plan, options) =>
  (await import('./haproxy.js')).openHaproxy(config, plan, options);

// The AWS SDK loads only here, on first use: it stays off the start-up path of every command.
const ecs: Opener<'ecs'> = async (config, plan, options) =>
  (await import('./ecs.js')).openEcsFleet(config, plan, options);

const command: Opener<'command'> = async (config, plan, options) =>
  (await import('./command.js')).openCommandFleet(config, plan, options);

const PROVIDERS = {
  haproxy,
  ecs,
  command,
} satisfies { [P in Provider]: Opener<P> };

export const fleetPort: FleetPort = {
  open: (config, plan, options = {}) =>
    (PROVIDERS[config.provider] as Opener<Provider>)(config as never, plan, options),
};
