import type { Logger } from '../support/logger.js';
import type { AnalyzeReport, Queryable, Rows } from './database.js';
import type { AnalyzeStage } from './sql.js';
import { defaultHeartbeatMs } from './identity.js';

export interface OpenDatabaseOptions {
  /** How often the lock holder records that it is alive. @default 5000 (or MAINT_LOCK_HEARTBEAT_MS) */
  heartbeatMs: number;
  logger?: Logger;
}

export function resolveOpenOptions(options: Partial<OpenDatabaseOptions> = {}): OpenDatabaseOptions {
  return { ...options, heartbeatMs: options.heartbeatMs ?? defaultHeartbeatMs() };
}

/** `rows` with its `rowCount` (see `Rows`): `count` when the driver reports one, else the rows returned. */
export function withRowCount<R>(rows: R[], count: number | null | undefined): Rows<R> {
  return Object.defineProperty(rows, 'rowCount', {
    value: typeof count === 'number' ? count : rows.length,
    enumerable: false,
  }) as Rows<R>;
}

/** Sleep that ends early (rejecting with the signal's reason) when `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Run analyze stages in order on one connection (stage settings must stay on it), timing each. */
export async function runAnalyzeStages(
  conn: Queryable,
  stages: AnalyzeStage[],
  signal?: AbortSignal,
): Promise<AnalyzeReport['stages']> {
  const timed: AnalyzeReport['stages'] = [];
  for (const stage of stages) {
    const started = performance.now();
    for (const sql of stage.sql) await conn.query(sql, [], signal ? { signal } : {});
    timed.push({ name: stage.name, durationMs: Math.round(performance.now() - started) });
  }
  return timed;
}
