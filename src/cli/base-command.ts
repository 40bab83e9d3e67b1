/**
 * The one place where results and errors become output and exit codes. Commands parse flags,
 * call one core function and return its typed result; `--json` prints that result as one object
 * on stdout, otherwise `renderHuman` does. Errors: a JSON object with `error` set, or a message
 * and a hint on stderr; never a stack trace for a user error.
 */
import { Command, Errors } from '@oclif/core';
import { createCore, type Core } from '../core/core.js';
import { defaultPorts } from '../core/default-ports.js';
import type { EventSink } from '../core/events.js';
import type { ErrorJson } from '../core/result.js';
import { ExitCode, MaintError, UsageError, toMaintError } from '../errors.js';
import { renderHint } from '../hints.js';
import { cliSink } from '../output/cli-sink.js';
import type { RunRenderer } from '../output/render-run.js';
import { bold, dim, red } from '../output/style.js';
import { createLogger, type Logger } from '../support/logger.js';
import { redact, redactDeep } from '../support/redact.js';

export abstract class MaintCommand<T extends object = object> extends Command {
  static override enableJsonFlag = true;

  protected logger: Logger = createLogger();

  override async init(): Promise<void> {
    await super.init();
    this.logger = createLogger({ format: this.jsonEnabled() ? 'json' : 'text' });
  }

  /** Run the command and return its result; never print, never exit. */
  abstract execute(): Promise<T>;

  /**
   * The core, with the real ports and this command's subscriber to its events (a renderer for
   * the live step list, log lines on stderr, or pino-shaped JSON lines with --json).
   */
  protected core(renderer?: RunRenderer | null, sink?: EventSink): Core {
    return createCore(
      defaultPorts({ logger: this.logger }),
      sink ?? cliSink({ json: this.jsonEnabled(), logger: this.logger, renderer: renderer ?? null }),
    );
  }

  /** Human rendering of a successful result. */
  protected abstract renderHuman(result: T): string;

  /** The exit code for a result that is not an error (e.g. `gate` refusing). @default 0 */
  protected exitCodeFor(_result: T): number {
    return ExitCode.ok;
  }

  async run(): Promise<T> {
    const result = await this.execute();
    // A use case that did not end as asked returns its result with `error` set.
    const failure = errorOf(result);
    const code = failure ? failure.exitCode : this.exitCodeFor(result);
    if (code !== ExitCode.ok) process.exitCode = code;
    if (failure) failure.hint = failure.next ? renderHint(failure.next) : (failure.hint ?? null);
    if (!this.jsonEnabled()) {
      const text = failure ? this.renderFailed(result) : this.renderHuman(result);
      if (text) this.log(redact(text));
      if (failure) this.printError(failure.message, failure.hint ?? undefined);
    }
    return result;
  }

  /** Human rendering of a result that carries an error (printed before the error itself). */
  protected renderFailed(_result: T): string {
    return '';
  }

  protected override logJson(json: unknown): void {
    process.stdout.write(JSON.stringify(redactDeep(json), null, 2) + '\n');
  }

  protected override toErrorJson(err: unknown): unknown {
    const e = toMaintError(err);
    return {
      error: {
        ...e.details,
        code: e.code,
        message: e.message,
        hint: e.hint ?? null,
        exitCode: e.exitCode,
        next: e.hintSpec ?? null,
      },
    };
  }

  override async catch(err: Error & { oclif?: { exit?: number } }): Promise<void> {
    const e = normalizeError(err);
    process.exitCode = e.exitCode;
    if (this.jsonEnabled()) {
      this.logJson(this.toErrorJson(e));
      return;
    }
    const stack = (e.cause instanceof Error ? e.cause.stack : undefined) ?? e.stack;
    this.printError(e.message, e.hint, process.env.MAINT_DEBUG ? stack : undefined);
  }

  /** An error and its hint on stderr; a stack trace only with MAINT_DEBUG. */
  private printError(message: string, hint: string | undefined, stack?: string): void {
    const lines = [`${red(bold('error'), colorStderr())}: ${message}`];
    if (hint) lines.push(`${dim('hint', colorStderr())}: ${hint}`);
    if (stack) lines.push(stack);
    process.stderr.write(redact(lines.join('\n')) + '\n');
  }
}

function errorOf(result: object): ErrorJson | null {
  const error = (result as { error?: unknown }).error;
  return error && typeof error === 'object' && typeof (error as ErrorJson).exitCode === 'number'
    ? (error as ErrorJson)
    : null;
}

function colorStderr(): boolean {
  return Boolean(process.stderr.isTTY) && !process.env.NO_COLOR;
}

/** oclif's own parse errors (unknown flag, missing arg) are usage errors: exit 2. */
function normalizeError(err: Error & { oclif?: { exit?: number } }): MaintError {
  if (err instanceof MaintError) return err;
  if (err instanceof Errors.CLIError || err.oclif?.exit !== undefined) {
    const message = err.message.replace(/\n\s*See more help with --help\s*$/, '').trim();
    return new UsageError(message, {
      hint: "See the command's --help for its flags and examples.",
      cause: err,
    });
  }
  return toMaintError(err);
}
