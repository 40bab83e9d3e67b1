/**
 * Amazon RDS for the clone-freeze methods `rds-blue-green` and `rds-snapshot` and the
 * `rds-upgrade` operation: the client (src/fleet/aws.ts builds it, lazily), views of instances,
 * snapshots and blue/green deployments, and `waitFor`, which polls until a state has been read
 * several times in a row (describes lag writes), tolerating throttling, within a bound.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ExitCode, MaintError } from '../errors.js';
import { formatDuration } from '../plan/duration.js';
import type { RdsApi } from '../fleet/aws.js';

/** Good reads in a row before a state counts (describes lag writes). */
export const RDS_CONSECUTIVE_READS = 3;

export interface RdsAccess {
  region?: string | undefined;
  endpoint?: string | undefined;
  pollInterval: number;
  waitTimeout: number;
}

export async function openRds(access: RdsAccess): Promise<RdsApi> {
  const { createRdsClient } = await import('../fleet/aws.js');
  return createRdsClient({
    ...(access.region ? { region: access.region } : {}),
    ...(access.endpoint ? { endpoint: access.endpoint } : {}),
  });
}

export interface InstanceView {
  id: string;
  arn: string;
  status: string;
  engine: string;
  engineVersion: string;
  host: string | null;
  port: number | null;
  instanceClass: string | undefined;
  allocatedGb: number;
}

export interface DeploymentView {
  id: string;
  status: string;
  statusDetails: string;
  source: string | undefined;
  target: string | undefined;
}

interface RawInstance {
  DBInstanceIdentifier?: string;
  DBInstanceArn?: string;
  DBInstanceStatus?: string;
  Engine?: string;
  EngineVersion?: string;
  Endpoint?: { Address?: string; Port?: number };
  DBInstanceClass?: string;
  AllocatedStorage?: number;
}

export function awsName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { name?: unknown; $metadata?: unknown };
  return e.$metadata !== undefined && typeof e.name === 'string' ? e.name : undefined;
}

const NOT_FOUND = new Set([
  'DBInstanceNotFound',
  'DBInstanceNotFoundFault',
  'DBSnapshotNotFound',
  'DBSnapshotNotFoundFault',
  'BlueGreenDeploymentNotFound',
  'BlueGreenDeploymentNotFoundFault',
]);

export function isNotFound(error: unknown): boolean {
  const name = awsName(error);
  return name !== undefined && NOT_FOUND.has(name);
}

/** The instance, or null when RDS does not know it (yet, or any more). */
export async function describeInstance(
  api: RdsApi,
  id: string,
  signal?: AbortSignal,
): Promise<InstanceView | null> {
  try {
    const out = await api.call<{ DBInstances?: RawInstance[] }>(
      'DescribeDBInstances',
      { DBInstanceIdentifier: id },
      signal,
    );
    const i = out.DBInstances?.[0];
    if (!i) return null;
    return {
      id: i.DBInstanceIdentifier ?? id,
      arn: i.DBInstanceArn ?? '',
      status: i.DBInstanceStatus ?? 'unknown',
      engine: i.Engine ?? 'unknown',
      engineVersion: i.EngineVersion ?? 'unknown',
      host: i.Endpoint?.Address ?? null,
      port: i.Endpoint?.Port ?? null,
      instanceClass: i.DBInstanceClass,
      allocatedGb: i.AllocatedStorage ?? 0,
    };
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

export async function describeDeployment(
  api: RdsApi,
  id: string,
  signal?: AbortSignal,
): Promise<DeploymentView | null> {
  try {
    const out = await api.call<{
      BlueGreenDeployments?: {
        BlueGreenDeploymentIdentifier?: string;
        Status?: string;
        StatusDetails?: string;
        Source?: string;
        Target?: string;
      }[];
    }>('DescribeBlueGreenDeployments', { BlueGreenDeploymentIdentifier: id }, signal);
    const d = out.BlueGreenDeployments?.[0];
    if (!d) return null;
    return {
      id: d.BlueGreenDeploymentIdentifier ?? id,
      status: d.Status ?? 'unknown',
      statusDetails: d.StatusDetails ?? '',
      source: d.Source,
      target: d.Target,
    };
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

export async function describeSnapshot(
  api: RdsApi,
  id: string,
  signal?: AbortSignal,
): Promise<{ id: string; status: string } | null> {
  try {
    const out = await api.call<{ DBSnapshots?: { DBSnapshotIdentifier?: string; Status?: string }[] }>(
      'DescribeDBSnapshots',
      { DBSnapshotIdentifier: id },
      signal,
    );
    const s = out.DBSnapshots?.[0];
    return s ? { id: s.DBSnapshotIdentifier ?? id, status: s.Status ?? 'unknown' } : null;
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** Why a state is not reached yet ('' = reached), or a failure that ends the wait. */
export type Judge<T> = (view: T) => { why: string; failed?: boolean };

export interface WaitResult<T> {
  view: T;
  reads: number;
  throttled: number;
}

/**
 * Poll `read` until `judge` says the state is reached `consecutive` reads in a row. A failed
 * state throws `RdsFailedError`; past `timeoutMs` `RdsTimeoutError` (with the last reason).
 * Throttled reads are retried after the poll interval (they count neither way).
 */
export async function waitFor<T>(
  what: string,
  read: () => Promise<T>,
  judge: Judge<T>,
  options: {
    pollMs: number;
    timeoutMs: number;
    signal?: AbortSignal;
    consecutive?: number;
    onRead?: (view: T, why: string) => void;
  },
): Promise<WaitResult<T>> {
  const need = options.consecutive ?? RDS_CONSECUTIVE_READS;
  const started = performance.now();
  let good = 0;
  let reads = 0;
  let throttled = 0;
  let last = 'no answer yet';
  for (;;) {
    options.signal?.throwIfAborted();
    let view: T | undefined;
    try {
      view = await read();
    } catch (error) {
      if (!isThrottlingName(awsName(error))) throw error;
      throttled++;
    }
    if (view !== undefined) {
      reads++;
      const verdict = judge(view);
      options.onRead?.(view, verdict.why);
      if (verdict.failed) throw new RdsFailedError(what, verdict.why, view);
      if (verdict.why === '') {
        good++;
        if (good >= need) return { view, reads, throttled };
      } else {
        good = 0;
        last = verdict.why;
      }
    }
    if (performance.now() - started > options.timeoutMs)
      throw new RdsTimeoutError(
        what,
        `not within ${formatDuration(options.timeoutMs)} (last read: ${last})`,
        options.timeoutMs,
      );
    await sleep(options.pollMs, undefined, options.signal ? { signal: options.signal } : {});
  }
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);
function isThrottlingName(name: string | undefined): boolean {
  return name !== undefined && THROTTLING.has(name);
}

export class RdsFailedError extends MaintError {
  constructor(
    readonly what: string,
    readonly why: string,
    readonly view: unknown,
  ) {
    super('RDS_FAILED', ExitCode.rolledBack, `${what}: ${why}`);
  }
}

export class RdsTimeoutError extends MaintError {
  constructor(
    readonly what: string,
    why: string,
    readonly timeoutMs: number,
  ) {
    super('RDS_TIMEOUT', ExitCode.rolledBack, `${what}: ${why}`);
  }
}

/** The instance is `available` (and, when given, runs `version`). */
export function instanceReady(version?: string): Judge<InstanceView | null> {
  return (i) => {
    if (!i) return { why: 'not found (yet)' };
    if (FAILED_INSTANCE.has(i.status)) return { why: `the instance is ${i.status}`, failed: true };
    if (i.status !== 'available') return { why: `the instance is ${i.status}` };
    if (version && i.engineVersion !== version)
      return { why: `available, but on ${i.engine} ${i.engineVersion}` };
    if (!i.host || !i.port) return { why: 'available, without an endpoint yet' };
    return { why: '' };
  };
}

/** Instance states RDS does not leave by itself. */
export const FAILED_INSTANCE = new Set([
  'failed',
  'incompatible-parameters',
  'incompatible-network',
  'incompatible-option-group',
  'incompatible-restore',
  'inaccessible-encryption-credentials',
  'restore-error',
  'storage-full',
]);

/** The plan's database URL with another host and port (the same role, password and database). */
export function withEndpoint(url: string, host: string, port: number): string {
  const u = new URL(url);
  u.hostname = host;
  u.port = String(port);
  return u.toString();
}
