import type { PgRule } from '../types.js';

export const requireConcurrentIndexDeletion = {
  dialect: 'postgres',
  summary: 'DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table.',
  severity: 'error',
  classification: 'expand',
  sizeAware: false,
  squawk: 'require-concurrent-index-deletion',
  nodes: ['DropStmt'],
  check({ stmt, node, report }) {
    if (node.removeType !== 'OBJECT_INDEX' || node.concurrent) return;
    report({
      at: stmt.start,
      message:
        'DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on its table: reads and writes wait behind it',
      hint: 'Use DROP INDEX CONCURRENTLY in a migration of its own whose first line is `-- maint:no-transaction`.',
    });
  },
} satisfies PgRule;
