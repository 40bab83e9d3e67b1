/**
 * `maint agent` as a host over the core: it builds the real ports, subscribes its status model
 * (and the CLI's log lines) to the core's coded events, and ticks the plans folder through the
 * core's `tick` use case. With `once`, one tick and out; otherwise it serves HTTP and ticks until
 * SIGTERM/SIGINT, then stops as scheduler.ts says.
 */
import { stat } from 'node:fs/promises';
import { createCore } from '../core/core.js';
import type { Ports } from '../core/ports.js';
import { fanOut, type EventSink } from '../core/events.js';
import type { ErrorJson } from '../core/result.js';
import { UsageError } from '../errors.js';
import type { Logger } from '../support/logger.js';
import { registerSecret } from '../support/redact.js';
import { Scheduler } from './scheduler.js';
import { AgentStatus, type AgentStatusDocument } from './status.js';

export interface AgentOptions {
  dir: string;
  host: string;
  port: number;
  tickMs: number;
  graceMs: number;
  once: boolean;
  token?: string;
  cors: string[];
}

export interface AgentResult {
  /** Where it served (null with `once`). */
  url: string | null;
  /** How it ended: one tick, or stopped by a signal. */
  ended: 'once' | 'stopped';
  status: AgentStatusDocument;
  /** With `once`: the first plan that failed (to load, or its run), so the exit code says it. */
  error: ErrorJson | null;
}

export async function runAgent(
  options: AgentOptions,
  ports: Ports,
  logSink: EventSink,
  logger: Logger,
): Promise<AgentResult> {
  const info = await stat(options.dir).catch(() => null);
  if (!info?.isDirectory())
    throw new UsageError(`--plans ${options.dir} is not a folder`, {
      hint: 'Point --plans at the folder that holds the plan files (*.yaml), e.g. --plans ./plans.',
    });
  if (options.token) registerSecret(options.token);
  const status = new AgentStatus(ports.host, () => ports.clock.now());
  const core = createCore(ports, fanOut(status.sink(), logSink));
  const scheduler = new Scheduler({
    dir: options.dir,
    tickMs: options.tickMs,
    graceMs: options.graceMs,
    core,
    clock: ports.clock,
    status,
  });
  if (options.once) {
    const results = await scheduler.tick();
    const failed =
      status.list().find((p) => p.error)?.error ?? results.find((r) => r.run?.error)?.run?.error ?? null;
    return { url: null, ended: 'once', status: status.document(), error: failed };
  }

  const { createMetrics } = await import('./metrics.js');
  const { startServer } = await import('./server.js');
  const metrics = createMetrics(
    () => status,
    () => ports.clock.now().getTime(),
    () => ports.clock.monotonicMs(),
  );
  status.metrics = metrics;
  const server = await startServer({
    host: options.host,
    port: options.port,
    ...(options.token ? { token: options.token } : {}),
    cors: options.cors,
    status,
    metrics,
  });
  logger.info(`maint agent serving ${server.url} (plans in ${options.dir})`, { url: server.url });
  let stopping: Promise<void> | null = null;
  const stop = (signal: string) => () => {
    logger.info(`${signal}: no new work is scheduled; a run in progress has the grace period to finish`);
    stopping ??= scheduler.stop(signal);
  };
  const onTerm = stop('SIGTERM');
  const onInt = stop('SIGINT');
  process.on('SIGTERM', onTerm).on('SIGINT', onInt);
  try {
    await scheduler.loop();
    await stopping;
  } finally {
    process.off('SIGTERM', onTerm).off('SIGINT', onInt);
    await server.close();
  }
  return { url: server.url, ended: 'stopped', status: status.document(), error: null };
}
