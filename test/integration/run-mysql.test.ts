import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { afterEach, describe, expect, it } from 'vitest';
import { freshMysql, type FreshDatabase } from '../helpers/databases.js';
import { json, runCli, writePlan } from '../helpers/run-cli.js';

const ROWS = Array.from({ length: 50 }, (_, i) => `(${i + 1}, 'c${i % 7}')`).join(', ');
// Automatic statistics are off for these tables, so only ANALYZE TABLE can count their rows.
const MIGRATIONS = {
  '001_create_orders.sql': `create table \`orders\` (\`id\` integer primary key, \`customer\` varchar(20) not null) engine=InnoDB stats_persistent=1 stats_auto_recalc=0;\ninsert into \`orders\` values ${ROWS};`,
  '001_create_orders.down.sql': 'drop table `orders`;',
  '002_customers.sql':
    'create table `customers` (`name` varchar(20) primary key) engine=InnoDB stats_persistent=1 stats_auto_recalc=0;\ninsert into `customers` select distinct `customer` from `orders`;',
  '002_customers.down.sql': 'drop table `customers`;',
};

const dbs: FreshDatabase[] = [];
const conns: mysql.Connection[] = [];
afterEach(async () => {
  for (const c of conns.splice(0)) await c.end().catch(() => undefined);
  for (const d of dbs.splice(0)) await d.drop();
});

async function fresh(): Promise<{ db: FreshDatabase; sql: mysql.Connection }> {
  const db = await freshMysql();
  dbs.push(db);
  const sql = await mysql.createConnection({ uri: db.url });
  conns.push(sql);
  return { db, sql };
}

describe('maint run on MariaDB', () => {
  it("runs the whole plan and ANALYZE TABLE refreshes the migrated tables' statistics", async () => {
    const { db, sql } = await fresh();
    const plan = await writePlan({
      engine: 'mysql',
      url: db.url,
      migrations: MIGRATIONS,
      extra:
        'post:\n  analyze: true\nchecks:\n  - name: orders are there\n    sql: select count(*) from orders\n    expect: ">= 50"\n',
    });
    const [[{ now: before }]] = (await sql.query('select now() as now')) as unknown as [[{ now: Date }]];
    const r = await runCli(['run', plan.file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = json<{ status: string; runId: string; steps: Array<{ name: string; status: string }> }>(r);
    expect(out.status).toBe('completed');
    expect(out.steps.map((s) => [s.name, s.status])).toContainEqual(['analyze', 'done']);

    const [stats] = (await sql.query(
      'select table_name, n_rows, last_update from mysql.innodb_table_stats where database_name = ? and table_name in (?, ?) order by 1',
      [db.name, 'customers', 'orders'],
    )) as unknown as [Array<{ table_name: string; n_rows: number; last_update: Date }>];
    expect(stats.map((s) => [s.table_name, Number(s.n_rows)])).toEqual([
      ['customers', 7],
      ['orders', 50],
    ]);
    for (const s of stats) expect(s.last_update.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
    // The journal recorded which tables were analyzed and how long it took.
    const [[step]] = (await sql.query(
      'select `detail`, `duration_ms` from `maint_run_steps` where `run_id` = ? and `name` = ?',
      [out.runId, 'analyze'],
    )) as unknown as [[{ detail: string; duration_ms: number }]];
    expect(JSON.parse(step.detail).tables).toEqual(expect.arrayContaining(['orders', 'customers']));
    expect(typeof step.duration_ms).toBe('number');
    expect(await readFile(plan.bannerYaml, 'utf8')).toMatch(/^enabled: false$/m);

    const again = await runCli(['run', plan.file]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing is pending');
  });

  it('a failing integrity check runs the down migrations: exit 5, tables and rows as before', async () => {
    const { db, sql } = await fresh();
    const plan = await writePlan({
      engine: 'mysql',
      url: db.url,
      migrations: {
        '001_create_orders.sql': MIGRATIONS['001_create_orders.sql'],
        '001_create_orders.down.sql': MIGRATIONS['001_create_orders.down.sql'],
      },
    });
    expect((await runCli(['run', plan.file])).code).toBe(0);
    await writeFile(
      plan.file,
      (await readFile(plan.file, 'utf8')) +
        'checks:\n  - name: no orders lost\n    sql: select count(*) from orders\n    expect: unchanged\n',
    );
    await writeFile(
      path.join(plan.migrationsDir, '002_trim.sql'),
      'create table `orders_trimmed` as select * from `orders` where `id` > 45;\ndelete from `orders` where `id` > 45;',
    );
    await writeFile(
      path.join(plan.migrationsDir, '002_trim.down.sql'),
      'insert into `orders` select * from `orders_trimmed`;\ndrop table `orders_trimmed`;',
    );
    const snapshot = async () => ({
      tables: (
        (await sql.query(
          "select table_name as t from information_schema.tables where table_schema = database() and table_name not like 'maint\\_%' order by 1",
        )) as unknown as [Array<{ t: string }>]
      )[0],
      orders: ((await sql.query('select * from `orders` order by `id`')) as unknown as [unknown[]])[0],
    });
    const before = await snapshot();
    const r = await runCli(['run', plan.file, '--json']);
    expect(r.code, r.stderr).toBe(5);
    expect(json<{ error: { code: string } }>(r).error.code).toBe('CHECK_FAILED');
    expect(await snapshot()).toEqual(before);
  });
});
