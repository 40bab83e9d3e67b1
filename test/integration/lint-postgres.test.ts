/**
 * `maint lint` on a real PostgreSQL server (acceptance 2): the same migration is an error on a
 * ~200 MB table and a warning on an empty one; `maint gate` refuses the first (UNSAFE_MIGRATION)
 * and `maint plan` shows the classification; `--offline` never connects; SARIF on stdout.
 */
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { json, runCli, writePlan, type WrittenPlan } from '../helpers/run-cli.js';

const MIGRATION = 'CREATE INDEX orders_customer_idx ON orders (customer_id);\n';

interface LintJson {
  errors: number;
  warnings: number;
  sizes: string;
  scope: string;
  findings: Array<{
    rule: string;
    severity: string;
    file: string;
    line: number;
    col: number;
    sizeBytes?: number;
  }>;
  files: Array<{ file: string; classification: string }>;
}

describe('maint lint on PostgreSQL with table sizes', () => {
  let big: FreshDatabase;
  let empty: FreshDatabase;
  const plans: WrittenPlan[] = [];
  let bigPlan: WrittenPlan;
  let emptyPlan: WrittenPlan;

  beforeAll(async () => {
    [big, empty] = await Promise.all([freshPostgres(), freshPostgres()]);
    const create = 'create table orders (id bigint primary key, customer_id bigint, pad text)';
    for (const db of [big, empty]) {
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        await c.query(create);
        if (db === big) {
          // ~200 MB: 200k rows of ~1 kB, stored inline (below the TOAST threshold), uncompressed.
          await c.query('set synchronous_commit = off');
          await c.query(
            'insert into orders select g, g % 1000, repeat(md5(g::text), 32) from generate_series(1, 200000) g',
          );
        }
      } finally {
        await c.end();
      }
    }
    bigPlan = await writePlan({
      engine: 'postgres',
      url: big.url,
      migrations: { '001_index.sql': MIGRATION },
      banner: false,
    });
    emptyPlan = await writePlan({
      engine: 'postgres',
      url: empty.url,
      migrations: { '001_index.sql': MIGRATION },
      banner: false,
    });
    plans.push(bigPlan, emptyPlan);
  });

  afterAll(async () => {
    await Promise.all([big?.drop(), empty?.drop()]);
    await Promise.all(plans.map((p) => rm(p.dir, { recursive: true, force: true })));
  });

  it('is an error on the 200 MB table (exit 7) and a warning on the empty one (exit 0)', async () => {
    const onBig = await runCli(['lint', bigPlan.file, '--json']);
    expect(onBig.code, onBig.stderr).toBe(7);
    const b = json<LintJson>(onBig);
    expect(b.sizes).toBe('database');
    expect(b.scope).toBe('pending');
    expect(b.findings).toHaveLength(1);
    expect(b.findings[0]).toMatchObject({
      rule: 'require-concurrent-index-creation',
      severity: 'error',
      file: 'migrations/001_index.sql',
      line: 1,
      col: 1,
    });
    expect(b.findings[0]!.sizeBytes).toBeGreaterThan(190 * 1024 * 1024);

    const onEmpty = await runCli(['lint', emptyPlan.file, '--json']);
    expect(onEmpty.code, onEmpty.stderr).toBe(0);
    const e = json<LintJson>(onEmpty);
    expect(e.findings.map((f) => [f.rule, f.severity, f.line, f.col])).toEqual([
      ['require-concurrent-index-creation', 'warning', 1, 1],
    ]);
    expect(e.findings[0]!.sizeBytes).toBeLessThan(1024 * 1024);
  });

  it('the threshold is a flag: at 1GB the 200 MB table is a warning', async () => {
    const r = await runCli(['lint', bigPlan.file, '--json', '--threshold', '1GB']);
    expect(r.code, r.stderr).toBe(0);
    expect(json<LintJson>(r).findings.map((f) => f.severity)).toEqual(['warning']);
  });

  it('maint gate refuses the unsafe migration on the big table and allows it on the empty one', async () => {
    const refused = await runCli(['gate', bigPlan.file, '--json']);
    expect(refused.code, refused.stderr).toBe(7);
    const g = json<{ allowed: boolean; reason: string; message: string; findings: unknown[] }>(refused);
    expect(g.reason).toBe('UNSAFE_MIGRATION');
    expect(g.message).toContain('migrations/001_index.sql:1:1 require-concurrent-index-creation');
    expect(g.findings).toHaveLength(1);
    const allowed = await runCli(['gate', emptyPlan.file, '--json']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(json<{ reason: string }>(allowed).reason).toBe('ALLOWED');
  });

  it('maint plan shows the classification and the findings', async () => {
    const r = await runCli(['plan', bigPlan.file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('  migrations/001_index.sql: expand');
    expect(r.stdout).toContain('    migrations/001_index.sql:1:1 error require-concurrent-index-creation:');
    const j = await runCli(['plan', emptyPlan.file, '--json']);
    expect(json<{ lint: { migrations: unknown[]; warnings: number } }>(j).lint).toMatchObject({
      migrations: [{ file: 'migrations/001_index.sql', classification: 'expand', classifiedBy: 'parse' }],
      warnings: 1,
    });
  });

  it('--offline lints without connecting (an unreachable URL), with the rules’ own severities', async () => {
    const offline = await writePlan({
      engine: 'postgres',
      url: 'postgres://nobody@127.0.0.1:1/none',
      migrations: { '001_index.sql': MIGRATION, '002_drop.sql': 'ALTER TABLE orders DROP COLUMN pad;\n' },
      banner: false,
    });
    plans.push(offline);
    const r = await runCli(['lint', offline.file, '--offline', '--json']);
    expect(r.code, r.stderr).toBe(7);
    const o = json<LintJson>(r);
    expect(o.sizes).toBe('offline');
    expect(o.files.map((f) => [f.file, f.classification])).toEqual([
      ['migrations/001_index.sql', 'expand'],
      ['migrations/002_drop.sql', 'contract'],
    ]);
    expect(o.findings.map((f) => `${f.file}:${f.line}:${f.col} ${f.severity} ${f.rule}`)).toEqual([
      'migrations/001_index.sql:1:1 error require-concurrent-index-creation',
      'migrations/002_drop.sql:1:1 info require-lock-timeout',
      'migrations/002_drop.sql:1:20 warning ban-drop-column',
    ]);
    // Without --offline the unreachable database is an input error (exit 2), nothing linted.
    const online = await runCli(['lint', offline.file, '--json']);
    expect(online.code).toBe(2);
  });

  it('--format sarif prints SARIF on stdout, and human output names file:line:col and the fix', async () => {
    const sarif = await runCli(['lint', bigPlan.file, '--format', 'sarif'], {}, bigPlan.dir);
    expect(sarif.code).toBe(7);
    const doc = JSON.parse(sarif.stdout) as {
      version: string;
      runs: Array<{
        results: Array<{
          ruleId: string;
          locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }>;
        }>;
      }>;
    };
    expect(doc.version).toBe('2.1.0');
    expect(
      doc.runs[0]!.results.map((r) => [r.ruleId, r.locations[0]!.physicalLocation.artifactLocation.uri]),
    ).toEqual([['require-concurrent-index-creation', 'migrations/001_index.sql']]);
    const human = await runCli(['lint', bigPlan.file]);
    expect(human.stdout).toContain(
      'migrations/001_index.sql:1:1 error require-concurrent-index-creation: CREATE INDEX on orders without CONCURRENTLY',
    );
    expect(human.stdout).toContain('fix: Use CREATE INDEX CONCURRENTLY');
    expect(human.stdout).toContain(
      '1 pending migration linted (table sizes read from the database): 1 error(s), 0 warning(s)',
    );
  });

  it('a bad lint-ignore is exit 2 with its position and a hint', async () => {
    const bad = await writePlan({
      engine: 'postgres',
      url: empty.url,
      migrations: { '001_index.sql': '-- maint:lint-ignore require-concurrent-index-creation\n' + MIGRATION },
      banner: false,
    });
    plans.push(bad);
    const r = await runCli(['lint', bad.file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'migrations/001_index.sql:1:1: maint:lint-ignore require-concurrent-index-creation gives no reason',
    );
    expect(r.stderr).toContain('hint:');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
