/**
 * The one place maint builds AWS clients (house style rule 5). The interfaces list only the
 * calls the ecs provider makes, so a reader (and a reviewer of the IAM policy) sees the whole
 * surface here. Region and endpoint come from the plan when given, else from the standard chain
 * (AWS_REGION, profiles); credentials always come from the standard chain (env, profile, SSO,
 * web identity, container or instance role). The SDK is imported on first use only: no other
 * command loads it.
 */
import type {
  DescribeServicesCommandInput,
  DescribeServicesCommandOutput,
  DescribeTaskDefinitionCommandInput,
  DescribeTaskDefinitionCommandOutput,
  DescribeTasksCommandInput,
  DescribeTasksCommandOutput,
  ListTasksCommandInput,
  ListTasksCommandOutput,
  UpdateServiceCommandInput,
  UpdateServiceCommandOutput,
} from '@aws-sdk/client-ecs';
import type {
  DescribeRulesCommandInput,
  DescribeRulesCommandOutput,
  DescribeTargetHealthCommandInput,
  DescribeTargetHealthCommandOutput,
  ModifyRuleCommandInput,
  ModifyRuleCommandOutput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { RDSClient } from '@aws-sdk/client-rds';

/** The ECS calls maint makes (IAM: ecs:DescribeServices, UpdateService, DescribeTaskDefinition, ListTasks, DescribeTasks). */
export interface EcsApi {
  describeServices(
    input: DescribeServicesCommandInput,
    signal?: AbortSignal,
  ): Promise<DescribeServicesCommandOutput>;
  updateService(input: UpdateServiceCommandInput, signal?: AbortSignal): Promise<UpdateServiceCommandOutput>;
  describeTaskDefinition(
    input: DescribeTaskDefinitionCommandInput,
    signal?: AbortSignal,
  ): Promise<DescribeTaskDefinitionCommandOutput>;
  listTasks(input: ListTasksCommandInput, signal?: AbortSignal): Promise<ListTasksCommandOutput>;
  describeTasks(input: DescribeTasksCommandInput, signal?: AbortSignal): Promise<DescribeTasksCommandOutput>;
}

/** The ELBv2 calls maint makes (IAM: elasticloadbalancing:DescribeTargetHealth, DescribeRules, ModifyRule). */
export interface ElbApi {
  describeTargetHealth(
    input: DescribeTargetHealthCommandInput,
    signal?: AbortSignal,
  ): Promise<DescribeTargetHealthCommandOutput>;
  describeRules(input: DescribeRulesCommandInput, signal?: AbortSignal): Promise<DescribeRulesCommandOutput>;
  modifyRule(input: ModifyRuleCommandInput, signal?: AbortSignal): Promise<ModifyRuleCommandOutput>;
}

export interface AwsClients {
  ecs: EcsApi;
  elb: ElbApi;
  /** The region the clients resolved (plan, AWS_REGION or profile). */
  region: string;
  close(): void;
}

export interface AwsClientOptions {
  /** @default the standard chain (AWS_REGION, AWS_DEFAULT_REGION, the profile's region) */
  region?: string;
  /** An endpoint override for both services (LocalStack, tests). @default AWS's */
  endpoint?: string;
  /**
   * Attempts per call inside the SDK (its standard retry: exponential backoff with jitter on
   * throttling, 5xx and connection errors). maint retries throttling again above this.
   * @default 3
   */
  maxAttempts?: number;
}

/** Build the ECS and ELBv2 clients. Throws `AwsSetupError` when no region can be found. */
export async function createAwsClients(options: AwsClientOptions): Promise<AwsClients> {
  // The SDK warns on Node 20 that its releases after January 2027 need Node 22; maint pins
  // versions that support Node 20 (package.json), so the warning would only be noise in output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [ecsSdk, elbSdk] = await Promise.all([
    import('@aws-sdk/client-ecs'),
    import('@aws-sdk/client-elastic-load-balancing-v2'),
  ]);
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const config = {
    ...(region ? { region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    maxAttempts: options.maxAttempts ?? 3,
    // A black-holed endpoint must fail in seconds, not hang the run before anything changed.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
  };
  const ecs = new ecsSdk.ECSClient(config);
  const elb = new elbSdk.ElasticLoadBalancingV2Client(config);
  let resolved: string;
  try {
    resolved = await ecs.config.region();
  } catch (cause) {
    ecs.destroy();
    elb.destroy();
    throw new AwsSetupError('region', cause);
  }
  const opts = (signal?: AbortSignal) => (signal ? { abortSignal: signal } : {});
  return {
    region: resolved,
    ecs: {
      describeServices: (input, signal) => ecs.send(new ecsSdk.DescribeServicesCommand(input), opts(signal)),
      updateService: (input, signal) => ecs.send(new ecsSdk.UpdateServiceCommand(input), opts(signal)),
      describeTaskDefinition: (input, signal) =>
        ecs.send(new ecsSdk.DescribeTaskDefinitionCommand(input), opts(signal)),
      listTasks: (input, signal) => ecs.send(new ecsSdk.ListTasksCommand(input), opts(signal)),
      describeTasks: (input, signal) => ecs.send(new ecsSdk.DescribeTasksCommand(input), opts(signal)),
    },
    elb: {
      describeTargetHealth: (input, signal) =>
        elb.send(new elbSdk.DescribeTargetHealthCommand(input), opts(signal)),
      describeRules: (input, signal) => elb.send(new elbSdk.DescribeRulesCommand(input), opts(signal)),
      modifyRule: (input, signal) => elb.send(new elbSdk.ModifyRuleCommand(input), opts(signal)),
    },
    close() {
      ecs.destroy();
      elb.destroy();
    },
  };
}

/**
 * The RDS calls maint makes (IAM: rds:DescribeDBInstances, CreateBlueGreenDeployment,
 * DescribeBlueGreenDeployments, SwitchoverBlueGreenDeployment, DeleteBlueGreenDeployment,
 * CreateDBSnapshot, DescribeDBSnapshots, DeleteDBSnapshot, RestoreDBInstanceFromDBSnapshot,
 * DeleteDBInstance, ModifyDBInstance). `send` takes the command's name and its input.
 */
export interface RdsApi {
  call<T = Record<string, unknown>>(
    command: RdsCommand,
    input: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<T>;
  region: string;
  close(): void;
}

export type RdsCommand =
  | 'DescribeDBInstances'
  | 'CreateBlueGreenDeployment'
  | 'DescribeBlueGreenDeployments'
  | 'SwitchoverBlueGreenDeployment'
  | 'DeleteBlueGreenDeployment'
  | 'CreateDBSnapshot'
  | 'DescribeDBSnapshots'
  | 'DeleteDBSnapshot'
  | 'RestoreDBInstanceFromDBSnapshot'
  | 'DeleteDBInstance'
  | 'ModifyDBInstance';

/** Build the RDS client (imported on first use only). Throws `AwsSetupError` when no region can be found. */
export async function createRdsClient(options: AwsClientOptions): Promise<RdsApi> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = await import('@aws-sdk/client-rds');
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const client: RDSClient = new sdk.RDSClient({
    ...(region ? { region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
  });
  let resolved: string;
  try {
    resolved = await client.config.region();
  } catch (cause) {
    client.destroy();
    throw new AwsSetupError('region', cause);
  }
  const commands = {
    DescribeDBInstances: sdk.DescribeDBInstancesCommand,
    CreateBlueGreenDeployment: sdk.CreateBlueGreenDeploymentCommand,
    DescribeBlueGreenDeployments: sdk.DescribeBlueGreenDeploymentsCommand,
    SwitchoverBlueGreenDeployment: sdk.SwitchoverBlueGreenDeploymentCommand,
    DeleteBlueGreenDeployment: sdk.DeleteBlueGreenDeploymentCommand,
    CreateDBSnapshot: sdk.CreateDBSnapshotCommand,
    DescribeDBSnapshots: sdk.DescribeDBSnapshotsCommand,
    DeleteDBSnapshot: sdk.DeleteDBSnapshotCommand,
    RestoreDBInstanceFromDBSnapshot: sdk.RestoreDBInstanceFromDBSnapshotCommand,
    DeleteDBInstance: sdk.DeleteDBInstanceCommand,
    ModifyDBInstance: sdk.ModifyDBInstanceCommand,
  } satisfies Record<RdsCommand, unknown>;
  return {
    region: resolved,
    async call<T>(command: RdsCommand, input: Record<string, unknown>, signal?: AbortSignal) {
      const Command = commands[command] as unknown as new (
        input: Record<string, unknown>,
      ) => Parameters<RDSClient['send']>[0];
      const out: unknown = await client.send(new Command(input), signal ? { abortSignal: signal } : {});
      return out as T;
    },
    close() {
      client.destroy();
    },
  };
}

/** The clients could not be set up (no region). */
export class AwsSetupError extends Error {
  constructor(
    readonly what: 'region',
    cause: unknown,
  ) {
    super(
      'no AWS region: set the region in the plan (fleet.region, strategy.clone.rds.region) or AWS_REGION',
      { cause },
    );
  }
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'SlowDown',
]);

/** The error's AWS code (`name` as the SDK sets it), or undefined for a non-AWS error. */
export function awsErrorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { name?: unknown; $metadata?: unknown };
  return e.$metadata !== undefined && typeof e.name === 'string' ? e.name : undefined;
}

export function isThrottling(error: unknown): boolean {
  const name = awsErrorName(error);
  return name !== undefined && THROTTLING.has(name);
}

/** No answer at all (refused, reset, timed out, DNS): the endpoint is unreachable. */
export function isUnreachable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; name?: unknown; $metadata?: { httpStatusCode?: number } };
  if (e.$metadata?.httpStatusCode !== undefined) return false;
  const code = typeof e.code === 'string' ? e.code : '';
  return (
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ENOTFOUND',
      'EAI_AGAIN',
      'ETIMEDOUT',
      'EHOSTUNREACH',
      'ENETUNREACH',
    ].includes(code) || e.name === 'TimeoutError'
  );
}

/** The standard chain found no credentials. */
export function isCredentialsError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'CredentialsProviderError'
  );
}
