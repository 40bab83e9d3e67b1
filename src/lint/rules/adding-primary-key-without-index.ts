import type { PgRule } from '../types.js';
import { addedConstraint, alterOnExisting } from './helpers.js';

export const addingPrimaryKeyWithoutIndex = {
  dialect: 'postgres',
  summary:
    'ADD PRIMARY KEY builds its index under an ACCESS EXCLUSIVE lock unless it takes an existing one (USING INDEX).',
  severity: 'error',
  classification: 'expand',
  sizeAware: true,
  squawk: 'adding-serial-primary-key-field',
  nodes: ['AlterTableStmt'],
  check(ctx) {
    for (const c of alterOnExisting(ctx)) {
      const con = addedConstraint(c);
      if (con?.contype !== 'CONSTR_PRIMARY' || con.indexname) continue;
      ctx.report({
        at: c.at,
        table: c.table,
        message: `ADD PRIMARY KEY on ${c.table} builds a unique index while reads and writes wait`,
        hint: `CREATE UNIQUE INDEX CONCURRENTLY ${c.table}_pkey_idx ON ${c.table} (…) in a \`-- maint:no-transaction\` migration, then \`ALTER TABLE ${c.table} ADD CONSTRAINT ${c.table}_pkey PRIMARY KEY USING INDEX ${c.table}_pkey_idx\`.`,
      });
    }
  },
} satisfies PgRule;
