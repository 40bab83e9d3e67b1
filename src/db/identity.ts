/**
 * Who is asking for the lock. The identity is what an operator sees in `maint lock`: enough to
 * find the process (host, pid) and the CI job or container task that started it.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

export interface LockIdentity {
  lockId: string;
  host: string;
  pid: number;
  job?: string;
  purpose: string;
}

/** The CI job, container task or pod this process runs in, from well-known variables. */
export function jobFromEnv(env: Record<string, string | undefined> = process.env): string | undefined {
  if (env.MAINT_JOB_ID) return env.MAINT_JOB_ID;
  if (env.GITHUB_RUN_ID) {
    const job = env.GITHUB_JOB ? `/${env.GITHUB_JOB}` : '';
    return `github:${env.GITHUB_REPOSITORY ?? ''}#${env.GITHUB_RUN_ID}${job}`;
  }
  if (env.CI_JOB_ID) return `gitlab:${env.CI_JOB_ID}`;
  if (env.BUILDKITE_JOB_ID) return `buildkite:${env.BUILDKITE_JOB_ID}`;
  if (env.CIRCLE_WORKFLOW_JOB_ID) return `circleci:${env.CIRCLE_WORKFLOW_JOB_ID}`;
  if (env.ECS_TASK_ARN) return `ecs:${env.ECS_TASK_ARN}`;
  const ecs = env.ECS_CONTAINER_METADATA_URI_V4 ?? env.ECS_CONTAINER_METADATA_URI;
  // The metadata URI ends in the container's id, which names the task without a network call.
  if (ecs) return `ecs:${ecs.replace(/\/+$/, '').split('/').pop() ?? ecs}`;
  if (env.KUBERNETES_SERVICE_HOST && env.HOSTNAME) return `pod:${env.HOSTNAME}`;
  return undefined;
}

export function lockIdentity(
  purpose: string,
  env: Record<string, string | undefined> = process.env,
): LockIdentity {
  const job = jobFromEnv(env);
  return {
    lockId: randomBytes(6).toString('hex'),
    host: hostname(),
    pid: process.pid,
    ...(job ? { job } : {}),
    purpose,
  };
}

/** A heartbeat older than this (three missed beats plus slack) means the holder is not alive. */
export function staleAfterMs(heartbeatMs: number): number {
  return heartbeatMs * 3 + 1000;
}

/** @default 5000, or MAINT_LOCK_HEARTBEAT_MS (tests shorten it). */
export function defaultHeartbeatMs(env: Record<string, string | undefined> = process.env): number {
  const fromEnv = Number(env.MAINT_LOCK_HEARTBEAT_MS);
  return Number.isFinite(fromEnv) && fromEnv >= 50 ? fromEnv : 5000;
}

/** The one sentence naming a lock holder: `web-1 pid 4242 (gha:123/deploy), run since 2026-…`. */
export function describeHolder(
  h: Pick<LockIdentity, 'host' | 'pid' | 'job' | 'purpose'> & { since: string },
): string {
  return `${h.host} pid ${h.pid}${h.job ? ` (${h.job})` : ''}, ${h.purpose} since ${h.since}`;
}
