/**
 * The MariaDB `replica` clone: the live database copied online to another server with
 * `mariadb-dump --single-transaction --gtid --master-data=2 | mariadb` (one snapshot, consistent
 * with a GTID position), then that server replicates from the live one (a named connection,
 * `MASTER_USE_GTID=slave_pos`, filtered to the live database) through a replication user maint
 * creates and drops. The freeze is `SET GLOBAL read_only = ON` on the live server (reads keep
 * working; an open transaction's COMMIT fails with 1290), transactions still writing after
 * `grace` are killed, the clone waits for the live GTID position (`MASTER_GTID_WAIT`), then the
 * replica is stopped and reset, the user dropped and AUTO_INCREMENT moved up to the live values.
 * Every wait is bounded by the step's signal; every undo is safe to repeat.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, constants, statfs } from 'node:fs/promises';
import path from 'node:path';
import type { Database, Queryable } from '../db/database.js';
import { LOCK_HOLDERS_TABLE } from '../db/sql.js';
import { RUNS_TABLE, STEPS_TABLE } from '../core/journal/journal-sql.js';
import { ExitCode, InputError, MaintError, type InputIssue } from '../errors.js';
import { redact, registerSecret } from '../support/redact.js';
import {
  CLONE_COMMENT_PREFIX,
  changeMasterSql,
  createCloneDatabaseSql,
  createReplicationUserSql,
  dropReplicationUserSql,
  dumpGtidPosition,
  grantee,
  isGtidPosition,
  litm,
  qm,
  replicaFilterSql,
  type ReplicaObjects,
} from './mysql-sql.js';

/** maint's own tables are neither copied nor replicated: the clone starts with an empty journal. */
export const OWN_TABLES = [RUNS_TABLE, STEPS_TABLE, LOCK_HOLDERS_TABLE];
const POLL_MS = 20;
/** How long the replica may take to connect and start applying. */
const START_TIMEOUT_MS = 60_000;

export interface ReplicaFreezeRecord {
  /** The live server's clock (UTC) when read_only went on. */
  startedAt: string;
  /** read_only before the freeze (what the unfreeze restores). */
  previousReadOnly: boolean;
  /** The application users connected when the freeze began. */
  users: string[];
  pid: number;
}

function failure(code: string, message: string, hint?: string): MaintError {
  return new MaintError(code, ExitCode.rolledBack, redact(message), hint ? { hint } : {});
}

async function until(signal: AbortSignal, done: () => Promise<boolean>): Promise<void> {
  while (!(await done())) {
    if (signal.aborted)
      throw signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

interface ServerFacts {
  log_bin: number;
  binlog_format: string;
  server_id: number;
  version: string;
  read_only: number;
  datadir: string;
  user: string;
  host: string;
}

async function serverFacts(db: Queryable): Promise<ServerFacts> {
  const [row] = await db.query<ServerFacts & Record<string, unknown>>(
    `select @@global.log_bin as log_bin, @@global.binlog_format as binlog_format, @@global.server_id as server_id,
       version() as version, @@global.read_only as read_only, @@datadir as datadir,
       substring_index(current_user(), '@', 1) as user, substring_index(current_user(), '@', -1) as host`,
  );
  return row!;
}

async function privilegesOf(db: Queryable, user: string, host: string): Promise<Set<string>> {
  const rows = await db.query<{ p: string }>(
    'select privilege_type as p from information_schema.user_privileges where grantee = ?',
    [grantee(user, host)],
  );
  return new Set(rows.map((r) => r.p));
}

/** Application users: connected to the live database now, or holding write grants on it (not maint's user). */
async function appUsers(live: Queryable, own: string): Promise<string[]> {
  const connected = await live.query<{ u: string }>(
    `select distinct user as u from information_schema.processlist
     where db = database() and user not in (?, 'system user', 'event_scheduler', 'unauthenticated user')`,
    [own],
  );
  const granted = await live.query<{ u: string }>(
    `select distinct User as u from mysql.db where Db = database() and (Insert_priv = 'Y' or Update_priv = 'Y' or Delete_priv = 'Y')
     union select distinct User from mysql.tables_priv where Db = database() and (find_in_set('Insert', Table_priv) or find_in_set('Update', Table_priv) or find_in_set('Delete', Table_priv))`,
  );
  const users = new Set([...connected, ...granted].map((r) => r.u).filter((u) => u !== own && u !== ''));
  return [...users].sort();
}

/** Users (any host) holding a privilege that bypasses read_only. */
async function bypassers(live: Queryable, users: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (users.length === 0) return out;
  const rows = await live.query<{ g: string; p: string }>(
    `select grantee as g, privilege_type as p from information_schema.user_privileges
     where privilege_type in ('SUPER', 'READ_ONLY ADMIN')`,
  );
  for (const r of rows) {
    const user = /^'(.*)'@'.*'$/.exec(r.g)?.[1]?.replace(/''/g, "'");
    if (user === undefined || !users.includes(user)) continue;
    out.set(user, [...new Set([...(out.get(user) ?? []), r.p])]);
  }
  return out;
}

interface TableRow {
  name: string;
  engine: string | null;
  has_pk: number;
}

async function liveTables(live: Queryable): Promise<TableRow[]> {
  const rows = await live.query<TableRow & Record<string, unknown>>(
    `select t.table_name as name, t.engine as engine,
       exists (select 1 from information_schema.table_constraints c where c.table_schema = t.table_schema
               and c.table_name = t.table_name and c.constraint_type = 'PRIMARY KEY') as has_pk
     from information_schema.tables t where t.table_schema = database() and t.table_type = 'BASE TABLE' order by 1`,
  );
  return rows.filter((t) => !OWN_TABLES.includes(t.name));
}

async function onPath(program: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    try {
      await access(path.join(dir, program), constants.X_OK);
      return true;
    } catch {
      // next
    }
  }
  return false;
}

/**
 * What would break the replica clone or the freeze, checked read-only before anything changes
 * (exit 2). `admin` is the clone server's connection, `cloneDatabase` where the clone goes.
 */
export async function preflightReplica(
  live: Database,
  admin: Database,
  cloneDatabase: string,
): Promise<void> {
  const issues: InputIssue[] = [];
  const add = (message: string) => issues.push({ path: 'strategy.clone', message });
  const l = await serverFacts(live);
  const c = await serverFacts(admin);
  if (!/mariadb/i.test(l.version))
    add(
      `the live server is ${l.version}, not MariaDB: the replica method uses MariaDB GTIDs (MASTER_USE_GTID, MASTER_GTID_WAIT); use strategy: in-place`,
    );
  if (Number(l.log_bin) !== 1)
    add(
      'the binary log is off on the live server (log_bin = 0): the replica method replicates from it; start mariadbd with log_bin, binlog_format = ROW and a server_id of its own (a restart)',
    );
  else if (String(l.binlog_format).toUpperCase() !== 'ROW')
    add(
      `binlog_format is ${l.binlog_format} on the live server: the clone's migrated tables replicate only row events; SET GLOBAL binlog_format = ROW (and set it in the server's configuration)`,
    );
  if (Number(l.server_id) === Number(c.server_id))
    add(
      `the live server and the clone server have the same server_id (${l.server_id}): they are the same server or copies; strategy.clone.url must name another MariaDB server with a server_id of its own`,
    );
  // read_only already ON is no refusal: a run killed mid-freeze leaves it so, and its re-run
  // must reach the rollback that turns it off (the freeze records the value it found).
  const livePriv = await privilegesOf(live, l.user, l.host);
  if (!livePriv.has('SUPER') && !livePriv.has('READ_ONLY ADMIN'))
    add(
      `the plan's database user ${l.user}@${l.host} has neither READ_ONLY ADMIN nor SUPER: maint's journal must stay writable while the live server is read-only`,
    );
  if (!livePriv.has('CREATE USER') && !livePriv.has('SUPER'))
    add(`the plan's database user ${l.user}@${l.host} cannot CREATE USER (the replication user)`);
  const clonePriv = await privilegesOf(admin, c.user, c.host);
  if (!clonePriv.has('SUPER') && !clonePriv.has('REPLICATION SLAVE ADMIN'))
    add(
      `the clone URL's user ${c.user}@${c.host} has neither REPLICATION SLAVE ADMIN nor SUPER: it sets up the replica`,
    );
  const tables = await liveTables(live);
  const noPk = tables.filter((t) => Number(t.has_pk) !== 1).map((t) => t.name);
  if (noPk.length > 0)
    add(
      `tables without a primary key: ${noPk.join(', ')} (row events on a table without a key apply by scanning it, and rows cannot be matched reliably; add a primary key)`,
    );
  const notInnodb = tables.filter((t) => t.engine !== 'InnoDB').map((t) => `${t.name} (${t.engine ?? '?'})`);
  if (notInnodb.length > 0)
    add(
      `tables not in InnoDB: ${notInnodb.join(', ')} (mariadb-dump --single-transaction copies them inconsistently and read_only does not end their writes transactionally; ALTER TABLE … ENGINE = InnoDB)`,
    );
  const users = await appUsers(live, l.user);
  for (const [user, privileges] of await bypassers(live, users))
    add(
      `application user ${user} holds ${privileges.join(' and ')}: it bypasses read_only, so the freeze would not stop its writes; REVOKE ${privileges.join(', ')} ON *.* FROM it`,
    );
  const existing = await admin.query<{ comment: string }>(
    'select schema_comment as comment from information_schema.schemata where schema_name = ?',
    [cloneDatabase],
  );
  if (existing.length > 0 && !String(existing[0]!.comment ?? '').startsWith(CLONE_COMMENT_PREFIX))
    add(
      `the clone server already has a database ${cloneDatabase} (not one maint made): drop it, or name another database in strategy.clone.url`,
    );
  const replicas = await admin.query<{ Connection_name: string }>('show all slaves status');
  const foreign = replicas.map((r) => r.Connection_name).filter((n) => !n.startsWith('maint_'));
  if (foreign.length > 0)
    add(
      `the clone server replicates already (${foreign.map((n) => (n === '' ? 'the default connection' : n)).join(', ')}): maint sets gtid_slave_pos for its own connection; use a server that is not a replica`,
    );
  for (const program of ['mariadb-dump', 'mariadb'])
    if (!(await onPath(program)))
      add(
        `${program} is not on PATH: the replica method copies with mariadb-dump | mariadb (the MariaDB client)`,
      );
  const [size] = await live.query<{ bytes: number | string | null }>(
    'select sum(data_length + index_length) as bytes from information_schema.tables where table_schema = database()',
  );
  const disk = await freeDisk(c.datadir);
  const bytes = Number(size?.bytes ?? 0);
  if (disk !== null && disk < bytes * 1.2)
    add(
      `too little disk for the clone: ${Math.round(disk / 1e6)} MB free on the clone server, the live database is ${Math.round(bytes / 1e6)} MB (and needs about 20% more while copying)`,
    );
  if (issues.length > 0)
    throw new InputError(
      'CLONE_PREFLIGHT',
      `the clone-freeze strategy cannot run on this database:\n${issues.map((i) => `  - ${i.message}`).join('\n')}`,
      issues,
      { hint: 'Fix each point above, then run again; nothing was changed.' },
    );
}

/** Free bytes where the clone server keeps its data, when that folder is on this machine. */
async function freeDisk(datadir: string): Promise<number | null> {
  try {
    const s = await statfs(datadir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

interface Endpoint {
  host: string;
  port: number;
  user: string;
  password: string | undefined;
  database: string;
}

function endpoint(url: string): Endpoint {
  const u = new URL(url);
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username || 'root'),
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database: decodeURIComponent(u.pathname.replace(/^\//, '')),
  };
}

const clientArgs = (e: Endpoint) => [
  '--no-defaults',
  `--host=${e.host}`,
  `--port=${e.port}`,
  `--user=${e.user}`,
  '--protocol=tcp',
];
const clientEnv = (e: Endpoint) => ({
  ...process.env,
  ...(e.password === undefined ? {} : { MYSQL_PWD: e.password }),
});

/**
 * Copy the live database (schema, rows, routines, triggers; not maint's journal and lock
 * tables) into the empty clone database in one consistent snapshot; returns the GTID position
 * the snapshot matches. Passwords travel in MYSQL_PWD, never on a command line.
 */
export async function copyToClone(liveUrl: string, cloneUrl: string, signal: AbortSignal): Promise<string> {
  const from = endpoint(liveUrl);
  const to = endpoint(cloneUrl);
  const dump = spawn(
    'mariadb-dump',
    [
      ...clientArgs(from),
      '--single-transaction',
      '--gtid',
      '--master-data=2',
      '--routines',
      '--triggers',
      '--hex-blob',
      '--no-tablespaces',
      '--skip-add-locks',
      ...OWN_TABLES.map((t) => `--ignore-table=${from.database}.${t}`),
      from.database,
    ],
    { env: clientEnv(from), stdio: ['ignore', 'pipe', 'pipe'], signal },
  );
  const restore = spawn('mariadb', [...clientArgs(to), '--batch', to.database], {
    env: clientEnv(to),
    stdio: ['pipe', 'ignore', 'pipe'],
    signal,
  });
  let head = '';
  let position: string | null = null;
  dump.stdout.on('data', (d: Buffer) => {
    if (position !== null || head.length > 1_000_000) return;
    head += d.toString('latin1');
    position = dumpGtidPosition(head);
  });
  dump.stdout.pipe(restore.stdin);
  restore.stdin.on('error', () => undefined);
  const errors: string[] = [];
  dump.stderr.on('data', (d: Buffer) => errors.push(String(d)));
  restore.stderr.on('data', (d: Buffer) => errors.push(String(d)));
  const exit = (child: typeof dump | typeof restore, name: string) =>
    new Promise<void>((resolve, reject) => {
      child.on('error', (error) => reject(copyError(name, error.message)));
      child.on('close', (code) => (code === 0 ? resolve() : reject(copyError(name, errors.join('').trim()))));
    });
  await Promise.all([exit(dump, 'mariadb-dump'), exit(restore, 'mariadb')]);
  if (position === null || !isGtidPosition(position))
    throw failure(
      'CLONE_DUMP_FAILED',
      'mariadb-dump wrote no GTID position (--gtid --master-data=2): the binary log must be on',
    );
  return position;
}

function copyError(tool: string, output: string): MaintError {
  return failure(
    'CLONE_DUMP_FAILED',
    `copying the database to the clone failed (${tool}): ${output.slice(-800) || 'no output'}`,
    'mariadb-dump and mariadb (the MariaDB client) must be on PATH, and the clone URL user must be able to create the schema.',
  );
}

/** Create the clone database, marked as maint's in its comment. */
export async function createCloneDatabase(
  admin: Database,
  objects: ReplicaObjects,
  runId: string,
): Promise<void> {
  await admin.query(createCloneDatabaseSql(objects, runId));
}

async function slaveStatus(admin: Queryable, connection: string): Promise<Record<string, unknown> | null> {
  const rows = await admin.query<Record<string, unknown>>('show all slaves status');
  return rows.find((r) => r.Connection_name === connection) ?? null;
}

function replicaError(status: Record<string, unknown> | null): string | null {
  if (!status) return null;
  const io = String(status.Last_IO_Error ?? '');
  const sql = String(status.Last_SQL_Error ?? '');
  if (sql) return `the replica's SQL thread stopped: ${sql}`;
  if (io && status.Slave_IO_Running === 'No') return `the replica cannot read the live binary log: ${io}`;
  return null;
}

/**
 * Statements on the live server that no replica (the clone, or the live server's own replicas)
 * must see: run with the binary log off for the session.
 */
async function unlogged(live: Database, statements: string[]): Promise<void> {
  const run = async (q: Queryable) => {
    await q.query('set session sql_log_bin = 0');
    for (const sql of statements) await q.query(sql);
  };
  if (live.session) await live.session(run);
  else await live.transaction(run);
}

/**
 * The replication user on the live server, with a random password (returned, registered as a
 * secret, never journaled). Not binary-logged, so it replicates nowhere.
 */
export async function createReplicationUser(live: Database, objects: ReplicaObjects): Promise<string> {
  const password = randomBytes(18).toString('base64url');
  registerSecret(password);
  await unlogged(live, createReplicationUserSql(objects.user, password));
  return password;
}

/**
 * Start replicating the live database into the clone from `position`: the named connection
 * with its filters, then a wait until the replica runs and has caught up with the live position.
 */
export async function startReplica(
  live: Database,
  admin: Database,
  objects: ReplicaObjects,
  liveUrl: string,
  password: string,
  position: string,
  signal: AbortSignal,
): Promise<void> {
  const master = endpoint(liveUrl);
  await admin.query(changeMasterSql(objects.connection, master, objects.user, password));
  for (const sql of replicaFilterSql(objects, OWN_TABLES)) await admin.query(sql);
  await admin.query(`set global gtid_slave_pos = ${litm(position)}`);
  await admin.query(`start slave ${litm(objects.connection)}`);
  const started = Date.now();
  const [target] = await live.query<{ pos: string }>('select @@global.gtid_binlog_pos as pos');
  await until(signal, async () => {
    const status = await slaveStatus(admin, objects.connection);
    const error = replicaError(status);
    if (error) throw failure('CLONE_REPLICA_FAILED', error);
    if (Date.now() - started > START_TIMEOUT_MS)
      throw failure(
        'CLONE_REPLICA_FAILED',
        `the replica did not catch up within ${START_TIMEOUT_MS / 1000} s (IO ${String(status?.Slave_IO_Running)}, SQL ${String(status?.Slave_SQL_Running)}): ${String(status?.Last_IO_Error ?? '')}`,
        'The clone server must reach the live server at the host and port of the plan database URL.',
      );
    if (status?.Slave_IO_Running !== 'Yes' || status.Slave_SQL_Running !== 'Yes') return false;
    const [w] = await admin.query<{ w: number | null }>('select master_gtid_wait(?, 0.1) as w', [
      target!.pos,
    ]);
    return Number(w?.w) === 0;
  });
}

/** read_only before the freeze, and the application users (refused when one bypasses read_only). */
export async function planFreeze(live: Database): Promise<{ previousReadOnly: boolean; users: string[] }> {
  const facts = await serverFacts(live);
  const users = await appUsers(live, facts.user);
  const bad = await bypassers(live, users);
  if (bad.size > 0)
    throw failure(
      'CLONE_FREEZE_BYPASS',
      `application users ${[...bad.keys()].join(', ')} would bypass the freeze (SUPER or READ_ONLY ADMIN)`,
    );
  return { previousReadOnly: Number(facts.read_only) === 1, users };
}

/** read_only on: returns the live server's clock (UTC, ISO) at that moment. */
export async function applyFreeze(live: Database): Promise<string> {
  await live.query('set global read_only = 1');
  const [row] = await live.query<{ at: string }>(
    `select date_format(utc_timestamp(6), '%Y-%m-%dT%H:%i:%s.%fZ') as at`,
  );
  return row!.at;
}

/** Connections (not maint's user) whose transaction wrote rows or waits for a row lock. */
async function writers(live: Queryable, own: string): Promise<number[]> {
  const rows = await live.query<{ id: number }>(
    `select t.trx_mysql_thread_id as id from information_schema.innodb_trx t
       join information_schema.processlist p on p.id = t.trx_mysql_thread_id
     where p.user <> ? and (t.trx_rows_modified > 0 or t.trx_state = 'LOCK WAIT')`,
    [own],
  );
  return rows.map((r) => Number(r.id));
}

/**
 * Transactions writing when the freeze began may end within `graceMs` (their COMMIT fails with
 * 1290 now); those still open then are killed. Returns how many were killed.
 */
export async function drainWriters(live: Database, graceMs: number, signal: AbortSignal): Promise<number> {
  const own = (await serverFacts(live)).user;
  const started = Date.now();
  await until(signal, async () => (await writers(live, own)).length === 0 || Date.now() - started >= graceMs);
  const stragglers = await writers(live, own);
  for (const id of stragglers) await live.query(`kill connection ${Math.trunc(id)}`).catch(() => undefined);
  if (stragglers.length > 0) await until(signal, async () => (await writers(live, own)).length === 0);
  return stragglers.length;
}

/** Wait until the clone has applied everything the live server logged up to now; returns that position. */
export async function catchUp(
  live: Database,
  admin: Database,
  objects: ReplicaObjects,
  signal: AbortSignal,
): Promise<string> {
  const [row] = await live.query<{ pos: string }>('select @@global.gtid_binlog_pos as pos');
  await until(signal, async () => {
    const [w] = await admin.query<{ w: number | null }>('select master_gtid_wait(?, 0.05) as w', [row!.pos]);
    if (Number(w?.w) === 0) return true;
    const status = await slaveStatus(admin, objects.connection);
    if (!status)
      throw failure('CLONE_REPLICA_GONE', `the replication connection ${objects.connection} is gone`);
    const error = replicaError(status);
    if (error) throw failure('CLONE_REPLICA_FAILED', error);
    return false;
  });
  return row!.pos;
}

/** Stop and remove the replica connection (and its filters); safe when it does not exist. */
export async function stopReplica(admin: Database, objects: ReplicaObjects): Promise<boolean> {
  if (!(await slaveStatus(admin, objects.connection))) return false;
  await admin.query(`stop slave ${litm(objects.connection)}`);
  await admin.query(`reset slave ${litm(objects.connection)} all`);
  const left = await admin.query('show all slaves status');
  if (left.length === 0) await admin.query(`set global gtid_slave_pos = ${litm(objects.previousSlavePos)}`);
  return true;
}

/** Every clone table's AUTO_INCREMENT moved up to the live value (never down); returns how many moved. */
export async function syncAutoIncrement(
  live: Database,
  admin: Database,
  objects: ReplicaObjects,
): Promise<number> {
  const sql = `select table_name as name, auto_increment as next from information_schema.tables
    where table_schema = ? and auto_increment is not null`;
  const liveRows = await live.query<{ name: string; next: number | string }>(sql, [objects.liveDatabase]);
  const cloneRows = new Map(
    (await admin.query<{ name: string; next: number | string }>(sql, [objects.database])).map((r) => [
      r.name,
      BigInt(r.next),
    ]),
  );
  let moved = 0;
  for (const r of liveRows) {
    const mine = cloneRows.get(r.name);
    if (mine === undefined || mine >= BigInt(r.next)) continue;
    await admin.query(`alter table ${qm(objects.database)}.${qm(r.name)} auto_increment = ${BigInt(r.next)}`);
    moved++;
  }
  return moved;
}

export async function dropReplicationUser(live: Database, objects: ReplicaObjects): Promise<void> {
  await unlogged(live, [dropReplicationUserSql(objects.user)]);
}

/** Undo the freeze: read_only back to what it was. */
export async function unfreeze(live: Database, record: ReplicaFreezeRecord): Promise<void> {
  await live.query(`set global read_only = ${record.previousReadOnly ? 1 : 0}`);
}

/** The clone server's gtid_slave_pos now (journaled, restored when the clone goes). */
export async function slavePos(admin: Database): Promise<string> {
  const [row] = await admin.query<{ pos: string }>('select @@global.gtid_slave_pos as pos');
  return String(row?.pos ?? '');
}

export async function cloneDatabaseExists(admin: Database, database: string): Promise<boolean> {
  return (
    (await admin.query('select 1 from information_schema.schemata where schema_name = ?', [database]))
      .length > 0
  );
}

/**
 * Drop maint's clone database. Sessions still using it (they would hold metadata locks and
 * make the drop wait) are ended first, as PostgreSQL's `drop database … with (force)` does.
 */
export async function dropCloneDatabase(admin: Database, objects: ReplicaObjects): Promise<boolean> {
  if (!(await cloneDatabaseExists(admin, objects.database))) return false;
  const sessions = await admin.query<{ id: number }>(
    `select id from information_schema.processlist where db = ? and id <> connection_id() and command <> 'Daemon'`,
    [objects.database],
  );
  for (const s of sessions)
    await admin.query(`kill connection ${Math.trunc(Number(s.id))}`).catch(() => undefined);
  await admin.query(`drop database ${qm(objects.database)}`);
  return true;
}
