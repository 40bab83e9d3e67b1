import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRunRenderer, renderRunSummary } from '../../src/output/render-run.js';
import type { RunResult } from '../../src/engine/run.js';

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
    r.onProgress({ type: 'step', seq: 0, name: 'migrate', status: 'running', estimateMs: 2000 });
    r.onProgress({ type: 'notice', level: 'info', message: 'migrated 001_a (3ms)' });
    r.onProgress({
      type: 'step',
      seq: 0,
      name: 'migrate',
      status: 'failed',
      durationMs: 1500,
      message: 'syntax error',
    });
    r.onProgress({ type: 'step', seq: 0, name: 'migrate', status: 'rolled_back', durationMs: 20 });
    r.onProgress({ type: 'notice', level: 'warn', message: 'clock skew' });
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
