/**
 * `db.query` in JS migrations gives the row count too (issue 9): a batched backfill, the most
 * common JS migration, loops until an UPDATE writes no row. Real `maint migrate` processes on
 * PostgreSQL, MariaDB and PGlite; the rows stay a plain array (`rows[0].n` still works).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/index.js';
import { freshMysql, freshPostgres } from '../helpers/databases.js';
import { runCli, writePlan } from './migrate-support.js';

const ROWS = 250;
const BATCH = 100;

// One batch: PostgreSQL has no UPDATE … LIMIT, MySQL/MariaDB has; placeholders differ too.
const SQL = {
  postgres: {
    batch: `update orders set status = 'new' where id in (select id from orders where status is null order by id limit ${BATCH})`,
    log: 'insert into batches (batch, written, returned) values ($1, $2, $3)',
  },
  mysql: {
    batch: `update orders set status = 'new' where status is null order by id limit ${BATCH}`,
    log: 'insert into batches (batch, written, returned) values (?, ?, ?)',
  },
};

function backfill(dialect: 'postgres' | 'mysql'): string {
  const sql = SQL[dialect];
  return `export const transaction = false;
export async function up({ db }) {
  const before = await db.query('select count(*) as n from orders where status is null');
  if (!Array.isArray(before) || before.rowCount !== 1)
    throw new Error('select: rows ' + JSON.stringify(before) + ', rowCount ' + before.rowCount);
  for (let batch = 1; ; batch++) {
    // Without a count this loop could not end: the guard turns that into a failure.
    if (batch > 20) throw new Error('rowCount never reached 0');
    const result = await db.query(${JSON.stringify(sql.batch)});
    await db.query(${JSON.stringify(sql.log)}, [batch, result.rowCount, result.length]);
    if (result.rowCount === 0) break;
  }
}
`;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const values = Array.from({ length: ROWS }, (_, i) => `(${i + 1})`).join(', ');
const migrations = (dialect: 'postgres' | 'mysql') => ({
  '001_orders.sql': `create table orders (id integer primary key, status varchar(10));\ninsert into orders (id) values ${values};\ncreate table batches (batch integer primary key, written integer, returned integer);\n`,
  '001_orders.down.sql': 'drop table batches;\ndrop table orders;\n',
  '002_backfill.js': backfill(dialect),
});

const targets = [
  {
    name: 'PostgreSQL',
    dialect: 'postgres',
    setup: async () => {
      const db = await freshPostgres();
      cleanups.push(() => db.drop());
      return { engine: 'postgres' as const, url: db.url };
    },
  },
  {
    name: 'MariaDB',
    dialect: 'mysql',
    setup: async () => {
      const db = await freshMysql();
      cleanups.push(() => db.drop());
      return { engine: 'mysql' as const, url: db.url };
    },
  },
  {
    name: 'PGlite',
    dialect: 'postgres',
    setup: async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'maint-pglite-'));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      return { engine: 'pglite' as const, url: path.join(dir, 'data') };
    },
  },
] as const;

describe.each(targets)('JS migration row count on $name', ({ dialect, setup }) => {
  it('a batched backfill loops until rowCount is 0, and rowCount counts the rows written', async () => {
    const { engine, url } = await setup();
    const { dir, plan } = await writePlan({ engine, url, migrations: migrations(dialect) });
    const r = await runCli(['migrate', plan, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const db = await openDatabase({ engine, url }, dir);
    cleanups.push(() => db.close());
    const batches = await db.query<{ batch: number; written: number; returned: number }>(
      'select batch, written, returned from batches order by batch',
    );
    // 250 rows in batches of 100: 100, 100, 50, then an UPDATE that writes nothing ends the loop.
    expect(batches.map((b) => [Number(b.batch), Number(b.written), Number(b.returned)])).toEqual([
      [1, 100, 0],
      [2, 100, 0],
      [3, 50, 0],
      [4, 0, 0],
    ]);
    const left = await db.query<{ n: number | string }>(
      'select count(*) as n from orders where status is null',
    );
    expect(Number(left[0]!.n)).toBe(0);
    // The array itself is unchanged: rowCount does not show among its entries.
    expect(Object.keys(left)).toEqual(['0']);
    expect(left.rowCount).toBe(1);
  });

  it('a backfill failing after two batches says what it left, not "rolled back"', async () => {
    const { engine, url } = await setup();
    const failing = migrations(dialect);
    failing['002_backfill.js'] = failing['002_backfill.js'].replace(
      'if (batch > 20)',
      "if (batch === 3) throw new Error('batch 3 broke');\n    if (batch > 20)",
    );
    const { dir, plan } = await writePlan({ engine, url, migrations: failing });
    const r = await runCli(['migrate', plan, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(5);
    const out = JSON.parse(r.stdout) as { error: { code: string; message: string; hint: string } };
    expect(out.error.code).toBe('MIGRATION_FAILED');
    // Two batches were committed: the message must not claim they were undone.
    expect(out.error.message).not.toMatch(/rolled back/);
    expect(out.error.message).toContain('migrations/002_backfill.js failed in up(), outside a transaction');
    expect(out.error.message).toContain('batch 3 broke');
    expect(out.error.message).toContain('what it wrote before the failure stays');
    expect(out.error.hint).toMatch(/runs again from its start/);
    const db = await openDatabase({ engine, url }, dir);
    cleanups.push(() => db.close());
    const done = await db.query<{ n: number | string }>(
      "select count(*) as n from orders where status = 'new'",
    );
    expect(Number(done[0]!.n)).toBe(2 * BATCH);
  });
});

describe('maint run with a JS migration that fails outside a transaction (PostgreSQL)', () => {
  it('the rolled-back event says what stays instead of "nothing changed"', async () => {
    const db = await freshPostgres();
    cleanups.push(() => db.drop());
    const all = migrations('postgres');
    const failing = all['002_backfill.js'].replace(
      'if (batch > 20)',
      "if (batch === 3) throw new Error('batch 3 broke');\n    if (batch > 20)",
    );
    const { dir, plan } = await writePlan({
      engine: 'postgres',
      url: db.url,
      migrations: {
        '001_orders.sql': all['001_orders.sql'],
        '001_orders.down.sql': all['001_orders.down.sql'],
      },
    });
    // The table exists before the run (an earlier release made it): the rollback keeps it.
    const now = { MAINT_NOW: '2026-12-01T10:00:00Z' };
    expect((await runCli(['migrate', plan], now)).code).toBe(0);
    await writeFile(path.join(dir, 'migrations', '002_backfill.js'), failing);
    const r = await runCli(['run', plan], now);
    expect(r.code, r.stdout + r.stderr).toBe(5);
    expect(r.stdout).toContain(
      'was rolled back, except what 002_backfill wrote outside a transaction before it failed: that stays.',
    );
    expect(r.stdout + r.stderr).not.toContain('nothing changed');
    const conn = await openDatabase({ engine: 'postgres', url: db.url }, dir);
    cleanups.push(() => conn.close());
    const done = await conn.query<{ n: string }>("select count(*) as n from orders where status = 'new'");
    expect(Number(done[0]!.n)).toBe(2 * BATCH);
  });
});
