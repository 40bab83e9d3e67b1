import type { PgRule } from '../types.js';
import { addedConstraint, alterAll } from './helpers.js';

export const addAndValidateInOneTransaction = {
  dialect: 'postgres',
  summary:
    "ADD CONSTRAINT … NOT VALID and VALIDATE CONSTRAINT in one transaction hold the ADD's lock through the scan.",
  severity: 'error',
  classification: 'expand',
  sizeAware: true,
  squawk: 'constraint-missing-not-valid',
  nodes: ['AlterTableStmt'],
  check(ctx) {
    if (!ctx.view.transactional) return;
    for (const c of alterAll(ctx)) {
      if (c.subtype !== 'AT_ValidateConstraint') continue;
      const name = String(c.cmd.name);
      const addedHere = ctx.view.statements.some(
        (s) =>
          s.index <= ctx.stmt.index &&
          alterAll({ ...ctx, stmt: s, node: s.node }).some(
            (a) => a.table === c.table && addedConstraint(a)?.conname === name,
          ),
      );
      if (!addedHere) continue;
      ctx.report({
        at: c.at,
        table: c.table,
        message: `${name} is added NOT VALID and validated in the same transaction: the ADD's lock, which blocks writes to ${c.table}, is held while VALIDATE scans every row`,
        hint: 'Move VALIDATE CONSTRAINT to a later migration, so the ADD commits (and releases its lock) first.',
      });
    }
  },
} satisfies PgRule;
