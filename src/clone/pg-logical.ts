/**
 * The PostgreSQL `logical` clone: a publication and a slot on the live database, the schema
 * copied first, a subscription on the clone; the freeze makes the application's roles
 * read-only, waits for the clone to reach the freeze LSN and moves the sequences. Every wait is
 * bounded (the step's signal: its deadline, the window, a stop). Each operation is safe to
 * repeat and safe on objects that do not exist, so a rollback after a crash can run it again.
 */
import { statfs } from 'node:fs/promises';
import type { Database, Queryable } from '../db/database.js';
import { LOCK_HOLDERS_TABLE } from '../db/sql.js';
import { RUNS_TABLE, STEPS_TABLE } from '../core/journal/journal-sql.js';
import { ExitCode, InputError, MaintError, type InputIssue } from '../errors.js';
import { formatDuration } from '../plan/duration.js';
import { deadline } from '../support/deadline.js';
import { TEMPLATE_MB_PER_S, templateEstimateMs } from './pg-template.js';
import {
  APP_ROLES_SQL,
  SEQUENCES_SQL,
  SHARED_ROLE_SESSIONS_SQL,
  USER_TABLES_SQL,
  bindDatabase,
  createPublicationSql,
  createSlotSql,
  createSubscriptionSql,
  directWriteGrantsSql,
  dropPublicationSql,
  dropSlotSql,
  dropSubscriptionSql,
  freezeRoleSql,
  inFlightWritersSql,
  setvalSql,
  slotReachedSql,
  terminateSlotSenderSql,
  terminateSql,
  unfreezeRoleSql,
  unsyncedTablesSql,
  writableTablesSql,
  type TableGrant,
} from './pg-sql.js';

/** maint's own tables stay out of the publication: the clone starts with an empty journal. */
export const OWN_TABLES = new Set([RUNS_TABLE, STEPS_TABLE, LOCK_HOLDERS_TABLE]);
const POLL_MS = 10;

export interface CloneObjects {
  /** The clone database's name. */
  database: string;
  publication: string;
  slot: string;
  subscription: string;
}

export interface FrozenRole {
  role: string;
  /** The write privileges the freeze revoked (granted again by the unfreeze). */
  grants: TableGrant[];
}

export interface FreezeRecord {
  /** The live server's clock when the freeze was committed. */
  startedAt: string;
  roles: FrozenRole[];
  /** Process that froze (a re-run after a crash sees another pid). */
  pid: number;
}

export interface Phase {
  name: string;
  ms: number;
}

interface TableRow {
  schema: string;
  name: string;
  persistence: string;
  identity: string;
  owner: string;
  has_pk: boolean;
  has_identity_index: boolean;
}

/** Names of the replication objects of one run (lower case, within PostgreSQL's 63 bytes). */
export function cloneObjectNames(runId: string, database: string): CloneObjects {
  const tag = runId
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase()
    .slice(0, 16);
  return {
    database,
    publication: `maint_pub_${tag}`,
    slot: `maint_slot_${tag}`,
    subscription: `maint_sub_${tag}`,
  };
}

async function userTables(db: Queryable): Promise<TableRow[]> {
  return db.query<TableRow & Record<string, unknown>>(USER_TABLES_SQL);
}

/** Tables the publication carries: every user table but maint's own. */
export async function replicatedTables(db: Queryable): Promise<TableRow[]> {
  return (await userTables(db)).filter((t) => !OWN_TABLES.has(t.name));
}

interface AppRole {
  role: string;
  superuser: boolean;
  own_setting: boolean;
}

/** The roles the freeze makes read-only: those connected now and those holding write grants. */
async function appRoles(db: Queryable): Promise<AppRole[]> {
  const connected = await db.query<AppRole & Record<string, unknown>>(APP_ROLES_SQL);
  const granted = await db.query<{ role: string; superuser: boolean }>(
    `select distinct r.rolname as role, r.rolsuper as superuser from pg_class c join pg_namespace n on n.oid = c.relnamespace,
       aclexplode(c.relacl) a join pg_roles r on r.oid = a.grantee
     where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema')
       and a.privilege_type in ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE') and r.rolname <> current_user`,
  );
  const byName = new Map(connected.map((r) => [r.role, r]));
  for (const g of granted) if (!byName.has(g.role)) byName.set(g.role, { ...g, own_setting: false });
  return [...byName.values()].sort((a, b) => a.role.localeCompare(b.role));
}

/**
 * What would break the clone or the freeze, checked before anything changes (exit 2). `clone`
 * is the clone server's admin connection. (Whether the clone database exists already is checked
 * by clone:prepare: a re-run after a crash must reach its recovery.)
 */
export async function preflightLogical(
  live: Database,
  admin: Database,
  options: { method: 'logical' | 'dump' | 'template'; maxDurationMs: number; graceMs: number } = {
    method: 'logical',
    maxDurationMs: Infinity,
    graceMs: 0,
  },
): Promise<void> {
  const logical = options.method === 'logical';
  const issues: InputIssue[] = [];
  const add = (message: string) => issues.push({ path: 'strategy.clone', message });
  const [settings] = await live.query<{ wal_level: string; superuser: boolean; lo: number; size: string }>(
    `select current_setting('wal_level') as wal_level, (select rolsuper from pg_roles where rolname = current_user) as superuser,
       (select count(*)::int from pg_largeobject_metadata) as lo, pg_database_size(current_database())::text as size`,
  );
  if (logical && settings!.wal_level !== 'logical')
    add(
      `wal_level is ${settings!.wal_level}: the logical method needs wal_level = logical (set it in postgresql.conf and restart the server; on RDS: rds.logical_replication = 1 and a reboot)`,
    );
  if (!settings!.superuser)
    add(
      `the plan database role is not a superuser: the ${options.method} method needs one to ${logical ? 'create the subscription and ' : ''}freeze the application roles`,
    );
  if (options.method === 'template') {
    const estimateMs = templateEstimateMs(Number(settings!.size));
    if (options.graceMs + estimateMs > options.maxDurationMs)
      add(
        `the template method copies the database OFFLINE (no reads, no writes): about ${formatDuration(estimateMs)} for ${Math.round(Number(settings!.size) / 1e6)} MB (at ${TEMPLATE_MB_PER_S} MB/s plus 2 s), plus grace, is longer than freeze.maxDuration (${formatDuration(options.maxDurationMs)}); raise maxDuration, or use method: logical (its freeze does not grow with the database)`,
      );
  } else if (!logical) {
    const estimateMs = dumpEstimateMs(Number(settings!.size));
    if (options.graceMs + estimateMs > options.maxDurationMs)
      add(
        `the dump method copies the database while writes are frozen: about ${formatDuration(estimateMs)} for ${Math.round(Number(settings!.size) / 1e6)} MB (at ${DUMP_MB_PER_S} MB/s), plus grace, is longer than freeze.maxDuration (${formatDuration(options.maxDurationMs)}); raise maxDuration, or use method: logical (its freeze does not grow with the database)`,
      );
  }
  if (logical && settings!.lo > 0)
    add(
      `the database has ${settings!.lo} large objects: logical replication does not copy them (use the dump method)`,
    );
  const tables = logical ? await replicatedTables(live) : [];
  const unlogged = tables.filter((t) => t.persistence === 'u').map((t) => `${t.schema}.${t.name}`);
  if (unlogged.length > 0)
    add(
      `unlogged tables are not replicated: ${unlogged.join(', ')} (ALTER TABLE … SET LOGGED, or use the dump method)`,
    );
  const noIdentity = tables
    .filter((t) => t.persistence !== 'u')
    .filter(
      (t) =>
        !(
          t.identity === 'f' ||
          (t.identity === 'd' && t.has_pk) ||
          (t.identity === 'i' && t.has_identity_index)
        ),
    )
    .map((t) => `${t.schema}.${t.name}`);
  if (noIdentity.length > 0)
    add(
      `tables without a primary key or replica identity cannot replicate UPDATE/DELETE: ${noIdentity.join(', ')} (add a primary key, or ALTER TABLE … REPLICA IDENTITY FULL)`,
    );
  const [shared] = await live.query<{ n: number }>(SHARED_ROLE_SESSIONS_SQL);
  if (shared!.n > 0)
    add(
      `${shared!.n} application sessions use the plan database role: the freeze cannot make them read-only without freezing maint; give the application its own role`,
    );
  for (const role of await appRoles(live)) {
    if (role.superuser)
      add(
        `application role ${role.role} is a superuser: it bypasses the read-only freeze; connect the application as an ordinary role`,
      );
    if (role.own_setting)
      add(
        `application role ${role.role} sets default_transaction_read_only itself, which overrides the freeze; ALTER ROLE ${role.role} RESET default_transaction_read_only`,
      );
    const writable = await live.query<{ schema: string; name: string }>(writableTablesSql(role.role));
    if (writable.length > 0)
      add(
        `application role ${role.role} can write ${writable.map((t) => `${t.schema}.${t.name}`).join(', ')} as owner, through PUBLIC or a group role: the freeze revokes only direct grants`,
      );
  }
  const slots = await live.query<{ used: number; max: number }>(
    `select (select count(*)::int from pg_replication_slots) as used, current_setting('max_replication_slots')::int as max`,
  );
  if (logical && slots[0]!.used + 1 > slots[0]!.max)
    add(`no free replication slot (max_replication_slots = ${slots[0]!.max}, all in use)`);
  const disk = await freeDisk(admin);
  if (disk !== null && disk < Number(settings!.size) * 1.2)
    add(
      `too little disk for the clone: ${Math.round(disk / 1e6)} MB free on the clone server, the live database is ${Math.round(Number(settings!.size) / 1e6)} MB (and needs about 20% more while copying)`,
    );
  if (issues.length > 0)
    throw new InputError(
      'CLONE_PREFLIGHT',
      `the clone-freeze strategy cannot run on this database:\n${issues.map((i) => `  - ${i.message}`).join('\n')}`,
      issues,
      { hint: 'Fix each point above, then run again; nothing was changed.' },
    );
}

/**
 * pg_dump | psql throughput assumed for the dump method's estimate: the low end of what a
 * 2-core machine measured (20–45 MB/s), so the estimate errs long.
 */
export const DUMP_MB_PER_S = 20;

/** How long the dump method's copy should take for a database of `bytes` (plus a fixed second). */
export function dumpEstimateMs(bytes: number): number {
  return Math.ceil(1000 + (bytes / (DUMP_MB_PER_S * 1e6)) * 1000);
}

/** Free bytes where the clone server keeps its data, when that folder is on this machine. */
async function freeDisk(admin: Database): Promise<number | null> {
  try {
    const [row] = await admin.query<{ dir: string }>(`select current_setting('data_directory') as dir`);
    const s = await statfs(row!.dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

function failure(code: string, message: string, hint?: string): MaintError {
  return new MaintError(code, ExitCode.rolledBack, message, hint ? { hint } : {});
}

/** Poll `done` every few ms until it is true; the signal bounds the wait. */
async function until(signal: AbortSignal, done: () => Promise<boolean>, onTick?: () => void): Promise<void> {
  while (!(await done())) {
    if (signal.aborted)
      throw signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
    onTick?.();
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Create the clone database (empty). */
export async function createCloneDatabase(admin: Database, objects: CloneObjects): Promise<void> {
  await admin.query(`create database "${objects.database.replace(/"/g, '""')}"`);
}

/** Publication on the live database, then the slot, bounded by `slotTimeoutMs` (long writers block it). */
export async function createPublisher(
  live: Database,
  objects: CloneObjects,
  slotTimeoutMs: number,
): Promise<string[]> {
  const tables = await replicatedTables(live);
  if (tables.length === 0) throw failure('CLONE_NOTHING_TO_COPY', 'the live database has no tables to copy');
  await live.query(dropPublicationSql(objects.publication));
  await live.query(createPublicationSql(objects.publication, tables));
  const exists = await live.query(`select 1 from pg_replication_slots where slot_name = $1`, [objects.slot]);
  if (exists.length === 0)
    await live.transaction(async (tx) => {
      await tx.query(`set local statement_timeout = ${Math.trunc(slotTimeoutMs)}`);
      try {
        await tx.query(createSlotSql(objects.slot));
      } catch (error) {
        if (
          (error as { cause?: { code?: string } }).cause?.code === '57014' ||
          /statement timeout/i.test(String(error))
        )
          throw failure(
            'CLONE_SLOT_TIMEOUT',
            `creating the replication slot waited more than ${slotTimeoutMs} ms for open write transactions`,
            'End long-running write transactions on the live database (pg_stat_activity), then run again.',
          );
        throw error;
      }
    });
  return tables.map((t) => `${t.schema}.${t.name}`);
}

/** The subscription on the clone; waits until every table's initial copy is done. */
export async function subscribe(
  clone: Database,
  objects: CloneObjects,
  liveUrl: string,
  signal: AbortSignal,
  progress: (message: string) => void,
): Promise<void> {
  await clone.query(createSubscriptionSql(objects.subscription, liveUrl, objects.publication, objects.slot));
  let last = -1;
  await until(signal, async () => {
    const [row] = await clone.query<{ n: number }>(unsyncedTablesSql(objects.subscription));
    if (row!.n !== last && row!.n > 0) progress(`initial copy: ${row!.n} tables still copying`);
    last = row!.n;
    return row!.n === 0;
  });
}

/** Freeze the application roles; returns what to journal (and what the unfreeze restores). */
export async function planFreeze(live: Database): Promise<FrozenRole[]> {
  const roles = await appRoles(live);
  const bad = roles.filter((r) => r.superuser || r.own_setting).map((r) => r.role);
  if (bad.length > 0)
    throw failure(
      'CLONE_FREEZE_BYPASS',
      `application roles ${bad.join(', ')} would bypass the freeze (a superuser, or their own read-only setting)`,
    );
  const frozen: FrozenRole[] = [];
  for (const r of roles)
    frozen.push({
      role: r.role,
      grants: await live.query<TableGrant & Record<string, unknown>>(directWriteGrantsSql(r.role)),
    });
  return frozen;
}

export async function applyFreeze(live: Database, roles: FrozenRole[]): Promise<string> {
  const db =
    live.databaseName ?? (await live.query<{ db: string }>('select current_database() as db'))[0]!.db;
  await live.transaction(async (tx) => {
    for (const r of roles)
      for (const sql of freezeRoleSql(r.role, r.grants)) await tx.query(bindDatabase(sql, db));
  });
  const [row] = await live.query<{ at: string }>(`select clock_timestamp()::text as at`);
  for (const r of roles) {
    const left = await live.query<{ schema: string; name: string }>(writableTablesSql(r.role));
    if (left.length > 0)
      throw failure(
        'CLONE_FREEZE_BYPASS',
        `after the freeze ${r.role} can still write ${left.map((t) => `${t.schema}.${t.name}`).join(', ')}`,
      );
  }
  return row!.at;
}

/** Wait up to `graceMs` for writers begun before the freeze, then end the rest; returns how many were ended. */
export async function drainWriters(
  live: Database,
  record: FreezeRecord,
  graceMs: number,
  signal: AbortSignal,
): Promise<number> {
  const roles = record.roles.map((r) => r.role);
  if (roles.length === 0) return 0;
  const started = Date.now();
  const writers = async () =>
    (await live.query<{ pid: number }>(inFlightWritersSql(roles, record.startedAt))).map((r) => r.pid);
  await until(signal, async () => (await writers()).length === 0 || Date.now() - started >= graceMs);
  const stragglers = await writers();
  if (stragglers.length > 0) {
    await live.query(terminateSql(stragglers));
    await until(signal, async () => (await writers()).length === 0);
  }
  return stragglers.length;
}

/** Wait until the clone has confirmed everything the live database wrote up to now. */
export async function catchUp(live: Database, objects: CloneObjects, signal: AbortSignal): Promise<string> {
  const [row] = await live.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn');
  await until(signal, async () => {
    const [r] = await live.query<{ reached: boolean }>(slotReachedSql(objects.slot, row!.lsn));
    if (!r) throw failure('CLONE_SLOT_GONE', `the replication slot ${objects.slot} is gone`);
    return r.reached;
  });
  return row!.lsn;
}

/** Every clone sequence moved up to the live value; returns how many were set. */
export async function syncSequences(live: Database, clone: Database): Promise<number> {
  const sequences = await live.query<{ schema: string; name: string; last: string | null }>(SEQUENCES_SQL);
  let n = 0;
  for (const s of sequences) {
    if (s.last === null) continue;
    await clone.query(setvalSql(s.schema, s.name, s.last));
    n++;
  }
  return n;
}

/** Drop the subscription (clone side), then the slot and the publication (live side). */
export async function detach(
  live: Database,
  clone: Database | null,
  objects: CloneObjects,
  signal: AbortSignal,
  /** Called after each part (the freeze measures them). */
  done: (part: 'subscription dropped' | 'sender stopped' | 'slot and publication dropped') => void = () => {},
): Promise<void> {
  if (clone) {
    const sub = await clone.query(`select 1 from pg_subscription where subname = $1`, [objects.subscription]);
    if (sub.length > 0) for (const sql of dropSubscriptionSql(objects.subscription)) await clone.query(sql);
  }
  done('subscription dropped');
  // Bounded even under a rollback's never-aborted signal: a sender that will not stop is an error.
  const bound = deadline(30_000, signal);
  try {
    await until(bound.signal, async () => {
      await live.query(terminateSlotSenderSql(objects.slot));
      const [r] = await live.query<{ active: boolean }>(
        `select active from pg_replication_slots where slot_name = $1`,
        [objects.slot],
      );
      return !r || !r.active;
    });
  } finally {
    bound.clear();
  }
  done('sender stopped');
  await live.query(dropSlotSql(objects.slot));
  await live.query(dropPublicationSql(objects.publication));
  done('slot and publication dropped');
}

/** Undo the freeze: grants back, role settings reset; sessions begun read-only during it are ended. */
export async function unfreeze(live: Database, record: FreezeRecord): Promise<number> {
  const db =
    live.databaseName ?? (await live.query<{ db: string }>('select current_database() as db'))[0]!.db;
  await live.transaction(async (tx) => {
    for (const r of record.roles)
      for (const sql of unfreezeRoleSql(r.role, r.grants)) await tx.query(bindDatabase(sql, db));
  });
  const roles = record.roles.map((r) => r.role);
  if (roles.length === 0) return 0;
  // Their read-only default was fixed when they connected: end them so the pool reconnects writable.
  const rows = await live.query<{ pid: number }>(
    `select pid from pg_stat_activity where datname = current_database() and usename = any($1::text[]) and backend_start >= $2::timestamptz`,
    [roles, record.startedAt],
  );
  if (rows.length > 0) await live.query(terminateSql(rows.map((r) => r.pid)));
  return rows.length;
}

export async function dropCloneDatabase(admin: Database, objects: CloneObjects): Promise<boolean> {
  const exists = await admin.query(`select 1 from pg_database where datname = $1`, [objects.database]);
  if (exists.length === 0) return false;
  await admin.query(`drop database "${objects.database.replace(/"/g, '""')}" with (force)`);
  return true;
}
