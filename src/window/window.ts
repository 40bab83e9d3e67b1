/**
 * Maintenance window math. A window starts at a local wall-clock time on given days in an IANA
 * zone and lasts an elapsed duration. DST follows the 'compatible' rule (RFC 5545, Temporal):
 * a start that does not exist locally moves forward by the gap's length; an ambiguous start
 * takes the first occurrence. Offsets come from the zone database (luxon), never by hand.
 */
import { DateTime, IANAZone } from 'luxon';
import type { WindowSpec } from '../plan/schema.js';
import { DAY_NAMES } from '../plan/schema-rules.js';

export interface WindowInstance {
  /** Inclusive start, UTC. */
  start: Date;
  /** Exclusive end, UTC. */
  end: Date;
}

export interface WindowStatus {
  open: boolean;
  current: WindowInstance | null;
  /** Seconds until the current window closes, or null when closed. */
  remainingSeconds: number | null;
  /** Windows that start after `now`. */
  next: WindowInstance[];
}

const DAY_MS = 86_400_000;

/**
 * The UTC instant of a local wall-clock time in `zone`, disambiguated the 'compatible' way.
 * `month` is 1-based.
 */
export function resolveLocalTime(
  zone: string,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
): number {
  const z = IANAZone.create(zone);
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const before = z.offset(wall - DAY_MS);
  const after = z.offset(wall + DAY_MS);
  const candidates = [...new Set([before, after])]
    .map((offsetMin) => wall - offsetMin * 60_000)
    .filter((t) => z.offset(t) * 60_000 === wall - t)
    .sort((a, b) => a - b);
  // Ambiguous (fall back): both offsets fit; the earlier instant is the first occurrence.
  if (candidates.length > 0) return candidates[0]!;
  // Gap (spring forward): read the wall time with the offset in force before the gap, which
  // lands the same distance past the gap's end as the wall time was past its start.
  return wall - before * 60_000;
}

/** Does a window start on this local calendar day? (`weekday` 1 = Monday … 7 = Sunday) */
function startsOn(spec: WindowSpec, weekday: number): boolean {
  return spec.days.includes('daily') || spec.days.includes(DAY_NAMES[weekday - 1]!);
}

function instanceOn(spec: WindowSpec, date: DateTime): WindowInstance {
  const [h, m] = spec.start.split(':').map(Number) as [number, number];
  const start = resolveLocalTime(spec.timezone, date.year, date.month, date.day, h, m);
  return { start: new Date(start), end: new Date(start + spec.duration) };
}

/** Local calendar days around `now` (as plain dates, zone-free arithmetic). */
function localDay(spec: WindowSpec, now: Date): DateTime {
  const local = DateTime.fromMillis(now.getTime(), { zone: spec.timezone });
  return DateTime.utc(local.year, local.month, local.day);
}

/**
 * The window open at `now`, if any. Searching from today backwards matters: on a 23-hour DST day
 * a window as long as the gap between starts overlaps the next one, and the one that started
 * last is current (it stays open longest).
 */
export function currentWindow(spec: WindowSpec, now: Date): WindowInstance | null {
  const today = localDay(spec, now);
  const lookBack = Math.ceil(spec.duration / DAY_MS) + 1;
  for (let k = 0; k <= lookBack; k++) {
    const date = today.minus({ days: k });
    if (!startsOn(spec, date.weekday)) continue;
    const w = instanceOn(spec, date);
    if (w.start.getTime() <= now.getTime() && now.getTime() < w.end.getTime()) return w;
  }
  return null;
}

/** The next `count` windows starting strictly after `now`. */
export function nextWindows(spec: WindowSpec, now: Date, count: number): WindowInstance[] {
  const out: WindowInstance[] = [];
  let date = localDay(spec, now).minus({ days: 1 });
  for (let guard = 0; out.length < count && guard < count * 8 + 16; guard++, date = date.plus({ days: 1 })) {
    if (!startsOn(spec, date.weekday)) continue;
    const w = instanceOn(spec, date);
    if (w.start.getTime() > now.getTime()) out.push(w);
  }
  return out;
}

export function windowStatus(spec: WindowSpec, now: Date, count = 3): WindowStatus {
  const current = currentWindow(spec, now);
  return {
    open: current !== null,
    current,
    remainingSeconds: current ? Math.floor((current.end.getTime() - now.getTime()) / 1000) : null,
    next: nextWindows(spec, now, count),
  };
}

/** An instant in the plan's zone, for people: `Sun 29 Nov 2026 21:00 CET`. */
export function formatLocal(instant: Date, zone: string): string {
  // en-GB names zones the way Europeans expect (CET, BST) and falls back to GMT+n elsewhere.
  return DateTime.fromJSDate(instant, { zone }).setLocale('en-GB').toFormat('ccc d LLL yyyy HH:mm ZZZZ');
}

/** An instant in the plan's zone as ISO-8601 with offset: `2026-11-29T21:00:00.000+01:00`. */
export function isoLocal(instant: Date, zone: string): string {
  return DateTime.fromJSDate(instant, { zone }).toISO() ?? instant.toISOString();
}
