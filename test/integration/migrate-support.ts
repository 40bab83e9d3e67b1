/**
 * Shared helpers for the migrate/lock integration tests: a plan folder on disk pointing at a
 * fresh database, the built CLI run as a real process, and polling with a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/run.js');

if (!existsSync(path.resolve(path.dirname(BIN), '../dist/commands/migrate/index.js'))) {
  throw new Error(
    'dist/ has no migrate command: build first (npx tsc -p tsconfig.build.json && npx oclif manifest), or run `npm test`.',
  );
}

export interface PlanSpec {
  engine: 'postgres' | 'mysql' | 'pglite';
  url: string;
  name?: string;
  migrations: Record<string, string>;
  lockTimeout?: string;
  retries?: number;
}

export async function writePlan(spec: PlanSpec): Promise<{ dir: string; plan: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'maint-plan-'));
  await mkdir(path.join(dir, 'migrations'));
  for (const [file, content] of Object.entries(spec.migrations))
    await writeFile(path.join(dir, 'migrations', file), content);
  const plan = path.join(dir, 'plan.yaml');
  await writeFile(
    plan,
    [
      'version: 1',
      `name: ${spec.name ?? 'itest'}`,
      'window: { timezone: UTC, days: [daily], start: "00:00", duration: 23h }',
      `database: { engine: ${spec.engine}, url: "${spec.url}" }`,
      `migrations: { lockTimeout: ${spec.lockTimeout ?? '2s'}, retries: ${spec.retries ?? 10} }`,
      '',
    ].join('\n'),
  );
  return { dir, plan };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  done: Promise<CliResult>;
}

export function startCli(args: string[], env: Record<string, string> = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, NO_COLOR: '1', MAINT_LOCK_HEARTBEAT_MS: '200', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return startCli(args, env).done;
}

/** Poll `check` until it returns a truthy value, or fail after `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | null | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
