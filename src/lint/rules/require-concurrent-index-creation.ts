import { relName } from '../pg-ast.js';
import type { PgRule } from '../types.js';

export const requireConcurrentIndexCreation = {
  dialect: 'postgres',
  summary: 'CREATE INDEX without CONCURRENTLY blocks writes to the table while the index builds.',
  severity: 'error',
  classification: 'expand',
  sizeAware: true,
  squawk: 'require-concurrent-index-creation',
  nodes: ['IndexStmt'],
  check({ view, stmt, node, report }) {
    const table = relName(node.relation);
    if (node.concurrent || !table || view.createdBefore(stmt, table)) return;
    report({
      at: stmt.start,
      table,
      message: `CREATE INDEX on ${table} without CONCURRENTLY takes a SHARE lock: writes to ${table} wait until the index is built`,
      hint: 'Use CREATE INDEX CONCURRENTLY in a migration of its own whose first line is `-- maint:no-transaction`.',
    });
  },
} satisfies PgRule;
