/**
 * One shape for `next` (issue 9): `maint window --json`, `maint plan --json` and `maint gate
 * --json` give the next window as the same list of `{start, end, startLocal, endLocal,
 * durationMs}`, for the same plan and MAINT_NOW, on real PostgreSQL and MariaDB.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { freshMysql, freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { json, runCli, writePlan } from '../helpers/run-cli.js';

// Sundays 21:00–23:00 in Paris.
const WINDOW = '  timezone: Europe/Paris\n  days: [sun]\n  start: "21:00"\n  duration: 2h';
const NEXT = {
  start: '2026-11-29T20:00:00.000Z',
  end: '2026-11-29T22:00:00.000Z',
  startLocal: 'Sun 29 Nov 2026 21:00 CET',
  endLocal: 'Sun 29 Nov 2026 23:00 CET',
  durationMs: 7_200_000,
};
const AFTER = {
  start: '2026-12-06T20:00:00.000Z',
  end: '2026-12-06T22:00:00.000Z',
  startLocal: 'Sun 6 Dec 2026 21:00 CET',
  endLocal: 'Sun 6 Dec 2026 23:00 CET',
  durationMs: 7_200_000,
};

interface WithWindow {
  window: { open: boolean; current?: unknown; next: unknown };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function threeNexts(fresh: () => Promise<FreshDatabase>, engine: 'postgres' | 'mysql', now: string) {
  const db = await fresh();
  cleanups.push(() => db.drop());
  const plan = await writePlan({
    engine,
    url: db.url,
    window: WINDOW,
    migrations: { '001_t.sql': 'create table t (id integer primary key);' },
  });
  const env = { MAINT_NOW: now };
  const [window, preview, gate] = await Promise.all([
    runCli(['window', plan.file, '--json', '--count', '1'], env),
    runCli(['plan', plan.file, '--json'], env),
    runCli(['gate', plan.file, '--json'], env),
  ]);
  const w = json<{ open: boolean; current: unknown; next: unknown }>(window);
  return {
    w,
    p: json<WithWindow>(preview),
    g: json<WithWindow>(gate),
    codes: [window, preview, gate].map((r) => r.code),
  };
}

describe.each([
  ['PostgreSQL', freshPostgres, 'postgres'],
  ['MariaDB', freshMysql, 'mysql'],
] as const)('next on %s', (_name, fresh, engine) => {
  it('closed: window, plan and gate give the same next window, in one shape', async () => {
    const { w, p, g, codes } = await threeNexts(fresh, engine, '2026-11-25T12:00:00Z');
    // window 0; plan 3 (closed); gate 7 (migrations pending outside the window).
    expect(codes).toEqual([0, 3, 7]);
    expect(w.next).toEqual([NEXT]);
    expect(p.window.next).toEqual([NEXT]);
    expect(g.window.next).toEqual([NEXT]);
    expect(p.window.current).toBeNull();
  });

  it('open: next is the window after the current one, and current has the same shape', async () => {
    const { w, p, g, codes } = await threeNexts(fresh, engine, '2026-11-29T20:30:00Z');
    expect(codes).toEqual([0, 0, 0]);
    expect(w.next).toEqual([AFTER]);
    expect(p.window.next).toEqual([AFTER]);
    expect(g.window.next).toEqual([AFTER]);
    expect(w.current).toEqual(NEXT);
    expect(p.window.current).toEqual(NEXT);
  });
});
