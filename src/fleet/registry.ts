/** Fleet providers by name. None is built yet: each refuses with the same positioned error. */
import { InputError } from '../errors.js';
import { FLEET_PROVIDERS, type FleetConfig } from '../plan/schema.js';
import type { LoadedPlan } from '../plan/loader.js';
import type { Fleet, FleetOpenOptions, FleetPort } from './fleet.js';

type Provider = (typeof FLEET_PROVIDERS)[number];
type Opener = (config: FleetConfig, plan: LoadedPlan, options?: FleetOpenOptions) => Promise<Fleet>;

function notBuilt(config: FleetConfig): Promise<Fleet> {
  return Promise.reject(
    new InputError(
      'FLEET_UNSUPPORTED',
      `the ${config.provider} fleet provider is not available in this version of maint; the plan's fleet would not be rolled`,
      [{ path: 'fleet', message: 'fleet providers are not implemented yet' }],
      {
        hint: 'Remove `fleet:` and roll the fleet with your deploy tool after `maint run` (migrations must be backward-compatible).',
      },
    ),
  );
}

const PROVIDERS = {
  haproxy: notBuilt,
  // Loaded on first use: the AWS SDK stays off the start-up path of every other command.
  ecs: async (config, plan, options) => {
    if (config.provider !== 'ecs') return notBuilt(config);
    const { openEcsFleet } = await import('./ecs.js');
    return openEcsFleet(config, plan, options);
  },
  command: notBuilt,
} satisfies Record<Provider, Opener>;

export const fleetPort: FleetPort = {
  open: (config, plan, options) => PROVIDERS[config.provider](config, plan, options),
};
