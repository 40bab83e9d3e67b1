/**
 * The CLI's subscriber to the core's coded events. With `--json`, every event becomes one
 * pino-shaped log line on stderr (stdout carries only the result). Otherwise a renderer (the
 * run's live step list) shows what it knows, and the rest reaches stderr as log lines: warnings
 * and errors always, and a migration starting (what `maint migrate` prints while it works).
 */
import type { AnyCoreEvent, EventSink } from '../core/events.js';
import type { Logger } from '../support/logger.js';
import type { RunRenderer } from './render-run.js';

export interface CliSinkOptions {
  json: boolean;
  logger: Logger;
  renderer?: RunRenderer | null;
}

export function cliSink(options: CliSinkOptions): EventSink {
  const { logger, renderer } = options;
  return {
    emit(e: AnyCoreEvent) {
      if (options.json) {
        logger[e.level](e.message, { code: e.code, plan: e.plan, ...(e.runId ? { runId: e.runId } : {}) });
        return;
      }
      if (renderer?.shows(e)) {
        renderer.emit(e);
        return;
      }
      if (e.level === 'warn' || e.level === 'error') logger[e.level](e.message);
      else if (e.code === 'migration.migrating') logger.info(`${e.data.name} …`);
    },
  };
}
