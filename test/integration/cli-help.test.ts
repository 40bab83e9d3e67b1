/**
 * The public surface of every command, read from the built manifest so commands added later are
 * covered without touching this file: each is listed in `maint --help`, has examples, takes
 * `--json`, and shows EXAMPLES in its own `--help`.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'bin/run.js');
const manifestFile = path.join(repo, 'oclif.manifest.json');
if (!existsSync(manifestFile)) throw new Error('oclif.manifest.json is missing: run `npm run build` first');

interface ManifestCommand {
  id: string;
  summary?: string;
  description?: string;
  examples?: unknown[];
  flags: Record<string, unknown>;
  hidden?: boolean;
}
const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
  commands: Record<string, ManifestCommand>;
};
const commands = Object.values(manifest.commands).filter((c) => !c.hidden);
const ids = commands.map((c) => c.id);

function maint(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: repo, env: { ...process.env, NO_COLOR: '1', COLUMNS: '200' } },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/** Run `fn` over `items`, at most `limit` at a time (two cores, shared). */
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

describe('the command surface', () => {
  it('the manifest has the foundation commands', () => {
    expect(ids).toEqual(expect.arrayContaining(['init', 'schema', 'validate', 'window']));
  });

  it('`maint --help` lists every command (topics for subcommands)', async () => {
    const help = await maint(['--help']);
    expect(help.code).toBe(0);
    const section = help.stdout.slice(help.stdout.indexOf('COMMANDS'));
    for (const id of ids) expect(section, id).toMatch(new RegExp(`^\\s+${id.split(/[: ]/)[0]}\\s`, 'm'));
  });

  it.each(commands.map((c) => [c.id, c] as const))(
    '%s has a summary, a description, examples and --json',
    (_id, c) => {
      expect(c.summary?.length ?? 0).toBeGreaterThan(10);
      expect(c.description?.length ?? 0).toBeGreaterThan(10);
      expect(c.examples?.length ?? 0).toBeGreaterThanOrEqual(1);
      expect(Object.keys(c.flags)).toContain('json');
    },
  );

  it('every command shows EXAMPLES and --json in its --help', async () => {
    const runs = await pool(ids, 4, async (id) => ({ id, run: await maint([...id.split(':'), '--help']) }));
    for (const { id, run } of runs) {
      expect(run.code, `${id} --help: ${run.stderr}`).toBe(0);
      expect(run.stdout, id).toContain('EXAMPLES');
      expect(run.stdout, id).toContain('--json');
      expect(run.stdout, id).toContain(`maint ${id.replace(/:/g, ' ')}`);
    }
  });
});

describe('help examples and typos', () => {
  it('every file an example in any command help names exists in the repository', () => {
    const named: string[] = [];
    for (const c of commands)
      for (const example of c.examples ?? []) {
        const text = typeof example === 'string' ? example : JSON.stringify(example);
        for (const token of text.split(/\s+/))
          if (/^[\w.-]+(\/[\w.-]+)*\.(ya?ml|sql|js|ts|json)$/.test(token) && token.includes('/'))
            named.push(`${c.id}: ${token}`);
      }
    expect(named.length).toBeGreaterThan(10);
    const missing = named.filter((n) => !existsSync(path.join(repo, n.slice(n.indexOf(': ') + 2))));
    expect(missing).toEqual([]);
  });

  it('a mistyped command names the nearest one (exit 2, no prompt)', async () => {
    const r = await maint(['migrat', 'plans/demo.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: "migrat" is not a maint command. Did you mean "migrate"?');
    expect(r.stderr).toContain('hint: Run `maint migrate --help`');
    const sub = await maint(['lokc', 'relase']);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain('Did you mean "lock release"?');
    const none = await maint(['qqqqqq']);
    expect(none.code).toBe(2);
    expect(none.stderr).not.toContain('Did you mean');
    expect(none.stderr).toContain('maint --help');
  });
});
