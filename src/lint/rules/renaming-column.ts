import { relName } from '../pg-ast.js';
import type { PgRule } from '../types.js';

export const renamingColumn = {
  dialect: 'postgres',
  summary: 'Renaming a column breaks the release still serving, which queries the old name.',
  severity: 'warning',
  classification: 'contract',
  sizeAware: false,
  squawk: 'renaming-column',
  nodes: ['RenameStmt'],
  check({ stmt, node, report }) {
    if (node.renameType !== 'OBJECT_COLUMN') return;
    const table = relName(node.relation) ?? '?';
    const at = stmt.tokens.find((t) => t.upper === 'RENAME')?.start ?? stmt.start;
    report({
      at,
      table,
      message: `renaming ${table}.${String(node.subname)} to ${String(node.newname)} is a contract change: the old release still queries ${String(node.subname)}`,
      hint: `Expand: add ${String(node.newname)} and write both; contract later: drop ${String(node.subname)} once the fleet serves the new release (maint holds contract migrations back until then).`,
    });
  },
} satisfies PgRule;
