import type { PgRule, PgRuleContext } from '../types.js';
import { alterAll, alterOnExisting } from './helpers.js';

/** Whether an earlier statement of the file validated a constraint on `table`. */
function validatedBefore(ctx: PgRuleContext, table: string): boolean {
  return ctx.view.statements.some(
    (s) =>
      s.index < ctx.stmt.index &&
      s.type === 'AlterTableStmt' &&
      alterAll({ ...ctx, stmt: s, node: s.node }).some(
        (c) => c.table === table && c.subtype === 'AT_ValidateConstraint',
      ),
  );
}

export const setNotNullWithoutCheck = {
  dialect: 'postgres',
  summary:
    'SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock unless a validated CHECK proves it.',
  severity: 'error',
  classification: 'contract',
  sizeAware: true,
  squawk: 'adding-not-nullable-field',
  nodes: ['AlterTableStmt'],
  check(ctx) {
    for (const c of alterOnExisting(ctx)) {
      if (c.subtype !== 'AT_SetNotNull' || validatedBefore(ctx, c.table)) continue;
      const column = String(c.cmd.name);
      ctx.report({
        at: c.at,
        table: c.table,
        message: `SET NOT NULL on ${c.table}.${column} scans every row while holding an ACCESS EXCLUSIVE lock`,
        hint: `First \`ALTER TABLE ${c.table} ADD CONSTRAINT ${column}_not_null CHECK (${column} IS NOT NULL) NOT VALID\`, then in a later migration VALIDATE CONSTRAINT it, SET NOT NULL (PostgreSQL 12+ uses the check and skips the scan) and drop the check.`,
      });
    }
  },
} satisfies PgRule;
