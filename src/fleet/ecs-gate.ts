/**
 * The gate of the ecs provider: is a service serving a task definition, read back from AWS?
 * ECS's own verdict (the deployment's rolloutState) is not enough (copilot-cli #1879: tasks
 * failing ALB checks never counted as failures) and neither is the ALB's (it fails open when
 * every target is unhealthy), so `serving` needs all of: the PRIMARY deployment is the task
 * definition and COMPLETED with no other deployment left, the desired number of its tasks run,
 * each of them is a `healthy` target of the target group, no other task definition's target is
 * registered (draining ones aside), and maint's own probe of each passes. `until` asks for
 * several consecutive good reads, because describes lag writes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProbeConfig } from '../plan/schema-fleet.js';
import { deadline } from '../support/deadline.js';
import type { EcsReader, ServiceView, TargetView } from './ecs-read.js';

/** Good reads in a row before a state counts (describes lag writes: terraform-provider-aws #36241). */
export const CONSECUTIVE_READS = 3;

export interface Verdict {
  ok: boolean;
  /** Why not, for people (the last one is in the timeout's message). */
  why: string;
  service: ServiceView;
  targets: TargetView[];
}

export class CircuitBreakerTripped extends Error {}

export async function serving(
  reader: EcsReader,
  options: {
    service: string;
    taskDefinition: string;
    targetGroupArns: string[];
    release: string;
    probe: ProbeConfig | undefined;
    /** Roll mode: a FAILED rollout or ECS's own rollback of the task definition throws. */
    watchBreaker: boolean;
  },
): Promise<Verdict> {
  const service = await reader.service(options.service);
  const mine = service.deployments.find((d) => d.taskDefinition === options.taskDefinition);
  if (options.watchBreaker && mine?.rolloutState === 'FAILED') {
    throw new CircuitBreakerTripped(
      `the ECS deployment circuit breaker failed the rollout of ${options.taskDefinition}: ${mine.rolloutStateReason ?? 'no reason given'} (${mine.failedTasks ?? 0} failed tasks)`,
    );
  }
  const verdict = (why: string, targets: TargetView[] = []): Verdict => ({
    ok: why === '',
    why,
    service,
    targets,
  });
  const { primary } = service;
  if (primary.taskDefinition !== options.taskDefinition) {
    return verdict(`the PRIMARY deployment of ${service.name} runs ${primary.taskDefinition}`);
  }
  if (primary.rolloutState !== 'COMPLETED') {
    return verdict(
      `the deployment of ${service.name} is ${primary.rolloutState ?? 'unknown'} (${primary.runningCount ?? 0}/${primary.desiredCount ?? 0} running, ${primary.failedTasks ?? 0} failed)`,
    );
  }
  if (service.deployments.length > 1)
    return verdict(`${service.name} still has ${service.deployments.length - 1} older deployment(s)`);
  const desired = service.desiredCount;
  const tasks = (await reader.tasks(service.name)).filter(
    (t) => t.taskDefinitionArn === options.taskDefinition && t.lastStatus === 'RUNNING',
  );
  if (tasks.length < desired)
    return verdict(`${tasks.length}/${desired} tasks of ${options.taskDefinition} run`);
  const groups: [string, TargetView[]][] = [];
  for (const arn of options.targetGroupArns) groups.push([arn, await reader.targets(arn, tasks)]);
  const targets = groups.flatMap(([, inGroup]) => inGroup);
  const stray = targets.find((t) => t.taskDefinition !== options.taskDefinition && t.state !== 'draining');
  if (stray)
    return verdict(
      `target ${stray.addr} is not a task of ${options.taskDefinition} (${stray.state})`,
      targets,
    );
  for (const [arn, inGroup] of groups) {
    const healthy = inGroup.filter((t) => t.state === 'healthy').length;
    if (healthy < desired) {
      const bad = inGroup.filter((t) => t.state !== 'healthy' && t.state !== 'draining');
      const reasons = [...new Set(bad.map((t) => `${t.state}${t.reason ? ` ${t.reason}` : ''}`))].join(', ');
      return verdict(
        `${healthy}/${desired} targets healthy in ${arn}${reasons ? ` (${reasons})` : ''}`,
        targets,
      );
    }
  }
  if (desired === 0) return verdict(`${service.name} has desiredCount 0`, targets);
  if (options.probe) {
    for (const t of targets.filter((x) => x.state === 'healthy')) {
      const failed = await probe(t.addr, options.probe, options.release, reader.signal);
      if (failed) return verdict(`maint's probe of ${t.addr}: ${failed}`, targets);
    }
  }
  return verdict('', targets);
}

/** Poll `read` until it is good `CONSECUTIVE_READS` times in a row, or the time is up. */
export async function until(
  read: () => Promise<Verdict>,
  options: { timeoutMs: number; intervalMs: number; signal?: AbortSignal; progress?: (why: string) => void },
): Promise<{ ok: true; verdict: Verdict } | { ok: false; why: string }> {
  const deadline = performance.now() + options.timeoutMs;
  let good = 0;
  let last = 'never read';
  for (;;) {
    const verdict = await read();
    if (verdict.ok) {
      if (++good >= CONSECUTIVE_READS) return { ok: true, verdict };
    } else {
      good = 0;
      if (verdict.why !== last) options.progress?.(verdict.why);
      last = verdict.why;
    }
    if (performance.now() >= deadline) return { ok: false, why: last };
    await sleep(options.intervalMs, undefined, { signal: options.signal });
  }
}

/** maint's own check of one target, bypassing the load balancer: null when it passes. */
export async function probe(
  addr: string,
  config: ProbeConfig,
  release: string,
  signal: AbortSignal | undefined,
): Promise<string | null> {
  const timeout = deadline(config.timeout, signal);
  try {
    const response = await fetch(`http://${addr}${config.path}`, { signal: timeout.signal });
    const body = await response.text();
    if (response.status < 200 || response.status > 299) return `HTTP ${response.status}`;
    if (!config.expectRelease) return null;
    const header = response.headers.get('x-release');
    if (header === release) return null;
    let field: unknown;
    try {
      field = (JSON.parse(body) as { release?: unknown }).release;
    } catch {
      field = undefined;
    }
    return field === release ? null : `serves ${header ?? String(field ?? 'no release')}, not ${release}`;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    timeout.clear();
  }
}
