import { Flags } from '@oclif/core';
import { MaintCommand } from '../cli/base-command.js';
import { planArg } from '../cli/args.js';
import type { ResolveResult } from '../core/run/resolve.js';
import { loadPlan } from '../plan/loader.js';
import { bold, green } from '../output/style.js';

export default class Resolve extends MaintCommand<ResolveResult> {
  static override summary = 'Record that a failed run was finished by hand, so gate and run go on.';
  static override description =
    'A run that failed at a point of no return (exit 6, POINT_OF_NO_RETURN: a step that cannot be undone was done) holds the plan: `maint gate` refuses (RUN_FAILED) and `maint run` does not start (RUN_UNRESOLVED) until an operator has finished what it left and recorded that here. ' +
    'Any other failed run (MIGRATION_PARTIAL, ROLLBACK_FAILED, LOCK_LOST) is settled by the next `maint run`; resolve it here only when you settled it by hand instead. ' +
    'Under the lock; the run stays `failed` in the journal with the resolution (reason, host, pid, time) in its state and note, `maint status` shows it, and the banner goes off when the run was the one holding the plan.';
  static override examples = [
    '<%= config.bin %> resolve plans/postgres.yaml --run run_20261129T203000_a1b2c3 --reason "ran analyze and the checks by hand; all 4 rows there"',
    '<%= config.bin %> resolve plans/mysql.yaml --run run_20261129T203000_a1b2c3 --reason "INC-1234: reverted 003 by hand" --json',
  ];
  static override args = { plan: planArg };
  static override flags = {
    run: Flags.string({
      description: 'The failed run (its id from the failure, or `maint status`).',
      required: true,
    }),
    reason: Flags.string({
      description: 'What was finished by hand (journaled); blank is refused.',
      required: true,
    }),
  };

  async execute(): Promise<ResolveResult> {
    const { args, flags } = await this.parse(Resolve);
    return this.core().resolve(await loadPlan(args.plan), { runId: flags.run, reason: flags.reason });
  }

  protected override toSuccessJson(result: ResolveResult): unknown {
    return result;
  }

  protected renderHuman(r: ResolveResult): string {
    const lines = [
      `${green(bold('resolved'))} run ${r.runId} of ${r.plan}${r.failure ? ` (it failed: ${r.failure.code})` : ''}: ${r.resolution?.reason ?? ''}`,
      `  journaled: by ${r.resolution?.by.host} pid ${r.resolution?.by.pid} at ${r.resolution?.at}; the run stays failed in the journal, resolved`,
    ];
    if (r.banner === 'off') lines.push('  banner: off');
    return lines.join('\n');
  }
}
