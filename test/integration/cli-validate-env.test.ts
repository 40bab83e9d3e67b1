/**
 * `maint validate` with unset variables among other problems reports them all at once, and
 * names a near variable that is set (the built CLI as a real process).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/run-cli.js';

function maint(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, NO_COLOR: '1', ...env } },
      (error, stdout) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout }),
    ),
  );
}

describe('an unset variable among other problems', () => {
  it('reports every problem at once, with "did you mean" for a near variable name', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'maint-validate-'));
    try {
      const file = path.join(dir, 'plan.yaml');
      await writeFile(
        file,
        'version: 1\nname: t\nwindow:\n  timezone: Mars/Base\n  days: [daily]\n  start: "00:00"\n  duration: 24h\ndatabase:\n  engine: postgres\n  url: ${DATABSE_URL}\nmigrations:\n  dir: ./m\n  lockTimeout: ${MAINT_T_UNSET_LOCK}\n',
      );
      const r = await maint(['validate', file, '--json'], { DATABASE_URL: 'postgres://u@127.0.0.1/x' });
      expect(r.code).toBe(2);
      const body = (JSON.parse(r.stdout) as { error: { result: unknown } }).error.result as {
        results: Array<{ issues: Array<{ path: string; message: string; line: number }> }>;
      };
      const issues = body.results[0]!.issues;
      expect(issues.map((i) => [i.path, i.line])).toEqual([
        ['window.timezone', 4],
        ['database.url', 10],
        ['migrations.lockTimeout', 13],
      ]);
      expect(issues[1]!.message).toBe(
        'environment variable DATABSE_URL is not set (did you mean DATABASE_URL?)',
      );
      expect(issues[2]!.message).toBe('environment variable MAINT_T_UNSET_LOCK is not set');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
