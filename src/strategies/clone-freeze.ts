/**
 * The clone-freeze strategy (PostgreSQL `logical`): lock → banner on → clone:prepare (copy
 * online) → clone:migrate (migrate the copy) → clone:analyze (its statistics, before the
 * freeze) → [fleet:warm: the new fleet started on the clone and gated, no traffic] →
 * clone:cutover (freeze, drain, catch up, finalize) → [fleet:shift: the new fleet in service,
 * the old one drained and stopped] → banner off. Without `fleet:` the user's deploy points the
 * application at the clone (the result's `databaseUrl`); the old database stays frozen.
 * MariaDB `replica`: the same steps, with its own clone:prepare (mariadb-dump copy, then a
 * replica from its GTID position) and clone:cutover (read_only, MASTER_GTID_WAIT, replica reset).
 * `dump`: lock → banner on → clone:prepare (the empty clone) → clone:cutover (freeze, drain, copy,
 * migrate the copy) → clone:analyze → banner off; no fleet.
 * `template` (offline: reads stop too): lock → banner on → clone:cutover (freeze, drain, block
 * connections, end every session, CREATE DATABASE … TEMPLATE, reopen, migrate) → clone:analyze.
 * `rds-blue-green` and `rds-snapshot`: see steps/clone-rds-blue-green.ts and clone-rds-snapshot.ts.
 */
import type { Step } from '../core/engine/step.js';
import { cloneTarget } from '../clone/target.js';
import { bannerConfigs } from '../notify/banner.js';
import type { CloneFreezeConfig } from '../plan/schema.js';
import type { StrategyInput } from './in-place.js';
import { bannerActiveStep, bannerOffStep } from './steps/banner-step.js';
import { cloneAnalyzeStep } from './steps/clone-analyze-step.js';
import { cloneCutoverStep, freezeTimer } from './steps/clone-cutover-step.js';
import { cloneDumpStep } from './steps/clone-dump-step.js';
import { cloneTemplateStep } from './steps/clone-template-step.js';
import { cloneMigrateStep } from './steps/clone-migrate-step.js';
import { clonePrepareStep } from './steps/clone-prepare-step.js';
import { rdsBlueGreenSteps } from './steps/clone-rds-blue-green.js';
import { rdsSnapshotSteps } from './steps/clone-rds-snapshot.js';
import { replicaCutoverStep, replicaPrepareStep } from './steps/clone-replica-steps.js';
import { fleetShiftStep } from './steps/fleet-shift-step.js';
import { fleetWarmStep } from './steps/fleet-warm-step.js';
import { lockStep } from './steps/lock-step.js';

export function cloneFreezeSteps(input: StrategyInput): Step[] {
  const { plan } = input.loaded;
  const config = plan.strategy as CloneFreezeConfig;
  const target = cloneTarget(config, plan.database);
  const banner =
    bannerConfigs(plan).length > 0 ? { plan, dir: input.loaded.dir, window: input.window } : null;
  const steps: Step[] = [lockStep()];
  if (banner) steps.push(bannerActiveStep(banner));
  const { method, rds } = config.clone;
  if (rds && (method === 'rds-blue-green' || method === 'rds-snapshot')) {
    // RDS makes the copy (src/strategies/steps/clone-rds-*.ts); no fleet (refused by the cloner).
    const options = { config, rds, loaded: input.loaded, migrate: !input.work.migrationsAbsent };
    steps.push(...(method === 'rds-blue-green' ? rdsBlueGreenSteps(options) : rdsSnapshotSteps(options)));
    if (banner) steps.push(bannerOffStep(banner));
    return steps;
  }
  if (config.clone.method === 'template') {
    // Offline: CREATE DATABASE … TEMPLATE inside the freeze, with every session ended; no fleet.
    steps.push(
      cloneTemplateStep({
        target,
        config,
        loaded: input.loaded,
        live: plan.database,
        migrate: !input.work.migrationsAbsent,
      }),
    );
    steps.push(cloneAnalyzeStep({ target, afterCutover: true }));
    if (banner) steps.push(bannerOffStep(banner));
    return steps;
  }
  if (config.clone.method === 'dump') {
    // The copy is made during the freeze (and migrated there); statistics after it.
    steps.push(clonePrepareStep({ target, live: plan.database, method: 'dump' }));
    steps.push(
      cloneDumpStep({
        target,
        config,
        loaded: input.loaded,
        live: plan.database,
        migrate: !input.work.migrationsAbsent,
      }),
    );
    steps.push(cloneAnalyzeStep({ target, afterCutover: true }));
    if (banner) steps.push(bannerOffStep(banner));
    return steps;
  }
  // The per-engine steps: `logical` (PostgreSQL) or `replica` (MariaDB); the others are shared.
  const replica = config.clone.method === 'replica';
  const prepare = replica ? replicaPrepareStep : clonePrepareStep;
  const cutover = replica ? replicaCutoverStep : cloneCutoverStep;
  steps.push(prepare({ target, live: plan.database }));
  if (!input.work.migrationsAbsent)
    steps.push(cloneMigrateStep({ target, loaded: input.loaded, pendingCount: input.work.pending.length }));
  steps.push(cloneAnalyzeStep({ target }));
  if (input.fleet) {
    const timer = freezeTimer();
    steps.push(fleetWarmStep(input.fleet, target));
    steps.push(cutover({ target, config, timer }));
    steps.push(fleetShiftStep(input.fleet, target, timer));
  } else steps.push(cutover({ target, config }));
  if (banner) steps.push(bannerOffStep(banner));
  return steps;
}
