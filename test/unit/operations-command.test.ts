import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCommand, type RunCommandOptions } from '../../src/operations/command.js';
import { clearSecrets, registerSecret } from '../../src/support/redact.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'maint-command-'));
});
afterEach(async () => {
  clearSecrets();
  await rm(dir, { recursive: true, force: true });
});

const run = (command: string, extra: Partial<RunCommandOptions> = {}) =>
  runCommand({ command, cwd: dir, env: { PATH: process.env.PATH }, timeoutMs: 20_000, ...extra });

/** A process that is gone, or a zombie nobody reaped yet (it runs nothing). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function until(what: string, probe: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('runCommand', () => {
  it('returns the exit code, stdout and stderr together, in the given folder and environment', async () => {
    const ok = await run('echo "out $GREETING"; echo err >&2; pwd', {
      env: { PATH: process.env.PATH, GREETING: 'hi' },
    });
    expect(ok).toMatchObject({
      exitCode: 0,
      signal: null,
      timedOut: false,
      aborted: false,
      truncatedBytes: 0,
    });
    expect(ok.output.split('\n').sort()).toEqual(['', 'err', 'out hi', await realpath(dir)].sort());
    expect(ok.durationMs).toBeGreaterThanOrEqual(0);

    const failed = await run('echo about to fail; exit 3');
    expect(failed).toMatchObject({ exitCode: 3, signal: null, output: 'about to fail\n' });
  });

  it('kills the whole process group on timeout, SIGKILL for a child that ignores SIGTERM', async () => {
    const pidFile = path.join(dir, 'child.pid');
    const started = Date.now();
    const r = await run(`trap '' TERM; sleep 60 & echo $! > ${pidFile}; echo waiting; wait`, {
      timeoutMs: 300,
      killGraceMs: 300,
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r).toMatchObject({ timedOut: true, aborted: false, exitCode: null, signal: 'SIGKILL' });
    expect(r.output).toBe('waiting\n');
    const child = Number(await readFile(pidFile, 'utf8'));
    expect(alive(child), `sleep (pid ${child}) still runs`).toBe(false);
  });

  it('a child that stops on SIGTERM ends at the first signal', async () => {
    const r = await run('sleep 60', { timeoutMs: 200, killGraceMs: 30_000 });
    expect(r).toMatchObject({ timedOut: true, signal: 'SIGTERM' });
    expect(r.durationMs).toBeLessThan(20_000);
  });

  it('kills the group when the signal aborts, and says so', async () => {
    const marker = path.join(dir, 'started');
    const pidFile = path.join(dir, 'child.pid');
    const controller = new AbortController();
    const pending = run(`sleep 60 & echo $! > ${pidFile}; touch ${marker}; wait`, {
      signal: controller.signal,
      killGraceMs: 300,
    });
    await until('the command to start', () => existsSync(marker));
    controller.abort(new Error('window ended'));
    const r = await pending;
    expect(r).toMatchObject({ aborted: true, timedOut: false, exitCode: null });
    expect(alive(Number(await readFile(pidFile, 'utf8')))).toBe(false);

    const before = await run('touch never', { signal: AbortSignal.abort() });
    expect(before.aborted).toBe(true);
    expect(existsSync(path.join(dir, 'never'))).toBe(false);
  });

  it('keeps only the last bytes of a long output, from a line start, and says how much was dropped', async () => {
    const r = await run(`head -c 200000 /dev/zero | tr '\\0' x; echo; echo last-line`, {
      maxOutputBytes: 1024,
    });
    expect(r.exitCode).toBe(0);
    expect(r.truncatedBytes).toBeGreaterThan(198_000);
    expect(r.output).toMatch(/^\[… \d+ bytes of earlier output not kept\]\nlast-line\n$/);
  });

  it('masks a registered secret, also one split across writes or cut at the start of the tail', async () => {
    registerSecret('Canary5ecret7q');
    const env = { PATH: process.env.PATH, TOKEN: 'Canary5ecret7q' };
    const whole = await run(`echo "token is $TOKEN"; printf 'Canary5e' >&2; printf 'cret7q\\n' >&2`, { env });
    expect(whole.output).not.toContain('Canary5ecret7q');
    expect(whole.output).toContain('token is ***');

    const cut = await run(`printf 'Canary5ecret7q-and-more\\nend\\n'`, { env, maxOutputBytes: 20 });
    expect(cut.output).not.toMatch(/cret7q/);
    expect(cut.output).toMatch(/end\n$/);
  });

  it('rejects when the command cannot be started at all', async () => {
    await expect(run('true', { cwd: path.join(dir, 'missing') })).rejects.toThrow(/ENOENT/);
  });
});
