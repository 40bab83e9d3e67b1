/** Fleet providers by name. None is built yet: each refuses with the same positioned error. */
import { InputError } from '../errors.js';
import { FLEET_PROVIDERS, type FleetConfig } from '../plan/schema.js';
import type { Fleet, FleetPort } from './fleet.js';

type Provider = (typeof FLEET_PROVIDERS)[number];
type Opener = (config: FleetConfig) => Promise<Fleet>;

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
  ecs: notBuilt,
  command: notBuilt,
} satisfies Record<Provider, Opener>;

export const fleetPort: FleetPort = {
  open: (config) => PROVIDERS[config.provider](config),
};
