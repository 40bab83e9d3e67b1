import { relName } from '../pg-ast.js';
import type { PgRule } from '../types.js';

export const banCluster = {
  dialect: 'postgres',
  summary: 'CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock.',
  severity: 'error',
  classification: 'expand',
  sizeAware: true,
  squawk: null,
  nodes: ['ClusterStmt'],
  check({ stmt, node, report }) {
    const table = relName(node.relation);
    report({
      at: stmt.start,
      table,
      message: `CLUSTER rewrites ${table ?? 'every clustered table'} while reads and writes wait`,
      hint: 'Use pg_repack (online re-ordering), or leave the physical order alone.',
    });
  },
} satisfies PgRule;
