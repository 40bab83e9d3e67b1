/** `maint lock`: who holds the plan's lock, and releasing a provably dead holder. */
import type { LockHolder } from '../../db/database.js';
import type { LoadedPlan } from '../../plan/loader.js';
import type { Ports } from '../ports.js';
import { withDatabase } from './snapshot.js';

export interface LockReport {
  plan: string;
  held: boolean;
  holder: LockHolder | null;
}

export function lockReport(ports: Ports, loaded: LoadedPlan): Promise<LockReport> {
  return withDatabase(ports, loaded, async (db) => {
    const holder = await db.lockStatus(loaded.plan.name);
    return { plan: loaded.plan.name, held: holder !== null, holder };
  });
}

export interface ReleaseReport {
  plan: string;
  lockId: string;
  released: true;
}

/** Ends the holder's session only when its heartbeat is stale; a live holder is refused (exit 4). */
export function releaseLockById(ports: Ports, loaded: LoadedPlan, lockId: string): Promise<ReleaseReport> {
  return withDatabase(ports, loaded, async (db) => {
    await db.releaseLock(loaded.plan.name, lockId);
    return { plan: loaded.plan.name, lockId, released: true };
  });
}
