/**
 * The one place where results and errors become output and exit codes. Commands parse flags,
 * call one core function and return its typed result; `--json` prints that result as one object
 * on stdout, otherwise `renderHuman` does. Errors: a JSON object with `error` set, or a message
 * and a hint on stderr; never a stack trace for a user error.
 */
import { Command, Errors } from '@oclif/core';
import { ExitCode, MaintError, UsageError, toMaintError } from '../errors.js';
import { createLogger, type Logger } from '../output/logger.js';
import { redact, redactDeep } from '../output/redact.js';
import { bold, dim, red } from '../output/style.js';

export abstract class MaintCommand<T extends object = object> extends Command {
  static override enableJsonFlag = true;

  protected logger: Logger = createLogger();

  override async init(): Promise<void> {
    await super.init();
    this.logger = createLogger({ format: this.jsonEnabled() ? 'json' : 'text' });
  }

  /** Run the command and return its result; never print, never exit. */
  abstract execute(): Promise<T>;

  /** Human rendering of a successful result. */
  protected abstract renderHuman(result: T): string;

  /** The exit code for a result that is not an error (e.g. `gate` refusing). @default 0 */
  protected exitCodeFor(_result: T): number {
    return ExitCode.ok;
  }

  async run(): Promise<T> {
    const result = await this.execute();
    const code = this.exitCodeFor(result);
    if (code !== ExitCode.ok) process.exitCode = code;
    if (!this.jsonEnabled()) {
      const text = this.renderHuman(result);
      if (text) this.log(redact(text));
    }
    return result;
  }

  protected override logJson(json: unknown): void {
    process.stdout.write(JSON.stringify(redactDeep(json), null, 2) + '\n');
  }

  protected override toErrorJson(err: unknown): unknown {
    const e = toMaintError(err);
    const partial = (e.details?.result ?? {}) as Record<string, unknown>;
    const { result: _result, ...details } = e.details ?? {};
    return {
      ...partial,
      error: { code: e.code, message: e.message, hint: e.hint ?? null, ...details },
    };
  }

  override async catch(err: Error & { oclif?: { exit?: number } }): Promise<void> {
    const e = normalizeError(err);
    process.exitCode = e.exitCode;
    if (this.jsonEnabled()) {
      this.logJson(this.toErrorJson(e));
      return;
    }
    const lines = [`${red(bold('error'), colorStderr())}: ${e.message}`];
    if (e.hint) lines.push(`${dim('hint', colorStderr())}: ${e.hint}`);
    if (!e.isUserError || process.env.MAINT_DEBUG) {
      const stack = (e.cause instanceof Error ? e.cause.stack : undefined) ?? e.stack;
      if (stack && process.env.MAINT_DEBUG) lines.push(stack);
    }
    process.stderr.write(redact(lines.join('\n')) + '\n');
  }
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
