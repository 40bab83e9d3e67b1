import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { json, runCli, writePlan } from '../helpers/run-cli.js';

const ORDERS = {
  '001_create_orders.sql':
    'create table "orders" ("id" integer primary key, "customer" text not null);\ninsert into "orders" values (1, \'ada\'), (2, \'grace\'), (3, \'linus\');',
  '001_create_orders.down.sql': 'drop table "orders";',
  '002_add_status.sql': 'alter table "orders" add column "status" text not null default \'paid\';',
  '002_add_status.down.sql': 'alter table "orders" drop column "status";',
  '003_customers.sql':
    'create table "customers" ("name" text primary key);\ninsert into "customers" select distinct "customer" from "orders";',
  '003_customers.down.sql': 'drop table "customers";',
};

const dbs: FreshDatabase[] = [];
const clients: pg.Client[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.end().catch(() => undefined);
  for (const s of servers.splice(0)) s.close();
  for (const d of dbs.splice(0)) await d.drop();
});

async function fresh(): Promise<{ db: FreshDatabase; sql: pg.Client }> {
  const db = await freshPostgres();
  dbs.push(db);
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  clients.push(sql);
  return { db, sql };
}

const tables = async (sql: pg.Client) =>
  (
    await sql.query<{ t: string }>(
      "select table_name as t from information_schema.tables where table_schema = 'public' order by 1",
    )
  ).rows.map((r) => r.t);

describe('maint run on PostgreSQL', () => {
  it('runs the whole plan: migrations, fresh VACUUM ANALYZE of every user table, checks, banner off', async () => {
    const { db, sql } = await fresh();
    const plan = await writePlan({
      engine: 'postgres',
      url: db.url,
      migrations: ORDERS,
      extra:
        'post:\n  analyze: true\nchecks:\n  - name: orders are there\n    sql: select count(*) from orders\n    expect: 3\n',
    });
    const before = (await sql.query<{ now: Date }>('select now() as now')).rows[0]!.now;
    const r = await runCli(['run', plan.file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = json<{
      status: string;
      runId: string;
      steps: Array<{ name: string; status: string; durationMs: number }>;
      error: unknown;
      applied: string[];
    }>(r);
    expect(out.status).toBe('completed');
    expect(out.error).toBeNull();
    expect(out.steps.map((s) => s.name)).toEqual([
      'lock',
      'banner:active',
      'baseline',
      'migrate',
      'analyze',
      'checks',
      'banner:off',
    ]);
    expect(out.steps.every((s) => s.status === 'done' && typeof s.durationMs === 'number')).toBe(true);
    expect(out.applied).toEqual(['001_create_orders', '002_add_status', '003_customers']);

    const user = await tables(sql);
    expect(user).toEqual(expect.arrayContaining(['orders', 'customers', 'maint_runs', 'maint_run_steps']));
    const stats = (
      await sql.query<{ relname: string; last_vacuum: Date | null; last_analyze: Date | null }>(
        'select relname, last_vacuum, last_analyze from pg_stat_user_tables',
      )
    ).rows;
    expect(stats.map((s) => s.relname).sort()).toEqual([...user].sort());
    for (const s of stats) {
      expect(s.last_vacuum, `${s.relname} vacuumed`).not.toBeNull();
      expect(s.last_analyze!.getTime(), `${s.relname} analyzed`).toBeGreaterThanOrEqual(before.getTime());
      expect(s.last_vacuum!.getTime()).toBeGreaterThanOrEqual(before.getTime());
    }
    // The journal has the run and its analyze duration (which feeds later estimates).
    const run = (await sql.query('select * from "maint_runs" where "run_id" = $1', [out.runId])).rows[0];
    expect(run).toMatchObject({ status: 'completed', plan: 'orders' });
    const steps = (
      await sql.query(
        'select "name", "status", "duration_ms" from "maint_run_steps" where "run_id" = $1 order by "seq"',
        [out.runId],
      )
    ).rows;
    expect(steps.find((s) => s.name === 'analyze')).toMatchObject({
      status: 'done',
      duration_ms: expect.any(Number),
    });
    const banner = await readFile(plan.bannerYaml, 'utf8');
    expect(banner).toMatch(/^enabled: false$/m);
    expect(JSON.parse(await readFile(plan.bannerJson, 'utf8'))).toMatchObject({
      enabled: false,
      state: 'off',
    });

    const again = await runCli(['run', plan.file]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing is pending');
  });

  it('outside the window: exit 3, no migration, banner untouched, next window printed; --emergency runs and journals the reason', async () => {
    const { db, sql } = await fresh();
    const received: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(body);
        res.writeHead(204).end();
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const plan = await writePlan({
      engine: 'postgres',
      url: db.url,
      migrations: ORDERS,
      window: '  timezone: Europe/Paris\n  days: [sun]\n  start: "21:00"\n  duration: 2h',
      extra: `notify:\n  banner:\n    file: site/_data/banner_notification.yml\n  channels:\n    - { type: webhook, url: "http://127.0.0.1:${port}/hook" }\n`,
      banner: false,
    });
    await mkdir(path.dirname(plan.bannerYaml), { recursive: true });
    await writeFile(plan.bannerYaml, 'enabled: false\ntext: "untouched"\n');
    const env = { MAINT_NOW: '2026-11-25T12:00:00Z' };

    const refused = await runCli(['run', plan.file], env);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('next window: 2026-11-29T20:00:00.000Z');
    expect(refused.stderr).toContain('Sun 29 Nov 2026 21:00');
    expect(await tables(sql)).toEqual([]);
    expect(await readFile(plan.bannerYaml, 'utf8')).toBe('enabled: false\ntext: "untouched"\n');
    expect(received).toEqual([]);

    const refusedJson = json<{ status: string; error: { code: string } }>(
      await runCli(['run', plan.file, '--json'], env),
    );
    expect(refusedJson).toMatchObject({ status: 'refused', error: { code: 'WINDOW_CLOSED' } });

    const noReason = await runCli(['run', plan.file, '--emergency'], env);
    expect(noReason.code).toBe(2);

    const emergency = await runCli(
      ['run', plan.file, '--emergency', '--reason', 'INC-42 disk almost full', '--json'],
      env,
    );
    expect(emergency.code, emergency.stderr).toBe(0);
    const out = json<{
      runId: string;
      emergency: { reason: string };
      notifications: Array<{ event: string; ok: boolean }>;
    }>(emergency);
    expect(out.emergency).toEqual({ reason: 'INC-42 disk almost full' });
    const row = (
      await sql.query('select "emergency_reason" from "maint_runs" where "run_id" = $1', [out.runId])
    ).rows[0];
    expect(row.emergency_reason).toBe('INC-42 disk almost full');
    expect(out.notifications.map((n) => [n.event, n.ok])).toEqual([
      ['maintenance_started', true],
      ['maintenance_completed', true],
    ]);
    const started = received
      .map((b) => JSON.parse(b) as Record<string, unknown>)
      .find((b) => JSON.stringify(b).includes('maintenance_started'));
    expect(JSON.stringify(started)).toContain('INC-42 disk almost full');
    expect(await tables(sql)).toEqual(expect.arrayContaining(['orders', 'customers']));
  });

  it('refuses with exit 3 when 10 minutes are left and the estimate is 30 minutes', async () => {
    const { db, sql } = await fresh();
    const plan = await writePlan({
      engine: 'postgres',
      url: db.url,
      migrations: ORDERS,
      extra: 'estimate: 30m\n',
    });
    const r = await runCli(['run', plan.file, '--json'], { MAINT_NOW: '2026-11-29T23:50:00Z' });
    expect(r.code).toBe(3);
    const out = json<{ error: { code: string; message: string } }>(r);
    expect(out.error.code).toBe('WINDOW_TOO_SHORT');
    // MAINT_NOW pins the start; a slow process start on a loaded machine may cost a second.
    expect(out.error.message).toMatch(/\b(10m|9m5\ds) left/);
    expect(await tables(sql)).toEqual([]);
    await expect(readFile(plan.bannerYaml, 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('cancels a migration still running when the window ends, rolls back, turns the banner off and journals why', async () => {
    const { db, sql } = await fresh();
    const plan = await writePlan({
      engine: 'postgres',
      url: db.url,
      migrations: {
        '001_create_orders.sql': ORDERS['001_create_orders.sql'],
        '001_create_orders.down.sql': ORDERS['001_create_orders.down.sql'],
        '002_slow.sql': 'select pg_sleep(120);',
        '002_slow.down.sql': 'select 1;',
      },
      extra: 'estimate: 1s\n',
    });
    const started = Date.now();
    const r = await runCli(['run', plan.file, '--json'], { MAINT_NOW: '2026-11-29T23:59:52Z' });
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(r.code, r.stderr).toBe(3);
    const out = json<{
      runId: string;
      status: string;
      error: { code: string };
      steps: Array<{ name: string; status: string }>;
    }>(r);
    expect(out.status).toBe('rescheduled');
    expect(out.error.code).toBe('WINDOW_ENDED');
    expect(out.steps.find((s) => s.name === 'migrate')!.status).toBe('rolled_back');
    expect((await tables(sql)).filter((t) => !t.startsWith('maint_'))).toEqual([]);
    const sleeping = await sql.query(
      "select count(*)::int as n from pg_stat_activity where query like '%pg_sleep(120)%' and pid <> pg_backend_pid()",
    );
    expect(sleeping.rows[0].n).toBe(0);
    expect(await readFile(plan.bannerYaml, 'utf8')).toMatch(/^enabled: false$/m);
    const run = (
      await sql.query('select "status", "note" from "maint_runs" where "run_id" = $1', [out.runId])
    ).rows[0];
    expect(run.status).toBe('rescheduled');
    expect(run.note).toMatch(/window ended .* cancelled/);
  });

  it('a failing integrity check runs the down migrations: exit 5, schema and data as before', async () => {
    const { db, sql } = await fresh();
    const plan = await writePlan({
      engine: 'postgres',
      url: db.url,
      migrations: {
        '001_create_orders.sql': ORDERS['001_create_orders.sql'],
        '001_create_orders.down.sql': ORDERS['001_create_orders.down.sql'],
      },
    });
    // 001 is applied by a first run; the check then guards the second run, which loses a row.
    expect((await runCli(['run', plan.file])).code).toBe(0);
    await writeFile(
      plan.file,
      (await readFile(plan.file, 'utf8')) +
        'checks:\n  - name: no orders lost\n    sql: select count(*) from orders\n    expect: unchanged\n',
    );
    await writeFile(
      path.join(plan.migrationsDir, '002_archive_first.sql'),
      'create table "orders_archive" as select * from "orders" where "id" = 1;\ndelete from "orders" where "id" = 1;\nalter table "orders" add column "note" text;',
    );
    await writeFile(
      path.join(plan.migrationsDir, '002_archive_first.down.sql'),
      'alter table "orders" drop column "note";\ninsert into "orders" select * from "orders_archive";\ndrop table "orders_archive";',
    );
    const snapshot = async () => ({
      columns: (
        await sql.query(
          "select table_name, column_name, data_type from information_schema.columns where table_schema = 'public' and table_name not like 'maint_%' order by 1, 2",
        )
      ).rows,
      orders: (await sql.query('select * from "orders" order by "id"')).rows,
    });
    const before = await snapshot();
    const r = await runCli(['run', plan.file, '--json']);
    expect(r.code, r.stderr).toBe(5);
    const out = json<{ status: string; error: { code: string; message: string } }>(r);
    expect(out.status).toBe('rolled_back');
    expect(out.error.code).toBe('CHECK_FAILED');
    expect(out.error.message).toContain('expected unchanged (3), got 2');
    expect(await snapshot()).toEqual(before);
    expect(await readFile(plan.bannerYaml, 'utf8')).toMatch(/^enabled: false$/m);
  });

  it('journals the lint rules a migration of the run suppresses, with the reason and the place', async () => {
    const { db, sql } = await fresh();
    const plan = await writePlan({
      engine: 'postgres',
      url: db.url,
      migrations: {
        ...ORDERS,
        '004_orders_customer_idx.sql':
          '-- maint:lint-ignore require-concurrent-index-creation orders has three rows\ncreate index "orders_customer_idx" on "orders" ("customer");',
      },
    });
    const r = await runCli(['run', plan.file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { runId } = json<{ runId: string }>(r);
    const row = (
      await sql.query<{ state: string }>('select "state" from "maint_runs" where "run_id" = $1', [runId])
    ).rows[0]!;
    expect((JSON.parse(row.state) as Record<string, unknown>)['lint.suppressed']).toEqual([
      {
        rule: 'require-concurrent-index-creation',
        reason: 'orders has three rows',
        file: 'migrations/004_orders_customer_idx.sql',
        line: 2,
        col: 1,
      },
    ]);
  });
});
