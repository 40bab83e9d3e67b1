/**
 * Pure SQL builders and parsers for the MariaDB `replica` clone (replication connection,
 * filters, the freeze). Only src/clone/mysql-replica.ts runs them. Identifiers are quoted,
 * string values escaped as MariaDB literals.
 */
import { quoteIdent } from '../db/sql.js';

export const qm = (name: string) => quoteIdent('mysql', name);
/** A MariaDB string literal (backslashes and quotes escaped). */
export const litm = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export interface ReplicaObjects {
  /** The clone database's name (on the clone server). */
  database: string;
  /** The live database's name (replicated into `database`). */
  liveDatabase: string;
  /** The named replication connection on the clone server (multi-source). */
  connection: string;
  /** The replication user created on the live server (`user`@'%'). */
  user: string;
  /** The clone server's gtid_slave_pos before maint set it (restored when the clone goes). */
  previousSlavePos: string;
}

/** Names of one run's replication objects (within MariaDB's 64-character limits). */
export function replicaObjectNames(
  runId: string,
  database: string,
  liveDatabase: string,
): Omit<ReplicaObjects, 'previousSlavePos'> {
  const tag = runId
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase()
    .slice(0, 16);
  return { database, liveDatabase, connection: `maint_${tag}`, user: `maint_repl_${tag}` };
}

/** The comment maint puts on a clone database it creates (and the prefix it looks for). */
export const CLONE_COMMENT_PREFIX = 'maint clone of ';
export function cloneComment(live: string, runId: string): string {
  return `${CLONE_COMMENT_PREFIX}${live} (run ${runId})`.slice(0, 1024);
}

export function createCloneDatabaseSql(objects: ReplicaObjects, runId: string): string {
  return `create database ${qm(objects.database)} comment ${litm(cloneComment(objects.liveDatabase, runId))}`;
}

export function createReplicationUserSql(user: string, password: string): string[] {
  return [
    `create or replace user ${litm(user)}@'%' identified by ${litm(password)}`,
    `grant replication slave on *.* to ${litm(user)}@'%'`,
  ];
}

export function dropReplicationUserSql(user: string): string {
  return `drop user if exists ${litm(user)}@'%'`;
}

export interface MasterAddress {
  host: string;
  port: number;
}

export function changeMasterSql(
  connection: string,
  master: MasterAddress,
  user: string,
  password: string,
): string {
  return `change master ${litm(connection)} to master_host=${litm(master.host)}, master_port=${Math.trunc(master.port)}, master_user=${litm(user)}, master_password=${litm(password)}, master_use_gtid=slave_pos, master_connect_retry=1`;
}

/**
 * The connection's filters: only the live database, renamed to the clone's, without maint's
 * own tables (the clone starts with an empty journal).
 */
export function replicaFilterSql(objects: ReplicaObjects, ownTables: string[]): string[] {
  const c = objects.connection;
  const sql: string[] = [];
  if (objects.liveDatabase !== objects.database)
    sql.push(
      `set global ${qm(c)}.replicate_rewrite_db = ${litm(`${objects.liveDatabase}->${objects.database}`)}`,
    );
  sql.push(`set global ${qm(c)}.replicate_do_db = ${litm(objects.database)}`);
  if (ownTables.length > 0)
    sql.push(
      `set global ${qm(c)}.replicate_ignore_table = ${litm(ownTables.map((t) => `${objects.database}.${t}`).join(','))}`,
    );
  return sql;
}

/**
 * The GTID position a `mariadb-dump --gtid --master-data=2` snapshot is consistent with, from
 * its `-- SET GLOBAL gtid_slave_pos='…';` comment; null when the dump has none.
 */
export function dumpGtidPosition(head: string): string | null {
  const m = /SET GLOBAL gtid_slave_pos\s*=\s*'([0-9,\- ]*)'/i.exec(head);
  return m ? m[1]!.trim() : null;
}

/** A GTID position as MariaDB writes it (`0-11-42,1-11-7`). */
export function isGtidPosition(pos: string): boolean {
  return pos === '' || /^\d+-\d+-\d+(,\d+-\d+-\d+)*$/.test(pos.replace(/\s+/g, ''));
}

/** `'user'@'host'` as information_schema.user_privileges names a grantee. */
export function grantee(user: string, host: string): string {
  return `'${user.replace(/'/g, "''")}'@'${host.replace(/'/g, "''")}'`;
}
