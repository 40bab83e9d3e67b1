import { Flags } from '@oclif/core';
import { MaintCommand } from '../cli/base-command.js';
import { planArg } from '../cli/args.js';
import type { RunWithSteps, StatusReport } from '../core/inspect/status.js';
import { resolutionOf } from '../core/engine/state.js';
import { formatDuration } from '../plan/duration.js';
import { loadPlan } from '../plan/loader.js';
import { bold, dim, yellow } from '../output/style.js';

export default class Status extends MaintCommand<StatusReport> {
  static override summary = 'The journal: current and last runs, their steps, and the lock holder.';
  static override description =
    "Reads the run journal in the plan's database (maint_runs, maint_run_steps) and the lock; changes nothing.";
  static override examples = [
    '<%= config.bin %> status plans/demo.yaml',
    '<%= config.bin %> status plans/postgres.yaml --limit 20 --json',
  ];
  static override args = { plan: planArg };
  static override flags = {
    limit: Flags.integer({
      description: 'How many recent runs to list (human and --json output).',
      default: 10,
      min: 1,
      max: 1000,
    }),
  };

  private limit = 10;

  async execute(): Promise<StatusReport> {
    const { args, flags } = await this.parse(Status);
    this.limit = flags.limit;
    return this.core().status(await loadPlan(args.plan), { limit: flags.limit });
  }

  protected override toSuccessJson(result: StatusReport): unknown {
    return result;
  }

  protected renderHuman(r: StatusReport): string {
    const lines = [bold(r.plan)];
    lines.push(
      r.lock
        ? `lock: held by ${r.lock.host} pid ${r.lock.pid} (${r.lock.purpose}) since ${r.lock.since}`
        : 'lock: free',
    );
    lines.push(
      r.pending.length > 0 ? `pending migrations: ${r.pending.join(', ')}` : 'pending migrations: none',
    );
    for (const w of r.warnings) lines.push(yellow(`warning: ${w}`));
    if (r.release) lines.push(`release served: ${r.release} (as journaled by the last roll)`);
    const rehearsed = (run: { rehearsal?: boolean; recordedAt?: string | null }) =>
      run.rehearsal ? ` (rehearsal under MAINT_NOW, run at ${run.recordedAt ?? 'an unknown time'})` : '';
    const show = (title: string, run: RunWithSteps) => {
      lines.push(
        '',
        `${title}: ${run.runId} ${bold(run.status)} started ${run.startedAt}${run.finishedAt ? `, finished ${run.finishedAt}` : ''}${rehearsed(run)}`,
      );
      if (run.emergencyReason) lines.push(yellow(`  emergency: ${run.emergencyReason}`));
      const resolved = resolutionOf(run);
      if (resolved)
        lines.push(
          yellow(
            `  resolved by hand at ${resolved.at} by ${resolved.by.host} pid ${resolved.by.pid}: ${resolved.reason}`,
          ),
        );
      if (run.note) lines.push(dim(`  ${run.note}`));
      for (const s of run.steps)
        lines.push(
          `  ${s.name.padEnd(14)} ${s.status.padEnd(15)} ${s.durationMs !== null ? formatDuration(s.durationMs) : ''}`,
        );
    };
    if (r.current) show(r.current.live ? 'in progress' : 'interrupted', r.current);
    if (r.last) show('last run', r.last);
    if (r.runs.length === 0) lines.push('no runs yet');
    else {
      lines.push('', `recent runs (newest first, up to ${this.limit}):`);
      for (const run of r.runs)
        lines.push(
          `  ${run.runId}  ${run.status.padEnd(15)} ${run.startedAt}${run.emergencyReason ? yellow(' emergency') : ''}${rehearsed(run)}${run.resolution ? yellow(' resolved') : ''}${run.kind === 'accept' && run.note ? dim(`  ${run.note}`) : ''}`,
        );
    }
    return lines.join('\n');
  }
}
