import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'bin/run.js');

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

let work: string;
beforeAll(async () => {
  if (!existsSync(path.join(repo, 'dist/commands/init.js')))
    throw new Error('dist/ is not built: run `npm run build` first');
  work = await mkdtemp(path.join(tmpdir(), 'maint-init-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('maint init', () => {
  it('scaffolds a plan that validates, with migrations and templates', async () => {
    const dir = path.join(work, 'Orders Service');
    const init = await maint(['init', dir, '--timezone', 'Europe/Paris']);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/next:\n {2}\S+ validate '.*Orders Service\/maint\.yaml'\n/);
    expect((await readdir(dir)).sort()).toEqual(['maint.yaml', 'migrations', 'templates']);
    expect((await readdir(path.join(dir, 'migrations'))).sort()).toEqual([
      '001_example.down.sql',
      '001_example.sql',
    ]);
    expect((await readdir(path.join(dir, 'templates'))).sort()).toEqual(['email.text.hbs', 'slack.hbs']);
    const plan = await readFile(path.join(dir, 'maint.yaml'), 'utf8');
    expect(plan).toContain('name: orders-service');
    expect(plan).toContain('engine: pglite');
    expect(plan).toContain('timezone: Europe/Paris');
    expect(plan).toContain('{{window.startLocal}}');
    expect(plan).not.toContain('__');

    const validate = await maint(['validate', path.join(dir, 'maint.yaml'), '--json']);
    expect(validate.code).toBe(0);
    expect(JSON.parse(validate.stdout)).toEqual({
      results: [{ file: path.join(dir, 'maint.yaml'), valid: true, name: 'orders-service', issues: [] }],
    });
  });

  it.each(['postgres', 'mysql'])('--engine %s reads the URL from ${DATABASE_URL}', async (engine) => {
    const dir = path.join(work, `engine-${engine}`);
    const init = await maint(['init', dir, '--engine', engine, '--name', `shop-${engine}`, '--json']);
    expect(init.code).toBe(0);
    const result = JSON.parse(init.stdout) as { engine: string; name: string; files: string[] };
    expect(result).toMatchObject({ engine, name: `shop-${engine}` });
    expect(result.files).toContain('maint.yaml');
    const plan = path.join(dir, 'maint.yaml');
    expect(await readFile(plan, 'utf8')).toContain(`engine: ${engine}`);
    // An empty variable leaves the plan (rightly) invalid; a real URL makes it valid.
    const unset = await maint(['validate', plan], { DATABASE_URL: '' });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('database.url');
    const ok = await maint(['validate', plan], {
      DATABASE_URL: `${engine}://app:init-test-secret@127.0.0.1/shop`,
    });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
  });

  it('prints "next:" commands that work as printed, and advertises only what is built', async () => {
    const dir = path.join(work, 'next-lines');
    // PATH without any maint on it: the printed commands must still run.
    const init = await maint(['init', dir], { PATH: path.dirname(process.execPath) });
    expect(init.code, init.stderr).toBe(0);
    const next = init.stdout
      .slice(init.stdout.indexOf('next:'))
      .split('\n')
      .slice(1)
      .map((l) => l.trim())
      .filter(Boolean);
    expect(next).toHaveLength(3);
    for (const line of next) {
      expect(line.startsWith('maint ')).toBe(false);
      const [cmd, ...args] = line.split(' ');
      const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
        execFile(cmd!, args, { cwd: repo, env: { ...process.env, NO_COLOR: '1' } }, (error, _o, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stderr }),
        ),
      );
      expect(r.code === 0 || r.code === 3, `${line}: ${r.stderr}`).toBe(true);
    }
    const written = [
      await readFile(path.join(dir, 'maint.yaml'), 'utf8'),
      await readFile(path.join(dir, 'migrations/001_example.sql'), 'utf8'),
    ].join('\n');
    expect(written).not.toMatch(/clone-freeze|maint lint|never queue/);
  });

  it('refuses to overwrite, names the files, touches nothing; --force replaces', async () => {
    const dir = path.join(work, 'existing');
    expect((await maint(['init', dir])).code).toBe(0);
    const plan = path.join(dir, 'maint.yaml');
    await writeFile(plan, '# mine\n');

    const again = await maint(['init', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(plan);
    expect(again.stderr).toContain(path.join(dir, 'migrations', '001_example.sql'));
    expect(again.stderr).toContain('--force');
    expect(again.stderr).not.toMatch(/^\s+at /m);
    expect(await readFile(plan, 'utf8')).toBe('# mine\n');

    const json = await maint(['init', dir, '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error.code).toBe('INIT_EXISTS');

    const forced = await maint(['init', dir, '--force', '--json']);
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout).overwritten).toContain('maint.yaml');
    expect(await readFile(plan, 'utf8')).toContain('version: 1');
  });

  it.each([
    [['--name', 'Not_A_Name'], 'not a plan name'],
    [['--engine', 'oracle'], 'pglite, postgres, mysql'],
    [['--timezone', 'Mars/Olympus'], 'not an IANA time zone'],
  ])('bad input %j exits 2 and writes nothing', async (flags, message) => {
    const dir = path.join(work, `bad-${flags[1]!.replace(/\W/g, '')}`);
    const run = await maint(['init', dir, ...flags]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(path.join(dir, 'maint.yaml'))).toBe(false);
  });

  it('a folder it cannot create is bad input (exit 2), not a bug', async () => {
    const blocker = path.join(work, 'blocker');
    await writeFile(blocker, 'a file, not a folder\n');
    const run = await maint(['init', path.join(blocker, 'sub')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('cannot write');
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});
