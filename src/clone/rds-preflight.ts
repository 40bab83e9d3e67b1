/**
 * Preflight of the RDS clone methods (exit 2, `CLONE_PREFLIGHT`, nothing created): the freeze
 * estimate of `rds-snapshot` against `freeze.maxDuration`, and, read through the RDS API, the
 * live instance: it exists, runs PostgreSQL, is `available`, and is the instance the plan's
 * database.url points at. An endpoint that does not answer, no region or no credentials are
 * refused here too. Loaded only for the RDS methods (it loads the AWS SDK).
 */
import { InputError, type InputIssue } from '../errors.js';
import { AwsSetupError, isCredentialsError, isUnreachable } from '../fleet/aws.js';
import { bannerConfigs } from '../notify/banner.js';
import { formatDuration } from '../plan/duration.js';
import type { LoadedPlan } from '../plan/loader.js';
import type { CloneFreezeConfig } from '../plan/schema.js';
import { RDS_SNAPSHOT_ESTIMATE_MS } from '../strategies/steps/clone-rds-snapshot.js';
import { awsName, describeInstance, openRds } from './rds.js';

export async function preflightRds(
  config: CloneFreezeConfig,
  loaded: LoadedPlan,
  live: boolean,
): Promise<void> {
  const { method, rds } = config.clone;
  const issues: InputIssue[] = [];
  const add = (path: string, message: string) => issues.push({ file: loaded.path, path, message });
  const refuse = () =>
    new InputError(
      'CLONE_PREFLIGHT',
      `${loaded.path}: clone-freeze (${method}) cannot run: ${issues.map((i) => i.message).join('; ')}`,
      issues,
      { hint: 'Fix what is listed (nothing was created or changed), then run again.' },
    );
  if (!rds) {
    add('strategy.clone.rds.instance', `the ${method} method needs clone.rds.instance`);
    throw refuse();
  }
  if (method === 'rds-snapshot') {
    const estimate = rds.estimate ?? RDS_SNAPSHOT_ESTIMATE_MS;
    if (config.freeze.grace + estimate > config.freeze.maxDuration)
      add(
        'strategy.freeze.maxDuration',
        `rds-snapshot freezes writes while RDS snapshots and restores the instance: about ${formatDuration(estimate)} (clone.rds.estimate${rds.estimate === undefined ? ', default' : ''}) plus grace, longer than freeze.maxDuration (${formatDuration(config.freeze.maxDuration)}); raise maxDuration (and make sure the window has room), or use rds-blue-green`,
      );
  }
  if (method === 'rds-blue-green' && bannerConfigs(loaded.plan).length > 0)
    add(
      'banner',
      'rds-blue-green with a banner is not available in this version: the switchover ends every session on the instance, maint’s lock session with them, so the banner could not be taken down under the lock',
    );
  if (issues.length > 0 || !live) {
    if (issues.length > 0) throw refuse();
    return;
  }
  let api;
  try {
    api = await openRds(rds);
  } catch (error) {
    if (error instanceof AwsSetupError) add('strategy.clone.rds.region', error.message);
    else throw error;
    throw refuse();
  }
  try {
    const instance = await describeInstance(api, rds.instance);
    if (!instance)
      add('strategy.clone.rds.instance', `RDS has no DB instance ${rds.instance} in ${api.region}`);
    else {
      if (!instance.engine.startsWith('postgres'))
        add(
          'strategy.clone.rds.instance',
          `${rds.instance} runs ${instance.engine}; these methods are built for PostgreSQL`,
        );
      if (instance.status !== 'available')
        add('strategy.clone.rds.instance', `${rds.instance} is ${instance.status}, not available`);
      const planHost = new URL(loaded.plan.database.url);
      if (
        instance.host &&
        (planHost.hostname !== instance.host || Number(planHost.port || 5432) !== instance.port)
      )
        add(
          'database.url',
          `the plan's database.url points at ${planHost.hostname}:${planHost.port || 5432}, not at ${rds.instance} (${instance.host}:${instance.port})`,
        );
    }
  } catch (error) {
    if (isUnreachable(error))
      add(
        'strategy.clone.rds.endpoint',
        `the RDS endpoint ${rds.endpoint ?? `of ${api.region}`} does not answer (${(error as { code?: string }).code ?? (error as Error).name})`,
      );
    else if (isCredentialsError(error))
      add(
        'strategy.clone.rds',
        'no AWS credentials: the SDK’s standard chain (env, profile, role) found none',
      );
    else
      add(
        'strategy.clone.rds',
        `RDS refused DescribeDBInstances: ${awsName(error) ?? 'error'}: ${(error as Error).message}`,
      );
  } finally {
    api.close();
  }
  if (issues.length > 0) throw refuse();
}
