import type { PgRule } from '../types.js';

export const banDropDatabase = {
  dialect: 'postgres',
  summary: 'DROP DATABASE in a migration destroys everything.',
  severity: 'error',
  classification: 'contract',
  sizeAware: false,
  squawk: 'ban-drop-database',
  nodes: ['DropdbStmt'],
  check({ stmt, node, report }) {
    report({
      at: stmt.start,
      message: `DROP DATABASE ${String(node.dbname)} in a migration`,
      hint: 'Drop databases by hand, never from a migration.',
    });
  },
} satisfies PgRule;
