/**
 * Journaled run state. Steps keep what a later step, a resumed run or a rollback must know
 * (the baseline, the release the fleet served, which clone exists, when a freeze began) under
 * typed keys; every `set` is written to the run's journal row before it returns.
 */

/** A typed key; the type parameter is what `get` returns. */
export interface StateKey<T> {
  readonly name: string;
  /** Never set: carries T for the compiler. */
  readonly __type?: T;
}

export function stateKey<T>(name: string): StateKey<T> {
  return { name };
}

export interface RunState {
  get<T>(key: StateKey<T>): T | undefined;
  /** Journal `value` under `key` (awaited: once it returns, a crash cannot lose it). */
  set<T>(key: StateKey<T>, value: T): Promise<void>;
  /** Everything set so far (what the journal holds). */
  snapshot(): Record<string, unknown>;
}

/** State over a plain object; `persist` journals the whole object after each change. */
export function createRunState(
  initial: Record<string, unknown> | null,
  persist: (key: string, state: Record<string, unknown>) => Promise<void>,
): RunState {
  const values: Record<string, unknown> = { ...(initial ?? {}) };
  return {
    get: <T>(key: StateKey<T>) => values[key.name] as T | undefined,
    async set(key, value) {
      values[key.name] = value;
      await persist(key.name, { ...values });
    },
    snapshot: () => ({ ...values }),
  };
}

/** What a run knows before it changes anything; a resumed run reuses it. */
export interface Baseline {
  /** Newest migration applied before the run, or null when none was. */
  appliedBefore: string | null;
  /** Value of each integrity check before the run (first column of the first row, as text). */
  checks: Record<string, string | null>;
}

export const BASELINE = stateKey<Baseline>('baseline');

/**
 * The release serving before and after a run that rolls the fleet, and the newest migration
 * applied when `after` began to serve (the expand/contract guard reads it). Journaled in
 * `maint_runs.state` under `release`.
 */
export interface ReleaseRecord {
  before: string | null;
  after: string | null;
  lastMigration: string | null;
}

export const RELEASE = stateKey<ReleaseRecord>('release');

/** The release the newest run that recorded one left serving (runs newest first). */
export function lastServedRelease(runs: Array<{ state: Record<string, unknown> | null }>): string | null {
  for (const run of runs) {
    const r = run.state?.[RELEASE.name] as ReleaseRecord | undefined;
    if (r?.after) return r.after;
  }
  return null;
}

/**
 * A `--force-rollback --reason` override of the expand/contract guard: what the guard refused
 * and the operator's reason. Journaled in `maint_runs.state` under `guard.override`.
 */
export const GUARD_OVERRIDE = stateKey<{ reason: string; refused: string }>('guard.override');

/**
 * The `-- maint:lint-ignore RULE reason` suppressions in the migrations a run applies: the rule,
 * the reason and where. Journaled in `maint_runs.state` under `lint.suppressed`.
 */
export const LINT_SUPPRESSED =
  stateKey<Array<{ rule: string; reason: string; file: string; line: number; col: number }>>(
    'lint.suppressed',
  );

/**
 * `maint migrate accept`: changed migration files an operator accepted after a review, with the
 * checksums before and after and the reason. Journaled in `maint_runs.state` of a record that
 * ran no steps (it changed only the migrations table's checksums).
 */
export interface AcceptedMigrations {
  reason: string;
  /** Who accepted: host, pid and the CI job or task when the environment names one. */
  by: { host: string; pid: number; job?: string };
  migrations: Array<{
    name: string;
    file: string;
    state: 'applied' | 'partial';
    appliedAt: string | null;
    statementsDone: number;
    previousChecksum: string;
    checksum: string;
  }>;
}

export const MIGRATIONS_ACCEPTED = stateKey<AcceptedMigrations>('migrations.accepted');

/** A journal record that ran nothing (an acceptance): it neither settles nor hides a failed run. */
export function isRecordOnly(run: { state: Record<string, unknown> | null }): boolean {
  return run.state?.[MIGRATIONS_ACCEPTED.name] !== undefined;
}

/**
 * `maint resolve`: an operator recorded that a failed run was finished (or undone) by hand, and
 * why. Journaled in the failed run's own `maint_runs.state` under `resolution`; the run stays
 * `failed` (that is what happened), and no longer holds `gate` or the next run.
 */
export interface Resolution {
  reason: string;
  /** ISO-8601 UTC, real time. */
  at: string;
  by: { host: string; pid: number; job?: string };
}

export const RESOLUTION = stateKey<Resolution>('resolution');

export function resolutionOf(run: { state: Record<string, unknown> | null }): Resolution | null {
  return (run.state?.[RESOLUTION.name] as Resolution | undefined) ?? null;
}
