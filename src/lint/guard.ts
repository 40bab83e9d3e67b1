/**
 * The expand/contract guard, as a pure function of plain values so any host (the run, the gate,
 * a fleet rollback) can call it with what it read from the plan, the fleet and the journal.
 *
 * - A run that rolls the fleet to `target` refuses pending contract migrations while any release
 *   other than `target` still serves: the old release may still use what they remove. They run
 *   in a later run, once the fleet serves `target` only.
 * - A fleet rollback to release R refuses when a contract migration was applied after R stopped
 *   serving (while a newer release served): R may use what it removed. `--force-rollback
 *   --reason` overrides; the caller journals the override it gets back.
 */
import { ExitCode, InputError, MaintError, type MaintErrorOptions } from '../errors.js';
import type { Classification } from './vocabulary.js';

/** Who asks: `maint gate` refuses with exit 7, `maint run` with exit 2 before anything starts. */
export type GuardCaller = 'gate' | 'run';

export class ExpandContractError extends MaintError {
  constructor(code: string, caller: GuardCaller, message: string, options: MaintErrorOptions = {}) {
    super(code, caller === 'gate' ? ExitCode.gateRefused : ExitCode.invalidInput, message, options);
  }
}

export interface ClassifiedMigration {
  name: string;
  classification: Classification;
}

export interface RollInput {
  caller: GuardCaller;
  /** Pending migrations of the run, in order, classified by the linter. */
  pending: readonly ClassifiedMigration[];
  /** Releases serving now (more than one during a roll); empty when nothing serves yet. */
  serving: readonly string[];
  /** The plan's `release`: what the run rolls the fleet to; null when the run rolls no fleet. */
  target: string | null;
}

export type GuardVerdict =
  | { allowed: true; code: 'ALLOWED'; message: string; override?: { reason: string; refused: string } }
  | { allowed: false; error: ExpandContractError | InputError };

export function guardRoll(input: RollInput): GuardVerdict {
  const contract = input.pending.filter((m) => m.classification === 'contract');
  const older = input.serving.filter((r) => r !== input.target);
  if (input.target === null || contract.length === 0 || older.length === 0)
    return {
      allowed: true,
      code: 'ALLOWED',
      message:
        contract.length === 0
          ? 'no contract migration is pending'
          : input.target === null
            ? 'this run rolls no fleet'
            : `the fleet serves ${input.target} only`,
    };
  const names = contract.map((m) => m.name).join(', ');
  return {
    allowed: false,
    error: new ExpandContractError(
      'CONTRACT_WHILE_OLD_RELEASE_SERVES',
      input.caller,
      `${contract.length === 1 ? 'contract migration' : 'contract migrations'} ${names} would run while ${older.join(', ')} still serve${older.length === 1 ? 's' : ''}, and the old release may still use what ${contract.length === 1 ? 'it removes' : 'they remove'}; nothing was started`,
      {
        hint: `Roll the fleet to ${input.target} with the expand migrations only (leave ${names} out of this release), then run again: once only ${input.target} serves, the contract migrations run. Mark a migration that only looks like a contract with \`-- maint:expand\`.`,
        details: { contract: contract.map((m) => m.name), serving: [...input.serving], target: input.target },
      },
    ),
  };
}

/** One release in the journal's history, oldest first. */
export interface ReleaseRecord {
  release: string;
  /** The last contract migration applied while this release served (after it became current). */
  lastContractMigration: string | null;
}

export interface RollbackInput {
  caller: GuardCaller;
  /** The release to return to. */
  to: string;
  /** Releases as they served, oldest first (a release served again appears again). */
  history: readonly ReleaseRecord[];
  /** `--force-rollback --reason …`. */
  force?: { reason: string };
}

export function guardRollback(input: RollbackInput): GuardVerdict {
  const last = input.history.map((h) => h.release).lastIndexOf(input.to);
  // Contract migrations applied after `to` was current, while a later release served.
  const after = last < 0 ? [] : input.history.slice(last + 1).filter((h) => h.lastContractMigration !== null);
  if (after.length === 0)
    return {
      allowed: true,
      code: 'ALLOWED',
      message:
        last < 0
          ? `${input.to} is not in the journal's release history`
          : `no contract migration ran after ${input.to} was current`,
    };
  const latest = after[after.length - 1]!;
  const refusal = `rolling back to ${input.to} is refused: contract migration ${latest.lastContractMigration} ran while ${latest.release} served, after ${input.to} was current, and ${input.to} may use what it removed`;
  if (input.force) {
    if (!input.force.reason.trim())
      return {
        allowed: false,
        error: new InputError('FORCE_ROLLBACK_NEEDS_REASON', '--force-rollback needs --reason "…"', [], {
          hint: 'Say why returning to the old release is safe, e.g. --reason "v1 never read orders.legacy_status"; the reason is journaled.',
        }),
      };
    return {
      allowed: true,
      code: 'ALLOWED',
      message: `forced rollback to ${input.to}: ${input.force.reason}`,
      override: { reason: input.force.reason, refused: refusal },
    };
  }
  return {
    allowed: false,
    error: new ExpandContractError('ROLLBACK_PAST_CONTRACT', input.caller, refusal, {
      hint: `Roll forward instead, or if ${input.to} does not use what ${latest.lastContractMigration} removed, pass --force-rollback --reason "…" (journaled).`,
      details: {
        to: input.to,
        contractMigration: latest.lastContractMigration,
        appliedWhile: latest.release,
      },
    }),
  };
}
