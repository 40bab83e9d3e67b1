// umzug through its API (what an application's migrate script does): SQL files, a storage table
// in the same database, one connection. Usage: BENCH_URL=... BENCH_DIR=... node umzug-up.mjs
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Umzug } from 'umzug';

const url = process.env.BENCH_URL;
const dir = process.env.BENCH_DIR;
const mysql = url.startsWith('mysql');
let query;
let end;
if (mysql) {
  const { default: m } = await import('mysql2/promise');
  const conn = await m.createConnection({ uri: url, multipleStatements: true });
  query = async (sql, params) => (await conn.query(sql, params))[0];
  end = () => conn.end();
} else {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  query = async (sql, params) => (await client.query(sql, params)).rows;
  end = () => client.end();
}
const p = (i) => (mysql ? '?' : `$${i}`);
await query('create table if not exists umzug_meta (name varchar(255) primary key)');
const umzug = new Umzug({
  migrations: {
    glob: ['*.sql', { cwd: dir }],
    resolve: ({ name, path: file }) => ({
      name,
      up: async () => query(await readFile(file, 'utf8')),
    }),
  },
  storage: {
    executed: async () => (await query('select name from umzug_meta order by name')).map((r) => r.name),
    logMigration: async ({ name }) =>
      void (await query(`insert into umzug_meta (name) values (${p(1)})`, [name])),
    unlogMigration: async ({ name }) =>
      void (await query(`delete from umzug_meta where name = ${p(1)}`, [name])),
  },
  logger: undefined,
});
await umzug.up();
await end();
void path;
