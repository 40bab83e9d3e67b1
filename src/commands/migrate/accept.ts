import { Args, Flags } from '@oclif/core';
import { MaintCommand } from '../../cli/base-command.js';
import { planArg } from '../../cli/args.js';
import type { AcceptResult } from '../../core/migrate/accept.js';
import { short } from '../../migrations/changed.js';
import { loadPlan } from '../../plan/loader.js';
import { bold, dim, green } from '../../output/style.js';

export default class MigrateAccept extends MaintCommand<AcceptResult> {
  static override summary =
    'Accept reviewed edits of applied migrations: record their files as they are now.';
  static override description =
    'An applied migration whose file was edited since (even a comment) makes `maint run` and `maint migrate` refuse (exit 2, MIGRATION_CHANGED) and `maint gate` refuse (exit 7). ' +
    'After a review found the edit harmless, this records the current checksum of each named file (like Flyway `repair` or Atlas `migrate hash`), under the lock. ' +
    'Each file, its checksums before and after, who and why are journaled in maint_runs (`maint status` lists it). ' +
    'It never runs SQL from the files: an edit that should change the database belongs in a new migration (`maint migrate create`).';
  static override examples = [
    '<%= config.bin %> migrate accept plans/postgres.yaml 001_create_orders --reason "PR #42: only a comment was reworded"',
    '<%= config.bin %> migrate accept plans/mysql.yaml 001_create_orders 002_add_status --reason "whitespace only" --json',
  ];
  static override strict = false;
  static override args = {
    plan: planArg,
    name: Args.string({
      description:
        'Changed migration(s) to accept, e.g. 001_create_orders (`maint migrate status` lists them).',
      required: true,
    }),
  };
  static override flags = {
    reason: Flags.string({
      description: 'What the review found (journaled); blank is refused.',
      required: true,
    }),
    wait: Flags.boolean({
      description: 'Block until the lock is free instead of exiting 4.',
      default: false,
    }),
  };

  async execute(): Promise<AcceptResult> {
    const { args, argv, flags } = await this.parse(MigrateAccept);
    const names = (argv as string[]).slice(1);
    return this.core().acceptMigrations(await loadPlan(args.plan), {
      names,
      reason: flags.reason,
      wait: flags.wait,
    });
  }

  protected override toSuccessJson(result: AcceptResult): unknown {
    return result;
  }

  protected renderHuman(r: AcceptResult): string {
    return [
      `${green(bold('accepted'))} ${r.accepted.length} changed migration${r.accepted.length === 1 ? '' : 's'} of ${r.plan} (journaled as ${r.runId}; reason: ${r.reason})`,
      ...r.accepted.map(
        (m) =>
          `  ${m.file}: checksum ${short(m.previousChecksum)} → ${short(m.checksum)} ${dim(m.state === 'applied' ? `(applied ${m.appliedAt ?? 'at an unknown time'})` : `(statements 1-${m.statementsDone} applied)`)}`,
      ),
    ].join('\n');
  }
}
