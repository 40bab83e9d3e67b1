/**
 * A failing PostgreSQL migration names the statement and its file:line, never the `begin;` of
 * the one-round-trip script it travelled in; CREATE INDEX CONCURRENTLY in a transactional file
 * gets a hint naming `-- maint:no-transaction`. Built CLI, real PostgreSQL.
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { json, runCli, writePlan } from '../helpers/run-cli.js';

const dbs: FreshDatabase[] = [];
const dirs: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const d of dbs.splice(0)) await d.drop();
  for (const c of dirs.splice(0)) await c();
});

interface MigrateJson {
  status: string;
  error: {
    code: string;
    message: string;
    hint: string | null;
    line?: number;
    statementNumber?: number;
    statements?: number;
  } | null;
}

async function migrateWith(
  sql: string,
  command: 'migrate' | 'run' = 'migrate',
): Promise<MigrateJson & { code: number | null; tables: string[] }> {
  const db = await freshPostgres();
  dbs.push(db);
  const plan = await writePlan({
    engine: 'postgres',
    url: db.url,
    migrations: {
      '001_orders.sql': 'create table orders (id int primary key, customer text);',
      // `maint run` rolls 001 back too when 002 fails.
      '001_orders.down.sql': 'drop table orders;',
      '002_more.sql': sql,
    },
  });
  dirs.push(() => rm(plan.dir, { recursive: true, force: true }));
  const r = await runCli([command, plan.file, '--json']);
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ t: string }>(
      "select table_name as t from information_schema.tables where table_schema = 'public' and table_name like 't\\_%' order by 1",
    );
    return { ...json<MigrateJson>(r), code: r.code, tables: rows.map((row) => row.t) };
  } finally {
    await client.end();
  }
}

describe('PostgreSQL migration errors', () => {
  it('name the failing statement and its line, not `(in: begin;)`', async () => {
    const r = await migrateWith(
      '-- add a column, then index it\nalter table orders add column status text;\n\nselect no_such_column from orders;\n',
    );
    expect(r.code).toBe(5);
    expect(r.error?.code).toBe('MIGRATION_FAILED');
    expect(r.error?.message).toContain('migrations/002_more.sql:4');
    expect(r.error?.message).toContain('select no_such_column from orders');
    expect(r.error?.message).not.toContain('(in: begin;)');
    expect(r.error?.line).toBe(4);
  });

  // Runtime errors carry no position: the statement is known from what the server completed.
  it.each([
    {
      what: 'a unique violation',
      sql: 'create table t_a (id int primary key);\ninsert into t_a values (1);\n-- the same id again\ninsert into t_a values (1);\ncreate table t_b (id int);\n',
      line: 4,
      number: 3,
      text: 'insert into t_a values (1)',
      reason: 'duplicate key value violates unique constraint',
    },
    {
      what: 'a check constraint the rows break',
      sql: 'create table t_a (id int);\ninsert into t_a values (1), (2);\nalter table t_a add constraint t_a_big check (id > 5);\n',
      line: 3,
      number: 3,
      text: 'alter table t_a add constraint t_a_big check (id > 5)',
      reason: 'is violated by some row',
    },
    {
      what: 'a division by zero in the first statement',
      sql: 'create table t_a as select 1 / (select count(*) from orders) as x;\ncreate table t_b (id int);\n',
      line: 1,
      number: 1,
      text: 'create table t_a as select 1 / (select count(*) from orders) as x',
      reason: 'division by zero',
    },
  ])(
    'a runtime error ($what) names the statement, its number and file:line',
    async ({ sql, line, number, text, reason }) => {
      const statements = sql.split(';').filter((s) => s.replace(/--.*$/gm, '').trim()).length;
      for (const command of ['migrate', 'run'] as const) {
        const r = await migrateWith(sql, command);
        expect(r.code, command).toBe(5);
        expect(r.error?.code).toBe('MIGRATION_FAILED');
        expect(r.error?.message).toContain(
          `migrations/002_more.sql:${line} (statement ${number} of ${statements}): \`${text}\` failed and the migration was rolled back`,
        );
        expect(r.error?.message).toContain(reason);
        expect(r.error?.message).not.toContain('(in: begin;)');
        expect(r.error).toMatchObject({ line, statementNumber: number, statements });
        // Rolled back: nothing of 002 is left.
        expect(r.tables).toEqual([]);
      }
    },
  );

  it('CREATE INDEX CONCURRENTLY in a transactional file: the hint names -- maint:no-transaction', async () => {
    const r = await migrateWith(
      'alter table orders add column status text;\ncreate index concurrently orders_status on orders (status);\n',
    );
    expect(r.code).toBe(5);
    expect(r.error?.message).toContain('migrations/002_more.sql:2');
    expect(r.error?.message).toContain('cannot run inside a transaction');
    expect(r.error?.message).not.toContain('(in: begin;)');
    expect(r.error?.hint).toContain('-- maint:no-transaction');
  });
});
