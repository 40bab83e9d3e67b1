/**
 * Fleet providers by name. Each opener connects to its load balancer and reads it once, so an
 * unreachable runtime API or endpoint is exit 2 before anything changes. Providers load lazily:
 * a plan without `fleet:` never loads one.
 */
import { InputError } from '../errors.js';
import type { LoadedPlan } from '../plan/loader.js';
import { FLEET_PROVIDERS, type FleetConfig } from '../plan/schema.js';
import type { Fleet, FleetOpenOptions, FleetPort } from './fleet.js';

type Provider = (typeof FLEET_PROVIDERS)[number];
type ConfigOf<P extends Provider> = Extract<FleetConfig, { provider: P }>;
type Opener<P extends Provider> = (
  config: ConfigOf<P>,
  plan: LoadedPlan,
  options: FleetOpenOptions,
) => Promise<Fleet>;

function notBuilt(config: FleetConfig): Promise<Fleet> {
  return Promise.reject(
    new InputError(
      'FLEET_UNSUPPORTED',
      `the ${config.provider} fleet provider is not available in this version of maint; the plan's fleet would not be rolled`,
      [{ path: 'fleet.provider', message: `${config.provider} is not implemented yet` }],
      {
        hint: 'Use provider haproxy or command, or remove `fleet:` and roll the fleet with your deploy tool after `maint run` (migrations must be backward-compatible).',
      },
    ),
  );
}

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
