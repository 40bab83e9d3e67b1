/**
 * The `ecs` fleet provider: an ECS service behind an Application Load Balancer.
 *
 * - `rolling`: UpdateService to the release's task definition with minimumHealthyPercent 100 /
 *   maximumPercent 200 and the deployment circuit breaker (rollback on), so ECS starts the new
 *   tasks before it stops an old one; the gate waits on the deployment's rolloutState AND the
 *   target group's health of each new task AND maint's probe (ecs-gate.ts).
 * - `blue-green`: two services, each in its own target group, behind one listener rule's
 *   weighted forward. The side with weight > 0 is live; the other (idle) side gets the release,
 *   is gated, then the weights are shifted and read back; the old side is scaled to 0 only then
 *   (ECS deregisters its targets and waits the deregistration delay before stopping them).
 *
 * Every write is read back before anything old is stopped; a rollback verifies the previous
 * release serves (gate + weights) before it stops anything of the failed one. Every AWS call
 * retries throttling (ecs-read.ts).
 */
import type { DeploymentConfiguration } from '@aws-sdk/client-ecs';
import type { Action } from '@aws-sdk/client-elastic-load-balancing-v2';
import { setTimeout as sleep } from 'node:timers/promises';
import { InputError, OperatorActionError } from '../errors.js';
import type { LoadedPlan } from '../plan/loader.js';
import type { EcsFleetConfig } from '../plan/schema-fleet.js';
import { createAwsClients, type AwsClients, AwsSetupError } from './aws.js';
import { CircuitBreakerTripped, CONSECUTIVE_READS, serving, until, type Verdict } from './ecs-gate.js';
import { EcsReader, type ServiceView } from './ecs-read.js';
import { FleetError, FleetHealthError } from './errors.js';
import type {
  Fleet,
  FleetMember,
  FleetOpenOptions,
  FleetState,
  RollbackInput,
  RollHooks,
  RollInput,
  RollOutcome,
  RollPreview,
  RollProgress,
} from './fleet.js';

/** One side of the fleet: a service and the target group(s) its tasks register in. */
interface Side {
  service: string;
  targetGroupArns: string[];
}

type Phase = 'update' | 'launch' | 'shift' | 'retire';

interface Progress {
  previousTaskDefinition: string | null;
  taskDefinition: string;
  /** Blue-green: the service that was live before the roll, and the one the release went to. */
  live?: string;
  idle?: string;
  desiredCount?: number;
}

/** Open the provider: every name in the plan is read once from AWS; exit 2 before any write. */
export async function openEcsFleet(
  config: EcsFleetConfig,
  loaded: LoadedPlan,
  options: FleetOpenOptions = {},
): Promise<Fleet> {
  let aws: AwsClients;
  try {
    aws = await createAwsClients({ region: config.region, endpoint: config.endpoint });
  } catch (error) {
    if (!(error instanceof AwsSetupError)) throw error;
    throw new InputError(
      'FLEET_AWS_REGION',
      error.message,
      [{ path: 'fleet.region', message: error.message }],
      {
        hint: 'Add `region:` under fleet: in the plan (e.g. region: eu-west-1), or set AWS_REGION.',
      },
    );
  }
  try {
    const fleet = new EcsFleet(config, aws);
    await fleet.preflight(loaded.plan.release ?? null, options.signal);
    return fleet;
  } catch (error) {
    aws.close();
    throw error;
  }
}

export class EcsFleet implements Fleet {
  readonly provider = 'ecs' as const;
  readonly mode: EcsFleet['config']['mode'];
  private readonly reader: EcsReader;
  private taskDefinition = '';
  private sides: Side[] = [];
  /** The listener rule's weights as last read (blue-green). */
  private weights: Map<string, number> | null = null;

  constructor(
    private readonly config: EcsFleetConfig,
    private readonly aws: AwsClients,
  ) {
    this.mode = config.mode;
    this.reader = new EcsReader(aws, config.cluster);
  }

  /** Read every service, task definition, target group and the listener rule the plan names. */
  async preflight(release: string | null, signal?: AbortSignal): Promise<void> {
    const r = this.reader;
    r.signal = signal;
    const ref = this.config.taskDefinition;
    if (!ref) {
      const message =
        "the ecs provider needs `taskDefinition`, the release's task definition (family:revision or ARN)";
      throw new InputError('FLEET_ECS_TASK_DEFINITION', message, [{ path: 'fleet.taskDefinition', message }]);
    }
    const blue = await r.service(this.config.service);
    this.taskDefinition = await r.taskDefinitionArn(ref);
    const image = await r.release(this.taskDefinition);
    if (release !== null && image !== null && image !== release) {
      const message = `task definition ${this.taskDefinition} runs image tag "${image}", not the plan's release "${release}"`;
      throw new InputError(
        'FLEET_ECS_RELEASE_MISMATCH',
        message,
        [{ path: 'fleet.taskDefinition', message }],
        {
          hint: 'Register the task definition of this release first, and name it in fleet.taskDefinition (e.g. app:${TASK_REVISION} or its ARN).',
        },
      );
    }
    const blueGroups = this.config.targetGroupArns ?? blue.targetGroupArns;
    if (blueGroups.length === 0) {
      const message = `ECS service "${blue.name}" has no target group, and the plan names none`;
      throw new InputError('FLEET_ECS_TARGET_GROUP', message, [{ path: 'fleet.targetGroupArns', message }], {
        hint: 'maint gates a roll on the load balancer: attach the service to a target group, or list it in fleet.targetGroupArns.',
      });
    }
    this.sides = [{ service: blue.name, targetGroupArns: blueGroups }];
    if (this.mode === 'blue-green') {
      const green = await r.service(this.config.greenService!);
      this.sides.push({ service: green.name, targetGroupArns: [this.config.greenTargetGroupArn!] });
      const { weights } = await r.rule(this.config.listenerRuleArn!);
      const missing = this.sides.map((s) => s.targetGroupArns[0]!).find((tg) => !weights.has(tg));
      if (missing) {
        const message = `listener rule ${this.config.listenerRuleArn} does not forward to ${missing}`;
        throw new InputError('FLEET_ECS_RULE', message, [{ path: 'fleet.listenerRuleArn', message }], {
          hint: 'Give the rule a weighted forward to both target groups (the idle one at weight 0), e.g. with `aws elbv2 modify-rule`.',
        });
      }
      this.liveSide(weights);
    }
    for (const side of this.sides) for (const tg of side.targetGroupArns) await r.targets(tg, []);
  }

  async describe(signal?: AbortSignal): Promise<FleetState> {
    const r = this.reader;
    r.signal = signal;
    const weights = this.mode === 'blue-green' ? (await r.rule(this.config.listenerRuleArn!)).weights : null;
    this.weights = weights;
    const members: FleetMember[] = [];
    for (const side of this.sides) {
      const tasks = await r.tasks(side.service);
      for (const tg of side.targetGroupArns) {
        for (const t of await r.targets(tg, tasks)) {
          const inService = t.state === 'healthy' && (weights === null || (weights.get(tg) ?? 0) > 0);
          members.push({
            id: t.task ?? t.addr,
            addr: t.addr,
            admin: t.state === 'draining' ? 'drain' : 'ready',
            health: t.state === 'healthy' ? 'up' : t.state === 'unhealthy' ? 'down' : 'unknown',
            check: t.reason ? `${t.state} (${t.reason})` : t.state,
            sessions: null,
            release: t.taskDefinition ? await r.release(t.taskDefinition) : null,
            inService,
          });
        }
      }
    }
    const releases = [...new Set(members.filter((m) => m.inService && m.release).map((m) => m.release!))];
    return { provider: 'ecs', release: releases.length === 1 ? releases[0]! : null, releases, members };
  }

  preview(state: FleetState, release: string): RollPreview {
    const estimateMs = this.config.healthTimeout + this.config.drainTimeout;
    // Blue-green: the release goes to the side the last read found idle.
    const idle = this.weights
      ? this.sides.find((s) => (this.weights!.get(s.targetGroupArns[0]!) ?? 0) === 0)
      : undefined;
    const members = [idle?.service ?? this.config.service];
    return {
      mode: this.mode,
      from: state.release,
      to: release,
      batches: [{ index: 0, members, estimateMs }],
      estimateMs,
    };
  }

  async roll(input: RollInput, hooks: RollHooks): Promise<RollOutcome> {
    this.reader.signal = hooks.signal;
    try {
      if (this.mode === 'blue-green') await this.rollBlueGreen(input, hooks);
      else await this.rollRolling(input, hooks);
    } catch (error) {
      if (error instanceof CircuitBreakerTripped) {
        throw new FleetHealthError(`${input.release} did not roll out: ${error.message}`, this.detail());
      }
      throw error;
    }
    return { state: await this.describe(hooks.signal) };
  }

  async rollback(input: RollbackInput, hooks: RollHooks): Promise<RollOutcome> {
    this.reader.signal = hooks.signal;
    const data = input.progress?.data as Progress | undefined;
    if (this.mode === 'blue-green') await this.rollbackBlueGreen(input.progress, data, hooks);
    else await this.rollbackRolling(data, hooks);
    return { state: await this.describe(hooks.signal) };
  }

  async close(): Promise<void> {
    this.aws.close();
    return Promise.resolve();
  }

  // ---- rolling -------------------------------------------------------------------------------

  private async rollRolling(input: RollInput, hooks: RollHooks): Promise<void> {
    const r = this.reader;
    const side = this.sides[0]!;
    const td = this.taskDefinition;
    const service = await r.service(side.service);
    const resumed = input.resume?.data as Progress | undefined;
    const previous =
      resumed?.previousTaskDefinition ??
      (service.primary.taskDefinition === td ? null : service.primary.taskDefinition!);
    await this.checkpoint(hooks, input, 'update', { previousTaskDefinition: previous, taskDefinition: td });
    r.rolling = true;
    const started = performance.now();
    const batch = (phase: 'started' | 'healthy' | 'shifted' | 'drained') =>
      hooks.batch({
        index: 0,
        phase,
        members: [side.service],
        release: input.release,
        elapsedMs: Math.round(performance.now() - started),
      });
    batch('started');
    await this.update(service, { taskDefinition: td }, hooks);
    const gate = await this.gate(side, td, input.release, true, hooks);
    if (!gate.ok) {
      throw new FleetHealthError(
        `${input.release} was not healthy within ${this.config.healthTimeout / 1000}s: ${gate.why}`,
        this.detail({ why: gate.why }),
      );
    }
    // ECS registered the new tasks (shifted) and deregistered the old ones (draining or gone).
    batch('healthy');
    batch('shifted');
    batch('drained');
  }

  private async rollbackRolling(data: Progress | undefined, hooks: RollHooks): Promise<void> {
    const r = this.reader;
    const side = this.sides[0]!;
    const service = await r.service(side.service);
    // Nothing was written (or the release was already deployed): verify what serves.
    const previous = data?.previousTaskDefinition ?? service.primary.taskDefinition!;
    r.rolling = true;
    hooks.progress(
      `returning ${side.service} to ${previous}; its healthy tasks keep serving until the new ones pass`,
    );
    // With minimumHealthyPercent 100 ECS stops no healthy task before its replacement is healthy;
    // after a circuit-breaker rollback ECS already runs this deployment, and this is a no-op.
    await this.update(service, { taskDefinition: previous }, hooks);
    const gate = await this.gate(side, previous, (await r.release(previous)) ?? previous, false, hooks);
    if (!gate.ok) throw this.unverified(`${side.service} does not serve ${previous}: ${gate.why}`);
  }

  // ---- blue-green ----------------------------------------------------------------------------

  private async rollBlueGreen(input: RollInput, hooks: RollHooks): Promise<void> {
    const r = this.reader;
    const td = this.taskDefinition;
    const resumed = input.resume?.data as Progress | undefined;
    const rule = await r.rule(this.config.listenerRuleArn!);
    const live = resumed?.live ? this.side(resumed.live) : this.liveSide(rule.weights);
    const idle = this.sides.find((s) => s !== live)!;
    const liveService = await r.service(live.service);
    if (!resumed && liveService.primary.taskDefinition === td) {
      hooks.progress(`${live.service} already runs ${td}; nothing to roll`);
      return;
    }
    const data: Progress = {
      previousTaskDefinition: resumed?.previousTaskDefinition ?? liveService.primary.taskDefinition!,
      taskDefinition: td,
      live: live.service,
      idle: idle.service,
      desiredCount: resumed?.desiredCount ?? liveService.desiredCount,
    };
    let phase: Phase = (input.resume?.phase as Phase | undefined) ?? 'launch';
    const started = performance.now();
    const batch = (p: 'started' | 'healthy' | 'shifted' | 'drained') =>
      hooks.batch({
        index: 0,
        phase: p,
        members: [idle.service],
        release: input.release,
        elapsedMs: Math.round(performance.now() - started),
      });
    r.rolling = true;
    if (phase === 'launch') {
      await this.checkpoint(hooks, input, 'launch', data);
      batch('started');
      await this.update(
        await r.service(idle.service),
        { taskDefinition: td, desiredCount: data.desiredCount! },
        hooks,
      );
      const gate = await this.gate(idle, td, input.release, true, hooks);
      if (!gate.ok) {
        throw new FleetHealthError(
          `${input.release} on ${idle.service} was not healthy within ${this.config.healthTimeout / 1000}s: ${gate.why}`,
          this.detail({ why: gate.why, service: idle.service }),
        );
      }
      batch('healthy');
      phase = 'shift';
    }
    if (phase === 'shift') {
      await this.checkpoint(hooks, input, 'shift', data);
      await this.shift(idle, live, hooks);
      // The ALB fails open when every target is unhealthy: check the side now taking traffic again.
      const after = await serving(r, this.gateOptions(idle, td, input.release, true));
      if (!after.ok) {
        throw new FleetHealthError(
          `${input.release} on ${idle.service} failed after the shift: ${after.why}`,
          this.detail(),
        );
      }
      batch('shifted');
      phase = 'retire';
    }
    await this.checkpoint(hooks, input, 'retire', data);
    await this.retire(live, hooks);
    batch('drained');
  }

  private async rollbackBlueGreen(
    progress: RollProgress | null,
    data: Progress | undefined,
    hooks: RollHooks,
  ): Promise<void> {
    const r = this.reader;
    r.rolling = true;
    const rule = await r.rule(this.config.listenerRuleArn!);
    const live = data?.live ? this.side(data.live) : this.liveSide(rule.weights);
    const idle = this.sides.find((s) => s !== live)!;
    const previous = data?.previousTaskDefinition ?? (await r.service(live.service)).primary.taskDefinition!;
    const release = (await r.release(previous)) ?? previous;
    if (progress?.phase === 'retire') {
      // The old side may be scaled down already: bring it back before anything else moves.
      hooks.progress(`starting ${previous} on ${live.service} again`);
      await this.update(
        await r.service(live.service),
        { taskDefinition: previous, desiredCount: data?.desiredCount },
        hooks,
      );
    }
    // The old side must serve (target health + probe) before it gets traffic back.
    const gate = await this.gate(live, previous, release, false, hooks);
    if (!gate.ok) throw this.unverified(`${live.service} does not serve ${previous}: ${gate.why}`);
    await this.shift(live, idle, hooks);
    const after = await serving(r, this.gateOptions(live, previous, release, false));
    if (!after.ok) throw this.unverified(`${live.service} failed after the shift back: ${after.why}`);
    await this.retire(idle, hooks);
  }

  /** Send all traffic to `to`, none to `from`; read back CONSECUTIVE_READS times. */
  private async shift(to: Side, from: Side, hooks: RollHooks): Promise<void> {
    const r = this.reader;
    const ruleArn = this.config.listenerRuleArn!;
    const { weights, forward } = await r.rule(ruleArn);
    const toTg = to.targetGroupArns[0]!;
    const fromTg = from.targetGroupArns[0]!;
    const total = Math.max(1, (weights.get(toTg) ?? 0) + (weights.get(fromTg) ?? 0));
    const wanted = new Map(weights);
    wanted.set(toTg, total);
    wanted.set(fromTg, 0);
    if (!same(weights, wanted)) {
      const action: Action = {
        Type: 'forward',
        ForwardConfig: {
          ...forward?.ForwardConfig,
          TargetGroups: [...wanted].map(([TargetGroupArn, Weight]) => ({ TargetGroupArn, Weight })),
        },
      };
      await r.call(`elbv2:ModifyRule ${ruleArn}`, (signal) =>
        this.aws.elb.modifyRule({ RuleArn: ruleArn, Actions: [action] }, signal),
      );
    }
    hooks.progress(`listener rule: ${to.service} ${total}, ${from.service} 0; reading it back`);
    const readBack = await until(
      async (): Promise<Verdict> => {
        const now = (await r.rule(ruleArn)).weights;
        const ok = same(now, wanted);
        return {
          ok,
          why: ok ? '' : `the rule reads ${[...now].map(([tg, w]) => `${w}→${tg}`).join(', ')}`,
          service: undefined!,
          targets: [],
        };
      },
      {
        timeoutMs: this.config.healthTimeout,
        intervalMs: this.pollMs(),
        signal: hooks.signal,
        progress: hooks.progress,
      },
    );
    if (!readBack.ok) {
      throw new FleetError(
        'FLEET_ECS_SHIFT_UNVERIFIED',
        `the listener rule's weights did not read back: ${readBack.why}`,
        this.detail(),
      );
    }
  }

  /** Scale a side to 0: ECS deregisters its targets (the ALB drains them), then stops them. */
  private async retire(side: Side, hooks: RollHooks): Promise<void> {
    const r = this.reader;
    await this.update(await r.service(side.service), { desiredCount: 0 }, hooks);
    const deadline = performance.now() + this.config.drainTimeout;
    for (;;) {
      const service = await r.service(side.service);
      if (service.runningCount === 0) return;
      if (performance.now() >= deadline) {
        hooks.progress(
          `${side.service} still has ${service.runningCount} task(s) draining after ${this.config.drainTimeout / 1000}s; they take no new traffic and ECS stops them after the deregistration delay`,
        );
        return;
      }
      await sleep(this.pollMs(), undefined, { signal: hooks.signal });
    }
  }

  // ---- shared ---------------------------------------------------------------------------------

  /** UpdateService (only what differs), then read it back until describes show it. */
  private async update(
    service: ServiceView,
    change: { taskDefinition?: string; desiredCount?: number | undefined },
    hooks: RollHooks,
  ): Promise<void> {
    const r = this.reader;
    const config: DeploymentConfiguration = {
      ...service.raw.deploymentConfiguration,
      minimumHealthyPercent: 100,
      maximumPercent: 200,
      deploymentCircuitBreaker: { enable: true, rollback: true },
    };
    const current = service.raw.deploymentConfiguration;
    const needs =
      (change.taskDefinition !== undefined && service.primary.taskDefinition !== change.taskDefinition) ||
      (change.desiredCount !== undefined && service.desiredCount !== change.desiredCount) ||
      current?.minimumHealthyPercent !== 100 ||
      current?.maximumPercent !== 200 ||
      current?.deploymentCircuitBreaker?.enable !== true;
    const matches = (s: ServiceView) =>
      (change.taskDefinition === undefined || s.primary.taskDefinition === change.taskDefinition) &&
      (change.desiredCount === undefined || s.desiredCount === change.desiredCount);
    if (needs) {
      await r.call(`ecs:UpdateService ${service.name}`, (signal) =>
        this.aws.ecs.updateService(
          {
            cluster: this.config.cluster,
            service: service.name,
            ...(change.taskDefinition !== undefined ? { taskDefinition: change.taskDefinition } : {}),
            ...(change.desiredCount !== undefined ? { desiredCount: change.desiredCount } : {}),
            deploymentConfiguration: config,
          },
          signal,
        ),
      );
    }
    const described = [
      change.taskDefinition,
      change.desiredCount !== undefined ? `desiredCount ${change.desiredCount}` : undefined,
    ]
      .filter(Boolean)
      .join(', ');
    hooks.progress(`${service.name}: ${described}; reading it back`);
    const deadline = performance.now() + this.config.healthTimeout;
    while (!matches(await r.service(service.name))) {
      if (performance.now() >= deadline) {
        throw new FleetError(
          'FLEET_ECS_UPDATE_UNVERIFIED',
          `UpdateService ${service.name} (${described}) did not read back`,
          this.detail(),
        );
      }
      await sleep(this.pollMs(), undefined, { signal: hooks.signal });
    }
  }

  private gate(side: Side, td: string, release: string, watchBreaker: boolean, hooks: RollHooks) {
    return until(() => serving(this.reader, this.gateOptions(side, td, release, watchBreaker)), {
      timeoutMs: this.config.healthTimeout,
      intervalMs: this.pollMs(),
      signal: hooks.signal,
      progress: hooks.progress,
    });
  }

  private gateOptions(side: Side, taskDefinition: string, release: string, watchBreaker: boolean) {
    return {
      service: side.service,
      taskDefinition,
      targetGroupArns: side.targetGroupArns,
      release,
      probe: this.config.probe,
      watchBreaker,
    };
  }

  private liveSide(weights: Map<string, number>): Side {
    const live = this.sides.filter((s) => (weights.get(s.targetGroupArns[0]!) ?? 0) > 0);
    if (live.length !== 1) {
      const message = `listener rule ${this.config.listenerRuleArn} sends traffic to ${live.length === 0 ? 'neither' : 'both'} of ${this.sides.map((s) => s.service).join(' and ')}; blue-green needs exactly one live side`;
      throw new InputError('FLEET_ECS_RULE', message, [{ path: 'fleet.listenerRuleArn', message }], {
        hint: 'Set the weight of the live target group > 0 and the other to 0, then run again.',
      });
    }
    return live[0]!;
  }

  private side(service: string): Side {
    const side = this.sides.find((s) => s.service === service);
    if (!side)
      throw new FleetError(
        'FLEET_ECS_STATE',
        `the journaled roll names service ${service}, which the plan no longer has`,
      );
    return side;
  }

  private async checkpoint(hooks: RollHooks, input: RollInput, phase: Phase, data: Progress): Promise<void> {
    await hooks.checkpoint({
      mode: this.mode,
      from: input.previous,
      to: input.release,
      phase,
      data: { ...data },
    });
  }

  private pollMs(): number {
    return this.config.pollInterval;
  }

  private detail(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      provider: 'ecs',
      cluster: this.config.cluster,
      throttled: this.reader.throttled,
      consecutiveReads: CONSECUTIVE_READS,
      ...extra,
    };
  }

  private unverified(why: string): OperatorActionError {
    return new OperatorActionError(
      'FLEET_ROLLBACK_UNVERIFIED',
      `the fleet rollback could not be verified: ${why}`,
      {
        hint: 'Check the ECS service(s) and the listener rule in the AWS console: maint stopped nothing of the release that served last, and left the traffic where it was.',
        details: this.detail(),
      },
    );
  }
}

function same(a: Map<string, number>, b: Map<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
