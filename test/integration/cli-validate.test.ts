/**
 * Every plan fixture through the built CLI as a real process: the exit code, the position on
 * stderr, no stack trace, and one JSON object with `--json`.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureEnv, invalidCases, validCases, type InvalidCase } from '../fixtures/plans/cases.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'bin/run.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function maint(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base = { ...process.env, NO_COLOR: '1' } as Record<string, string | undefined>;
  delete base.MAINT_FIXTURE_UNSET_URL;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: repo, env: { ...base, ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const STACK_LINE = /^\s+at /m;
const rel = (c: InvalidCase) => `test/fixtures/plans/invalid/${c.name}.yaml`;

let results: Map<string, { human: Run; json: Run }>;

beforeAll(async () => {
  if (!existsSync(path.join(repo, 'dist/commands/validate.js')))
    throw new Error('dist/ is not built: run `npm run build` first');
  // Four processes at a time: enough to finish quickly, few enough for two shared cores. Two
  // processes per fixture (80 fixtures): up to 10 minutes on a loaded machine.
  const runs = await pool(invalidCases, 4, async (c) => ({
    name: c.name,
    human: await maint(['validate', rel(c)]),
    json: await maint(['validate', rel(c), '--json']),
  }));
  results = new Map(runs.map((r) => [r.name, r]));
}, 600_000);

describe('maint validate <invalid fixture>', () => {
  it.each(invalidCases)('$name: exit 2, position on stderr, no stack', (c) => {
    const { human } = results.get(c.name)!;
    expect(human.code, human.stderr).toBe(2);
    expect(human.stdout).toBe('');
    expect(human.stderr).toMatch(/^error: /);
    expect(human.stderr).toContain(c.line === undefined ? rel(c) : `${rel(c)}:${c.line}:${c.col}`);
    expect(human.stderr).toContain(c.message);
    expect(human.stderr).toMatch(/^hint: /m);
    expect(human.stderr).not.toMatch(STACK_LINE);
  });

  it.each(invalidCases)('$name --json: one object with error.code', (c) => {
    const { json } = results.get(c.name)!;
    expect(json.code, json.stderr).toBe(2);
    const parsed = JSON.parse(json.stdout) as {
      error: { code: string; issues: Array<{ line?: number; col?: number; path?: string }> };
    };
    expect(parsed.error.code).toBe('PLAN_INVALID');
    // JSON drops undefined keys: a position-free issue has no line, col or path at all.
    const first = parsed.error.issues[0]!;
    expect([first.line, first.col, first.path]).toEqual([c.line, c.col, c.path]);
    expect(json.stderr).not.toMatch(STACK_LINE);
  });
});

describe('maint validate <valid fixture>', () => {
  it('exits 0 for all valid fixtures at once, and never prints their secrets', async () => {
    const files = validCases.map((c) => `test/fixtures/plans/valid/${c.name}.yaml`);
    const run = await maint(['validate', ...files, '--json'], fixtureEnv);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const parsed = JSON.parse(run.stdout) as {
      results: Array<{ file: string; valid: boolean; name: string }>;
    };
    expect(parsed.results.map((r) => [r.file, r.valid, r.name])).toEqual(
      validCases.map((c, i) => [files[i], true, c.planName]),
    );
    expect(run.stdout).not.toContain('fixture-db-password');
  });

  it('exits 0 for every example plan in plans/, and never prints their secrets', async () => {
    const files = readdirSync(path.join(repo, 'plans'))
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => `plans/${f}`);
    expect(files).toEqual(
      expect.arrayContaining(['plans/pg-scram.yaml', 'plans/pg-upgrade.yaml', 'plans/ecs.yaml']),
    );
    const env = {
      DATABASE_URL: 'postgres://app:example-db-password@127.0.0.1:5432/shop',
      APP_DB_USER: 'app',
      APP_DB_PASSWORD: 'example-app-password',
      PG_UPGRADE_TO: '17',
      RELEASE: '2026.12.04-1',
      TASK_DEFINITION: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop:42',
    };
    const run = await maint(['validate', ...files, '--json'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const parsed = JSON.parse(run.stdout) as { results: Array<{ file: string; valid: boolean }> };
    expect(parsed.results.map((r) => [r.file, r.valid])).toEqual(files.map((f) => [f, true]));
    expect(run.stdout).not.toMatch(/example-(db|app)-password/);
  });

  it('one invalid file among valid ones fails the whole call with its position', async () => {
    const run = await maint([
      'validate',
      'test/fixtures/plans/valid/minimal.yaml',
      'test/fixtures/plans/invalid/bad-zone.yaml',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('test/fixtures/plans/invalid/bad-zone.yaml:4:13');
  });
});
