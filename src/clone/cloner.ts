/**
 * The Cloner port: copies the live database online for the clone-freeze strategy, freezes
 * writes and cuts over. Not built in this version: the default refuses before anything is
 * opened (default-cloner.ts).
 */
import type { LoadedPlan } from '../plan/loader.js';
import type { CloneFreezeConfig } from '../plan/schema.js';

export interface Cloner {
  close(): Promise<void>;
}

export interface ClonerPort {
  /** Check what the method needs and connect; exit 2 when it cannot. */
  open(config: CloneFreezeConfig, plan: LoadedPlan): Promise<Cloner>;
}
