/**
 * The Fleet port: the application servers behind the load balancer, one provider per file
 * (haproxy, ecs + alb, command), registered in registry.ts. The `fleet:roll` step
 * (strategies/steps/fleet-step.ts) drives a provider; the provider owns how its platform rolls
 * (HAProxy slot by slot, ECS UpdateService, a user's command), the step owns the journal, the
 * coded events and the run's result.
 *
 * Rules every provider keeps (docs/fleet.md):
 * - `describe` reads the real load balancer state back; nothing is taken from memory.
 * - every write to the load balancer is read back (`describe` or the provider's own read)
 *   before anything old is stopped; an old member is stopped only once drained.
 * - a new member takes traffic only after the load balancer's checks (a check that ran after
 *   the change) AND maint's own probe of that member pass.
 * - `checkpoint` is called before each destructive action with enough to resume or undo it:
 *   after a kill -9 the next run calls `roll` (resume) or `rollback` with the journaled
 *   progress, and must never leave a backend with no member in service.
 */
import type { LoadedPlan } from '../plan/loader.js';
import type { FleetConfig } from '../plan/schema.js';

export type FleetMode = 'rolling' | 'blue-green';

/** One application server / task / target as the load balancer reports it. */
export interface FleetMember {
  /** Stable name: the HAProxy server name, the ECS task ARN or target id, the command's slot. */
  id: string;
  /** `host:port` when known. */
  addr: string | null;
  /** The load balancer's admin state. */
  admin: 'ready' | 'drain' | 'maint' | 'unknown';
  /** The load balancer's own health verdict. */
  health: 'up' | 'down' | 'unknown';
  /** The provider's raw check status (`L7OK`, `healthy`, `unhealthy`...), for people. */
  check: string | null;
  /** Current sessions / in-flight requests, when the load balancer reports them. */
  sessions: number | null;
  /** The release the member serves (from its probe, task definition or start record), if known. */
  release: string | null;
  /** Taking traffic now (ready and up, or weight > 0 and healthy). */
  inService: boolean;
}

/** What the load balancer really serves, read back from it. */
export interface FleetState {
  provider: FleetConfig['provider'];
  /** The release every member in service serves; null when none is in service or they differ. */
  release: string | null;
  /** Distinct releases among the members in service (more than one: a roll is half done). */
  releases: string[];
  members: FleetMember[];
}

/** One batch of a roll: some members moving to the new release (rolling), or the green set. */
export interface BatchPreview {
  index: number;
  members: string[];
  estimateMs: number;
}

/** What `maint plan` shows before a roll: the batches and the time they should take. */
export interface RollPreview {
  mode: FleetMode;
  from: string | null;
  to: string;
  batches: BatchPreview[];
  estimateMs: number;
}

/** The transitions of a batch, in order; each becomes a coded event (`fleet.batch.<phase>`). */
export type BatchPhase = 'started' | 'healthy' | 'shifted' | 'drained';

export interface BatchEvent {
  index: number;
  phase: BatchPhase;
  members: string[];
  release: string;
  /** Since the batch started. */
  elapsedMs: number;
}

/** A batch as the run's result and journal report it (ms since the batch started). */
export interface BatchReport {
  index: number;
  members: string[];
  release: string;
  startedAt: string;
  /** Milliseconds from `started` to each later phase, present once reached. */
  healthyMs?: number;
  shiftedMs?: number;
  drainedMs?: number;
  totalMs?: number;
}

/**
 * A provider's resumable progress, journaled by the step through `checkpoint` (plain JSON).
 * `phase` names where the provider is; `data` is the provider's own (e.g. which slots are done,
 * which green members were started, the listener weights before the shift).
 */
export interface RollProgress {
  mode: FleetMode;
  from: string | null;
  to: string;
  phase: string;
  data: Record<string, unknown>;
}

/** What the step hands a provider for a roll or a rollback. */
export interface RollHooks {
  signal: AbortSignal;
  /** Journal the provider's progress; once it resolves a crash cannot lose it. */
  checkpoint(progress: RollProgress): Promise<void>;
  /** A batch transition (the step emits `fleet.batch.<phase>` and records the durations). */
  batch(event: BatchEvent): void;
  /** A line of progress for people. */
  progress(message: string): void;
}

export interface RollInput {
  /** The release to roll to (the plan's `release`). */
  release: string;
  /** The release serving before the run (journaled or read from the members); null if unknown. */
  previous: string | null;
  /** Progress journaled by an interrupted run of the same roll, to resume from. */
  resume: RollProgress | null;
  /**
   * The database the new members start against (`MAINT_DATABASE_URL` of their start command; a
   * secret). Absent: the URL the fleet was opened with (the plan's). clone-freeze: the clone.
   */
  databaseUrl?: string;
}

export interface RollbackInput {
  /** The release to return to service. */
  previous: string;
  /** The release being abandoned. */
  failed: string;
  /** What the roll journaled last (null: the roll never changed anything). */
  progress: RollProgress | null;
}

export interface RollOutcome {
  /** Read back after the last write: what serves now. */
  state: FleetState;
}

/**
 * One opened fleet. Every method honours the signal and throws `MaintError`s: a new release
 * that does not pass the gate in time is `FleetHealthError` (fleet/errors.ts, exit 5 after the
 * rollback), a load balancer that refuses or cannot be reached is `FleetError`.
 */
export interface Fleet {
  readonly provider: FleetConfig['provider'];
  readonly mode: FleetMode;
  /** Read the real load balancer state (and, where the provider can, each member's release). */
  describe(signal?: AbortSignal): Promise<FleetState>;
  /** The batches a roll from `state` to `release` goes through, for `maint plan`. */
  preview(state: FleetState, release: string): RollPreview;
  /**
   * Roll to `input.release`, resuming `input.resume` when set. Resolves once every member in
   * service serves the release (read back). Throws `FleetHealthError` when a batch is not
   * healthy within `healthTimeout`; the step then calls `rollback`.
   */
  roll(input: RollInput, hooks: RollHooks): Promise<RollOutcome>;
  /**
   * Return `input.previous` to service and verify it (read back + probe) before anything of
   * the failed release is stopped. Safe from any point of a roll, after a crash too.
   */
  rollback(input: RollbackInput, hooks: RollHooks): Promise<RollOutcome>;
  /**
   * A blue-green roll in two calls, for clone-freeze: `warm` starts the new members (against
   * `input.databaseUrl`) and gates them while the old ones keep all the traffic; `cutOver` then
   * puts the new members in service (read back) and drains and stops the old ones. Both
   * checkpoint like `roll`, so `rollback` undoes a warm-up. Absent: the provider cannot split
   * a roll (clone-freeze refuses it in preflight).
   */
  warm?(input: RollInput, hooks: RollHooks): Promise<void>;
  cutOver?(input: RollInput, hooks: RollHooks): Promise<RollOutcome>;
  close(): Promise<void>;
}

/** What a provider is opened with besides its config. */
export interface FleetOpenOptions {
  /** For `MAINT_DATABASE_URL` in start/stop/deploy commands (a secret: never logged). */
  databaseUrl?: string;
  signal?: AbortSignal;
}

export interface FleetPort {
  /**
   * Connect to the plan's load balancer and read it once; exit 2 (`ConnectionError` /
   * `InputError`) when it cannot, before anything is changed.
   */
  open(config: FleetConfig, plan: LoadedPlan, options?: FleetOpenOptions): Promise<Fleet>;
}
