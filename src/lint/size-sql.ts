/**
 * Pure SQL for the sizes of the database's tables (what `maint lint` reads when it can reach the
 * database). PostgreSQL counts the heap, TOAST and indexes; MySQL the data and index length.
 */
import type { Dialect } from '../db/database.js';

export function tableSizesSql(dialect: Dialect): string {
  return dialect === 'postgres'
    ? `select n.nspname as "schema", c.relname as "name", pg_total_relation_size(c.oid)::bigint as "bytes"
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p', 'm') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'`
    : `select table_schema as \`schema\`, table_name as \`name\`, coalesce(data_length, 0) + coalesce(index_length, 0) as \`bytes\`
from information_schema.tables where table_schema = database() and table_type = 'BASE TABLE'`;
}

/** Rows of tableSizesSql → bytes by `name` and `schema.name` (lower-case). */
export function sizeMap(rows: Array<Record<string, unknown>>): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) {
    const name = String(r.name).toLowerCase();
    const bytes = Number(r.bytes);
    out.set(`${String(r.schema).toLowerCase()}.${name}`, bytes);
    // An unqualified name means the first schema on the search path; `public` wins a tie.
    if (!out.has(name) || String(r.schema) === 'public') out.set(name, bytes);
  }
  return out;
}

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 };

/** `10MB`, `512kB`, `1GB`, `1048576` → bytes; null when it is not a size. */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb)?\s*$/i.exec(text);
  if (!m) return null;
  return Math.round(Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()]!);
}
