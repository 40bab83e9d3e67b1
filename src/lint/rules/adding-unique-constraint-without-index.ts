import type { PgRule } from '../types.js';
import { addedConstraint, alterOnExisting } from './helpers.js';

export const addingUniqueConstraintWithoutIndex = {
  dialect: 'postgres',
  summary:
    'ADD UNIQUE builds its index under an ACCESS EXCLUSIVE lock unless it takes an existing one (USING INDEX).',
  severity: 'error',
  classification: 'expand',
  sizeAware: true,
  squawk: 'disallowed-unique-constraint',
  nodes: ['AlterTableStmt'],
  check(ctx) {
    for (const c of alterOnExisting(ctx)) {
      const con = addedConstraint(c);
      if (con?.contype !== 'CONSTR_UNIQUE' || con.indexname) continue;
      ctx.report({
        at: c.at,
        table: c.table,
        message: `ADD UNIQUE on ${c.table} builds a unique index while reads and writes wait`,
        hint: `CREATE UNIQUE INDEX CONCURRENTLY in a \`-- maint:no-transaction\` migration, then \`ALTER TABLE ${c.table} ADD CONSTRAINT … UNIQUE USING INDEX …\`.`,
      });
    }
  },
} satisfies PgRule;
