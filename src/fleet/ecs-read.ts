/**
 * What the ecs provider reads back from AWS, and the one wrapper every call goes through:
 * throttling is retried with exponential backoff and jitter (above the SDK's own retries),
 * anything else becomes a `MaintError` (exit 2 while opening, before anything changed; a
 * `FleetError` once the roll has begun, so the step rolls back).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Deployment, Service, Task } from '@aws-sdk/client-ecs';
import type { Action, TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ConnectionError, InputError, MaintError } from '../errors.js';
import { awsErrorName, isCredentialsError, isThrottling, isUnreachable, type AwsClients } from './aws.js';
import { FleetError } from './errors.js';

/** Throttled calls are tried this many times more, backing off 0.25 s, 0.5 s … up to 8 s. */
const THROTTLE_RETRIES = 8;

export interface TargetView {
  /** `id:port` as the target group knows it. */
  addr: string;
  state: string;
  reason: string | null;
  /** The task behind the target, when it belongs to one of the services read. */
  task: string | null;
  taskDefinition: string | null;
}

export interface ServiceView {
  name: string;
  desiredCount: number;
  runningCount: number;
  primary: Deployment;
  deployments: Deployment[];
  targetGroupArns: string[];
  raw: Service;
}

export class EcsReader {
  /** Set once the roll writes: errors then roll back (FleetError) instead of exit 2. */
  rolling = false;
  /** Throttled answers seen (and retried), for the run's report. */
  throttled = 0;
  private readonly taskDefinitions = new Map<string, string | null>();

  constructor(
    private readonly aws: AwsClients,
    private readonly cluster: string,
  ) {}

  /** The signal of the operation in progress (they run one at a time). */
  signal: AbortSignal | undefined;

  /** One AWS call: throttling retried with backoff, every other failure mapped. */
  async call<T>(what: string, fn: (signal?: AbortSignal) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(this.signal);
      } catch (error) {
        if (isThrottling(error) && attempt < THROTTLE_RETRIES) {
          this.throttled++;
          const base = Math.min(8_000, 250 * 2 ** attempt);
          await sleep(base / 2 + Math.random() * (base / 2), undefined, { signal: this.signal });
          continue;
        }
        throw this.failure(what, error);
      }
    }
  }

  failure(what: string, error: unknown): MaintError {
    if (error instanceof MaintError) return error;
    const name = awsErrorName(error);
    const detail = error instanceof Error ? error.message : String(error);
    if (this.rolling) {
      return new FleetError(
        'FLEET_AWS',
        `AWS ${what} failed: ${name ? `${name}: ` : ''}${detail}`,
        {},
        { cause: error },
      );
    }
    if (isCredentialsError(error)) {
      return new ConnectionError('FLEET_AWS_CREDENTIALS', `no AWS credentials for ${what}: ${detail}`, {
        cause: error,
        hint: 'Give maint AWS credentials through the standard chain (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO, or a task/instance role).',
      });
    }
    if (isUnreachable(error) || name === undefined) {
      return new ConnectionError(
        'FLEET_UNREACHABLE',
        `cannot reach AWS for ${what}: ${detail}; nothing was changed`,
        {
          cause: error,
          hint: 'Check fleet.region and fleet.endpoint in the plan, and that this host can reach the ECS and ELB APIs.',
        },
      );
    }
    return new ConnectionError(
      'FLEET_AWS_REFUSED',
      `AWS refused ${what}: ${name}: ${detail}; nothing was changed`,
      {
        cause: error,
        hint: 'Check the cluster, service, task definition and target group names in the plan, and that the credentials may call ecs:Describe*, ecs:UpdateService, elasticloadbalancing:Describe* and ModifyRule.',
      },
    );
  }

  async service(name: string): Promise<ServiceView> {
    const out = await this.call(`ecs:DescribeServices ${name}`, (signal) =>
      this.aws.ecs.describeServices({ cluster: this.cluster, services: [name] }, signal),
    );
    const raw = out.services?.find((s) => s.serviceName === name || s.serviceArn === name);
    if (!raw || raw.status === 'INACTIVE') {
      const reason = out.failures?.[0]?.reason ?? raw?.status ?? 'MISSING';
      const message = `ECS service "${name}" is not in cluster "${this.cluster}" (${reason})`;
      if (this.rolling) throw new FleetError('FLEET_ECS_SERVICE', message);
      throw new InputError('FLEET_ECS_SERVICE', message, [{ path: 'fleet.service', message }], {
        hint: 'Check fleet.cluster and fleet.service (and fleet.greenService) in the plan.',
      });
    }
    const deployments = raw.deployments ?? [];
    const primary = deployments.find((d) => d.status === 'PRIMARY');
    if (!primary) throw new FleetError('FLEET_ECS_STATE', `ECS service "${name}" has no PRIMARY deployment`);
    return {
      name,
      desiredCount: raw.desiredCount ?? 0,
      runningCount: raw.runningCount ?? 0,
      primary,
      deployments,
      targetGroupArns: (raw.loadBalancers ?? []).flatMap((lb) =>
        lb.targetGroupArn ? [lb.targetGroupArn] : [],
      ),
      raw,
    };
  }

  /** The release a task definition runs: the tag of its first container's image (cached; they are immutable). */
  async release(taskDefinition: string): Promise<string | null> {
    if (this.taskDefinitions.has(taskDefinition)) return this.taskDefinitions.get(taskDefinition)!;
    const out = await this.call(`ecs:DescribeTaskDefinition ${taskDefinition}`, (signal) =>
      this.aws.ecs.describeTaskDefinition({ taskDefinition }, signal),
    );
    const image = out.taskDefinition?.containerDefinitions?.[0]?.image ?? '';
    const release = imageTag(image);
    this.taskDefinitions.set(taskDefinition, release);
    if (out.taskDefinition?.taskDefinitionArn)
      this.taskDefinitions.set(out.taskDefinition.taskDefinitionArn, release);
    return release;
  }

  /** The full ARN of a task definition given as family, family:revision or ARN. */
  async taskDefinitionArn(ref: string): Promise<string> {
    const out = await this.call(`ecs:DescribeTaskDefinition ${ref}`, (signal) =>
      this.aws.ecs.describeTaskDefinition({ taskDefinition: ref }, signal),
    );
    const arn = out.taskDefinition?.taskDefinitionArn;
    if (!arn)
      throw this.failure(`ecs:DescribeTaskDefinition ${ref}`, new Error('no task definition in the answer'));
    this.taskDefinitions.set(arn, imageTag(out.taskDefinition?.containerDefinitions?.[0]?.image ?? ''));
    return arn;
  }

  /** The running and pending tasks of a service. */
  async tasks(service: string): Promise<Task[]> {
    const list = await this.call(`ecs:ListTasks ${service}`, (signal) =>
      this.aws.ecs.listTasks({ cluster: this.cluster, serviceName: service }, signal),
    );
    const arns = list.taskArns ?? [];
    const tasks: Task[] = [];
    // DescribeTasks takes at most 100 tasks per call.
    for (let i = 0; i < arns.length; i += 100) {
      const out = await this.call(`ecs:DescribeTasks ${service}`, (signal) =>
        this.aws.ecs.describeTasks({ cluster: this.cluster, tasks: arns.slice(i, i + 100) }, signal),
      );
      tasks.push(...(out.tasks ?? []));
    }
    return tasks;
  }

  /** A target group's targets, each matched to the task behind it (awsvpc: by IP, then port). */
  async targets(targetGroupArn: string, tasks: Task[]): Promise<TargetView[]> {
    const out = await this.call(`elbv2:DescribeTargetHealth ${targetGroupArn}`, (signal) =>
      this.aws.elb.describeTargetHealth({ TargetGroupArn: targetGroupArn }, signal),
    );
    const byAddr = new Map<string, Task>();
    for (const task of tasks) for (const key of taskKeys(task)) if (!byAddr.has(key)) byAddr.set(key, task);
    return (out.TargetHealthDescriptions ?? []).map((d: TargetHealthDescription) => {
      const id = d.Target?.Id ?? '?';
      const port = d.Target?.Port;
      const task = byAddr.get(`${id}:${port}`) ?? byAddr.get(`${id}:*`);
      return {
        addr: port === undefined ? id : `${id}:${port}`,
        state: d.TargetHealth?.State ?? 'unavailable',
        reason: d.TargetHealth?.Reason ?? null,
        task: task?.taskArn ?? null,
        taskDefinition: task?.taskDefinitionArn ?? null,
      };
    });
  }

  /** The listener rule's forward action and its weights by target group. */
  async rule(ruleArn: string): Promise<{ weights: Map<string, number>; forward: Action | undefined }> {
    const out = await this.call(`elbv2:DescribeRules ${ruleArn}`, (signal) =>
      this.aws.elb.describeRules({ RuleArns: [ruleArn] }, signal),
    );
    const forward = out.Rules?.[0]?.Actions?.find((a) => a.Type === 'forward');
    const weights = new Map<string, number>();
    for (const tg of forward?.ForwardConfig?.TargetGroups ?? []) {
      if (tg.TargetGroupArn) weights.set(tg.TargetGroupArn, tg.Weight ?? 1);
    }
    if (weights.size === 0 && forward?.TargetGroupArn) weights.set(forward.TargetGroupArn, 1);
    return { weights, forward };
  }
}

/** Keys a target may be found under: `ip:port` for each binding, and `ip:*` (awsvpc). */
function taskKeys(task: Task): string[] {
  const keys: string[] = [];
  for (const c of task.containers ?? []) {
    const ips = (c.networkInterfaces ?? []).flatMap((n) =>
      n.privateIpv4Address ? [n.privateIpv4Address] : [],
    );
    for (const a of task.attachments ?? []) {
      for (const d of a.details ?? []) if (d.name === 'privateIPv4Address' && d.value) ips.push(d.value);
    }
    for (const ip of ips) {
      for (const b of c.networkBindings ?? []) {
        if (b.hostPort !== undefined) keys.push(`${ip}:${b.hostPort}`);
        if (b.containerPort !== undefined) keys.push(`${ip}:${b.containerPort}`);
      }
      // awsvpc tasks (Fargate) report no bindings: the IP alone names the target.
      if ((c.networkBindings ?? []).length === 0) keys.push(`${ip}:*`);
    }
  }
  return keys;
}

/** `registry/app:v2` → `v2`; an image without a tag (or by digest only) has no release. */
export function imageTag(image: string): string | null {
  const name = image.split('@')[0] ?? '';
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > slash ? name.slice(colon + 1) : null;
}
