import { list, relName } from '../pg-ast.js';
import type { PgRule } from '../types.js';

export const banTruncate = {
  dialect: 'postgres',
  summary: 'TRUNCATE takes an ACCESS EXCLUSIVE lock and removes rows the old release reads.',
  severity: 'error',
  classification: 'contract',
  sizeAware: false,
  squawk: 'ban-truncate-cascade',
  nodes: ['TruncateStmt'],
  check({ stmt, node, report }) {
    const tables = list(node.relations).map((r) => relName((r as { RangeVar?: unknown }).RangeVar) ?? '?');
    report({
      at: stmt.start,
      table: tables[0],
      message: `TRUNCATE ${tables.join(', ')}${node.behavior === 'DROP_CASCADE' ? ' CASCADE' : ''} takes an ACCESS EXCLUSIVE lock and removes every row`,
      hint: 'Delete in batches (DELETE … WHERE id IN (SELECT … LIMIT 10000)) if the rows must go; if the table is unused, drop it in a contract migration.',
    });
  },
} satisfies PgRule;
