/**
 * Pure SQL builders for the PostgreSQL `logical` clone (publication, slot, subscription, the
 * freeze and its undo). Only src/clone/pg-logical.ts runs them. Identifiers are always quoted.
 */
import { quoteIdent } from '../db/sql.js';

const q = (name: string) => quoteIdent('postgres', name);
const lit = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** A table as `"schema"."name"`. */
export function qualified(schema: string, name: string): string {
  return `${q(schema)}.${q(name)}`;
}

/** User tables of the live database, with what logical replication needs to know about each. */
export const USER_TABLES_SQL = `select n.nspname as schema, c.relname as name, c.relpersistence as persistence,
  c.relreplident as identity, pg_get_userbyid(c.relowner) as owner,
  exists (select 1 from pg_index i where i.indrelid = c.oid and i.indisprimary) as has_pk,
  exists (select 1 from pg_index i where i.indrelid = c.oid and i.indisreplident) as has_identity_index
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p') and not c.relispartition
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%' and n.nspname not like 'pg_temp%'
order by 1, 2`;

/** Roles connected to the live database that are not this session's role (the application). */
export const APP_ROLES_SQL = `select distinct a.usename as role, r.rolsuper as superuser,
  exists (select 1 from pg_db_role_setting s where s.setrole = r.oid and (s.setdatabase = 0 or s.setdatabase = d.oid)
          and exists (select 1 from unnest(s.setconfig) c where c ~* '^default_transaction_read_only=(off|false|no|0)$')) as own_setting
from pg_stat_activity a join pg_roles r on r.rolname = a.usename join pg_database d on d.datname = a.datname
where a.datname = current_database() and a.usename is not null and a.usename <> current_user and a.backend_type = 'client backend'`;

/** Sessions of maint's own role that are not maint (an application sharing maint's role). */
export const SHARED_ROLE_SESSIONS_SQL = `select count(*)::int as n from pg_stat_activity
where datname = current_database() and usename = current_user and backend_type = 'client backend'
  and coalesce(application_name, '') not like 'maint%' and pid <> pg_backend_pid()`;

/** Write privileges a role holds directly on user tables (what the freeze revokes and restores). */
export function directWriteGrantsSql(role: string): string {
  return `select n.nspname as schema, c.relname as name, a.privilege_type as privilege
from pg_class c join pg_namespace n on n.oid = c.relnamespace, aclexplode(c.relacl) a
where c.relkind in ('r', 'p') and a.grantee = (select oid from pg_roles where rolname = ${lit(role)})
  and a.privilege_type in ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
  and n.nspname not in ('pg_catalog', 'information_schema')
order by 1, 2, 3`;
}

/** Tables a role can still write after its direct grants are gone (PUBLIC, a group role, ownership). */
export function writableTablesSql(role: string): string {
  return `select n.nspname as schema, c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
  and (pg_get_userbyid(c.relowner) = ${lit(role)}
    or exists (select 1 from aclexplode(c.relacl) a where a.privilege_type in ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
      and (a.grantee = 0 or (a.grantee <> (select oid from pg_roles where rolname = ${lit(role)})
        and pg_has_role(${lit(role)}, a.grantee, 'USAGE')))))
order by 1, 2`;
}

export interface TableGrant {
  schema: string;
  name: string;
  privilege: string;
}

/** The freeze: new sessions of `role` start read-only, and its existing sessions lose write rights at once. */
export function freezeRoleSql(role: string, grants: TableGrant[]): string[] {
  const sql = [`alter role ${q(role)} in database ${'${db}'} set default_transaction_read_only = on`];
  for (const [table, privileges] of groupGrants(grants))
    sql.push(`revoke ${privileges.join(', ')} on table ${table} from ${q(role)}`);
  return sql;
}

/** The freeze undone: the role's setting reset and every revoked privilege granted again. */
export function unfreezeRoleSql(role: string, grants: TableGrant[]): string[] {
  return [
    `alter role ${q(role)} in database ${'${db}'} reset default_transaction_read_only`,
    ...regrantSql(role, grants),
  ];
}

/** The write grants a freeze revoked, granted again (on the live database, or on a copy made during the freeze). */
export function regrantSql(role: string, grants: TableGrant[]): string[] {
  return [...groupGrants(grants)].map(
    ([table, privileges]) => `grant ${privileges.join(', ')} on table ${table} to ${q(role)}`,
  );
}

function groupGrants(grants: TableGrant[]): Map<string, string[]> {
  const byTable = new Map<string, string[]>();
  for (const g of grants) {
    const table = qualified(g.schema, g.name);
    byTable.set(table, [...(byTable.get(table) ?? []), g.privilege.toLowerCase()]);
  }
  return byTable;
}

/** `${db}` in the freeze statements is the live database's quoted name. */
export function bindDatabase(sql: string, database: string): string {
  return sql.split('${db}').join(q(database));
}

export function createPublicationSql(
  publication: string,
  tables: Array<{ schema: string; name: string }>,
): string {
  return `create publication ${q(publication)} for table ${tables.map((t) => qualified(t.schema, t.name)).join(', ')}`;
}

export function createSlotSql(slot: string): string {
  return `select lsn::text as lsn from pg_create_logical_replication_slot(${lit(slot)}, 'pgoutput')`;
}

/** The subscription uses the slot made beforehand (a same-cluster subscription cannot make its own). */
export function createSubscriptionSql(
  subscription: string,
  conninfo: string,
  publication: string,
  slot: string,
): string {
  return `create subscription ${q(subscription)} connection ${lit(conninfo)} publication ${q(publication)} with (create_slot = false, slot_name = ${lit(slot)}, copy_data = true)`;
}

/** Detach the subscription from its slot before dropping it, so the drop never needs the publisher. */
export function dropSubscriptionSql(subscription: string): string[] {
  return [
    `alter subscription ${q(subscription)} disable`,
    `alter subscription ${q(subscription)} set (slot_name = none)`,
    `drop subscription ${q(subscription)}`,
  ];
}

export function dropPublicationSql(publication: string): string {
  return `drop publication if exists ${q(publication)}`;
}

export function dropSlotSql(slot: string): string {
  return `select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = ${lit(slot)}`;
}

export function terminateSlotSenderSql(slot: string): string {
  return `select pg_terminate_backend(active_pid) from pg_replication_slots where slot_name = ${lit(slot)} and active_pid is not null`;
}

/** Subscription tables not yet in the ready state (initial copy still running). */
export function unsyncedTablesSql(subscription: string): string {
  return `select count(*)::int as n from pg_subscription_rel r join pg_subscription s on s.oid = r.srsubid
where s.subname = ${lit(subscription)} and r.srsubstate <> 'r'`;
}

/** How far the subscriber has confirmed, compared with `lsn` (true once it is there). */
export function slotReachedSql(slot: string, lsn: string): string {
  return `select coalesce(confirmed_flush_lsn >= ${lit(lsn)}::pg_lsn, false) as reached from pg_replication_slots where slot_name = ${lit(slot)}`;
}

/** Open transactions of the frozen roles that began before the freeze and hold a transaction id (writers). */
export function inFlightWritersSql(roles: string[], since: string): string {
  return `select pid from pg_stat_activity where datname = current_database()
  and usename in (${roles.map(lit).join(', ')}) and xact_start < ${lit(since)}::timestamptz and backend_xid is not null`;
}

export function terminateSql(pids: number[]): string {
  return `select pg_terminate_backend(pid) from unnest(array[${pids.map((p) => Math.trunc(p)).join(', ')}]::int[]) as pid`;
}

/** Every sequence in the live database with its last value (null: never used). */
export const SEQUENCES_SQL = `select schemaname as schema, sequencename as name, last_value::text as last from pg_sequences
where schemaname not in ('pg_catalog', 'information_schema') order by 1, 2`;

/** Move a clone's sequence up to the live value, never down (a migration on the clone may have used it). */
export function setvalSql(schema: string, name: string, last: string): string {
  const seq = qualified(schema, name);
  return `select setval(${lit(seq)}, greatest(${lit(last)}::bigint, (select case when is_called then last_value else 0 end from ${seq})), true)`;
}
