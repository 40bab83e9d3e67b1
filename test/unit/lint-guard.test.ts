/** The expand/contract guard: a pure function of the pending migrations, the fleet and the journal. */
import { describe, expect, it } from 'vitest';
import { ExitCode, InputError } from '../../src/errors.js';
import { ExpandContractError, guardRoll, guardRollback, type ReleaseRecord } from '../../src/lint/guard.js';

const expand = { name: '004_add_state', classification: 'expand' as const };
const dropColumn = { name: '005_drop_status', classification: 'contract' as const };

describe('guardRoll', () => {
  it('refuses a contract migration while the old release serves: exit 7 from gate, 2 from run', () => {
    for (const [caller, exitCode] of [
      ['gate', ExitCode.gateRefused],
      ['run', ExitCode.invalidInput],
    ] as const) {
      const v = guardRoll({ caller, pending: [expand, dropColumn], serving: ['v1'], target: 'v2' });
      expect(v.allowed).toBe(false);
      if (v.allowed) continue;
      expect(v.error).toBeInstanceOf(ExpandContractError);
      expect(v.error.code).toBe('CONTRACT_WHILE_OLD_RELEASE_SERVES');
      expect(v.error.exitCode).toBe(exitCode);
      expect(v.error.message).toBe(
        'contract migration 005_drop_status would run while v1 still serves, and the old release may still use what it removes; nothing was started',
      );
      expect(v.error.hint).toContain('Roll the fleet to v2 with the expand migrations only');
      expect(v.error.details).toEqual({ contract: ['005_drop_status'], serving: ['v1'], target: 'v2' });
    }
  });

  it('refuses mid-roll, while both releases serve', () => {
    const v = guardRoll({ caller: 'gate', pending: [dropColumn], serving: ['v1', 'v2'], target: 'v2' });
    expect(v.allowed).toBe(false);
    if (!v.allowed) expect(v.error.message).toContain('while v1 still serves');
  });

  it('allows the same migration in a later run once the fleet serves the target only', () => {
    const v = guardRoll({ caller: 'run', pending: [dropColumn], serving: ['v2'], target: 'v2' });
    expect(v).toEqual({ allowed: true, code: 'ALLOWED', message: 'the fleet serves v2 only' });
  });

  it('allows expand-only runs, runs that roll no fleet, and a first deploy', () => {
    expect(guardRoll({ caller: 'run', pending: [expand], serving: ['v1'], target: 'v2' }).allowed).toBe(true);
    expect(guardRoll({ caller: 'run', pending: [dropColumn], serving: ['v1'], target: null }).allowed).toBe(
      true,
    );
    expect(guardRoll({ caller: 'run', pending: [dropColumn], serving: [], target: 'v1' }).allowed).toBe(true);
  });
});

describe('guardRollback', () => {
  const history: ReleaseRecord[] = [
    { release: 'v1', lastContractMigration: '002_drop_old_table' },
    { release: 'v2', lastContractMigration: '005_drop_status' },
    { release: 'v3', lastContractMigration: null },
  ];

  it('refuses to return to a release older than a contract migration applied after it was current', () => {
    const v = guardRollback({ caller: 'run', to: 'v1', history });
    expect(v.allowed).toBe(false);
    if (v.allowed) return;
    expect(v.error.code).toBe('ROLLBACK_PAST_CONTRACT');
    expect(v.error.exitCode).toBe(ExitCode.invalidInput);
    expect(v.error.message).toBe(
      'rolling back to v1 is refused: contract migration 005_drop_status ran while v2 served, after v1 was current, and v1 may use what it removed',
    );
    expect(v.error.details).toEqual({ to: 'v1', contractMigration: '005_drop_status', appliedWhile: 'v2' });
    expect(guardRollback({ caller: 'gate', to: 'v1', history }).allowed).toBe(false);
  });

  it('allows returning to a release no contract migration ran after (its own contract ran while it served)', () => {
    expect(guardRollback({ caller: 'run', to: 'v2', history })).toEqual({
      allowed: true,
      code: 'ALLOWED',
      message: 'no contract migration ran after v2 was current',
    });
  });

  it('uses the latest time a release served', () => {
    const again: ReleaseRecord[] = [
      ...history,
      { release: 'v1', lastContractMigration: null },
      { release: 'v4', lastContractMigration: null },
    ];
    expect(guardRollback({ caller: 'run', to: 'v1', history: again }).allowed).toBe(true);
  });

  it('--force-rollback --reason overrides and returns what to journal; no reason is an input error', () => {
    const v = guardRollback({
      caller: 'run',
      to: 'v1',
      history,
      force: { reason: 'v1 never read orders.status' },
    });
    expect(v).toEqual({
      allowed: true,
      code: 'ALLOWED',
      message: 'forced rollback to v1: v1 never read orders.status',
      override: {
        reason: 'v1 never read orders.status',
        refused:
          'rolling back to v1 is refused: contract migration 005_drop_status ran while v2 served, after v1 was current, and v1 may use what it removed',
      },
    });
    const blank = guardRollback({ caller: 'run', to: 'v1', history, force: { reason: '  ' } });
    expect(blank.allowed).toBe(false);
    if (!blank.allowed) {
      expect(blank.error).toBeInstanceOf(InputError);
      expect(blank.error.code).toBe('FORCE_ROLLBACK_NEEDS_REASON');
    }
  });
});

describe('acceptance 3: the linter classifies, the guard decides', () => {
  it('rolling v1 → v2 with a DROP COLUMN pending is refused; with the fleet on v2 it passes; back to v1 after is refused', async () => {
    const { lintFile } = await import('../../src/lint/lint-file.js');
    const files = {
      '004_add_state.sql': "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN state text;\n",
      '005_drop_status.sql': "SET lock_timeout = '2s';\nALTER TABLE orders DROP COLUMN status;\n",
    };
    const pending = await Promise.all(
      Object.entries(files).map(async ([file, text]) => ({
        name: file.replace(/\.sql$/, ''),
        classification: (await lintFile({ file, text, dialect: 'postgres', transactional: true }))
          .classification,
      })),
    );
    expect(pending.map((p) => p.classification)).toEqual(['expand', 'contract']);

    const roll = guardRoll({ caller: 'run', pending, serving: ['v1'], target: 'v2' });
    expect(roll.allowed).toBe(false);
    if (!roll.allowed) expect(roll.error.exitCode).toBe(ExitCode.invalidInput);

    // The expand migration ran with the roll; the contract one waits for a run with v2 alone serving.
    const later = guardRoll({ caller: 'run', pending: pending.slice(1), serving: ['v2'], target: 'v2' });
    expect(later.allowed).toBe(true);

    const history: ReleaseRecord[] = [
      { release: 'v1', lastContractMigration: null },
      { release: 'v2', lastContractMigration: '005_drop_status' },
    ];
    const back = guardRollback({ caller: 'run', to: 'v1', history });
    expect(back.allowed).toBe(false);
    if (!back.allowed) expect(back.error.code).toBe('ROLLBACK_PAST_CONTRACT');
  });
});
