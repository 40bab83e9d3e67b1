/**
 * Support for the `maint run` integration tests: spawn the built CLI, and write a throw-away
 * plan (with its migrations and banner paths) into a temporary folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(REPO, 'bin/run.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function startCli(
  args: string[],
  env: Record<string, string> = {},
  cwd = REPO,
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', CI: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export function runCli(args: string[], env: Record<string, string> = {}, cwd = REPO): Promise<CliResult> {
  return startCli(args, env, cwd).done;
}

/** Parse the one JSON object a `--json` command prints. */
export function json<T = Record<string, unknown>>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON object (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

export interface PlanFiles {
  name?: string;
  engine: 'postgres' | 'mysql' | 'pglite';
  url: string;
  /** file name → SQL */
  migrations: Record<string, string>;
  /** YAML for the `window:` key. @default always open, daily 00:00 for 24h UTC */
  window?: string;
  /** Extra top-level YAML (estimate, post, checks, notify …). */
  extra?: string;
  /** @default a YAML banner and its JSON twin under site/ */
  banner?: boolean;
}

export interface WrittenPlan {
  dir: string;
  file: string;
  bannerYaml: string;
  bannerJson: string;
  migrationsDir: string;
}

export async function writePlan(p: PlanFiles, dir?: string): Promise<WrittenPlan> {
  const root = dir ?? (await mkdtemp(path.join(tmpdir(), 'maint-run-')));
  const migrationsDir = path.join(root, 'migrations');
  await mkdir(migrationsDir, { recursive: true });
  for (const [name, sql] of Object.entries(p.migrations))
    await writeFile(path.join(migrationsDir, name), sql);
  const window = p.window ?? '  timezone: UTC\n  days: [daily]\n  start: "00:00"\n  duration: 24h';
  const banner =
    p.banner === false
      ? ''
      : `notify:\n  banner:\n    - file: site/_data/banner_notification.yml\n      text: "Maintenance of {{plan.name}} at {{window.startLocal}}"\n      url: https://status.example.com\n    - file: site/data/maintenance.json\n`;
  const yaml = `version: 1\nname: ${p.name ?? 'orders'}\nwindow:\n${window}\ndatabase:\n  engine: ${p.engine}\n  url: "${p.url}"\nmigrations:\n  dir: ./migrations\n${p.extra ?? ''}\n${banner}`;
  const file = path.join(root, 'plan.yaml');
  await writeFile(file, yaml);
  return {
    dir: root,
    file,
    migrationsDir,
    bannerYaml: path.join(root, 'site/_data/banner_notification.yml'),
    bannerJson: path.join(root, 'site/data/maintenance.json'),
  };
}

/** Poll `probe` until it returns a value other than undefined, or fail after `ms`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
