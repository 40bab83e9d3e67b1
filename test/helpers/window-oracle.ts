/**
 * A second, independent computation of maintenance windows, for property tests of
 * src/window/window.ts. It deliberately shares nothing with it: no luxon, no offset arithmetic
 * around the wall time. It reads the zone's wall clock through Intl.DateTimeFormat and searches:
 *
 * - a local time exists when some UTC instant shows it on the zone's wall clock; every UTC
 *   offset in use since the 1980s is a multiple of 15 minutes, so the candidates are
 *   `wall - k·15min` for offsets from -12h to +14h, each checked by formatting it;
 * - ambiguous (fall back): the earliest matching instant (first occurrence);
 * - gap (spring forward): find the instant the clock jumps over the wall time by bisection, take
 *   the gap's length (offset after minus offset before) and resolve `wall + gap`, which exists.
 *
 * Slow (hundreds of formatter calls per window) and obviously right, which is the point.
 */

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const STEP = 15 * MINUTE;

export const ORACLE_DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export interface OracleSpec {
  timezone: string;
  days: readonly string[];
  /** `HH:MM` */
  start: string;
  /** Elapsed milliseconds. */
  duration: number;
}

export interface OracleWindow {
  start: number;
  end: number;
}

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 1 = Monday … 7 = Sunday */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The zone's wall clock at a UTC instant. */
export function wallClock(instant: number, zone: string): WallClock {
  const parts: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(new Date(instant))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday!]!,
  };
}

/** The wall clock as if it were UTC: a number that orders local times. */
function naive(instant: number, zone: string): number {
  const w = wallClock(instant, zone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

/** UTC offset in ms at an instant (wall clock minus UTC). */
export function offsetAt(instant: number, zone: string): number {
  return naive(Math.floor(instant / 1000) * 1000, zone) - Math.floor(instant / 1000) * 1000;
}

/** Every UTC instant that shows exactly this local wall time, earliest first. */
export function instantsShowing(
  zone: string,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
): number[] {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const out: number[] = [];
  for (let offset = -12 * HOUR; offset <= 14 * HOUR; offset += STEP) {
    const t = wall - offset;
    if (naive(t, zone) === wall) out.push(t);
  }
  return out.sort((a, b) => a - b);
}

/** The instant a window starting at this local date and time begins (the 'compatible' rule). */
export function oracleStart(
  zone: string,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
): number {
  const found = instantsShowing(zone, year, month, day, hour, minute);
  if (found.length > 0) return found[0]!;
  // A gap: find where the wall clock jumps past this time.
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  let lo = wall - 15 * HOUR; // shows a wall time before `wall` (offsets are at most +14h)
  let hi = wall + 13 * HOUR; // shows a wall time after it (offsets are at least -12h)
  while (hi - lo > MINUTE) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
    if (naive(mid, zone) < wall) lo = mid;
    else hi = mid;
  }
  const gap = offsetAt(hi, zone) - offsetAt(lo, zone);
  if (gap <= 0)
    throw new Error(
      `oracle: ${zone} ${year}-${month}-${day} ${hour}:${minute} is neither shown nor in a gap`,
    );
  const shifted = new Date(wall + gap);
  const after = instantsShowing(
    zone,
    shifted.getUTCFullYear(),
    shifted.getUTCMonth() + 1,
    shifted.getUTCDate(),
    shifted.getUTCHours(),
    shifted.getUTCMinutes(),
  );
  if (after.length !== 1)
    throw new Error(`oracle: shifted start ${shifted.toISOString()} in ${zone} is not unique`);
  return after[0]!;
}

/** Does a window start on this local calendar date? Weekday from the calendar, not from a zone. */
function startsOnDate(spec: OracleSpec, y: number, m: number, d: number): boolean {
  if (spec.days.includes('daily')) return true;
  const weekday = ((new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7) + 1;
  return spec.days.includes(ORACLE_DAY_NAMES[weekday - 1]!);
}

/** All windows whose local start date lies between the local dates of `from` and `to` (inclusive, padded a day). */
export function oracleWindows(spec: OracleSpec, from: number, to: number): OracleWindow[] {
  const [h, min] = spec.start.split(':').map(Number) as [number, number];
  const a = wallClock(from, spec.timezone);
  const b = wallClock(to, spec.timezone);
  const out: OracleWindow[] = [];
  for (
    let date = Date.UTC(a.year, a.month - 1, a.day) - DAY;
    date <= Date.UTC(b.year, b.month - 1, b.day) + DAY;
    date += DAY
  ) {
    const c = new Date(date);
    const y = c.getUTCFullYear();
    const m = c.getUTCMonth() + 1;
    const d = c.getUTCDate();
    if (!startsOnDate(spec, y, m, d)) continue;
    const start = oracleStart(spec.timezone, y, m, d, h, min);
    out.push({ start, end: start + spec.duration });
  }
  return out.sort((x, y) => x.start - y.start);
}

export interface OracleStatus {
  current: OracleWindow | null;
  next: OracleWindow[];
}

export function oracleStatus(spec: OracleSpec, now: number, count: number): OracleStatus {
  // Back far enough for a window still open now; forward far enough for `count` starts.
  const perWeek = spec.days.includes('daily') ? 7 : spec.days.length;
  const ahead = (Math.ceil(count / perWeek) + 1) * 7 * DAY;
  const all = oracleWindows(spec, now - spec.duration - 2 * DAY, now + ahead);
  // Windows may overlap on a DST night (a 24h daily window on a 23h day): the one that started
  // last is current, as it stays open longest.
  const current = all.filter((w) => w.start <= now && now < w.end).pop() ?? null;
  const next = all.filter((w) => w.start > now).slice(0, count);
  return { current, next };
}

/** Instants in [from, to) where the zone's offset changes, to the minute. */
export function transitions(zone: string, from: number, to: number): number[] {
  const out: number[] = [];
  for (let t = from; t < to; t += 6 * HOUR) {
    if (offsetAt(t, zone) === offsetAt(t + 6 * HOUR, zone)) continue;
    let lo = t;
    let hi = t + 6 * HOUR;
    while (hi - lo > MINUTE) {
      const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
      if (offsetAt(mid, zone) === offsetAt(lo, zone)) lo = mid;
      else hi = mid;
    }
    out.push(hi);
  }
  return out;
}
