import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Emitter } from '../../src/core/events.js';
import { stepRecord } from '../../src/core/engine/engine.js';
import type { RunResult } from '../../src/core/run/run.js';
import { createRunRenderer, renderRunSummary } from '../../src/output/render-run.js';

let saved: string | undefined;
beforeEach(() => {
  saved = process.env.NO_COLOR;
  process.env.NO_COLOR = '1';
});
afterEach(() => {
  if (saved === undefined) delete process.env.NO_COLOR;
  else process.env.NO_COLOR = saved;
});

describe('run renderer (plain lines when not a TTY)', () => {
  it('prints one line per transition, with durations and details', () => {
    let out = '';
    const r = createRunRenderer({ write: (s: string) => (out += s), isTTY: false });
    // The renderer is a sink of the core's coded events, fed here as the engine emits them.
    const events = new Emitter('demo', r, () => new Date(0));
    const step = (status: Parameters<typeof stepRecord>[3], extra = {}) =>
      stepRecord('run_1', 0, 'migrate', status, extra);
    events.tell('step.running', { step: step('running'), estimateMs: 2000 }, { message: 'migrate' });
    events.tell(
      'migration.migrated',
      { type: 'migrated', name: '001_a', durationMs: 3 },
      { message: 'migrated 001_a (3ms)' },
    );
    events.tell('step.failed', { step: step('failed', { durationMs: 1500 }) }, { message: 'syntax error' });
    events.tell(
      'step.rolled_back',
      { step: step('rolled_back', { durationMs: 1500, rollbackMs: 20 }) },
      { message: 'reverted 001_a' },
    );
    events.tell('run.clock_skew', { skewMs: 8000 }, { message: 'clock skew' });
    // Events the renderer does not show are left to the host's log (it says so).
    expect(r.shows(events.event('lock.held', { holder: null }) as never)).toBe(false);
    r.stop();
    expect(out).toBe(
      [
        '… migrate (estimate 2s)',
        '  migrated 001_a (3ms)',
        '✗ migrate 2s  syntax error',
        '↺ migrate rolled back 20ms',
        '! clock skew',
        '',
      ].join('\n'),
    );
  });

  it('summarises a completed run and a run with nothing to do', () => {
    const base: RunResult = {
      plan: 'demo',
      runId: 'run_1',
      status: 'completed',
      steps: [{ name: 'migrate', status: 'done', durationMs: 1200, estimateMs: 1 }],
      notifications: [],
      error: null,
      emergency: null,
      recovered: null,
      guard: null,
      applied: ['001_a'],
      window: null,
      nextWindow: null,
    };
    expect(renderRunSummary(base)).toBe('completed demo (run_1) in 1s: applied 001_a');
    expect(
      renderRunSummary({ ...base, status: 'nothing_pending', runId: null, steps: [], applied: [] }),
    ).toBe('nothing is pending: every migration of demo is applied; nothing was changed.');
    expect(
      renderRunSummary({ ...base, recovered: { runId: 'run_0', action: 'resumed', reason: 'it died' } }),
    ).toContain('resumed run_0: it died');
  });
});
