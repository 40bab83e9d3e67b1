/**
 * Support for the plan-operations integration tests: one small SQL client per engine (so a test
 * reads the same on PostgreSQL and MariaDB), a throw-away plan without a migrations folder, and
 * a registry of everything a test creates so it is removed even when the test fails.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { freshMysql, freshPostgres, mysqlServerUrl, type FreshDatabase } from '../helpers/databases.js';

export type EngineName = 'postgres' | 'mysql';

export interface Sql {
  rows<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  tables(): Promise<string[]>;
  /** The time ANALYZE last ran on `table` (PostgreSQL), or its persistent row estimate (MariaDB). */
  analyzed(table: string): Promise<{ at: Date | null; rows: number | null }>;
  now(): Promise<Date>;
}

const cleanups: Array<() => Promise<unknown>> = [];

/** Remove what the tests created, newest first; call from afterEach. */
export async function cleanUp(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
}

export async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'maint-ops-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function freshDatabase(engine: EngineName): Promise<{ db: FreshDatabase; sql: Sql }> {
  const db = engine === 'postgres' ? await freshPostgres() : await freshMysql();
  cleanups.push(() => db.drop());
  const sql = engine === 'postgres' ? await pgSql(db) : await mysqlSql(db);
  return { db, sql };
}

async function pgSql(db: FreshDatabase): Promise<Sql> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  cleanups.push(() => client.end());
  const rows = async <R>(text: string, params: unknown[] = []) =>
    (await client.query(text, params)).rows as R[];
  return {
    rows,
    tables: async () =>
      (
        await rows<{ t: string }>(
          "select table_name as t from information_schema.tables where table_schema = 'public' order by 1",
        )
      ).map((r) => r.t),
    analyzed: async (table) => {
      const [r] = await rows<{ at: Date | null }>(
        'select last_analyze as at from pg_stat_user_tables where relname = $1',
        [table],
      );
      return { at: r?.at ?? null, rows: null };
    },
    now: async () => (await rows<{ now: Date }>('select now() as now'))[0]!.now,
  };
}

async function mysqlSql(db: FreshDatabase): Promise<Sql> {
  const conn = await mysql.createConnection({ uri: db.url });
  cleanups.push(() => conn.end());
  const rows = async <R>(text: string, params: unknown[] = []) => (await conn.query(text, params))[0] as R[];
  return {
    rows,
    tables: async () =>
      (
        await rows<{ t: string }>(
          'select table_name as t from information_schema.tables where table_schema = database() order by 1',
        )
      ).map((r) => r.t),
    analyzed: async (table) => {
      const [r] = await rows<{ at: Date; n: number }>(
        'select last_update as at, n_rows as n from mysql.innodb_table_stats where database_name = ? and table_name = ?',
        [db.name, table],
      );
      return { at: r?.at ?? null, rows: r ? Number(r.n) : null };
    },
    now: async () => (await rows<{ now: Date }>('select now() as now'))[0]!.now,
  };
}

/**
 * A URL for `db` whose password is `password`. PostgreSQL trusts local connections, so any
 * password works; on MariaDB a user with that password is created for the test's database.
 */
export async function urlWithPassword(
  engine: EngineName,
  db: FreshDatabase,
  password: string,
): Promise<string> {
  const url = new URL(db.url);
  if (engine === 'mysql') {
    const user = `mt_${randomBytes(4).toString('hex')}`;
    const admin = await mysql.createConnection({ uri: await mysqlServerUrl() });
    try {
      for (const host of ['%', 'localhost', '127.0.0.1']) {
        await admin.query('create user ?@? identified by ?', [user, host, password]);
        await admin.query(`grant all on \`${db.name}\`.* to ?@?`, [user, host]);
      }
    } finally {
      await admin.end();
    }
    cleanups.push(async () => {
      const c = await mysql.createConnection({ uri: await mysqlServerUrl() });
      try {
        for (const host of ['%', 'localhost', '127.0.0.1'])
          await c.query('drop user if exists ?@?', [user, host]);
      } finally {
        await c.end();
      }
    });
    url.username = user;
  }
  url.password = password;
  return url.toString();
}

/** A table created by an SQL operation, with three rows; MariaDB keeps its statistics for ANALYZE only. */
export function createThings(engine: EngineName): string {
  const options = engine === 'mysql' ? ' engine=InnoDB stats_persistent=1 stats_auto_recalc=0' : '';
  return `create table things (id integer primary key, label varchar(20))${options}; insert into things values (1, 'a'), (2, 'b'), (3, 'c')`;
}

export interface OpsPlan {
  dir: string;
  file: string;
  bannerYaml: string;
  bannerJson: string;
}

/** A plan without a migrations folder: `operations` and `rest` are YAML (top-level keys). */
export async function writeOpsPlan(
  engine: EngineName,
  url: string,
  operations: string,
  rest = '',
): Promise<OpsPlan> {
  const dir = await scratchDir();
  const file = path.join(dir, 'plan.yaml');
  await writeFile(
    file,
    `version: 1
name: ops-test
window: { timezone: UTC, days: [daily], start: "00:00", duration: 24h }
database:
  engine: ${engine}
  url: "${url}"
post:
  analyze: true
notify:
  banner:
    - file: site/_data/banner_notification.yml
    - file: site/data/maintenance.json
operations:
${operations}
${rest}`,
  );
  return {
    dir,
    file,
    bannerYaml: path.join(dir, 'site/_data/banner_notification.yml'),
    bannerJson: path.join(dir, 'site/data/maintenance.json'),
  };
}
