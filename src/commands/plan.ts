import { MaintCommand } from '../cli/base-command.js';
import { planArg } from '../cli/args.js';
import type { PlanPreview } from '../core/inspect/preview.js';
import { ExitCode } from '../errors.js';
import { formatDuration } from '../plan/duration.js';
import { loadPlan } from '../plan/loader.js';
import { statementsDone } from '../output/migrations.js';
import { bold, dim, green, red, yellow } from '../output/style.js';

export default class Plan extends MaintCommand<PlanPreview> {
  static override summary = 'Dry run: what `maint run` would do now, with estimates against the time left.';
  static override description =
    'Validates the plan, reads the window, the pending migrations, the checks and the journal, and lists the ordered steps with their estimates. ' +
    'Changes nothing: no lock, no journal writes, no banner. Exit 0 when `maint run` would start now (or has nothing to do), ' +
    '3 when the window is closed or too short for the estimate, 4 when another run holds the lock; 2 when an applied migration was edited since (MIGRATION_CHANGED) and 6 when a failed run waits for `maint resolve` (RUN_UNRESOLVED): the exit code `maint run` would give, with the plan still shown.';
  static override examples = [
    '<%= config.bin %> plan plans/demo.yaml',
    'MAINT_NOW=2026-11-29T20:30:00Z <%= config.bin %> plan plans/postgres.yaml --json',
  ];
  static override args = { plan: planArg };

  async execute(): Promise<PlanPreview> {
    const { args } = await this.parse(Plan);
    return this.core().preview(await loadPlan(args.plan));
  }

  protected override exitCodeFor(r: PlanPreview): number {
    return r.status === 'refused' ? ExitCode.window : r.status === 'locked' ? ExitCode.lockHeld : ExitCode.ok;
  }

  protected override toSuccessJson(result: PlanPreview): unknown {
    return result;
  }

  /** Refused or locked: the plan is still shown, then the error and its hint. */
  protected override renderFailed(r: PlanPreview): string {
    return this.renderHuman(r);
  }

  protected renderHuman(r: PlanPreview): string {
    // Open: the time left; closed: when the next window opens (never "closed, closed").
    const left =
      r.window.remainingSeconds !== null
        ? `${formatDuration(r.window.remainingSeconds * 1000)} left`
        : r.window.next[0]
          ? `next ${r.window.next[0].startLocal}`
          : 'no upcoming window';
    const lines = [
      `${bold(r.plan)} (${r.strategy}) — window ${r.window.open ? green('open') : yellow('closed')}, ${left}; estimate ${formatDuration(r.totalEstimateMs)}`,
    ];
    lines.push(
      r.pending.length > 0
        ? `pending migrations: ${r.pending.map((p) => (p.state === 'partial' ? `${p.name} (partial: ${statementsDone(p)})` : p.name)).join(', ')}`
        : 'pending migrations: none',
    );
    for (const m of r.lint.migrations) {
      lines.push(`  ${m.file}: ${m.classification}${m.classifiedBy === 'override' ? ' (marked)' : ''}`);
      for (const f of r.lint.findings.filter((x) => x.file === m.file))
        lines.push(
          `    ${f.file}:${f.line}:${f.col} ${f.severity === 'error' ? red(f.severity) : yellow(f.severity)} ${f.rule}: ${f.message}`,
        );
    }
    if (r.operations.length > 0)
      lines.push(
        `operations: ${r.operations.map((o) => `${o.name} (${o.kind}, ${o.when}${o.pending ? ', pending' : ', done'})`).join(', ')}`,
      );
    if (r.fleet) {
      const f = r.fleet;
      lines.push(
        `fleet: ${f.pending ? `${f.serving ?? 'unknown release'} → ${f.to}` : `serves ${f.to}`} (${f.mode}, ${f.batches.length} batch${f.batches.length === 1 ? '' : 'es'}, estimate ${formatDuration(f.estimateMs)})`,
      );
      if (f.pending)
        for (const b of f.batches)
          lines.push(dim(`  batch ${b.index + 1}: ${b.members.join(', ')}  ${formatDuration(b.estimateMs)}`));
    }
    if (r.guard) {
      const refusal = [r.guard.roll, r.guard.rollback].find((v) => v && !v.allowed);
      lines.push(
        refusal
          ? red(`expand/contract guard: refused (${refusal.code}): ${refusal.message}`)
          : `expand/contract guard: allowed: ${(r.guard.rollback ?? r.guard.roll).message}`,
      );
    }
    if (r.interruptedRun)
      lines.push(
        yellow(
          r.error?.code === 'RUN_UNRESOLVED'
            ? `failed run ${r.interruptedRun.runId} reached a point of no return: an operator resolves it first (maint resolve)`
            : `${r.interruptedRun.status === 'failed' ? 'failed' : 'interrupted'} run ${r.interruptedRun.runId} (${r.interruptedRun.status}) will be resumed or rolled back first`,
        ),
      );
    for (const w of r.warnings) lines.push(yellow(`warning: ${w}`));
    lines.push('steps:');
    const width = Math.max(14, ...r.steps.map((s) => s.name.length));
    for (const s of r.steps)
      lines.push(
        `  ${s.name.padEnd(width)} ${formatDuration(s.estimateMs).padStart(6)}  ${dim(`undo ${formatDuration(s.rollbackEstimateMs)}, ${s.source}`)}`,
      );
    for (const c of r.checks) lines.push(dim(`  check "${c.name}" expects ${c.expect}`));
    const guardRefusal = [r.guard?.roll, r.guard?.rollback].find((v) => v && !v.allowed);
    if (r.error) lines.push(yellow(`would not run (${r.error.code})`));
    else if (guardRefusal) lines.push(red(`would not run (${guardRefusal.code})`));
    else
      lines.push(green(r.status === 'nothing_pending' ? 'would run: nothing is pending' : 'would run now'));
    return lines.join('\n');
  }
}
