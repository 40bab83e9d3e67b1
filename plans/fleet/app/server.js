#!/usr/bin/env node
// The fleet demo app: every response names its release (`x-release` header and JSON body).
// GET /lbcheck is HAProxy's check, GET /healthz is maint's probe. On SIGTERM it fails both
// checks and closes once its requests are done. Releases whose name contains "never" fail
// every check; "noprobe" passes HAProxy's check but fails maint's probe (for rollback tests).
//
// With DEMO_DB_ROLE set it talks to PostgreSQL: it connects to DATABASE_URL (start.sh passes
// maint's MAINT_DATABASE_URL: the plan's database, or the clone for the new fleet of a
// clone-freeze run) as that role (an application connects with its own role, not maint's).
// The checks then run `select 1`; GET / reads a row of `items`; POST /write inserts a row into
// `events` (and counts it on its `items` row) and answers its id, or 503 `{refused: true, code}` when the database refuses writes
// (read-only 25006, permission denied 42501). Responses name the database (`x-database`). A read
// whose session the database ended (57P01) is retried once. A `mysql://` DATABASE_URL talks to
// MariaDB the same way (mysql2): the write is one transaction (insert, then update), and a write
// refused by the server's read_only (1290) is the 503 `{refused: true, code: '1290'}`.
import { createServer } from 'node:http';

const release = process.env.RELEASE ?? 'unknown';
const port = Number(process.env.PORT);
const never = release.includes('never');
const noProbe = release.includes('noprobe');
const REFUSED = new Set(['25006', '42501', '1290']);
let stopping = false;

async function openDatabase() {
  const role = process.env.DEMO_DB_ROLE;
  if (!role) return null;
  const url = new URL(process.env.DATABASE_URL ?? '');
  url.username = role;
  url.password = '';
  if (url.protocol === 'mysql:') return openMysql(url);
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  pool.on('error', () => undefined);
  return { pool, name: url.pathname.slice(1) };
}
/** The same surface as pg's pool (`query` → `{rows, rowCount}`, `write`, `end`) over mysql2. */
async function openMysql(url) {
  const { default: mysql } = await import('mysql2/promise');
  const pool = mysql.createPool({ uri: url.toString(), connectionLimit: 4 });
  pool.on('connection', (conn) => conn.on('error', () => undefined));
  const coded = (error) => {
    if (typeof error.errno === 'number') error.code = String(error.errno);
    return error;
  };
  const query = async (sql, params) => {
    try {
      const [rows] = await pool.query(sql.replace(/\$\d+/g, '?'), params);
      return { rows, rowCount: rows.length };
    } catch (error) {
      throw coded(error);
    }
  };
  const write = async (item) => {
    const conn = await pool.getConnection();
    try {
      await conn.query('start transaction');
      const [r] = await conn.query('insert into events (item) values (?)', [item]);
      await conn.query('update items set v = v + 1 where id = ?', [item]);
      await conn.query('commit');
      return r.insertId;
    } catch (error) {
      await conn.query('rollback').catch(() => undefined);
      throw coded(error);
    } finally {
      conn.release();
    }
  };
  return { pool: { query, end: () => pool.end() }, write, name: url.pathname.slice(1) };
}
const db = await openDatabase();

function send(res, status, body) {
  res.statusCode = status;
  res.end(JSON.stringify({ release, ...body }));
}

async function withDatabase(req, res) {
  res.setHeader('x-database', db.name);
  const check = req.url === '/lbcheck' || req.url === '/healthz';
  try {
    if (check) {
      await db.pool.query('select 1');
      return send(res, 200, { database: db.name });
    }
    if (req.method === 'POST' && req.url === '/write') {
      const item = 1 + Math.floor(Math.random() * 1000);
      if (db.write) return send(res, 200, { database: db.name, id: Number(await db.write(item)) });
      // One statement, one transaction: an event and the count on its item move together.
      const r = await db.pool.query(
        'with e as (insert into events (item) values ($1) returning id, item) update items set v = v + 1 from e where items.id = e.item returning e.id',
        [item],
      );
      return send(res, 200, { database: db.name, id: Number(r.rows[0].id) });
    }
    const read = () =>
      db.pool.query('select v from items where id = $1', [1 + Math.floor(Math.random() * 1000)]);
    // A read on a session the database ended (57P01: e.g. maint's unfreeze ending sessions opened
    // read-only during a freeze) is retried once on a fresh connection, as a pool-aware app does.
    const r = await read().catch((error) => {
      if (error.code === '57P01' || /Connection terminated/.test(String(error.message))) return read();
      throw error;
    });
    return send(res, 200, { database: db.name, rows: r.rowCount });
  } catch (error) {
    const code = error.code ?? 'none';
    if (!REFUSED.has(code))
      process.stderr.write(
        `${new Date().toISOString()} ${release} ${req.method} ${req.url}: ${code} ${error.message}\n`,
      );
    return send(res, REFUSED.has(code) ? 503 : 500, {
      database: db.name,
      refused: REFUSED.has(code),
      code,
      error: error.message,
    });
  }
}

const server = createServer((req, res) => {
  res.setHeader('x-release', release);
  res.setHeader('content-type', 'application/json');
  const check = req.url === '/lbcheck' || req.url === '/healthz';
  const healthy = !stopping && !never && !(noProbe && req.url === '/healthz');
  if (check && !healthy) {
    res.statusCode = 503;
    res.end(JSON.stringify({ release, healthy: false }));
    return;
  }
  if (never) res.statusCode = 500;
  if (db && !never) {
    req.resume();
    req.on('end', () => void withDatabase(req, res));
    return;
  }
  res.end(JSON.stringify({ release, path: req.url }));
});
// Longer than HAProxy's idle server timeout, so a kept-alive connection is never cut under it.
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(
    `${new Date().toISOString()} ${release} listening on ${port}${db ? ` (database ${db.name})` : ''}\n`,
  );
});
server.on('error', (e) => {
  process.stderr.write(`${new Date().toISOString()} ${release}: ${e.message}\n`);
  process.exit(1);
});

process.on('SIGTERM', () => {
  stopping = true;
  server.close(() => void (db ? db.pool.end() : Promise.resolve()).finally(() => process.exit(0)));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5000).unref();
});
