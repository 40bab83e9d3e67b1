/**
 * The README's first screen promises two set-up commands. This test reads them from the README
 * and runs the demo one exactly as written (minus `npm ci`, which the test run has already
 * done), in a scratch copy of plans/ so the work tree is not touched.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');

async function setupCommands(): Promise<string[]> {
  const readme = await readFile(path.join(repo, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Set-up on a fresh machine'));
  if (!section) throw new Error('README has no "Set-up on a fresh machine" section');
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

describe('README set-up commands', () => {
  let scratch: string;
  let commands: string[];

  beforeAll(async () => {
    commands = await setupCommands();
    scratch = await mkdtemp(path.join(tmpdir(), 'maint-readme-'));
    await cp(path.join(repo, 'plans'), path.join(scratch, 'plans'), {
      recursive: true,
      filter: (src) => !/[\\/](\.data|_data|data|_site)$/.test(src),
    });
    await symlink(path.join(repo, 'bin'), path.join(scratch, 'bin'));
  });

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('are exactly two, each starting with npm ci', () => {
    expect(commands).toHaveLength(2);
    for (const c of commands) expect(c.startsWith('npm ci && ')).toBe(true);
    expect(commands[1]).toBe('npm ci && npm test');
  });

  it('the demo command completes on the embedded database, then finds nothing pending', async () => {
    const demo = commands[0]!.replace(/^npm ci && /, '');
    expect(demo).toContain('plans/demo.yaml');
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', CI: 'true' };
    delete env.MAINT_NOW;

    const first = await run('bash', ['-c', demo], { cwd: scratch, env });
    expect(first.stdout).toMatch(/completed demo/);
    for (const step of ['banner:active', 'migrate', 'analyze', 'checks', 'banner:off']) {
      expect(first.stdout).toContain(step);
    }
    const banner = await readFile(
      path.join(scratch, 'plans/demo/site/_data/banner_notification.yml'),
      'utf8',
    );
    expect(banner).toMatch(/^enabled: false$/m);
    expect(banner).toMatch(/^state: "off"$/m);

    const second = await run('bash', ['-c', demo], { cwd: scratch, env });
    expect(second.stdout).toMatch(/nothing is pending/);
    // Two whole runs on the embedded (WebAssembly) database: beside migrate-concurrency's 20
    // processes on a 2-core runner, this took over the default 120 s once.
  }, 300_000);
});
