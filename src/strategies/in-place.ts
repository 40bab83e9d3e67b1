/**
 * The in-place strategy (database part): lock → banner on → baseline → operations before the
 * migrations → migrate → operations after them → analyze → integrity checks → banner off. It only
 * builds the list; the engine runs it. With `fleet:` the roll (`fleet:roll`) comes after the
 * checks, before the banner goes off.
 */
import type { Step } from '../core/engine/step.js';
import { bannerConfigs } from '../notify/banner.js';
import type { PlanWork } from '../operations/pending.js';
import type { LoadedPlan } from '../plan/loader.js';
import type { OperationConfig } from '../plan/schema.js';
import type { WindowInstance } from '../window/window.js';
import { analyzeOptions, analyzeStep } from './steps/analyze-step.js';
import { bannerActiveStep, bannerOffStep } from './steps/banner-step.js';
import { baselineStep } from './steps/baseline-step.js';
import { checksStep } from './steps/checks-step.js';
import { fleetRollStep, type FleetStepInput } from './steps/fleet-step.js';
import { lockStep } from './steps/lock-step.js';
import { migrateStep } from './steps/migrate-step.js';
import { operationStep } from './steps/operation-step.js';
import { rdsUpgradeStep } from './steps/rds-upgrade-step.js';

export interface StrategyInput {
  loaded: LoadedPlan;
  /** What is pending: migrations (through `migrator`) and operations, in plan order. */
  work: PlanWork;
  /** The window the banner announces (for an emergency run, the run's expected span). */
  window: WindowInstance;
  /** The opened fleet to roll (absent without `fleet:`, or when only the database is previewed). */
  fleet?: FleetStepInput;
}

export function inPlaceSteps(input: StrategyInput): Step[] {
  const { plan } = input.loaded;
  const banner =
    bannerConfigs(plan).length > 0 ? { plan, dir: input.loaded.dir, window: input.window } : null;
  const analyze = analyzeOptions(plan.post.analyze);
  const operations = (when: OperationConfig['when']) =>
    input.work.operations
      .filter((op) => op.when === when)
      .map((op) => (op.kind === 'rds-upgrade' ? rdsUpgradeStep(op) : operationStep(op, input.loaded)));
  // The lock comes first so a second runner refused with exit 4 never touches the banner.
  const steps: Step[] = [lockStep()];
  if (banner) steps.push(bannerActiveStep(banner));
  const { migrator, pending } = input.work;
  steps.push(baselineStep({ migrator, checks: plan.checks }));
  steps.push(...operations('before-migrations'));
  if (!input.work.migrationsAbsent) steps.push(migrateStep({ migrator, pendingCount: pending.length }));
  steps.push(...operations('after-migrations'));
  if (analyze) steps.push(analyzeStep(analyze));
  if (plan.checks.length > 0) steps.push(checksStep({ checks: plan.checks }));
  if (input.fleet) steps.push(fleetRollStep(input.fleet));
  if (banner) steps.push(bannerOffStep(banner));
  return steps;
}
