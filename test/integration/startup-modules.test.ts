/**
 * Acceptance 5: `maint --version` and `maint window` never load the PostgreSQL parser (nor the
 * lint rules); `maint lint` does. Issue 14: the container entrypoint (`maint migrate`) loads
 * neither umzug's own CLI (@rushstack/*), nor luxon, nor the clone methods, and with nothing
 * pending not umzug at all. A preload records every module the real process loads.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { REPO, runCli, writePlan, type WrittenPlan } from '../helpers/run-cli.js';

const REGISTER = path.join(REPO, 'test/fixtures/module-log/register.mjs');
const PARSER = /node_modules\/libpg-query\//;
const LINT = /\/dist\/lint\//;
const UMZUG_CLI = /node_modules\/@rushstack\/|node_modules\/argparse\/|node_modules\/z-schema\//;
const UMZUG = /node_modules\/umzug\//;
const LUXON = /node_modules\/luxon\//;
const CLONE = /\/dist\/clone\//;
/** Issue 14: a valid plan is checked by the generated validator; zod only explains an invalid one. */
const ZOD = /node_modules\/zod\//;

describe('start-up does not load the parser', () => {
  let dir: string;
  let plan: WrittenPlan;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'maint-modules-'));
    plan = await writePlan(
      {
        engine: 'postgres',
        url: 'postgres://nobody@127.0.0.1:1/none',
        migrations: { '001_index.sql': 'CREATE INDEX i ON orders (c);\n' },
        banner: false,
      },
      path.join(dir, 'plan'),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function modulesOf(
    name: string,
    args: string[],
  ): Promise<{ code: number | null; modules: string[] }> {
    const log = path.join(dir, `${name}.log`);
    const r = await runCli(args, { MAINT_MODULE_LOG: log, NODE_OPTIONS: `--import=${REGISTER}` });
    const modules = (await readFile(log, 'utf8')).split('\n').filter(Boolean);
    return { code: r.code, modules };
  }

  it('maint --version and maint window load neither libpg-query nor the lint modules', async () => {
    for (const [name, args] of [
      // `--version` with a further argument takes oclif's path (see the test below).
      ['version', ['--version', 'oclif']],
      ['window', ['window', plan.file, '--json']],
    ] as const) {
      const { code, modules } = await modulesOf(name, [...args]);
      expect(code, name).toBe(0);
      // The log is real: it saw the CLI's own modules.
      expect(
        modules.some((m) => m.includes('/dist/')),
        name,
      ).toBe(true);
      expect(
        modules.filter((m) => PARSER.test(m) || LINT.test(m) || ZOD.test(m)),
        name,
      ).toEqual([]);
    }
  });

  it('a valid plan is checked without zod; an invalid one loads it to explain the problem', async () => {
    const valid = await modulesOf('validate', ['validate', plan.file]);
    expect(valid.code).toBe(0);
    expect(valid.modules.some((m) => /\/dist\/generated\/plan-validator\.js/.test(m))).toBe(true);
    expect(valid.modules.filter((m) => ZOD.test(m))).toEqual([]);

    const bad = path.join(dir, 'bad.yaml');
    await writeFile(bad, (await readFile(plan.file, 'utf8')).replace(/^name: .*$/m, 'name: Not_A_Name'));
    const invalid = await modulesOf('validate-bad', ['validate', bad]);
    expect(invalid.code).toBe(2);
    expect(invalid.modules.some((m) => ZOD.test(m))).toBe(true);
  });

  it('maint --version alone prints what oclif prints, without loading @oclif/core', async () => {
    const log = path.join(dir, 'fast-version.log');
    const env = { MAINT_MODULE_LOG: log, NODE_OPTIONS: `--import=${REGISTER}` };
    const fast = await runCli(['--version'], env);
    // oclif prints the version for `--version` followed by anything: its own path, same text.
    const oclif = await runCli(['--version', 'oclif'], {});
    expect(fast.code).toBe(0);
    expect(oclif.code).toBe(0);
    expect(fast.stdout).toMatch(/^maint\/\d+\.\d+\.\d+ \S+-\S+ node-v\d+/);
    expect(fast.stdout).toBe(oclif.stdout);
    expect(fast.stderr).toBe(oclif.stderr);
    const modules = (await readFile(log, 'utf8')).split('\n').filter(Boolean);
    expect(modules.some((m) => m.endsWith('/bin/run.js'))).toBe(true);
    expect(modules.filter((m) => /node_modules\/@oclif\//.test(m))).toEqual([]);
  });

  it('maint lint loads libpg-query (the check can fail)', async () => {
    const { code, modules } = await modulesOf('lint', ['lint', plan.file, '--offline', '--json']);
    expect(code).toBe(7);
    expect(modules.some((m) => PARSER.test(m))).toBe(true);
  });
});

describe('the container entrypoint loads only what migrating needs', () => {
  let dir: string;
  let db: FreshDatabase;
  let plan: WrittenPlan;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'maint-modules-migrate-'));
    db = await freshPostgres();
    plan = await writePlan(
      {
        engine: 'postgres',
        url: db.url,
        migrations: { '001_orders.sql': 'create table orders (id int primary key);\n' },
        banner: false,
      },
      path.join(dir, 'plan'),
    );
  });
  afterAll(async () => {
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  async function modulesOf(
    name: string,
    args: string[],
  ): Promise<{ code: number | null; modules: string[] }> {
    const log = path.join(dir, `${name}.log`);
    const r = await runCli(args, { MAINT_MODULE_LOG: log, NODE_OPTIONS: `--import=${REGISTER}` });
    const modules = (await readFile(log, 'utf8')).split('\n').filter(Boolean);
    return { code: r.code, modules };
  }

  it('applying: umzug through its API, not its CLI; no luxon, no clone methods', async () => {
    const { code, modules } = await modulesOf('apply', ['migrate', plan.file, '--json']);
    expect(code).toBe(0);
    // The log is real: umzug ran the migration.
    expect(modules.some((m) => UMZUG.test(m))).toBe(true);
    expect(modules.filter((m) => UMZUG_CLI.test(m) || LUXON.test(m) || CLONE.test(m))).toEqual([]);
  });

  it('nothing pending (every container start but the first), with and without --wait: not even umzug', async () => {
    for (const args of [
      ['migrate', plan.file, '--json'],
      ['migrate', plan.file, '--wait', '--json'],
    ]) {
      const { code, modules } = await modulesOf(`noop${args.length}`, args);
      expect(code, args.join(' ')).toBe(0);
      expect(
        modules.some((m) => /node_modules\/pg\//.test(m)),
        args.join(' '),
      ).toBe(true);
      expect(
        modules.filter(
          (m) => UMZUG.test(m) || UMZUG_CLI.test(m) || LUXON.test(m) || CLONE.test(m) || ZOD.test(m),
        ),
        args.join(' '),
      ).toEqual([]);
    }
  });
});
