import { evaluateCheck, readCheck } from '../../core/engine/checks.js';
import type { Step, StepContext, StepDetail } from '../../core/engine/step.js';
import { RolledBackError } from '../../errors.js';
import { act, hint as hintOf, type Hint } from '../../hints.js';
import { runCommand } from '../../operations/command.js';
import { operationChecksum, operationStepName } from '../../operations/pending.js';
import { runSql, SqlOperationError } from '../../operations/sql.js';
import { formatDuration } from '../../plan/duration.js';
import type { LoadedPlan } from '../../plan/loader.js';
import type { CommandOperationConfig, SqlOperationConfig } from '../../plan/schema-operations.js';

/** Without an `estimate` (and before the journal knows better). */
const DEFAULT_ESTIMATE_MS = 5000;

/** An operation failed; `stepDetail` (a command's redacted output) is journaled with the failure. */
export class OperationError extends RolledBackError {
  constructor(
    code: string,
    message: string,
    readonly stepDetail: StepDetail,
    options: { cause?: unknown; hint?: Hint } = {},
  ) {
    super(code, message, options);
  }
}

/**
 * A plan operation as a step named `operation:<name>`: `run`, then `verify` when the operation
 * has one. Without `rollback` the step has no rollback method: it is a point of no return.
 */
export function operationStep(op: SqlOperationConfig | CommandOperationConfig, loaded: LoadedPlan): Step {
  const checksum = operationChecksum(op);
  const estimate = op.estimate ?? DEFAULT_ESTIMATE_MS;
  const hint = hintOf(
    `Fix the operation "${op.name}" (or what it acts on), then run {run} again; {status} shows the journal.`,
    {
      run: act('run', loaded.path),
      status: act('status', loaded.path),
    },
  );
  // What this process saw: whether a failed run left nothing to undo, the verify's before-value.
  let nothingToUndo = false;
  let before: string | null = null;
  let ran: StepDetail = {};

  const execute = async (text: string, ctx: StepContext, what: 'run' | 'rollback'): Promise<StepDetail> => {
    if (op.kind === 'sql') {
      const r = await runSql(ctx.db, { sql: text, transaction: op.transaction, signal: ctx.signal });
      const s = r.statements === 1 ? '' : 's';
      return {
        summary: `${r.statements} statement${s}${op.transaction ? ' in one transaction' : ''}`,
        statements: r.statements,
      };
    }
    return command(op, text, ctx, loaded, what, hint);
  };

  const step: Step = {
    name: operationStepName(op),
    defaultEstimateMs: estimate,
    defaultRollbackMs: estimate,
    async run(ctx) {
      // Until the operation itself starts, nothing is changed (reading the verify's value first).
      nothingToUndo = true;
      if (op.verify?.expect === 'unchanged') {
        before = await readCheck(ctx.db, { name: op.name, ...op.verify }, ctx.signal);
      }
      nothingToUndo = false;
      const base = { kind: op.kind, checksum };
      try {
        ran = { ...(await execute(op.run, ctx, 'run')), ...base };
      } catch (error) {
        if (error instanceof SqlOperationError) {
          nothingToUndo = error.nothingCommitted;
          throw new OperationError(
            'OPERATION_FAILED',
            `operation "${op.name}" failed: ${error.message}`,
            base,
            {
              cause: error.cause,
              hint,
            },
          );
        }
        if (error instanceof OperationError) Object.assign(error.stepDetail, base);
        throw error;
      }
      return ran;
    },
  };
  if (op.verify) {
    const verify = op.verify;
    step.verify = async (ctx) => {
      const actual = await readCheck(ctx.db, { name: op.name, ...verify }, ctx.signal);
      const { ok, expected } = evaluateCheck(verify.expect, actual, before);
      if (!ok)
        throw new OperationError(
          'OPERATION_VERIFY_FAILED',
          `operation "${op.name}" failed its verify: expected ${expected}, got ${actual ?? 'null'}`,
          { ...ran, verify: { sql: verify.sql, expected, actual } },
          { hint },
        );
    };
  }
  if (op.rollback) {
    const rollback = op.rollback;
    step.rollback = async (ctx) => {
      if (nothingToUndo)
        return { rollback: { summary: 'nothing to undo: the operation changed nothing before it failed' } };
      try {
        return { rollback: await execute(rollback, ctx, 'rollback') };
      } catch (error) {
        if (error instanceof OperationError)
          throw new OperationError(
            error.code,
            error.message,
            { rollback: error.stepDetail },
            { cause: error },
          );
        if (error instanceof SqlOperationError)
          throw new OperationError(
            'OPERATION_FAILED',
            `the rollback of operation "${op.name}" failed: ${error.message}`,
            {
              rollback: { summary: 'failed' },
            },
          );
        throw error;
      }
    };
  }
  return step;
}

async function command(
  op: CommandOperationConfig,
  text: string,
  ctx: StepContext,
  loaded: LoadedPlan,
  what: 'run' | 'rollback',
  hint: Hint,
): Promise<StepDetail> {
  const r = await runCommand({
    command: text,
    cwd: loaded.dir,
    // maint's own facts win over the operation's env, which wins over the inherited environment.
    env: {
      ...process.env,
      ...op.env,
      MAINT_PLAN: loaded.plan.name,
      MAINT_RUN_ID: ctx.runId,
      MAINT_DATABASE_URL: loaded.plan.database.url,
      // Plans name no release yet (the fleet issue adds `release`).
      MAINT_RELEASE: '',
    },
    timeoutMs: op.timeout,
    signal: ctx.signal,
  });
  const detail: StepDetail = {
    summary: `exit ${r.exitCode ?? r.signal} in ${formatDuration(r.durationMs)}`,
    exitCode: r.exitCode,
    ...(r.signal ? { signal: r.signal } : {}),
    durationMs: r.durationMs,
    output: r.output,
    ...(r.truncatedBytes > 0 ? { outputTruncatedBytes: r.truncatedBytes } : {}),
  };
  if (r.exitCode === 0 && !r.timedOut && !r.aborted) return detail;
  // Never `"name": …`: redaction reads `"db-password": value` as a secret assignment.
  const subject = `${what === 'rollback' ? 'the rollback of ' : ''}operation "${op.name}" failed`;
  const message = r.timedOut
    ? `${subject}: the command did not finish within ${formatDuration(op.timeout)}; it was killed with every process it started`
    : r.aborted
      ? `${subject}: the command was stopped`
      : `${subject}: the command ${r.exitCode === null ? `was ended by ${r.signal}` : `exited with code ${r.exitCode}`}`;
  const last = lastLines(r.output);
  throw new OperationError(
    r.timedOut ? 'OPERATION_TIMEOUT' : 'OPERATION_FAILED',
    `${message}${last ? `; last output: ${last}` : ''}`,
    { ...detail, summary: message },
    { hint },
  );
}

/** The end of a command's output for a one-line message: its last 3 non-empty lines. */
function lastLines(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('[… '));
  const text = lines.slice(-3).join(' | ');
  return text.length > 300 ? `…${text.slice(-300)}` : text;
}
