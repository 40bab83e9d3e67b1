import { redact, redactDeep } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** pino's level numbers, so log shippers read `--json` stderr lines as they read pino's. */
const ORDER: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50 };

/** Logs go to stderr, always redacted; stdout belongs to results. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface LoggerOptions {
  /** `json`: one JSON object per line (pino's shape); `text`: plain lines. @default 'text' */
  format?: 'json' | 'text';
  /** @default process.env.MAINT_LOG_LEVEL ?? 'info' */
  level?: LogLevel;
  /** @default process.stderr */
  stream?: { write(chunk: string): unknown };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? parseLevel(process.env.MAINT_LOG_LEVEL) ?? 'info';
  const stream = options.stream ?? process.stderr;
  const format = options.format ?? 'text';
  const emit = (lvl: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (ORDER[lvl] < ORDER[level]) return;
    if (format === 'json') {
      // The same shape pino writes (level numbers, time, msg), without loading pino at start-up.
      const record = { level: ORDER[lvl], time: Date.now(), msg: message, ...fields };
      stream.write(JSON.stringify(redactDeep(record)) + '\n');
    } else {
      const extra = fields && Object.keys(fields).length > 0 ? ' ' + JSON.stringify(redactDeep(fields)) : '';
      const tag = lvl === 'info' ? '' : `${lvl}: `;
      stream.write(redact(`${tag}${message}${extra}`) + '\n');
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

function parseLevel(value: string | undefined): LogLevel | undefined {
  return value && value in ORDER ? (value as LogLevel) : undefined;
}

/** A logger that keeps records in memory, for tests. */
export function createMemoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({
    format: 'text',
    level: 'debug',
    stream: { write: (c: string) => lines.push(c.trimEnd()) },
  });
  return Object.assign(logger, { lines });
}
