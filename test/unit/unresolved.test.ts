/**
 * Which failed run holds a plan (journal/unresolved.ts): a point of no return until an operator
 * resolves it, never hidden by a newer `maint migrate accept` record.
 */
import { describe, expect, it } from 'vitest';
import { MIGRATIONS_ACCEPTED, RESOLUTION } from '../../src/core/engine/state.js';
import type { RunRecord } from '../../src/core/journal/journal.js';
import { needsOperator, runToSettle } from '../../src/core/journal/unresolved.js';
import { MemoryJournal } from '../helpers/memory-journal.js';

function run(runId: string, at: string, patch: Partial<RunRecord> = {}): RunRecord {
  return {
    runId,
    plan: 'p',
    status: 'completed',
    startedAt: at,
    finishedAt: at,
    host: 'h',
    pid: 1,
    emergencyReason: null,
    recordedAt: at,
    rehearsal: false,
    windowStart: null,
    windowEnd: null,
    resumedFrom: null,
    state: null,
    error: null,
    note: null,
    notifications: null,
    ...patch,
  };
}

const ponr = {
  status: 'failed' as const,
  error: { code: 'POINT_OF_NO_RETURN', message: 'step x cannot be undone' },
};

describe('runToSettle and needsOperator', () => {
  it('a point of no return holds the plan and needs an operator, until resolved', async () => {
    const journal = new MemoryJournal();
    await journal.insertRun(run('run_1', '2026-11-29T20:00:00.000Z', ponr));
    const held = await runToSettle(journal, 'p');
    expect(held?.runId).toBe('run_1');
    expect(needsOperator(held)).toBe(true);
    await journal.updateRun('run_1', {
      state: {
        [RESOLUTION.name]: {
          reason: 'done by hand',
          at: '2026-11-29T21:00:00.000Z',
          by: { host: 'h', pid: 2 },
        },
      },
    });
    expect(await runToSettle(journal, 'p')).toBeUndefined();
    expect(needsOperator((await journal.runs('p', 1))[0])).toBe(false);
  });

  it('other failures hold the plan for `maint run` to settle, not for an operator', async () => {
    const journal = new MemoryJournal();
    await journal.insertRun(
      run('run_1', '2026-11-29T20:00:00.000Z', {
        status: 'failed',
        error: { code: 'MIGRATION_PARTIAL', message: 'm' },
      }),
    );
    const held = await runToSettle(journal, 'p');
    expect(held?.runId).toBe('run_1');
    expect(needsOperator(held)).toBe(false);
  });

  it('a newer acceptance record neither settles nor hides a failed run', async () => {
    const journal = new MemoryJournal();
    await journal.insertRun(run('run_1', '2026-11-29T20:00:00.000Z', ponr));
    await journal.insertRun(
      run('run_2', '2026-11-29T20:05:00.000Z', {
        state: {
          [MIGRATIONS_ACCEPTED.name]: { reason: 'comment', by: { host: 'h', pid: 3 }, migrations: [] },
        },
      }),
    );
    expect((await runToSettle(journal, 'p'))?.runId).toBe('run_1');
  });
});
