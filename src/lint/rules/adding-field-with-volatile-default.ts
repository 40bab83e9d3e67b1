import { list, names, unwrap, type PgNode } from '../pg-ast.js';
import type { PgRule } from '../types.js';
import { addedColumn, alterOnExisting } from './helpers.js';

/** Functions whose value is fixed for the statement: PostgreSQL 11+ stores such a default without a rewrite. */
const NON_VOLATILE = new Set([
  'now',
  'transaction_timestamp',
  'statement_timestamp',
  'current_timestamp',
  'current_date',
  'localtimestamp',
  'current_setting',
  'lower',
  'upper',
  'coalesce',
  'to_jsonb',
  'jsonb_build_object',
  'json_build_object',
  'array',
  'make_interval',
]);
const SERIAL = new Set(['serial', 'serial4', 'bigserial', 'serial8', 'smallserial', 'serial2']);

/** The first function call in a default expression that may be volatile, with its location. */
function volatileCall(expr: unknown): { name: string; location: number } | null {
  const node = unwrap(expr);
  if (!node) return null;
  const [type, body] = node;
  if (type === 'FuncCall') {
    const name = names(body.funcname).at(-1)?.toLowerCase() ?? '';
    if (!NON_VOLATILE.has(name)) return { name, location: Number(body.location) };
  }
  for (const value of Object.values(body)) {
    for (const child of Array.isArray(value) ? value : [value]) {
      const found = volatileCall(child);
      if (found) return found;
    }
  }
  return null;
}

export const addingFieldWithVolatileDefault = {
  dialect: 'postgres',
  summary:
    'ADD COLUMN with a volatile default (random(), gen_random_uuid(), clock_timestamp(), serial) rewrites the table.',
  severity: 'error',
  classification: 'expand',
  sizeAware: true,
  squawk: 'adding-field-with-default',
  nodes: ['AlterTableStmt'],
  check(ctx) {
    for (const c of alterOnExisting(ctx)) {
      const col = addedColumn(c);
      if (!col) continue;
      const type =
        names((col.typeName as PgNode | undefined)?.names)
          .at(-1)
          ?.toLowerCase() ?? '';
      if (SERIAL.has(type)) {
        ctx.report({
          at: Number((col.typeName as PgNode).location),
          table: c.table,
          message: `ADD COLUMN ${String(col.colname)} ${type} on ${c.table} fills every row from a sequence: the table is rewritten under an ACCESS EXCLUSIVE lock`,
          hint: 'Add a plain bigint column, attach a sequence default to new rows (ALTER COLUMN … SET DEFAULT nextval(…)), and backfill old rows in batches.',
        });
        continue;
      }
      for (const con of list(col.constraints)) {
        const body = unwrap(con);
        if (body?.[0] !== 'Constraint' || body[1].contype !== 'CONSTR_DEFAULT') continue;
        const call = volatileCall(body[1].raw_expr);
        if (!call) continue;
        ctx.report({
          at: Number(body[1].location),
          table: c.table,
          message: `ADD COLUMN ${String(col.colname)} on ${c.table} with DEFAULT ${call.name}(): a volatile default is computed for every row, rewriting the table under an ACCESS EXCLUSIVE lock`,
          hint: 'Add the column without a default (or with a constant one), then SET DEFAULT for new rows and backfill old rows in batches.',
        });
      }
    }
  },
} satisfies PgRule;
