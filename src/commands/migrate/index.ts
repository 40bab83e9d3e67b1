import { Flags } from '@oclif/core';
import { MaintCommand } from '../../cli/base-command.js';
import { planArg } from '../../cli/args.js';
import { loadPlan } from '../../plan/loader.js';
import type { MigrateResult } from '../../core/migrate/migrate.js';
import { bold, green } from '../../output/style.js';

export default class Migrate extends MaintCommand<MigrateResult> {
  static override summary = 'Apply pending migrations under the single-runner lock.';
  static override description =
    "Takes the plan's session lock, applies every pending migration in order (each DDL statement under migrations.lockTimeout, " +
    'retried with backoff) and releases the lock. Exits 4 when another run holds the lock; with --wait it blocks until the lock ' +
    'is free, then applies what is still pending (usually nothing) and exits 0, which makes it the container entrypoint: ' +
    '`maint migrate plan.yaml --wait && exec node server.js`.\n\n' +
    'Related: `maint migrate status PLAN` (applied and pending), `maint migrate down PLAN --to NAME`, ' +
    '`maint migrate create PLAN NAME`.';
  static override examples = [
    '<%= config.bin %> migrate plans/demo.yaml',
    '<%= config.bin %> migrate plans/postgres.yaml --wait && exec node server.js',
    '<%= config.bin %> migrate plans/postgres.yaml --json',
    '<%= config.bin %> migrate plans/postgres.yaml --wait --window && exec node server.js',
  ];
  static override args = { plan: planArg };
  static override flags = {
    wait: Flags.boolean({
      description: 'Block until the lock is free instead of exiting 4.',
      default: false,
    }),
    window: Flags.boolean({
      description:
        "Apply pending migrations only while the plan's window is open: outside it exit 3 naming the next window " +
        '(with --wait too: it waits for the lock, never for the window). Nothing pending is still exit 0. ' +
        'The plan can ask the same with migrations.requireWindow: true.',
      default: false,
    }),
  };

  async execute(): Promise<MigrateResult> {
    const { args, flags } = await this.parse(Migrate);
    const loaded = await loadPlan(args.plan);
    return this.core().migrate(loaded, { wait: flags.wait, requireWindow: flags.window });
  }

  protected override toSuccessJson(result: MigrateResult): unknown {
    return result;
  }

  protected renderHuman(r: MigrateResult): string {
    if (r.steps.length === 0) return `${green(bold('up to date'))}: no pending migrations for ${r.plan}`;
    const lines = r.steps.map(
      (s) =>
        `  ${s.status === 'done' ? green('✓') : '·'} ${s.name}${s.durationMs !== null ? ` (${s.durationMs} ms)` : ''}`,
    );
    return [`${green(bold('migrated'))} ${r.plan}: ${r.steps.length} migration(s)`, ...lines].join('\n');
  }
}
