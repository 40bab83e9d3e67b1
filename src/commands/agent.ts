import { Flags } from '@oclif/core';
import type { AgentResult } from '../agent/agent.js';
import { MaintCommand } from '../cli/base-command.js';
import { defaultPorts } from '../core/default-ports.js';
import { UsageError } from '../errors.js';
import { cliSink } from '../output/cli-sink.js';
import { parseDuration } from '../plan/duration.js';

const duration = Flags.custom<number>({
  parse: async (text) => {
    const ms = parseDuration(text);
    if (typeof ms === 'number') return ms;
    throw new UsageError(ms.error, { hint: 'Write durations like 90s, 5m or 1h.' });
  },
});

export default class Agent extends MaintCommand<AgentResult> {
  static override summary = 'The scheduler service: announce ahead, run in the window, report over HTTP.';
  static override description =
    'Every tick it reads the plans in --plans, records each operation whose window starts within window.notice as scheduled ' +
    '(maintenance_planned, banner planned; once, even across restarts and agents), runs it at the window start as `maint run` would, ' +
    'and moves it to the next window (maintenance_rescheduled) when the estimate no longer fits. It serves GET /healthz, /status, ' +
    '/metrics and / (status page). SIGTERM stops scheduling; a run in progress has --grace to finish, then is cancelled and rolled back. ' +
    'See docs/agent.md.';
  static override examples = [
    '<%= config.bin %> agent --plans ./plans',
    '<%= config.bin %> agent --plans ./plans --host 0.0.0.0 --port 9477 --tick 15m --cors https://app.example.com',
    'MAINT_AGENT_TOKEN=s3cret <%= config.bin %> agent --plans ./plans --json',
    '<%= config.bin %> agent --plans ./plans --once --json',
  ];
  static override flags = {
    plans: Flags.string({
      description: 'Folder of plan files (*.yaml); read again every tick.',
      required: true,
    }),
    host: Flags.string({ description: 'Address to listen on.', default: '127.0.0.1' }),
    port: Flags.integer({
      description: 'Port to listen on (0: any free port).',
      default: 9477,
      min: 0,
      max: 65535,
    }),
    tick: duration({
      description: 'Time between ticks (it also wakes when a window opens).',
      default: 3_600_000,
    }),
    grace: duration({
      description: 'On SIGTERM, how long a run in progress may go on before it is cancelled.',
      default: 30_000,
    }),
    once: Flags.boolean({ description: 'Run one tick over the plans and exit (no HTTP).' }),
    token: Flags.string({
      description: 'Bearer token required on every endpoint but /healthz (a secret: never printed).',
      env: 'MAINT_AGENT_TOKEN',
    }),
    cors: Flags.string({
      description: 'Origin allowed to read the endpoints from a browser (repeatable; * for any).',
      multiple: true,
      default: [],
    }),
  };

  async execute(): Promise<AgentResult> {
    const { flags } = await this.parse(Agent);
    const { runAgent } = await import('../agent/agent.js');
    const sink = cliSink({ json: this.jsonEnabled(), logger: this.logger });
    return runAgent(
      {
        dir: flags.plans,
        host: flags.host,
        port: flags.port,
        tickMs: flags.tick,
        graceMs: flags.grace,
        once: flags.once,
        cors: flags.cors,
        ...(flags.token ? { token: flags.token } : {}),
      },
      defaultPorts({ logger: this.logger }),
      sink,
      this.logger,
    );
  }

  protected override toSuccessJson(result: AgentResult): unknown {
    return result;
  }

  protected renderHuman(result: AgentResult): string {
    const lines = result.status.plans.map(
      (p) => `${p.plan} (${p.file}): ${p.error ? `error: ${p.error.message}` : p.message || p.lastAction}`,
    );
    if (result.ended === 'stopped') lines.push('stopped; nothing is running');
    return lines.join('\n');
  }

  protected override renderFailed(result: AgentResult): string {
    return this.renderHuman(result);
  }
}
