import { describe, expect, it } from 'vitest';
import { nextJson, windowJson } from '../../src/window/report.js';

describe('windowJson: the one shape of a window in --json output', () => {
  it('gives UTC instants, local instants in the plan zone and the elapsed length', () => {
    const w = { start: new Date('2026-11-29T20:00:00Z'), end: new Date('2026-11-30T04:00:00Z') };
    expect(windowJson(w, 'Europe/Paris')).toEqual({
      start: '2026-11-29T20:00:00.000Z',
      end: '2026-11-30T04:00:00.000Z',
      startLocal: 'Sun 29 Nov 2026 21:00 CET',
      endLocal: 'Mon 30 Nov 2026 05:00 CET',
      durationMs: 8 * 3_600_000,
    });
  });

  it('measures elapsed time across a DST change (22:00 CET → 07:00 CEST is 8 hours)', () => {
    const w = { start: new Date('2026-03-28T21:00:00Z'), end: new Date('2026-03-29T05:00:00Z') };
    expect(windowJson(w, 'Europe/Paris')).toEqual({
      start: '2026-03-28T21:00:00.000Z',
      end: '2026-03-29T05:00:00.000Z',
      startLocal: 'Sat 28 Mar 2026 22:00 CET',
      endLocal: 'Sun 29 Mar 2026 07:00 CEST',
      durationMs: 8 * 3_600_000,
    });
  });

  it('nextJson keeps the order and gives an empty list for no window', () => {
    const a = { start: new Date('2026-01-01T00:00:00Z'), end: new Date('2026-01-01T01:00:00Z') };
    const b = { start: new Date('2026-01-02T00:00:00Z'), end: new Date('2026-01-02T00:30:00Z') };
    expect(nextJson([a, b], 'UTC').map((w) => [w.start, w.durationMs])).toEqual([
      ['2026-01-01T00:00:00.000Z', 3_600_000],
      ['2026-01-02T00:00:00.000Z', 1_800_000],
    ]);
    expect(nextJson([], 'UTC')).toEqual([]);
  });
});
