/**
 * Refuse, before anything is opened, a plan asking for what this version or these ports cannot
 * do: an unbuilt strategy, a fleet provider or cloner that refuses, a clone-freeze fleet that
 * cannot start beside the old one, an unreachable load balancer (a clone-freeze plan's cloner also checks the live database and the clone server,
 * read-only). Silently skipping a configured fleet roll would leave the old release serving a
 * migrated database.
 */
import { InputError } from '../errors.js';
import type { Fleet, FleetState } from '../fleet/fleet.js';
import type { LoadedPlan } from '../plan/loader.js';
import type { FleetConfig } from '../plan/schema.js';
import { assertStrategySupported, strategyKind } from '../strategies/index.js';
import type { Ports } from './ports.js';

/** The plan's fleet, opened and read once; the caller closes it. */
export interface OpenedFleet {
  fleet: Fleet;
  state: FleetState;
}

/**
 * Check what can be checked without changing anything. With `keepFleet` the opened fleet is
 * returned (the run rolls it); otherwise it is closed.
 */
export async function preflight(
  ports: Ports,
  loaded: LoadedPlan,
  options: { keepFleet?: boolean } = {},
): Promise<OpenedFleet | null> {
  const { plan } = loaded;
  if (typeof plan.strategy === 'object' && plan.strategy.kind === 'clone-freeze' && plan.fleet)
    assertCloneFleet(plan.fleet, plan.strategy.clone.method);
  if (typeof plan.strategy === 'object' && plan.strategy.kind === 'clone-freeze')
    await (
      await ports.cloner.open(plan.strategy, loaded, {
        openDatabase: (config) => ports.openDatabase(config, loaded.dir, ports.logger),
      })
    ).close();
  assertStrategySupported(strategyKind(plan));
  if (!plan.fleet) return null;
  const fleet = await ports.fleet.open(plan.fleet, loaded, { databaseUrl: plan.database.url });
  try {
    const state = await fleet.describe();
    if (!state.members.some((m) => m.inService)) {
      throw new InputError(
        'FLEET_EMPTY',
        `no server of the fleet is in service now; maint rolls a fleet that serves`,
        [{ path: 'fleet', message: 'no server in service' }],
        { hint: 'Bring the application up behind the load balancer first; nothing was changed.' },
      );
    }
    if (!options.keepFleet) {
      await fleet.close();
      return null;
    }
    return { fleet, state };
  } catch (error) {
    await fleet.close().catch(() => undefined);
    throw error;
  }
}

/**
 * clone-freeze starts the new fleet beside the old one, against the clone, and shifts the
 * traffic once the clone is final: only a blue-green HAProxy fleet does that in this version.
 * A rolling roll would put old and new servers on two databases at once.
 */
function assertCloneFleet(fleet: FleetConfig, method: string): void {
  const works = 'clone-freeze with `fleet:` works with `provider: haproxy` and `mode: blue-green`';
  const refuse = (path: string, message: string) =>
    new InputError('STRATEGY_UNSUPPORTED', `${message}; ${works}`, [{ path, message }], {
      hint: 'Use a blue-green haproxy fleet, remove `fleet:` (and point the application at the `databaseUrl` the run reports), or use `strategy: in-place`; nothing was changed.',
    });
  if (method !== 'logical' && method !== 'replica')
    throw refuse(
      'strategy.clone.method',
      `clone-freeze with \`fleet:\` needs method: logical (PostgreSQL) or replica (MariaDB) in this version of maint (the ${method} method copies during the freeze, so the new fleet could only start on the clone after it)`,
    );
  if (fleet.provider !== 'haproxy')
    throw refuse(
      'fleet.provider',
      `clone-freeze cannot start a new fleet on the clone with the ${fleet.provider} provider in this version of maint`,
    );
  if (fleet.mode !== 'blue-green')
    throw refuse(
      'fleet.mode',
      `clone-freeze needs a new fleet beside the old one; mode ${fleet.mode} would mix servers on the old and the new database`,
    );
}
