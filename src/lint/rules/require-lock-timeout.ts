import { relName } from '../pg-ast.js';
import type { PgRule } from '../types.js';

export const requireLockTimeout = {
  dialect: 'postgres',
  summary:
    'ALTER TABLE without SET lock_timeout waits behind long transactions, and everything queues behind it, when run outside maint.',
  severity: 'info',
  classification: 'expand',
  sizeAware: false,
  squawk: 'require-timeout-settings',
  nodes: ['AlterTableStmt'],
  check({ view, stmt, node, report }) {
    const table = relName(node.relation);
    if (!table || view.createdBefore(stmt, table)) return;
    // Once per file: the fix (one SET at the top) covers every statement.
    const earlier = view.statements.filter((s) => s.index < stmt.index);
    const set = earlier.some((s) => s.type === 'VariableSetStmt' && s.node.name === 'lock_timeout');
    const reported = earlier.some((s) => {
      const t = s.type === 'AlterTableStmt' ? relName(s.node.relation) : undefined;
      return t !== undefined && !view.createdBefore(s, t);
    });
    if (set || reported) return;
    report({
      at: stmt.start,
      table,
      message: `ALTER TABLE ${table} sets no lock_timeout: maint sets migrations.lockTimeout and retries, but run by psql or another tool it would wait behind any long transaction while every query on ${table} waits behind it`,
      hint: "If this file is ever run outside maint, begin it with `SET lock_timeout = '2s';`.",
    });
  },
} satisfies PgRule;
