/**
 * A stateful stand-in for Amazon ECS and Elastic Load Balancing v2 on 127.0.0.1, speaking the
 * real wire protocols (ECS: awsJson1_1 with `X-Amz-Target`; ELBv2: the form-encoded query
 * protocol with XML answers), so the real SDK v3 clients serialise and parse every call.
 *
 * Time is simulated: every request to the endpoint is one tick, and each tick moves every
 * service one step (tasks start, register in their target group, pass or fail its health check,
 * old tasks drain and stop, deployments complete, fail or roll back). Nothing depends on the
 * wall clock, so a test is as fast as its client polls and never sleeps to synchronise.
 *
 * Each task is a real HTTP server on 127.0.0.1 (its target is 127.0.0.1:port) answering
 * `x-release` and `{"release": …}`, so maint's own probe of a new task can be exercised too.
 *
 * Faults (`fake.faults`): throttling of the next N requests, describe results that lag a write
 * by N reads, task definitions whose tasks crash (the circuit breaker trips and ECS rolls back),
 * whose tasks fail the ALB health check (ECS never notices), or whose probe answers 503.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const ECS_PREFIX = 'AmazonEC2ContainerServiceV20141113.';

export interface FakeFaults {
  /** The next N requests (any action) answer ThrottlingException / Throttling. */
  throttle: number;
  /** After each write, describes of what it changed show the old state for N more reads. */
  lagReads: number;
  /** Tasks of these task definitions stop soon after starting (essential container exited). */
  crash: Set<string>;
  /** Tasks of these task definitions run but fail the target group's health check. */
  albUnhealthy: Set<string>;
  /** Tasks of these task definitions answer 503 to every HTTP request (maint's probe). */
  probeFails: Set<string>;
  /**
   * ECS counts a RUNNING task as healthy without its target (a long health-check grace period):
   * a deployment COMPLETES, and old tasks stop, while the new targets are unhealthy.
   */
  ecsIgnoresAlb: boolean;
  /** Requests for which this says true are never answered (the client hangs there: kill it). */
  hold: ((action: string) => boolean) | null;
}

interface Task {
  arn: string;
  taskDefinition: string;
  deploymentId: string;
  age: number;
  lastStatus: 'PROVISIONING' | 'RUNNING' | 'STOPPED';
  server: http.Server;
  port: number;
  health: 'initial' | 'healthy' | 'unhealthy' | 'draining' | null;
  drainTicks: number;
}

interface Deployment {
  id: string;
  status: 'PRIMARY' | 'ACTIVE' | 'INACTIVE';
  taskDefinition: string;
  desiredCount: number;
  failedTasks: number;
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  rolloutStateReason: string;
  createdAt: number;
}

interface Service {
  arn: string;
  name: string;
  cluster: string;
  targetGroupArn: string | undefined;
  desiredCount: number;
  deployments: Deployment[];
  deploymentConfiguration: Record<string, unknown>;
  events: { id: string; message: string; createdAt: number }[];
}

interface TaskDefinition {
  arn: string;
  family: string;
  revision: number;
  image: string;
}

interface Rule {
  arn: string;
  weights: { targetGroupArn: string; weight: number }[];
}

export interface FakeAwsCall {
  service: 'ecs' | 'elbv2';
  action: string;
  /** The request's parameters (ECS: JSON body; ELBv2: form fields). */
  params: Record<string, unknown>;
  /** What the fake answered: 200, or the error code. */
  outcome: string;
}

class AwsFault extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export class FakeAws {
  readonly faults: FakeFaults = {
    throttle: 0,
    lagReads: 0,
    crash: new Set(),
    albUnhealthy: new Set(),
    probeFails: new Set(),
    ecsIgnoresAlb: false,
    hold: null,
  };
  /** Requests held by `faults.hold`. */
  held = 0;
  readonly calls: FakeAwsCall[] = [];
  /** Health-check passes a new target needs (ALB HealthyThresholdCount, in ticks). */
  healthyTicks = 2;
  /** Ticks a deregistered target stays `draining` (the deregistration delay). */
  drainTicks = 2;
  tick = 0;
  url = '';
  /** The fewest healthy targets each group had while it took traffic (its weight > 0, or no rule). */
  readonly minHealthy = new Map<string, number>();

  private readonly server: http.Server;
  private readonly taskDefinitions = new Map<string, TaskDefinition>();
  private readonly services = new Map<string, Service>();
  private readonly tasks: Task[] = [];
  private readonly targetGroups = new Set<string>();
  private readonly rules = new Map<string, Rule>();
  /** Stale views shown to describes after a write: key → [what to show, reads left]. */
  private readonly stale = new Map<string, { view: unknown; reads: number }>();
  private seq = 0;

  constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void this.handle(req, Buffer.concat(chunks).toString('utf8')).then(
          ({ status, type, body }) => {
            res.writeHead(status, { 'content-type': type, 'x-amzn-requestid': `req-${this.seq++}` });
            res.end(body);
          },
          (error: unknown) => {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(String(error));
          },
        );
      });
    });
  }

  static async start(): Promise<FakeAws> {
    const fake = new FakeAws();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all(this.tasks.map((t) => closeServer(t.server)));
  }

  // ---- set-up -------------------------------------------------------------------------------

  registerTaskDefinition(family: string, image: string): string {
    const revision = [...this.taskDefinitions.values()].filter((t) => t.family === family).length + 1;
    const arn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:${revision}`;
    this.taskDefinitions.set(arn, { arn, family, revision, image });
    return arn;
  }

  createTargetGroup(name: string): string {
    const arn = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/${name}/${hex(name)}`;
    this.targetGroups.add(arn);
    return arn;
  }

  createRule(weights: { targetGroupArn: string; weight: number }[]): string {
    const arn = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener-rule/app/web/abc/def/${hex(String(this.rules.size))}`;
    this.rules.set(arn, { arn, weights: weights.map((w) => ({ ...w })) });
    return arn;
  }

  /** A service already steady on `taskDefinition`: its tasks run and are healthy in the group. */
  async createService(options: {
    cluster: string;
    name: string;
    taskDefinition: string;
    desiredCount: number;
    targetGroupArn?: string;
  }): Promise<void> {
    const service: Service = {
      arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${options.cluster}/${options.name}`,
      name: options.name,
      cluster: options.cluster,
      targetGroupArn: options.targetGroupArn,
      desiredCount: options.desiredCount,
      deployments: [],
      deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
      events: [],
    };
    const deployment = this.newDeployment(options.taskDefinition, options.desiredCount);
    deployment.rolloutState = 'COMPLETED';
    service.deployments.push(deployment);
    this.services.set(`${options.cluster}/${options.name}`, service);
    for (let i = 0; i < options.desiredCount; i++) {
      const task = await this.launch(deployment);
      task.age = 10;
      task.lastStatus = 'RUNNING';
      task.health = options.targetGroupArn ? 'healthy' : null;
    }
  }

  // ---- what a test reads back (the truth, never lagged) ----------------------------------------

  service(cluster: string, name: string): Service {
    const s = this.services.get(`${cluster}/${name}`);
    if (!s) throw new Error(`no service ${cluster}/${name}`);
    return s;
  }

  /** Running tasks of a service, by task definition. */
  running(cluster: string, name: string): { taskDefinition: string; health: Task['health'] }[] {
    const s = this.service(cluster, name);
    const ids = new Set(s.deployments.map((d) => d.id));
    return this.tasks
      .filter((t) => ids.has(t.deploymentId) && t.lastStatus === 'RUNNING')
      .map((t) => ({ taskDefinition: t.taskDefinition, health: t.health }));
  }

  weights(ruleArn: string): Record<string, number> {
    const rule = this.rules.get(ruleArn);
    if (!rule) throw new Error(`no rule ${ruleArn}`);
    return Object.fromEntries(rule.weights.map((w) => [w.targetGroupArn, w.weight]));
  }

  /** Healthy targets in a group, by task definition. */
  healthyTargets(targetGroupArn: string): string[] {
    return this.targetsOf(targetGroupArn)
      .filter((t) => t.health === 'healthy')
      .map((t) => t.taskDefinition);
  }

  count(action: string): number {
    return this.calls.filter((c) => c.action === action).length;
  }

  // ---- the wire ------------------------------------------------------------------------------

  private async handle(
    req: http.IncomingMessage,
    body: string,
  ): Promise<{ status: number; type: string; body: string }> {
    const target = req.headers['x-amz-target'];
    const ecs = typeof target === 'string' && target.startsWith(ECS_PREFIX);
    const action = ecs ? target.slice(ECS_PREFIX.length) : (new URLSearchParams(body).get('Action') ?? '');
    const params: Record<string, unknown> = ecs
      ? (JSON.parse(body || '{}') as Record<string, unknown>)
      : Object.fromEntries(new URLSearchParams(body));
    if (this.faults.hold?.(action)) {
      this.held++;
      return new Promise(() => undefined);
    }
    const call: FakeAwsCall = { service: ecs ? 'ecs' : 'elbv2', action, params, outcome: '200' };
    this.calls.push(call);
    try {
      if (this.faults.throttle > 0) {
        this.faults.throttle--;
        throw new AwsFault(ecs ? 'ThrottlingException' : 'Throttling', 'Rate exceeded');
      }
      await this.advance();
      if (ecs) {
        const result = await this.ecs(action, params);
        return { status: 200, type: 'application/x-amz-json-1.1', body: JSON.stringify(result) };
      }
      const xml = this.elb(action, params as Record<string, string>);
      const ns = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';
      return {
        status: 200,
        type: 'text/xml',
        body: `<${action}Response xmlns="${ns}"><${action}Result>${xml}</${action}Result><ResponseMetadata><RequestId>r${this.seq}</RequestId></ResponseMetadata></${action}Response>`,
      };
    } catch (error) {
      if (!(error instanceof AwsFault)) throw error;
      call.outcome = error.code;
      if (ecs) {
        return {
          status: error.status,
          type: 'application/x-amz-json-1.1',
          body: JSON.stringify({ __type: error.code, message: error.message }),
        };
      }
      return {
        status: error.status,
        type: 'text/xml',
        body: `<ErrorResponse><Error><Type>Sender</Type><Code>${error.code}</Code><Message>${esc(error.message)}</Message></Error><RequestId>r${this.seq}</RequestId></ErrorResponse>`,
      };
    }
  }

  private async ecs(action: string, p: Record<string, unknown>): Promise<unknown> {
    switch (action) {
      case 'DescribeServices': {
        const cluster = String(p.cluster ?? 'default');
        const names = (p.services as string[]) ?? [];
        const services = [];
        const failures = [];
        for (const name of names) {
          const s = this.services.get(`${cluster}/${name}`);
          if (!s) failures.push({ arn: name, reason: 'MISSING' });
          else services.push(this.read(`service:${s.arn}`, () => this.serviceView(s)));
        }
        return { services, failures };
      }
      case 'UpdateService': {
        const s = this.services.get(`${String(p.cluster ?? 'default')}/${String(p.service)}`);
        if (!s) throw new AwsFault('ServiceNotFoundException', 'Service not found.');
        const before = this.serviceView(s);
        const taskDefinition = p.taskDefinition as string | undefined;
        if (taskDefinition !== undefined && !this.taskDefinitions.has(taskDefinition)) {
          throw new AwsFault('ClientException', 'TaskDefinition not found.');
        }
        if (p.deploymentConfiguration)
          s.deploymentConfiguration = p.deploymentConfiguration as Record<string, unknown>;
        if (typeof p.desiredCount === 'number') s.desiredCount = p.desiredCount;
        const primary = s.deployments.find((d) => d.status === 'PRIMARY')!;
        if ((taskDefinition && taskDefinition !== primary.taskDefinition) || p.forceNewDeployment === true) {
          primary.status = 'ACTIVE';
          s.deployments.unshift(this.newDeployment(taskDefinition ?? primary.taskDefinition, s.desiredCount));
        } else {
          primary.desiredCount = s.desiredCount;
          if (primary.rolloutState === 'COMPLETED' && this.liveTasks(primary).length !== s.desiredCount) {
            primary.rolloutState = 'IN_PROGRESS';
          }
        }
        this.lag(`service:${s.arn}`, before);
        return { service: this.serviceView(s) };
      }
      case 'DescribeTaskDefinition': {
        const arn = this.resolveTaskDefinition(String(p.taskDefinition));
        const td = arn ? this.taskDefinitions.get(arn) : undefined;
        if (!td) throw new AwsFault('ClientException', 'Unable to describe task definition.');
        return {
          taskDefinition: {
            taskDefinitionArn: td.arn,
            family: td.family,
            revision: td.revision,
            status: 'ACTIVE',
            containerDefinitions: [{ name: 'app', image: td.image, portMappings: [{ containerPort: 8080 }] }],
          },
        };
      }
      case 'ListTasks': {
        const s = this.services.get(`${String(p.cluster ?? 'default')}/${String(p.serviceName)}`);
        if (!s) throw new AwsFault('ServiceNotFoundException', 'Service not found.');
        const ids = new Set(s.deployments.map((d) => d.id));
        return {
          taskArns: this.tasks
            .filter((t) => ids.has(t.deploymentId) && t.lastStatus !== 'STOPPED')
            .map((t) => t.arn),
        };
      }
      case 'DescribeTasks': {
        const wanted = new Set((p.tasks as string[]) ?? []);
        return {
          tasks: this.tasks
            .filter((t) => wanted.has(t.arn))
            .map((t) => ({
              taskArn: t.arn,
              taskDefinitionArn: t.taskDefinition,
              lastStatus: t.lastStatus,
              desiredStatus: t.lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING',
              startedBy: t.deploymentId,
              containers: [
                {
                  name: 'app',
                  lastStatus: t.lastStatus,
                  networkBindings: [{ bindIP: '127.0.0.1', containerPort: t.port, hostPort: t.port }],
                  networkInterfaces: [{ privateIpv4Address: '127.0.0.1' }],
                },
              ],
            })),
          failures: [],
        };
      }
      default:
        throw new AwsFault('UnknownOperationException', `the fake has no ECS ${action}`);
    }
  }

  private elb(action: string, p: Record<string, string>): string {
    switch (action) {
      case 'DescribeTargetHealth': {
        const arn = p.TargetGroupArn;
        if (!arn || !this.targetGroups.has(arn))
          throw new AwsFault('TargetGroupNotFound', 'Target group not found.');
        const members = this.targetsOf(arn)
          .map(
            (t) =>
              `<member><Target><Id>127.0.0.1</Id><Port>${t.port}</Port></Target><HealthCheckPort>${t.port}</HealthCheckPort>` +
              `<TargetHealth><State>${t.health}</State>${reason(t.health)}</TargetHealth></member>`,
          )
          .join('');
        return `<TargetHealthDescriptions>${members}</TargetHealthDescriptions>`;
      }
      case 'DescribeRules': {
        const arns = Object.entries(p)
          .filter(([k]) => k.startsWith('RuleArns.member.'))
          .map(([, v]) => v);
        const members = arns.map((arn) => {
          const rule = this.rules.get(arn);
          if (!rule) throw new AwsFault('RuleNotFound', 'One or more rules not found.');
          return this.read(`rule:${arn}`, () => ruleXml(rule));
        });
        return `<Rules>${members.join('')}</Rules>`;
      }
      case 'ModifyRule': {
        const rule = this.rules.get(p.RuleArn ?? '');
        if (!rule) throw new AwsFault('RuleNotFound', 'One or more rules not found.');
        const weights: Rule['weights'] = [];
        for (let i = 1; p[`Actions.member.1.ForwardConfig.TargetGroups.member.${i}.TargetGroupArn`]; i++) {
          const targetGroupArn = p[`Actions.member.1.ForwardConfig.TargetGroups.member.${i}.TargetGroupArn`]!;
          if (!this.targetGroups.has(targetGroupArn))
            throw new AwsFault('TargetGroupNotFound', 'Target group not found.');
          const weight = Number(p[`Actions.member.1.ForwardConfig.TargetGroups.member.${i}.Weight`] ?? 1);
          weights.push({ targetGroupArn, weight });
        }
        if (p['Actions.member.1.Type'] !== 'forward' || weights.length === 0) {
          throw new AwsFault('ValidationError', 'the fake accepts one weighted forward action');
        }
        const before = ruleXml(rule);
        rule.weights = weights;
        this.lag(`rule:${rule.arn}`, before);
        return `<Rules>${ruleXml(rule)}</Rules>`;
      }
      default:
        throw new AwsFault('InvalidAction', `the fake has no ELBv2 ${action}`);
    }
  }

  // ---- eventual consistency ------------------------------------------------------------------

  private lag(key: string, before: unknown): void {
    if (this.faults.lagReads > 0) this.stale.set(key, { view: before, reads: this.faults.lagReads });
  }

  private read<T>(key: string, fresh: () => T): T {
    const stale = this.stale.get(key);
    if (stale && stale.reads > 0) {
      stale.reads--;
      return stale.view as T;
    }
    this.stale.delete(key);
    return fresh();
  }

  // ---- the simulation --------------------------------------------------------------------------

  private newDeployment(taskDefinition: string, desiredCount: number): Deployment {
    return {
      id: `ecs-svc/${1000 + this.seq++}`,
      status: 'PRIMARY',
      taskDefinition,
      desiredCount,
      failedTasks: 0,
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: 'ECS deployment in progress.',
      createdAt: this.tick,
    };
  }

  private async launch(deployment: Deployment): Promise<Task> {
    const taskDefinition = deployment.taskDefinition;
    const release = this.taskDefinitions.get(taskDefinition)?.image.split(':').pop() ?? '';
    const server = http.createServer((_req, res) => {
      if (this.faults.probeFails.has(taskDefinition)) {
        res.writeHead(503, { 'x-release': release }).end('not ready');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-release': release });
      res.end(JSON.stringify({ release }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const task: Task = {
      arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${hex(String(this.seq++))}`,
      taskDefinition,
      deploymentId: deployment.id,
      age: 0,
      lastStatus: 'PROVISIONING',
      server,
      port: (server.address() as AddressInfo).port,
      health: null,
      drainTicks: 0,
    };
    this.tasks.push(task);
    return task;
  }

  private liveTasks(d: Deployment): Task[] {
    return this.tasks.filter(
      (t) => t.deploymentId === d.id && t.lastStatus !== 'STOPPED' && t.health !== 'draining',
    );
  }

  private targetsOf(targetGroupArn: string): Task[] {
    const owners = new Set(
      [...this.services.values()]
        .filter((s) => s.targetGroupArn === targetGroupArn)
        .flatMap((s) => s.deployments.map((d) => d.id)),
    );
    return this.tasks.filter((t) => owners.has(t.deploymentId) && t.health !== null);
  }

  private stop(task: Task, withTarget: boolean): void {
    if (withTarget && task.health !== null && task.health !== 'draining') {
      task.health = 'draining';
      task.drainTicks = this.drainTicks;
      return;
    }
    task.lastStatus = 'STOPPED';
    task.health = null;
    void closeServer(task.server);
  }

  private async advance(): Promise<void> {
    this.tick++;
    for (const s of this.services.values()) await this.step(s);
    // The invariant a test checks: a group that takes traffic never has 0 healthy targets.
    for (const tg of this.targetGroups) {
      const rules = [...this.rules.values()].filter((r) => r.weights.some((w) => w.targetGroupArn === tg));
      const live =
        rules.length === 0 ||
        rules.some((r) => r.weights.some((w) => w.targetGroupArn === tg && w.weight > 0));
      if (!live) continue;
      const healthy = this.targetsOf(tg).filter((t) => t.health === 'healthy').length;
      this.minHealthy.set(tg, Math.min(this.minHealthy.get(tg) ?? Infinity, healthy));
    }
  }

  /** One tick of the ECS scheduler and the ALB for one service. */
  private async step(s: Service): Promise<void> {
    const hasTarget = s.targetGroupArn !== undefined;
    for (const task of this.tasks) {
      if (!s.deployments.some((d) => d.id === task.deploymentId) || task.lastStatus === 'STOPPED') continue;
      task.age++;
      if (task.health === 'draining') {
        if (--task.drainTicks <= 0) this.stop(task, false);
        continue;
      }
      const deployment = s.deployments.find((d) => d.id === task.deploymentId)!;
      if (task.lastStatus === 'PROVISIONING' && task.age >= 1) {
        task.lastStatus = 'RUNNING';
        if (hasTarget) task.health = 'initial';
      }
      if (this.faults.crash.has(task.taskDefinition) && task.age >= 2) {
        deployment.failedTasks++;
        s.events.unshift({
          id: `e${this.seq++}`,
          message: `(service ${s.name}) has stopped 1 running tasks: (task ${task.arn}) essential container exited.`,
          createdAt: this.tick,
        });
        this.stop(task, false);
        continue;
      }
      if (task.health === 'initial' && task.age >= 1 + this.healthyTicks) {
        task.health = this.faults.albUnhealthy.has(task.taskDefinition) ? 'unhealthy' : 'healthy';
      }
    }

    const primary = s.deployments.find((d) => d.status === 'PRIMARY')!;
    // The circuit breaker: failures past the threshold fail the deployment, and with rollback on
    // ECS starts a new deployment of the last completed task definition.
    const breaker = s.deploymentConfiguration.deploymentCircuitBreaker as
      { enable?: boolean; rollback?: boolean } | undefined;
    const threshold = Math.min(200, Math.max(3, Math.ceil(primary.desiredCount * 0.5)));
    if (breaker?.enable && primary.rolloutState === 'IN_PROGRESS' && primary.failedTasks >= threshold) {
      primary.rolloutState = 'FAILED';
      primary.rolloutStateReason = `ECS deployment circuit breaker: tasks failed to start.`;
      const previous = s.deployments.find((d) => d !== primary && d.rolloutState === 'COMPLETED');
      if (breaker.rollback && previous) {
        primary.status = 'ACTIVE';
        for (const t of this.liveTasks(primary)) this.stop(t, hasTarget);
        const rollback = this.newDeployment(previous.taskDefinition, s.desiredCount);
        rollback.rolloutStateReason = `ECS deployment circuit breaker: rolling back to deploymentId ${previous.id}.`;
        s.deployments.unshift(rollback);
      }
      return;
    }
    if (primary.rolloutState === 'FAILED') return;

    // Start what the primary deployment lacks (maximumPercent 200 lets all start at once).
    const live = this.liveTasks(primary);
    for (let i = live.length; i < primary.desiredCount; i++) await this.launch(primary);
    for (const extra of live.slice(primary.desiredCount)) this.stop(extra, hasTarget);

    // ECS with a load balancer counts a task healthy once its target is; without, once RUNNING.
    const ready = this.liveTasks(primary).filter((t) =>
      hasTarget && !this.faults.ecsIgnoresAlb ? t.health === 'healthy' : t.lastStatus === 'RUNNING',
    );
    if (ready.length >= primary.desiredCount) {
      for (const d of s.deployments) {
        if (d === primary) continue;
        for (const t of this.liveTasks(d)) this.stop(t, hasTarget);
        d.status = 'INACTIVE';
      }
      const leftovers = this.tasks.some(
        (t) =>
          t.deploymentId !== primary.id &&
          s.deployments.some((d) => d.id === t.deploymentId) &&
          t.lastStatus !== 'STOPPED',
      );
      if (!leftovers) {
        s.deployments = [primary];
        if (primary.rolloutState === 'IN_PROGRESS') {
          primary.rolloutState = 'COMPLETED';
          primary.rolloutStateReason = 'ECS deployment completed.';
        }
      }
    }
  }

  private serviceView(s: Service): Record<string, unknown> {
    const visible = s.deployments.filter((d) => d.status !== 'INACTIVE' || s.deployments.length === 1);
    const counts = (d: Deployment) => {
      const mine = this.tasks.filter((t) => t.deploymentId === d.id && t.lastStatus !== 'STOPPED');
      return {
        runningCount: mine.filter((t) => t.lastStatus === 'RUNNING').length,
        pendingCount: mine.filter((t) => t.lastStatus === 'PROVISIONING').length,
      };
    };
    const deployments = visible.map((d) => ({
      id: d.id,
      status: d.status,
      taskDefinition: d.taskDefinition,
      desiredCount: d.desiredCount,
      ...counts(d),
      failedTasks: d.failedTasks,
      rolloutState: d.rolloutState,
      rolloutStateReason: d.rolloutStateReason,
      createdAt: d.createdAt,
      updatedAt: this.tick,
    }));
    const primary = s.deployments.find((d) => d.status === 'PRIMARY')!;
    return {
      serviceArn: s.arn,
      serviceName: s.name,
      clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${s.cluster}`,
      status: 'ACTIVE',
      desiredCount: s.desiredCount,
      runningCount: deployments.reduce((n, d) => n + d.runningCount, 0),
      pendingCount: deployments.reduce((n, d) => n + d.pendingCount, 0),
      taskDefinition: primary.taskDefinition,
      deploymentConfiguration: s.deploymentConfiguration,
      loadBalancers: s.targetGroupArn
        ? [{ targetGroupArn: s.targetGroupArn, containerName: 'app', containerPort: 8080 }]
        : [],
      deployments,
      events: s.events.slice(0, 10),
    };
  }

  private resolveTaskDefinition(ref: string): string | undefined {
    if (this.taskDefinitions.has(ref)) return ref;
    const [family, revision] = ref.split(':');
    const all = [...this.taskDefinitions.values()].filter((t) => t.family === family);
    const match = revision ? all.find((t) => String(t.revision) === revision) : all.at(-1);
    return match?.arn;
  }
}

function ruleXml(rule: Rule): string {
  const groups = rule.weights
    .map(
      (w) =>
        `<member><TargetGroupArn>${w.targetGroupArn}</TargetGroupArn><Weight>${w.weight}</Weight></member>`,
    )
    .join('');
  return (
    `<member><RuleArn>${rule.arn}</RuleArn><Priority>10</Priority><IsDefault>false</IsDefault><Conditions/>` +
    `<Actions><member><Type>forward</Type><Order>1</Order><ForwardConfig><TargetGroups>${groups}</TargetGroups>` +
    `</ForwardConfig></member></Actions></member>`
  );
}

function reason(health: Task['health']): string {
  if (health === 'initial') return '<Reason>Elb.RegistrationInProgress</Reason>';
  if (health === 'unhealthy') return '<Reason>Target.ResponseCodeMismatch</Reason>';
  if (health === 'draining') return '<Reason>Target.DeregistrationInProgress</Reason>';
  return '';
}

function hex(s: string): string {
  return Buffer.from(s).toString('hex').padEnd(16, '0').slice(0, 16);
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function closeServer(server: http.Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
