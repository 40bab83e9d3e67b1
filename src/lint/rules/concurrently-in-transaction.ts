import type { PgRule } from '../types.js';
import { hasOption } from './helpers.js';

export const concurrentlyInTransaction = {
  dialect: 'postgres',
  summary: 'CONCURRENTLY cannot run inside a transaction: the migration fails.',
  severity: 'error',
  classification: 'expand',
  sizeAware: false,
  squawk: 'ban-concurrent-index-creation-in-transaction',
  nodes: ['IndexStmt', 'DropStmt', 'ReindexStmt'],
  check({ view, stmt, node, report }) {
    const concurrent =
      stmt.type === 'ReindexStmt'
        ? Boolean(hasOption(node, 'params', 'concurrently'))
        : Boolean(node.concurrent);
    if (!concurrent) return;
    const begun = view.statements.some(
      (s) => s.index < stmt.index && s.type === 'TransactionStmt' && s.node.kind === 'TRANS_STMT_BEGIN',
    );
    if (view.transactional || begun) {
      const at = stmt.tokens.find((t) => t.upper === 'CONCURRENTLY')?.start ?? stmt.start;
      report({
        at,
        message: view.transactional
          ? 'CONCURRENTLY inside a transactional migration: PostgreSQL refuses it ("cannot run inside a transaction block")'
          : 'CONCURRENTLY after BEGIN: PostgreSQL refuses it inside a transaction block',
        hint: 'Put the statement alone in a migration whose first line is `-- maint:no-transaction`, without BEGIN/COMMIT.',
      });
    }
  },
} satisfies PgRule;
