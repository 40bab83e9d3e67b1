import { list, unwrap } from '../pg-ast.js';
import type { PgRule } from '../types.js';
import { addedColumn, alterOnExisting } from './helpers.js';

export const addingRequiredField = {
  dialect: 'postgres',
  summary:
    'ADD COLUMN … NOT NULL without a DEFAULT fails on a table with rows, and the old release cannot insert.',
  severity: 'error',
  classification: 'contract',
  sizeAware: false,
  squawk: 'adding-required-field',
  nodes: ['AlterTableStmt'],
  check(ctx) {
    for (const c of alterOnExisting(ctx)) {
      const col = addedColumn(c);
      if (!col) continue;
      const kinds = list(col.constraints).map((x) => unwrap(x)?.[1].contype);
      if (
        !kinds.includes('CONSTR_NOTNULL') ||
        kinds.includes('CONSTR_DEFAULT') ||
        kinds.includes('CONSTR_IDENTITY')
      )
        continue;
      ctx.report({
        at: c.at,
        table: c.table,
        message: `ADD COLUMN ${String(col.colname)} NOT NULL on ${c.table} has no DEFAULT: it fails if the table has rows, and the old release's INSERTs, which do not name the column, would fail`,
        hint: 'Add the column with a constant DEFAULT (instant since PostgreSQL 11), or nullable first and SET NOT NULL after a backfill.',
      });
    }
  },
} satisfies PgRule;
