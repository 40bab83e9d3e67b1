/**
 * The error hierarchy. Every failure the user can meet is a `MaintError` with a stable `code`
 * (match on it, never on the message), an `exitCode` from the contract, a `hint` naming the
 * next thing to do (as data: see hints.ts), and the original `cause`. One place
 * (`src/cli/base-command.ts`) turns them into output; the core never prints and never exits.
 */
import { bindHint, cliAction, renderHint, type ActionRenderer, type Hint, type NextAction } from './hints.js';

/** Exit codes of the contract (docs/SPEC.md), kept in this one place. */
export const ExitCode = {
  ok: 0,
  internal: 1,
  invalidInput: 2,
  window: 3,
  lockHeld: 4,
  rolledBack: 5,
  operatorAction: 6,
  gateRefused: 7,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface MaintErrorOptions {
  /** What to do next: a sentence, or a sentence with the maint commands to run as data. */
  hint?: string | Hint;
  cause?: unknown;
  /** Extra machine-readable facts, copied into `--json` output. */
  details?: Record<string, unknown>;
}

export class MaintError extends Error {
  /** Stable, machine-matchable identifier, e.g. `PLAN_INVALID`. */
  readonly code: string;
  readonly exitCode: ExitCode;
  /** The next step as data; `hint` renders it for a terminal. */
  hintSpec: Hint | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, exitCode: ExitCode, message: string, options: MaintErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hintSpec = typeof options.hint === 'string' ? { text: options.hint, actions: {} } : options.hint;
    this.details = options.details;
  }

  /** The hint as the CLI shows it (commands as command lines). */
  get hint(): string | undefined {
    return this.hintSpec ? renderHint(this.hintSpec) : undefined;
  }

  /** The hint rendered another way (the agent: URLs or words). */
  renderHint(render: ActionRenderer = cliAction): string | undefined {
    return this.hintSpec ? renderHint(this.hintSpec, render) : undefined;
  }

  /** The maint commands the hint names, as data. */
  get next(): NextAction[] {
    return Object.values(this.hintSpec?.actions ?? {});
  }

  /** Bind the hint's actions that name no plan to `planPath` (the core knows the plan). */
  bindPlan(planPath: string): this {
    if (this.hintSpec) this.hintSpec = bindHint(this.hintSpec, planPath);
    return this;
  }

  /** User errors are the ones the user can fix; they never show a stack trace. */
  get isUserError(): boolean {
    return this.exitCode !== ExitCode.internal;
  }
}

/** One problem found in user input, with its position when the text has one. */
export interface InputIssue {
  file?: string;
  line?: number;
  col?: number;
  /** Key path inside the document, e.g. `window.start` or `notify.channels[2].type`. */
  path?: string;
  message: string;
}

export function formatIssue(issue: InputIssue): string {
  const where = issue.file
    ? issue.line !== undefined
      ? `${issue.file}:${issue.line}:${issue.col ?? 1}`
      : issue.file
    : undefined;
  const path = issue.path ? ` ${issue.path}:` : '';
  return `${where ? `${where}:` : ''}${path} ${issue.message}`.trim();
}

/** Invalid plan, flags or migration files: exit 2, nothing was touched. */
export class InputError extends MaintError {
  readonly issues: InputIssue[];
  constructor(code: string, message: string, issues: InputIssue[] = [], options: MaintErrorOptions = {}) {
    super(code, ExitCode.invalidInput, message, {
      ...options,
      details: { ...options.details, issues },
    });
    this.issues = issues;
  }
}

export class PlanError extends InputError {
  constructor(file: string, issues: InputIssue[], options: MaintErrorOptions = {}) {
    const first = issues[0];
    const summary =
      issues.length === 1 && first
        ? formatIssue(first)
        : `${file}: ${issues.length} problems\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`;
    super('PLAN_INVALID', summary, issues, {
      hint: options.hint ?? 'Fix the plan file, then check it with `maint validate ' + file + '`.',
      ...options,
    });
  }
}

export class UsageError extends InputError {
  constructor(message: string, options: MaintErrorOptions = {}) {
    super('USAGE', message, [], options);
  }
}

/** Outside the window, or not enough time left. */
export class WindowError extends MaintError {
  constructor(code: string, message: string, options: MaintErrorOptions = {}) {
    super(code, ExitCode.window, message, options);
  }
}

export class LockHeldError extends MaintError {
  constructor(message: string, options: MaintErrorOptions = {}) {
    super('LOCK_HELD', ExitCode.lockHeld, message, options);
  }
}

/** A step failed and everything was rolled back. */
export class RolledBackError extends MaintError {
  constructor(code: string, message: string, options: MaintErrorOptions = {}) {
    super(code, ExitCode.rolledBack, message, options);
  }
}

/** A step failed and rollback could not complete: a human must act. */
export class OperatorActionError extends MaintError {
  constructor(code: string, message: string, options: MaintErrorOptions = {}) {
    super(code, ExitCode.operatorAction, message, options);
  }
}

/** Could not reach or use an external system (database, fleet) before anything was changed. */
export class ConnectionError extends MaintError {
  constructor(code: string, message: string, options: MaintErrorOptions = {}) {
    // Nothing was touched, and the fix is in the user's configuration or environment.
    super(code, ExitCode.invalidInput, message, options);
  }
}

export class InternalError extends MaintError {
  constructor(message: string, options: MaintErrorOptions = {}) {
    super('INTERNAL', ExitCode.internal, message, {
      hint: options.hint ?? 'This is a bug in maint; please report it with the output of `--json`.',
      ...options,
    });
  }
}

/** Wrap anything thrown into a MaintError; unknown errors are bugs (exit 1). */
export function toMaintError(error: unknown): MaintError {
  if (error instanceof MaintError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new InternalError(message, { cause: error });
}
