/** Small AST readers shared by the PostgreSQL rules. */
import { alterCommands, relName, unwrap, type PgNode } from '../pg-ast.js';
import type { PgRuleContext } from '../types.js';

export interface AlterCmd {
  cmd: PgNode;
  subtype: string;
  /** Offset of the clause (`ADD CONSTRAINT …`, `ALTER COLUMN …`). */
  at: number;
  table: string;
}

/** The commands of an ALTER TABLE on a table that existed before this migration. */
export function alterOnExisting(ctx: PgRuleContext): AlterCmd[] {
  if (ctx.stmt.type !== 'AlterTableStmt') return [];
  const table = relName(ctx.node.relation);
  if (!table || ctx.view.createdBefore(ctx.stmt, table)) return [];
  return alterCommands(ctx.stmt).map(({ cmd, at }) => ({ cmd, at, subtype: String(cmd.subtype), table }));
}

/** The commands of an ALTER TABLE, new table or not. */
export function alterAll(ctx: PgRuleContext): AlterCmd[] {
  if (ctx.stmt.type !== 'AlterTableStmt') return [];
  const table = relName(ctx.node.relation) ?? '?';
  return alterCommands(ctx.stmt).map(({ cmd, at }) => ({ cmd, at, subtype: String(cmd.subtype), table }));
}

/** The Constraint body an `ADD CONSTRAINT` command adds. */
export function addedConstraint(c: AlterCmd): PgNode | undefined {
  if (c.subtype !== 'AT_AddConstraint') return undefined;
  const def = unwrap(c.cmd.def);
  return def?.[0] === 'Constraint' ? def[1] : undefined;
}

/** The ColumnDef an `ADD COLUMN` command adds. */
export function addedColumn(c: AlterCmd): PgNode | undefined {
  if (c.subtype !== 'AT_AddColumn') return undefined;
  const def = unwrap(c.cmd.def);
  return def?.[0] === 'ColumnDef' ? def[1] : undefined;
}

/** A DefElem option of a statement (`full` of VACUUM, `concurrently` of REINDEX). */
export function hasOption(node: PgNode, key: string, name: string): PgNode | undefined {
  const opts = Array.isArray(node[key]) ? (node[key] as unknown[]) : [];
  for (const o of opts) {
    const d = unwrap(o);
    if (d?.[0] === 'DefElem' && d[1].defname === name) return d[1];
  }
  return undefined;
}
