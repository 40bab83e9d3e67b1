import { relName } from '../pg-ast.js';
import type { PgRule } from '../types.js';

export const renamingTable = {
  dialect: 'postgres',
  summary: 'Renaming a table breaks the release still serving, which queries the old name.',
  severity: 'warning',
  classification: 'contract',
  sizeAware: false,
  squawk: 'renaming-table',
  nodes: ['RenameStmt'],
  check({ stmt, node, report }) {
    if (node.renameType !== 'OBJECT_TABLE') return;
    const table = relName(node.relation) ?? '?';
    const at = stmt.tokens.find((t) => t.upper === 'RENAME')?.start ?? stmt.start;
    report({
      at,
      table,
      message: `renaming table ${table} to ${String(node.newname)} is a contract change: the old release still queries ${table}`,
      hint: `Create ${String(node.newname)} (or a view of that name over ${table}) first; drop or rename ${table} in a contract migration once the fleet serves the new release.`,
    });
  },
} satisfies PgRule;
