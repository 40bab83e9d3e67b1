import { relName } from '../pg-ast.js';
import type { PgRule } from '../types.js';
import { hasOption } from './helpers.js';

export const reindexWithoutConcurrently = {
  dialect: 'postgres',
  summary: 'REINDEX without CONCURRENTLY blocks writes (and reads using the index) while it rebuilds.',
  severity: 'error',
  classification: 'expand',
  sizeAware: true,
  squawk: null,
  nodes: ['ReindexStmt'],
  check({ stmt, node, report }) {
    if (hasOption(node, 'params', 'concurrently')) return;
    const table = node.kind === 'REINDEX_OBJECT_TABLE' ? relName(node.relation) : undefined;
    report({
      at: stmt.start,
      table,
      message: `REINDEX ${relName(node.relation) ?? String(node.name ?? '')} without CONCURRENTLY blocks writes while it rebuilds`,
      hint: 'Use REINDEX … CONCURRENTLY (PostgreSQL 12+) in a `-- maint:no-transaction` migration.',
    });
  },
} satisfies PgRule;
