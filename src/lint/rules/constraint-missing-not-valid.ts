import type { PgRule } from '../types.js';
import { addedConstraint, alterOnExisting } from './helpers.js';

export const constraintMissingNotValid = {
  dialect: 'postgres',
  summary: 'Adding a FOREIGN KEY or CHECK constraint without NOT VALID scans the table under lock.',
  severity: 'error',
  classification: 'expand',
  sizeAware: true,
  squawk: 'constraint-missing-not-valid',
  nodes: ['AlterTableStmt'],
  check(ctx) {
    for (const c of alterOnExisting(ctx)) {
      const con = addedConstraint(c);
      if (!con || con.skip_validation) continue;
      const kind =
        con.contype === 'CONSTR_FOREIGN' ? 'FOREIGN KEY' : con.contype === 'CONSTR_CHECK' ? 'CHECK' : null;
      if (!kind) continue;
      ctx.report({
        at: c.at,
        table: c.table,
        message: `ADD ${kind} on ${c.table} without NOT VALID checks every row while holding a lock that blocks writes`,
        hint: `Add it with NOT VALID (instant), then run \`ALTER TABLE ${c.table} VALIDATE CONSTRAINT …\` in a later migration: validating takes a lock that lets reads and writes go on.`,
      });
    }
  },
} satisfies PgRule;
