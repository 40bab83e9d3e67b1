import { Flags } from '@oclif/core';
import { MaintCommand } from '../../cli/base-command.js';
import { planArg } from '../../cli/args.js';
import { loadPlan } from '../../plan/loader.js';
import type { MigrateResult } from '../../core/migrate/migrate.js';
import { bold, green } from '../../output/style.js';

export default class MigrateDown extends MaintCommand<MigrateResult> {
  static override summary = 'Revert applied migrations, newest first, down to a named one.';
  static override description =
    'Runs the .down.sql (or down()) of every migration applied after --to, newest first, under the lock. `--to 0` reverts all. ' +
    'Refuses before changing anything when one of them has no down migration.';
  static override examples = [
    '<%= config.bin %> migrate down plans/demo.yaml --to 002_add_status',
    '<%= config.bin %> migrate down plans/demo.yaml --to 0',
  ];
  static override args = { plan: planArg };
  static override flags = {
    to: Flags.string({
      description: 'Keep this migration and those before it; 0 reverts everything.',
      required: true,
    }),
    wait: Flags.boolean({
      description: 'Block until the lock is free instead of exiting 4.',
      default: false,
    }),
  };

  async execute(): Promise<MigrateResult> {
    const { args, flags } = await this.parse(MigrateDown);
    const loaded = await loadPlan(args.plan);
    return this.core().migrateDown(loaded, { to: flags.to === '0' ? 0 : flags.to, wait: flags.wait });
  }

  protected override toSuccessJson(result: MigrateResult): unknown {
    return result;
  }

  protected renderHuman(r: MigrateResult): string {
    if (r.steps.length === 0) return 'nothing to revert';
    return [
      `${green(bold('reverted'))} ${r.steps.length} migration(s)`,
      ...r.steps.map((s) => `  ${s.name} (${s.durationMs ?? 0} ms)`),
    ].join('\n');
  }
}
