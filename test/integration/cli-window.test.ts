/**
 * `maint window --json` as a real process, pinned with MAINT_NOW: the SPEC.md shape, open and
 * closed, DST nights, and bad input.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'bin/run.js');
// Europe/Paris, Sundays 21:00 for 8h.
const PLAN = 'test/fixtures/plans/valid/minimal.yaml';
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function maint(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: repo, env: { ...process.env, NO_COLOR: '1', ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

interface WindowJson {
  open: boolean;
  current: { start: string; end: string } | null;
  remainingSeconds: number | null;
  next: Array<{ start: string; end: string }>;
}

async function windowJson(plan: string, now: string, count: number): Promise<WindowJson> {
  const run = await maint(['window', plan, '--json', '--count', String(count)], { MAINT_NOW: now });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const json = JSON.parse(run.stdout) as WindowJson;
  // The contract's shape (SPEC.md); more fields may be added, these may not change.
  expect(typeof json.open).toBe('boolean');
  expect(json.current === null || (ISO_UTC.test(json.current.start) && ISO_UTC.test(json.current.end))).toBe(
    true,
  );
  expect(json.remainingSeconds === null || Number.isInteger(json.remainingSeconds)).toBe(true);
  expect(Array.isArray(json.next)).toBe(true);
  for (const w of json.next) {
    expect(w.start).toMatch(ISO_UTC);
    expect(w.end).toMatch(ISO_UTC);
  }
  return json;
}

let work: string;
beforeAll(async () => {
  if (!existsSync(path.join(repo, 'dist/commands/window.js')))
    throw new Error('dist/ is not built: run `npm run build` first');
  work = await mkdtemp(path.join(tmpdir(), 'maint-window-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function planFile(
  name: string,
  zone: string,
  days: string,
  start: string,
  duration: string,
): Promise<string> {
  const file = path.join(work, `${name}.yaml`);
  const text = `version: 1\nname: ${name}\nwindow:\n  timezone: ${zone}\n  days: [${days}]\n  start: "${start}"\n  duration: ${duration}\ndatabase:\n  engine: pglite\n  url: memory://\n`;
  await writeFile(file, text);
  return file;
}

describe('maint window --json', () => {
  it('closed: no current window, the next ones after now', async () => {
    const json = await windowJson(PLAN, '2026-11-25T12:00:00Z', 2);
    expect(json).toMatchObject({
      open: false,
      current: null,
      remainingSeconds: null,
      next: [
        { start: '2026-11-29T20:00:00.000Z', end: '2026-11-30T04:00:00.000Z' },
        { start: '2026-12-06T20:00:00.000Z', end: '2026-12-07T04:00:00.000Z' },
      ],
    });
    expect(json.next).toHaveLength(2);
  });

  it('open: the current window, the seconds left, and next windows starting after it', async () => {
    // Half a second past 20:30Z: the clock runs on from MAINT_NOW, so floor() gives 26999.
    const json = await windowJson(PLAN, '2026-11-29T20:30:00.500Z', 3);
    expect(json.open).toBe(true);
    expect(json.current).toMatchObject({
      start: '2026-11-29T20:00:00.000Z',
      end: '2026-11-30T04:00:00.000Z',
    });
    expect(json.remainingSeconds).toBe(7 * 3600 + 30 * 60 - 1);
    expect(json.next.map((w) => w.start)).toEqual([
      '2026-12-06T20:00:00.000Z',
      '2026-12-13T20:00:00.000Z',
      '2026-12-20T20:00:00.000Z',
    ]);
  });

  it('--count 0 lists no next windows', async () => {
    expect((await windowJson(PLAN, '2026-11-25T12:00:00Z', 0)).next).toEqual([]);
  });

  it('spring forward: Paris 02:30 on 2026-03-29 does not exist and starts at 03:30 CEST (01:30Z)', async () => {
    const plan = await planFile('paris-gap', 'Europe/Paris', 'sun', '02:30', '2h');
    const json = await windowJson(plan, '2026-03-25T00:00:00Z', 1);
    expect(json.next).toEqual([
      expect.objectContaining({ start: '2026-03-29T01:30:00.000Z', end: '2026-03-29T03:30:00.000Z' }),
    ]);
  });

  it('fall back: New York 01:30 on 2026-11-01 happens twice and starts at the first (05:30Z)', async () => {
    const plan = await planFile('ny-overlap', 'America/New_York', 'sun', '01:30', '1h');
    const json = await windowJson(plan, '2026-10-30T00:00:00Z', 2);
    expect(json.next.map((w) => w.start)).toEqual(['2026-11-01T05:30:00.000Z', '2026-11-08T06:30:00.000Z']);
  });

  it('crosses midnight and the week end: open on Monday morning', async () => {
    const json = await windowJson(PLAN, '2026-11-30T03:00:00.500Z', 1);
    expect(json.open).toBe(true);
    expect(json.remainingSeconds).toBe(3599);
  });

  it('human output names the zone and both clocks', async () => {
    const run = await maint(['window', PLAN, '--count', '1'], { MAINT_NOW: '2026-11-25T12:00:00Z' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('closed');
    expect(run.stdout).toContain('2026-11-29T20:00:00.000Z');
    expect(run.stdout).toContain('Sun 29 Nov 2026 21:00');
  });

  it.each(['yesterday', '2026-11-29T20:00:00', '2026-13-01T00:00:00Z', '2026-11-29 20:00Z'])(
    'a bad MAINT_NOW (%s) exits 2',
    async (now) => {
      const human = await maint(['window', PLAN], { MAINT_NOW: now });
      expect(human.code).toBe(2);
      expect(human.stderr).toContain('MAINT_NOW');
      expect(human.stderr).not.toMatch(/^\s+at /m);
      const json = await maint(['window', PLAN, '--json'], { MAINT_NOW: now });
      expect(json.code).toBe(2);
      expect(JSON.parse(json.stdout).error.code).toBe('USAGE');
    },
  );

  it('a bad --count exits 2', async () => {
    const run = await maint(['window', PLAN, '--count', '-1'], { MAINT_NOW: '2026-11-25T12:00:00Z' });
    expect(run.code).toBe(2);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});
