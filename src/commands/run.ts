import { Flags } from '@oclif/core';
import { MaintCommand } from '../cli/base-command.js';
import { planArg } from '../cli/args.js';
import type { RunResult } from '../core/run/run.js';
import { InputError, MaintError, ExitCode, UsageError } from '../errors.js';
import { act, hint } from '../hints.js';
import { loadPlan } from '../plan/loader.js';
import { createRunRenderer, renderRunSummary } from '../output/render-run.js';

export default class Run extends MaintCommand<RunResult> {
  static override summary =
    'Run a plan now: lock, banner, migrations, statistics, checks, inside the window.';
  static override description =
    "Executes the plan's strategy step by step inside its maintenance window, journaling every step in the plan's database. " +
    'It refuses outside the window (exit 3) unless --emergency --reason is given, refuses when the time left does not cover the estimate, ' +
    'rolls back in reverse on failure (exit 5) and resumes or rolls back a run whose process died. ' +
    'A plan that rolls a fleet is checked by the expand/contract guard first (exit 2, nothing changed): no contract migration while an older release serves, ' +
    'no rollback past a contract migration unless --force-rollback --reason. See docs/run.md and docs/fleet.md.';
  static override examples = [
    '<%= config.bin %> run plans/demo.yaml',
    '<%= config.bin %> run plans/postgres.yaml --json',
    '<%= config.bin %> run plans/postgres.yaml --emergency --reason "INC-1234: disk almost full"',
    'RELEASE=2026.12.01-3 TASK_DEFINITION=arn:aws:ecs:eu-west-1:123456789012:task-definition/shop:41 <%= config.bin %> run plans/ecs.yaml --force-rollback --reason "2026.12.01-3 never read orders.legacy_status"',
  ];
  static override args = { plan: planArg };
  static override flags = {
    emergency: Flags.boolean({
      description: 'Run outside the maintenance window (needs --reason).',
      dependsOn: ['reason'],
    }),
    'force-rollback': Flags.boolean({
      description:
        'Return the fleet to a release the expand/contract guard refuses (a contract migration ran after it served); needs --reason, journaled.',
    }),
    reason: Flags.string({
      description:
        'Why this emergency run cannot wait, or why the forced rollback is safe; journaled (and sent with the events of an emergency run).',
    }),
  };

  async execute(): Promise<RunResult> {
    const { args, flags } = await this.parse(Run);
    // A blank reason is no reason: refused before anything is read, whatever the window.
    if (flags.emergency && !flags.reason?.trim())
      throw new UsageError('--emergency needs a --reason that says why the run cannot wait; it was blank.', {
        hint: hint('Give the incident or the cause, e.g. {emergency}.', {
          emergency: act('run', args.plan, { emergency: true, reason: 'INC-1234: disk almost full' }),
        }),
      });
    if (flags.reason !== undefined && !flags.emergency && !flags['force-rollback'])
      throw new InputError('REASON_WITHOUT_FLAG', '--reason goes with --emergency or --force-rollback', [], {
        hint: 'Add --emergency (run outside the window) or --force-rollback (return to a release the guard refuses), or drop --reason.',
      });
    if (flags['force-rollback'] && !flags.reason?.trim())
      throw new InputError(
        'FORCE_ROLLBACK_NEEDS_REASON',
        '--force-rollback needs --reason "…"; nothing was started',
        [],
        {
          hint: 'Say why returning to the old release is safe, e.g. --reason "v1 never read orders.legacy_status"; the reason is journaled.',
        },
      );
    const loaded = await loadPlan(args.plan);
    const renderer = this.jsonEnabled() ? null : createRunRenderer();
    // Ctrl-C or a stop signal cancels the current step, then everything is rolled back.
    const controller = new AbortController();
    const stop = (signal: string) => () =>
      controller.abort(
        new MaintError('INTERRUPTED', ExitCode.rolledBack, `interrupted by ${signal}`, {
          hint: hint('{status} shows what was rolled back.', { status: act('status', args.plan) }),
        }),
      );
    const onInt = stop('SIGINT');
    const onTerm = stop('SIGTERM');
    process.once('SIGINT', onInt).once('SIGTERM', onTerm);
    try {
      return await this.core(renderer).run(loaded, {
        ...(flags.emergency && flags.reason ? { emergencyReason: flags.reason.trim() } : {}),
        ...(flags['force-rollback'] && flags.reason
          ? { forceRollback: { reason: flags.reason.trim() } }
          : {}),
        signal: controller.signal,
      });
    } finally {
      renderer?.stop();
      process.off('SIGINT', onInt).off('SIGTERM', onTerm);
    }
  }

  protected override toSuccessJson(result: RunResult): unknown {
    return result;
  }

  protected renderHuman(result: RunResult): string {
    return renderRunSummary(result);
  }
}
