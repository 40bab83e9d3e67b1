import type { PgRule } from '../types.js';
import { alterAll } from './helpers.js';

export const banDropColumn = {
  dialect: 'postgres',
  summary: 'Dropping a column breaks the release still serving if it reads or writes the column.',
  severity: 'warning',
  classification: 'contract',
  sizeAware: false,
  squawk: 'ban-drop-column',
  nodes: ['AlterTableStmt'],
  check(ctx) {
    for (const c of alterAll(ctx)) {
      if (c.subtype !== 'AT_DropColumn') continue;
      ctx.report({
        at: c.at,
        table: c.table,
        message: `dropping ${c.table}.${String(c.cmd.name)} is a contract change: the old release may still use it`,
        hint: 'Stop using the column in the new release first; maint runs this migration only once the fleet serves that release.',
      });
    }
  },
} satisfies PgRule;
