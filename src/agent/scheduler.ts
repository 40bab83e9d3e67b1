/**
 * The agent's loop: every tick it reads the plans folder again, loads each plan (a plan that
 * fails to load is shown with its positioned error; the others go on) and calls the core's
 * `tick` for each, one plan after the other. It wakes at the next tick or at the next window's
 * start, whichever comes first, so a run starts when its window opens. Stopping ends the loop;
 * a run in progress gets the grace period, then is cancelled and rolls back.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Core } from '../core/core.js';
import type { Clock } from '../core/clock.js';
import { errorJson } from '../core/result.js';
import type { TickResult } from '../core/schedule/tick.js';
import { MaintError, ExitCode, toMaintError } from '../errors.js';
import { loadPlan } from '../plan/loader.js';
import type { AgentStatus } from './status.js';

export interface SchedulerOptions {
  /** The plans folder: every `*.yaml` / `*.yml` in it is a plan. */
  dir: string;
  /** Time between ticks, ms. @default 3_600_000 */
  tickMs: number;
  /** How long a run in progress may go on after stop() before it is cancelled, ms. */
  graceMs: number;
  core: Core;
  clock: Clock;
  status: AgentStatus;
  /** For `lock held` metrics: called with whether this agent runs a plan now. */
  onTick?: (results: TickResult[]) => void;
}

export class Scheduler {
  private stopped = false;
  private readonly cancel = new AbortController();
  private wake: (() => void) | null = null;
  private current: Promise<TickResult[]> | null = null;

  constructor(private readonly options: SchedulerOptions) {}

  /** One tick over every plan of the folder. */
  async tick(): Promise<TickResult[]> {
    const run = this.tickAll();
    this.current = run;
    try {
      return await run;
    } finally {
      this.current = null;
    }
  }

  private async tickAll(): Promise<TickResult[]> {
    const { status, core, dir } = this.options;
    const files = await planFiles(dir);
    status.retain(files);
    const results: TickResult[] = [];
    for (const file of files) {
      if (this.stopped) break;
      let loaded;
      try {
        loaded = await loadPlan(path.join(dir, file));
      } catch (error) {
        status.failed(file, errorJson(toMaintError(error)));
        continue;
      }
      // The window is known before the tick ends (a run may take the whole tick).
      const w = await core.window(loaded, 1);
      status.ticking(file, loaded.plan.name, {
        open: w.open,
        remainingSeconds: w.remainingSeconds,
        current: w.current,
        next: w.next,
      });
      try {
        const result = await core.tick(loaded, { signal: this.cancel.signal });
        status.ticked(file, result);
        results.push(result);
      } catch (error) {
        status.failed(file, errorJson(toMaintError(error).bindPlan(loaded.path)));
      }
    }
    status.ticks++;
    status.lastTickAt = this.options.clock.now().toISOString();
    status.lastTickMono = this.options.clock.monotonicMs();
    this.options.onTick?.(results);
    return results;
  }

  /** Tick until stop(); resolves when the loop has ended. */
  async loop(): Promise<void> {
    while (!this.stopped) {
      await this.tick();
      if (this.stopped) break;
      await this.sleep(this.nextDelayMs());
    }
  }

  /** The next tick, or just after the earliest next window starts, whichever is sooner. */
  private nextDelayMs(): number {
    const now = this.options.clock.now().getTime();
    let delay = this.options.tickMs;
    for (const p of this.options.status.list()) {
      const start = p.window?.next[0]?.start;
      if (!start) continue;
      const until = Date.parse(start) - now;
      if (until >= 0) delay = Math.min(delay, until + 1000);
    }
    return Math.max(100, delay);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }

  /**
   * Stop scheduling. A tick in progress may finish within `graceMs`; after that its run is
   * cancelled (the current step is cancelled where it can be, and everything is rolled back).
   * Resolves when nothing runs any more.
   */
  async stop(signal: string): Promise<void> {
    this.stopped = true;
    this.options.status.stopping = true;
    this.wake?.();
    const running = this.current;
    if (!running) return;
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace'>((resolve) => {
      timer = setTimeout(() => resolve('grace'), this.options.graceMs);
    });
    const first = await Promise.race([running.then(() => 'done' as const), graceOver]);
    clearTimeout(timer);
    if (first === 'grace') {
      this.cancel.abort(
        new MaintError(
          'INTERRUPTED',
          ExitCode.rolledBack,
          `the agent was stopped by ${signal}; the grace period of ${this.options.graceMs} ms ran out`,
        ),
      );
      await running.catch(() => undefined);
    }
  }
}

/** The plan files of the folder, sorted (a hidden file or a folder is not a plan). */
export async function planFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith('.') && /\.ya?ml$/i.test(e.name))
    .map((e) => e.name)
    .sort();
}
