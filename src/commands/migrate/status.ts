import { MaintCommand } from '../../cli/base-command.js';
import { planArg } from '../../cli/args.js';
import { loadPlan } from '../../plan/loader.js';
import type { MigrationStatus } from '../../core/migrate/migrate.js';
import { statementsDone } from '../../output/migrations.js';
import { bold, dim, yellow } from '../../output/style.js';

export default class MigrateStatus extends MaintCommand<MigrationStatus> {
  static override summary = 'List applied and pending migrations, and the lock holder.';
  static override description =
    'Reads the migrations table and the migrations folder; changes nothing. A migration run statement by statement that stopped half-way is listed as `partial` with the statements done (`maint migrate` or `maint run` resumes it). An applied migration whose file was edited since is listed as `changed` with both checksums and a warning naming `maint migrate accept` (`migrate` and `run` refuse until the file is restored or accepted).';
  static override examples = [
    '<%= config.bin %> migrate status plans/demo.yaml',
    '<%= config.bin %> migrate status plans/postgres.yaml --json',
  ];
  static override args = { plan: planArg };

  async execute(): Promise<MigrationStatus> {
    const { args } = await this.parse(MigrateStatus);
    return this.core().migrationStatus(await loadPlan(args.plan));
  }

  protected override toSuccessJson(result: MigrationStatus): unknown {
    return result;
  }

  protected renderHuman(s: MigrationStatus): string {
    const lines = [bold(`${s.plan}: ${s.applied.length} applied, ${s.pending.length} pending`)];
    const changed = new Set(s.changed.map((c) => c.name));
    for (const m of s.applied)
      lines.push(
        `  ${changed.has(m.name) ? yellow('changed') : 'applied'}  ${m.name}  ${dim(`${m.appliedAt} (${m.durationMs} ms)`)}`,
      );
    for (const m of s.pending)
      lines.push(
        m.state === 'partial'
          ? `  ${yellow('partial')}  ${m.name} (${statementsDone(m)})`
          : `  ${yellow('pending')}  ${m.name}`,
      );
    for (const w of s.warnings) lines.push(yellow(`warning: ${w}`));
    if (s.lock)
      lines.push(`lock held by ${s.lock.host} pid ${s.lock.pid} (${s.lock.purpose}) since ${s.lock.since}`);
    return lines.join('\n');
  }
}
