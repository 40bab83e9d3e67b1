import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WindowSpec } from '../../src/plan/schema.js';
import { currentWindow, nextWindows, resolveLocalTime, windowStatus } from '../../src/window/window.js';
import {
  ORACLE_DAY_NAMES,
  offsetAt,
  oracleStart,
  oracleStatus,
  transitions,
  wallClock,
} from '../helpers/window-oracle.js';

const ZONES = [
  'Europe/Paris',
  'America/New_York',
  'Australia/Sydney',
  'Asia/Kolkata',
  'Pacific/Chatham',
  'UTC',
] as const;
const HOUR = 3_600_000;
/** The oracle is slow by design (hundreds of Intl calls per window) and the CI box is shared. */
const PROPERTY_TIMEOUT = 60_000;
const DAY = 86_400_000;
const FROM = Date.UTC(2025, 0, 1);
const TO = Date.UTC(2028, 0, 1);

/** Every DST change in the test range, per zone, found by the oracle (so `now` can crowd them). */
const zoneTransitions = new Map(ZONES.map((z) => [z, transitions(z, FROM, TO)]));

function minimalGapDays(days: readonly string[]): number {
  if (days.includes('daily')) return 1;
  const idx = [...new Set(days.map((d) => ORACLE_DAY_NAMES.indexOf(d as never)))].sort((a, b) => a - b);
  if (idx.length === 1) return 7;
  let gap = 7;
  for (let i = 0; i < idx.length; i++)
    gap = Math.min(gap, (i + 1 < idx.length ? idx[i + 1]! : idx[0]! + 7) - idx[i]!);
  return gap;
}

const hhmm = fc
  .oneof(
    fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })),
    // Times that fall in or next to DST gaps and overlaps in the zones above.
    fc.constantFrom<[number, number]>(
      [2, 0],
      [2, 30],
      [2, 45],
      [3, 0],
      [3, 30],
      [3, 45],
      [1, 30],
      [0, 0],
      [23, 59],
    ),
  )
  .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);

const daysArb = fc.oneof(fc.constant(['daily']), fc.subarray([...ORACLE_DAY_NAMES], { minLength: 1 }));

const specArb: fc.Arbitrary<WindowSpec> = fc
  .record({
    timezone: fc.constantFrom(...ZONES),
    days: daysArb,
    start: hhmm,
    fraction: fc.double({ min: 0.001, max: 1, noNaN: true }),
  })
  .map(({ timezone, days, start, fraction }) => {
    // As long as the schema allows: up to the gap between two starts, so windows never overlap.
    const duration = Math.max(60_000, Math.floor((fraction * minimalGapDays(days) * DAY) / 60_000) * 60_000);
    return { timezone, days: days as WindowSpec['days'], start, duration, notice: DAY };
  });

/** `now` anywhere in the range, or within three days of one of the zone's DST changes. */
function nowArb(spec: WindowSpec): fc.Arbitrary<number> {
  const near = zoneTransitions.get(spec.timezone as (typeof ZONES)[number]) ?? [];
  const uniform = fc.integer({ min: FROM + 7 * DAY, max: TO - 30 * DAY });
  if (near.length === 0) return uniform;
  return fc.oneof(
    uniform,
    fc.tuple(fc.constantFrom(...near), fc.integer({ min: -3 * DAY, max: 3 * DAY })).map(([t, d]) => t + d),
  );
}

const caseArb = specArb.chain((spec) =>
  fc.tuple(fc.constant(spec), nowArb(spec), fc.integer({ min: 1, max: 6 })),
);

const plain = (w: { start: Date; end: Date } | null) =>
  w ? { start: w.start.getTime(), end: w.end.getTime() } : null;

describe('window math agrees with the Intl-based oracle', () => {
  it('found DST transitions to crowd (the oracle works)', () => {
    expect(zoneTransitions.get('Europe/Paris')!.length).toBe(6);
    expect(zoneTransitions.get('Asia/Kolkata')!.length).toBe(0);
    expect(zoneTransitions.get('Pacific/Chatham')!.length).toBe(6);
  });

  it(
    'current window: the same as the oracle, contains now iff open',
    () => {
      fc.assert(
        fc.property(caseArb, ([spec, now, count]) => {
          const status = windowStatus(spec, new Date(now), count);
          const oracle = oracleStatus(spec, now, count);
          expect(plain(status.current)).toEqual(oracle.current);
          expect(status.open).toBe(status.current !== null);
          if (status.current) {
            expect(status.current.start.getTime()).toBeLessThanOrEqual(now);
            expect(now).toBeLessThan(status.current.end.getTime());
            expect(status.current.end.getTime() - status.current.start.getTime()).toBe(spec.duration);
          }
        }),
        { numRuns: 300 },
      );
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'remainingSeconds: whole seconds to the end while open, null when closed',
    () => {
      fc.assert(
        fc.property(caseArb, ([spec, now]) => {
          const status = windowStatus(spec, new Date(now), 1);
          if (!status.current) {
            expect(status.remainingSeconds).toBeNull();
            return;
          }
          const exact = (status.current.end.getTime() - now) / 1000;
          expect(status.remainingSeconds).toBe(Math.floor(exact));
          expect(status.remainingSeconds).toBeGreaterThanOrEqual(0);
          expect(status.remainingSeconds! * 1000).toBeLessThanOrEqual(spec.duration);
        }),
        { numRuns: 200 },
      );
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'next windows: strictly after now, increasing, on allowed local days, starts as the oracle says',
    () => {
      fc.assert(
        fc.property(caseArb, ([spec, now, count]) => {
          const next = nextWindows(spec, new Date(now), count);
          const oracle = oracleStatus(spec, now, count).next;
          expect(next.map(plain)).toEqual(oracle);
          expect(next).toHaveLength(count);
          let previous = now;
          for (const w of next) {
            expect(w.start.getTime()).toBeGreaterThan(previous);
            previous = w.start.getTime();
            expect(w.end.getTime() - w.start.getTime()).toBe(spec.duration);
            // A shifted start (gap) still falls on the intended local date: gaps are an hour or less.
            const local = wallClock(w.start.getTime(), spec.timezone);
            if (!spec.days.includes('daily'))
              expect(spec.days).toContain(ORACLE_DAY_NAMES[local.weekday - 1]);
          }
          // The next window starts inside the current one only on a DST night, by at most the
          // clock change: a 24h daily window on a 23h day, or a start pushed later by a spring
          // gap (Sydney's 02:30 on its October change starts at 03:30 and so ends an hour late).
          const current = currentWindow(spec, new Date(now));
          if (current && next[0]) {
            const overlap = current.end.getTime() - next[0].start.getTime();
            const change = (t: number) =>
              Math.abs(
                offsetAt(t + 3 * 3_600_000, spec.timezone) - offsetAt(t - 3 * 3_600_000, spec.timezone),
              );
            const shift = Math.max(
              Math.abs(
                offsetAt(current.end.getTime(), spec.timezone) -
                  offsetAt(current.start.getTime(), spec.timezone),
              ),
              change(current.start.getTime()),
            );
            expect(overlap).toBeLessThanOrEqual(shift);
          }
        }),
        { numRuns: 300 },
      );
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'local start times resolve like the oracle on every day around each DST change',
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...ZONES.filter((z) => zoneTransitions.get(z)!.length > 0)),
          fc.integer({ min: 0, max: 5 }),
          fc.integer({ min: -1, max: 1 }),
          fc.integer({ min: 0, max: 23 }),
          fc.constantFrom(0, 15, 30, 45, 59),
          (zone, which, dayShift, hour, minute) => {
            const t = zoneTransitions.get(zone)![which]! + dayShift * DAY;
            const local = wallClock(t, zone);
            const ours = resolveLocalTime(zone, local.year, local.month, local.day, hour, minute);
            expect(ours).toBe(oracleStart(zone, local.year, local.month, local.day, hour, minute));
          },
        ),
        { numRuns: 300 },
      );
    },
    PROPERTY_TIMEOUT,
  );
});

describe('DST nights (examples)', () => {
  const at = (zone: string, date: string, time: string) => {
    const [y, m, d] = date.split('-').map(Number) as [number, number, number];
    const [h, min] = time.split(':').map(Number) as [number, number];
    return new Date(resolveLocalTime(zone, y, m, d, h, min)).toISOString();
  };

  it.each([
    // Spring forward: the start does not exist and moves forward by the gap (1h; Chatham too).
    ['Europe/Paris', '2026-03-29', '02:30', '2026-03-29T01:30:00.000Z'], // → 03:30 CEST
    ['America/New_York', '2026-03-08', '02:30', '2026-03-08T07:30:00.000Z'], // → 03:30 EDT
    ['Australia/Sydney', '2026-10-04', '02:30', '2026-10-03T16:30:00.000Z'], // → 03:30 AEDT
    ['Pacific/Chatham', '2026-09-27', '03:00', '2026-09-26T14:15:00.000Z'], // → 04:00 +13:45
    // Fall back: the start happens twice; the first occurrence counts.
    ['America/New_York', '2026-11-01', '01:30', '2026-11-01T05:30:00.000Z'], // EDT, not EST
    ['Europe/Paris', '2026-10-25', '02:30', '2026-10-25T00:30:00.000Z'], // CEST, not CET
    ['Australia/Sydney', '2026-04-05', '02:30', '2026-04-04T15:30:00.000Z'], // AEDT, not AEST
    ['Pacific/Chatham', '2026-04-05', '03:00', '2026-04-04T13:15:00.000Z'], // +13:45, not +12:45
    // Ordinary times and a zone without DST.
    ['Asia/Kolkata', '2026-03-29', '21:00', '2026-03-29T15:30:00.000Z'],
    ['Europe/Paris', '2026-11-29', '21:00', '2026-11-29T20:00:00.000Z'],
    ['UTC', '2026-03-29', '02:30', '2026-03-29T02:30:00.000Z'],
  ])('%s %s %s → %s', (zone, date, time, expected) => {
    expect(at(zone, date, time)).toBe(expected);
    const [y, m, d] = date.split('-').map(Number) as [number, number, number];
    const [h, min] = time.split(':').map(Number) as [number, number];
    expect(new Date(oracleStart(zone, y, m, d, h, min)).toISOString()).toBe(expected);
  });

  it('duration is elapsed time: an 8h window over the spring-forward night ends at 08:00 local', () => {
    const spec: WindowSpec = {
      timezone: 'Europe/Paris',
      days: ['sat'],
      start: '22:00',
      duration: 8 * HOUR,
      notice: DAY,
    };
    const [w] = nextWindows(spec, new Date('2026-03-25T00:00:00Z'), 1);
    expect(w!.start.toISOString()).toBe('2026-03-28T21:00:00.000Z');
    expect(w!.end.toISOString()).toBe('2026-03-29T05:00:00.000Z');
    expect(wallClock(w!.end.getTime(), 'Europe/Paris').hour).toBe(7);
  });

  it('a window started before fall-back stays open for its elapsed length', () => {
    const spec: WindowSpec = {
      timezone: 'America/New_York',
      days: ['sat'],
      start: '23:00',
      duration: 4 * HOUR,
      notice: DAY,
    };
    // Sat 2026-10-31 23:00 EDT = 03:00Z; four real hours later is 07:00Z = 02:00 EST.
    const inside = windowStatus(spec, new Date('2026-11-01T06:30:00Z'), 1);
    expect(inside.open).toBe(true);
    expect(inside.remainingSeconds).toBe(1800);
    expect(windowStatus(spec, new Date('2026-11-01T07:00:00Z'), 1).open).toBe(false);
  });

  it('overlapping windows on a 23h day: the one that started last is current', () => {
    // The demo plan's shape: every day, 00:00, 24h. Sunday 2026-03-29 has 23 hours in Paris, so
    // Sunday's window (23:00Z → 23:00Z) still runs when Monday's starts (00:00 CEST = 22:00Z).
    const spec: WindowSpec = {
      timezone: 'Europe/Paris',
      days: ['daily'],
      start: '00:00',
      duration: DAY,
      notice: DAY,
    };
    const now = new Date('2026-03-29T22:30:00Z');
    const status = windowStatus(spec, now, 1);
    expect(status.current).toEqual({
      start: new Date('2026-03-29T22:00:00Z'),
      end: new Date('2026-03-30T22:00:00Z'),
    });
    expect(status.remainingSeconds).toBe(23.5 * 3600);
    expect(status.next[0]!.start.toISOString()).toBe('2026-03-30T22:00:00.000Z');
    const oracle = oracleStatus(spec, now.getTime(), 1);
    expect(oracle.current).toEqual({
      start: Date.parse('2026-03-29T22:00:00Z'),
      end: Date.parse('2026-03-30T22:00:00Z'),
    });
  });

  it('crosses midnight and the week end: sun 22:00 for 8h is open on Monday morning', () => {
    const spec: WindowSpec = {
      timezone: 'Europe/Paris',
      days: ['sun'],
      start: '22:00',
      duration: 8 * HOUR,
      notice: DAY,
    };
    // Monday 2026-11-30 05:59 CET.
    const status = windowStatus(spec, new Date('2026-11-30T04:59:00Z'), 2);
    expect(status.current).toEqual({
      start: new Date('2026-11-29T21:00:00Z'),
      end: new Date('2026-11-30T05:00:00Z'),
    });
    expect(status.remainingSeconds).toBe(60);
    expect(status.next.map((w) => w.start.toISOString())).toEqual([
      '2026-12-06T21:00:00.000Z',
      '2026-12-13T21:00:00.000Z',
    ]);
    // The end is exclusive.
    expect(windowStatus(spec, new Date('2026-11-30T05:00:00Z'), 1).open).toBe(false);
    // The start is inclusive.
    expect(windowStatus(spec, new Date('2026-11-29T21:00:00Z'), 1).remainingSeconds).toBe(8 * 3600);
  });
});
