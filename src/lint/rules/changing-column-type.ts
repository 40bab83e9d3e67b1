import type { PgRule } from '../types.js';
import { alterOnExisting } from './helpers.js';

export const changingColumnType = {
  dialect: 'postgres',
  summary: 'ALTER COLUMN … TYPE rewrites the table and its indexes under an ACCESS EXCLUSIVE lock.',
  severity: 'error',
  classification: 'expand',
  sizeAware: true,
  squawk: 'changing-column-type',
  nodes: ['AlterTableStmt'],
  check(ctx) {
    for (const c of alterOnExisting(ctx)) {
      if (c.subtype !== 'AT_AlterColumnType') continue;
      const column = String(c.cmd.name);
      ctx.report({
        at: c.at,
        table: c.table,
        message: `changing the type of ${c.table}.${column} rewrites the table and its indexes while reads and writes wait`,
        hint: `Add a new column of the new type, backfill it in batches, switch the application to it, then drop ${column} in a contract migration. (varchar(n) → text or a longer varchar does not rewrite: suppress with \`-- maint:lint-ignore changing-column-type REASON\`.)`,
      });
    }
  },
} satisfies PgRule;
