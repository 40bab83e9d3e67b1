import { list, names, unwrap } from '../pg-ast.js';
import type { PgRule } from '../types.js';

export const banDropTable = {
  dialect: 'postgres',
  summary: 'Dropping a table breaks the release still serving if it uses the table.',
  severity: 'warning',
  classification: 'contract',
  sizeAware: false,
  squawk: 'ban-drop-table',
  nodes: ['DropStmt'],
  check({ stmt, node, report }) {
    if (node.removeType !== 'OBJECT_TABLE') return;
    const tables = list(node.objects).map((o) => names(unwrap(o)?.[1].items).join('.'));
    report({
      at: stmt.start,
      table: tables[0],
      message: `dropping ${tables.join(', ')} is a contract change: the old release may still use ${tables.length > 1 ? 'them' : 'it'}`,
      hint: 'Stop using the table in the new release first; maint runs this migration only once the fleet serves that release.',
    });
  },
} satisfies PgRule;
