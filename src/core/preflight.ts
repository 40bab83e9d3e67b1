/**
 * Refuse, before anything is opened, a plan asking for what this version or these ports cannot
 * do: an unbuilt strategy, a fleet provider or cloner that refuses (a clone-freeze plan's cloner
 * also checks the live database and the clone server, read-only). Silently skipping a
 * configured fleet roll would leave the old release serving a migrated database.
 */
import type { LoadedPlan } from '../plan/loader.js';
import { assertStrategySupported, strategyKind } from '../strategies/index.js';
import type { Ports } from './ports.js';

export async function preflight(ports: Ports, loaded: LoadedPlan): Promise<void> {
  const { plan } = loaded;
  if (plan.fleet) await (await ports.fleet.open(plan.fleet, loaded)).close();
  if (typeof plan.strategy === 'object' && plan.strategy.kind === 'clone-freeze')
    await (
      await ports.cloner.open(plan.strategy, loaded, {
        openDatabase: (config) => ports.openDatabase(config, loaded.dir, ports.logger),
      })
    ).close();
  assertStrategySupported(strategyKind(plan));
}
