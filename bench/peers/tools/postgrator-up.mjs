// postgrator through its API (its CLI is a separate package): NNN.do.name.sql files.
// Usage: BENCH_URL=... BENCH_DIR=... node postgrator-up.mjs
import path from 'node:path';
import Postgrator from 'postgrator';

const url = process.env.BENCH_URL;
const dir = process.env.BENCH_DIR;
const mysql = url.startsWith('mysql');
let execQuery;
let end;
let database;
if (mysql) {
  const { default: m } = await import('mysql2/promise');
  const conn = await m.createConnection({ uri: url, multipleStatements: true });
  execQuery = async (sql) => ({ rows: (await conn.query(sql))[0] });
  end = () => conn.end();
  database = new URL(url).pathname.slice(1);
} else {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  execQuery = (sql) => client.query(sql);
  end = () => client.end();
  database = new URL(url).pathname.slice(1);
}
const postgrator = new Postgrator({
  migrationPattern: path.join(dir, '*'),
  driver: mysql ? 'mysql' : 'pg',
  database,
  schemaTable: 'schemaversion',
  execQuery,
});
await postgrator.migrate();
await end();
