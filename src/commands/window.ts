import { Flags } from '@oclif/core';
import { MaintCommand } from '../cli/base-command.js';
import { planArg } from '../cli/args.js';
import { loadPlan } from '../plan/loader.js';
import { formatDuration } from '../plan/duration.js';
import { bold, green, yellow } from '../output/style.js';
import type { WindowReport } from '../window/report.js';

export default class Window extends MaintCommand<WindowReport> {
  static override summary = 'Is the maintenance window open now? Time left and the next windows.';
  static override description =
    "Shows whether the plan's window is open, how long it has left, and the next windows in UTC and in the plan's zone. " +
    'Set MAINT_NOW to an ISO-8601 instant to ask about another moment (rehearsals, tests).';
  static override examples = [
    '<%= config.bin %> window plans/demo.yaml',
    '<%= config.bin %> window plans/demo.yaml --count 5 --json',
    'MAINT_NOW=2026-11-29T20:30:00Z <%= config.bin %> window plans/demo.yaml',
  ];
  static override args = { plan: planArg };
  static override flags = {
    count: Flags.integer({
      char: 'n',
      description: 'How many upcoming windows to list.',
      default: 3,
      min: 0,
      max: 100,
    }),
  };

  async execute(): Promise<WindowReport> {
    const { args, flags } = await this.parse(Window);
    const loaded = await loadPlan(args.plan);
    return this.core().window(loaded, flags.count);
  }

  protected override toSuccessJson(result: WindowReport): unknown {
    return result;
  }

  protected renderHuman(r: WindowReport): string {
    const lines: string[] = [];
    if (r.current) {
      lines.push(
        `${green(bold('open'))} until ${r.current.end} (${r.current.endLocal}), ${formatDuration((r.remainingSeconds ?? 0) * 1000)} left`,
      );
    } else {
      lines.push(`${yellow(bold('closed'))} now (${r.now})`);
    }
    if (r.next.length > 0) {
      lines.push('', `next windows (${r.timezone}):`);
      for (const w of r.next) lines.push(`  ${w.start} → ${w.end}   ${w.startLocal} → ${w.endLocal}`);
    }
    return lines.join('\n');
  }
}
