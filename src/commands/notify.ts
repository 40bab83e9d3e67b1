import { Flags } from '@oclif/core';
import { MaintCommand } from '../cli/base-command.js';
import { planArg } from '../cli/args.js';
import { EVENT_TYPES, type EventType } from '../core/maintenance-event.js';
import type { NotifyResult } from '../notify/send.js';
import { bold, dim, green, red, yellow } from '../output/style.js';
import { loadPlan } from '../plan/loader.js';

export default class Notify extends MaintCommand<NotifyResult> {
  static override summary =
    "Send one maintenance event to the plan's channels (or render it with --dry-run).";
  static override description =
    "Builds the event for the plan's current window (the next one when the window is closed) and delivers it to every channel " +
    "in notify.channels, with each channel's timeout and retries. A channel that fails is reported, not fatal: the exit code is 0. " +
    '--dry-run renders each message without sending anything.';
  static override examples = [
    '<%= config.bin %> notify plans/demo.yaml --event maintenance_planned',
    '<%= config.bin %> notify plans/demo.yaml --event maintenance_started --dry-run',
    '<%= config.bin %> notify plans/demo.yaml --event maintenance_completed --json',
  ];
  static override args = { plan: planArg };
  static override flags = {
    event: Flags.string({
      char: 'e',
      description: 'Event to send.',
      options: [...EVENT_TYPES],
      required: true,
    }),
    'dry-run': Flags.boolean({
      description: "Render every channel's message; send nothing.",
      default: false,
    }),
    summary: Flags.string({ description: 'The sentence people read (default: one per event type).' }),
    'run-id': Flags.string({ description: 'Run id the event belongs to (default: a new manual_… id).' }),
  };

  async execute(): Promise<NotifyResult> {
    const { args, flags } = await this.parse(Notify);
    const loaded = await loadPlan(args.plan);
    return this.core().notify(loaded, {
      event: flags.event as EventType,
      dryRun: flags['dry-run'],
      ...(flags.summary ? { summary: flags.summary } : {}),
      ...(flags['run-id'] ? { runId: flags['run-id'] } : {}),
      // Human output lists every outcome already; with --json, stderr carries them as log records.
      ...(this.jsonEnabled() ? { logger: this.logger } : {}),
    });
  }

  protected renderHuman(r: NotifyResult): string {
    const head = `${bold(r.event.type)} ${r.plan} ${dim(`(${r.event.window.startLocal} → ${r.event.window.endLocal}, event ${r.event.id})`)}`;
    if (r.dryRun) {
      const blocks = r.rendered.map((m) =>
        [
          `── ${bold(m.channel)} ${dim(m.target)}`,
          ...(m.subject ? [`subject: ${m.subject}`] : []),
          m.text.trimEnd(),
          ...(m.html ? [dim(`(+ HTML body, ${m.html.length} characters)`)] : []),
        ].join('\n'),
      );
      return [
        head,
        dim('dry run: nothing was sent'),
        ...(blocks.length ? blocks : ['no channels in notify.channels']),
      ].join('\n\n');
    }
    const lines = r.outcomes.map((o) => {
      if (o.skipped === 'not-subscribed')
        return `${dim('-')} ${o.channel} ${dim('not subscribed to this event')}`;
      const mark = o.ok ? green('✓') : red('✗');
      const status = o.status !== undefined ? ` ${o.status}` : '';
      const detail = o.ok
        ? dim(`${o.attempts} attempt(s), ${o.durationMs} ms${status}`)
        : yellow(`${o.error ?? 'failed'} (${o.attempts} attempt(s), ${o.durationMs} ms${status})`);
      return `${mark} ${o.channel} ${detail}`;
    });
    return [head, ...(lines.length ? lines : ['no channels in notify.channels'])].join('\n');
  }
}
