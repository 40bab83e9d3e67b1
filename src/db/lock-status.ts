/** The core of `maint lock`: who holds the plan's lock, and releasing a provably dead holder. */
import type { LoadedPlan } from '../plan/loader.js';
import type { Logger } from '../output/logger.js';
import type { LockHolder } from './database.js';
import { openDatabase } from './index.js';

export interface LockReport {
  plan: string;
  held: boolean;
  holder: LockHolder | null;
}

export async function lockReport(loaded: LoadedPlan, options: { logger?: Logger } = {}): Promise<LockReport> {
  const db = await openDatabase(
    loaded.plan.database,
    loaded.dir,
    options.logger ? { logger: options.logger } : {},
  );
  try {
    const holder = await db.lockStatus(loaded.plan.name);
    return { plan: loaded.plan.name, held: holder !== null, holder };
  } finally {
    await db.close();
  }
}

export interface ReleaseReport {
  plan: string;
  lockId: string;
  released: true;
}

/** Ends the holder's session only when its heartbeat is stale; a live holder is refused (exit 4). */
export async function releaseLockById(
  loaded: LoadedPlan,
  lockId: string,
  options: { logger?: Logger } = {},
): Promise<ReleaseReport> {
  const db = await openDatabase(
    loaded.plan.database,
    loaded.dir,
    options.logger ? { logger: options.logger } : {},
  );
  try {
    await db.releaseLock(loaded.plan.name, lockId);
    return { plan: loaded.plan.name, lockId, released: true };
  } finally {
    await db.close();
  }
}
