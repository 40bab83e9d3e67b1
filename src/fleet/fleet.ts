/**
 * The Fleet port: the application servers behind the load balancer, per provider (haproxy,
 * ecs + alb, command). This version rolls no fleet: every provider refuses before anything is
 * opened (registry.ts), so a plan with `fleet:` is never half-done (the old release would serve
 * a migrated database). The fleet issue fills the interface with the roll operations.
 */
import type { LoadedPlan } from '../plan/loader.js';
import type { FleetConfig } from '../plan/schema.js';

export interface FleetServer {
  name: string;
  /** As the load balancer reports it (`ready`, `drain`, `maint`, `healthy`...). */
  state: string;
  release: string | null;
}

/** What the load balancer really serves, read back from it. */
export interface FleetState {
  release: string | null;
  servers: FleetServer[];
}

export interface Fleet {
  describe(signal?: AbortSignal): Promise<FleetState>;
  close(): Promise<void>;
}

export interface FleetPort {
  /** Connect to the plan's load balancer; exit 2 (ConnectionError/InputError) when it cannot. */
  open(config: FleetConfig, plan: LoadedPlan): Promise<Fleet>;
}
