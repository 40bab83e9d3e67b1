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
  error: { code: string; message: string; hint: string | null; line?: number } | null;
}

async function migrateWith(sql: string): Promise<MigrateJson & { code: number | null }> {
  const db = await freshPostgres();
  dbs.push(db);
  const plan = await writePlan({
    engine: 'postgres',
    url: db.url,
    migrations: {
      '001_orders.sql': 'create table orders (id int primary key, customer text);',
      '002_more.sql': sql,
    },
  });
  dirs.push(() => rm(plan.dir, { recursive: true, force: true }));
  const r = await runCli(['migrate', plan.file, '--json']);
  return { ...json<MigrateJson>(r), code: r.code };
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
