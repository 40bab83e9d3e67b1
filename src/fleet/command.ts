/**
 * The `command` provider: the plan's own `deploy`, `health` and `rollback` shell commands
 * (Kubernetes, Nomad, systemd...), run in the plan's folder with MAINT_RELEASE,
 * MAINT_DATABASE_URL (and MAINT_SERVER / MAINT_SERVER_ADDR empty: the command knows its
 * servers). `health` exits 0 once MAINT_RELEASE serves healthy (the command checks the release
 * itself); run with MAINT_RELEASE empty (by `describe`), its last line of output, if any, is
 * taken as the release serving.
 */
import { performance } from 'node:perf_hooks';
import { runCommand, type CommandResult } from '../operations/command.js';
import type { LoadedPlan } from '../plan/loader.js';
import type { CommandFleetConfig } from '../plan/schema.js';
import { FleetError, FleetHealthError } from './errors.js';
import type {
  Fleet,
  FleetOpenOptions,
  FleetState,
  RollHooks,
  RollInput,
  RollOutcome,
  RollPreview,
  RollbackInput,
} from './fleet.js';

/** A deploy or rollback may take long; the window's end (the step's signal) bounds it first. */
const DEPLOY_TIMEOUT_MS = 60 * 60_000;

export function lastLine(output: string): string | null {
  const lines = output.split('\n').map((l) => l.trim());
  return lines.filter((l) => l !== '').at(-1) ?? null;
}

export async function openCommandFleet(
  config: CommandFleetConfig,
  plan: LoadedPlan,
  options: FleetOpenOptions = {},
): Promise<Fleet> {
  return new CommandFleet(config, plan, options);
}

class CommandFleet implements Fleet {
  readonly provider = 'command' as const;
  readonly mode = 'rolling' as const;

  constructor(
    private readonly config: CommandFleetConfig,
    private readonly plan: LoadedPlan,
    private readonly options: FleetOpenOptions,
  ) {}

  private run(
    command: string,
    release: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<CommandResult> {
    return runCommand({
      command,
      cwd: this.plan.dir,
      env: {
        ...process.env,
        MAINT_RELEASE: release,
        MAINT_SERVER: '',
        MAINT_SERVER_ADDR: '',
        MAINT_DATABASE_URL: this.options.databaseUrl ?? '',
      },
      timeoutMs,
      ...(signal ? { signal } : {}),
    });
  }

  private state(release: string | null, healthy: boolean): FleetState {
    return {
      provider: 'command',
      release: healthy ? release : null,
      releases: healthy && release ? [release] : [],
      members: [
        {
          id: 'fleet',
          addr: null,
          admin: 'ready',
          health: healthy ? 'up' : 'down',
          check: null,
          sessions: null,
          release,
          inService: healthy,
        },
      ],
    };
  }

  async describe(signal?: AbortSignal): Promise<FleetState> {
    if (!this.config.health) return this.state(null, true);
    const r = await this.run(this.config.health, '', this.config.healthTimeout, signal);
    return this.state(r.exitCode === 0 ? lastLine(r.output) : null, r.exitCode === 0);
  }

  preview(state: FleetState, release: string): RollPreview {
    const estimateMs = 30_000;
    return {
      mode: 'rolling',
      from: state.release,
      to: release,
      batches: [{ index: 0, members: ['fleet'], estimateMs }],
      estimateMs,
    };
  }

  /** Poll `health` for `release` until it passes or healthTimeout ends. */
  private async waitHealthy(release: string, signal: AbortSignal): Promise<string | null> {
    if (!this.config.health) return null;
    const deadline = Date.now() + this.config.healthTimeout;
    let why = 'not run';
    for (;;) {
      const r = await this.run(this.config.health, release, Math.max(1000, deadline - Date.now()), signal);
      // The command compares MAINT_RELEASE with what serves itself; exit 0 means both hold.
      if (r.exitCode === 0) return null;
      why = `health exited ${r.exitCode ?? r.signal}: ${lastLine(r.output) ?? '(no output)'}`;
      if (Date.now() + this.config.interval >= deadline) return why;
      await new Promise((res) => setTimeout(res, this.config.interval));
      if (signal.aborted) throw signal.reason as Error;
    }
  }

  private async deploy(which: 'deploy' | 'rollback', release: string, hooks: RollHooks): Promise<void> {
    const command = which === 'rollback' ? (this.config.rollback ?? this.config.deploy) : this.config.deploy;
    const r = await this.run(command, release, DEPLOY_TIMEOUT_MS, hooks.signal);
    if (r.exitCode !== 0) {
      throw new FleetError(
        'FLEET_COMMAND_FAILED',
        `fleet.${which === 'rollback' && this.config.rollback ? 'rollback' : 'deploy'} (release ${release}) exited ${r.exitCode ?? r.signal}`,
        { output: r.output },
      );
    }
  }

  async roll(input: RollInput, hooks: RollHooks): Promise<RollOutcome> {
    const started = performance.now();
    const event = (phase: 'started' | 'healthy' | 'shifted') =>
      hooks.batch({
        index: 0,
        phase,
        members: ['fleet'],
        release: input.release,
        elapsedMs: Math.round(performance.now() - started),
      });
    await hooks.checkpoint({
      mode: 'rolling',
      from: input.previous,
      to: input.release,
      phase: 'deploying',
      data: {},
    });
    event('started');
    await this.deploy('deploy', input.release, hooks);
    const why = await this.waitHealthy(input.release, hooks.signal);
    if (why) {
      throw new FleetHealthError(
        `release ${input.release} did not become healthy within healthTimeout (${this.config.healthTimeout} ms): ${why}`,
        { release: input.release, why },
      );
    }
    event('healthy');
    event('shifted');
    await hooks.checkpoint({
      mode: 'rolling',
      from: input.previous,
      to: input.release,
      phase: 'done',
      data: {},
    });
    return { state: this.state(input.release, true) };
  }

  async rollback(input: RollbackInput, hooks: RollHooks): Promise<RollOutcome> {
    await this.deploy('rollback', input.previous, hooks);
    const why = await this.waitHealthy(input.previous, hooks.signal);
    if (why) {
      throw new FleetError(
        'FLEET_ROLLBACK_UNHEALTHY',
        `the previous release ${input.previous} is not healthy after the rollback: ${why}`,
      );
    }
    return { state: this.state(input.previous, true) };
  }

  async close(): Promise<void> {
    // Nothing stays open between commands.
  }
}
