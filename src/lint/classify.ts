/**
 * Expand or contract, statement by statement. Contract: removes or renames what the release
 * still serving may use (tables, columns, views, functions), or makes its writes fail (SET NOT
 * NULL, a required column without default), or removes its rows (TRUNCATE). Expand: any other
 * schema change. Neutral (null): settings, transactions, data changes, maintenance commands.
 */
import { list, unwrap, type PgStatement } from './pg-ast.js';
import { alterClauses, alterTableName, findWord, type MysqlStatement } from './mysql-tokens.js';
import type { Classification } from './vocabulary.js';

const CONTRACT_DROPS = new Set([
  'OBJECT_TABLE',
  'OBJECT_VIEW',
  'OBJECT_MATVIEW',
  'OBJECT_SCHEMA',
  'OBJECT_FUNCTION',
  'OBJECT_PROCEDURE',
  'OBJECT_TYPE',
  'OBJECT_DOMAIN',
  'OBJECT_SEQUENCE',
  'OBJECT_FOREIGN_TABLE',
]);
/** Renames that break a query naming the old name (an index rename breaks none). */
const RENAMED = new Set([
  'OBJECT_TABLE',
  'OBJECT_COLUMN',
  'OBJECT_VIEW',
  'OBJECT_MATVIEW',
  'OBJECT_SCHEMA',
  'OBJECT_FUNCTION',
  'OBJECT_PROCEDURE',
  'OBJECT_TYPE',
  'OBJECT_SEQUENCE',
  'OBJECT_ATTRIBUTE',
]);
/** ALTER TABLE commands that neither add nor remove anything a release uses. */
const NEUTRAL_ALTERS = new Set([
  'AT_ValidateConstraint',
  'AT_DropConstraint',
  'AT_SetStatistics',
  'AT_SetOptions',
  'AT_ResetOptions',
  'AT_SetRelOptions',
  'AT_ResetRelOptions',
  'AT_ClusterOn',
  'AT_DropCluster',
]);
const NEUTRAL = new Set([
  'VariableSetStmt',
  'VariableShowStmt',
  'TransactionStmt',
  'SelectStmt',
  'InsertStmt',
  'UpdateStmt',
  'DeleteStmt',
  'MergeStmt',
  'VacuumStmt',
  'ClusterStmt',
  'ReindexStmt',
  'ExplainStmt',
  'CopyStmt',
  'DoStmt',
  'CallStmt',
  'LockStmt',
  'NotifyStmt',
  'CommentStmt',
]);

export function classifyPg(stmt: PgStatement): Classification | null {
  const { type, node } = stmt;
  if (NEUTRAL.has(type)) return null;
  if (type === 'TruncateStmt' || type === 'DropdbStmt') return 'contract';
  if (type === 'RenameStmt') return RENAMED.has(String(node.renameType)) ? 'contract' : null;
  if (type === 'DropStmt') {
    if (CONTRACT_DROPS.has(String(node.removeType))) return 'contract';
    // Dropping an index slows queries at worst; it breaks none.
    return node.removeType === 'OBJECT_INDEX' ? null : 'expand';
  }
  if (type === 'AlterTableStmt') {
    const subtypes = list(node.cmds).map((c) => String(unwrap(c)?.[1].subtype));
    if (subtypes.every((t) => NEUTRAL_ALTERS.has(t))) return null;
    for (const c of list(node.cmds)) {
      const cmd = unwrap(c)?.[1];
      if (!cmd) continue;
      if (cmd.subtype === 'AT_DropColumn' || cmd.subtype === 'AT_SetNotNull') return 'contract';
      if (cmd.subtype === 'AT_AddColumn') {
        const kinds = list((unwrap(cmd.def)?.[1] ?? {}).constraints).map((x) => unwrap(x)?.[1].contype);
        if (
          kinds.includes('CONSTR_NOTNULL') &&
          !kinds.includes('CONSTR_DEFAULT') &&
          !kinds.includes('CONSTR_IDENTITY')
        )
          return 'contract';
      }
    }
  }
  return 'expand';
}

const MYSQL_DROPPABLE = ['TABLE', 'VIEW', 'DATABASE', 'SCHEMA', 'PROCEDURE', 'FUNCTION'];
const NOT_A_COLUMN = ['INDEX', 'KEY', 'FOREIGN', 'PRIMARY', 'CONSTRAINT', 'CHECK', 'PARTITION', 'UNIQUE'];

export function classifyMysql(stmt: MysqlStatement): Classification | null {
  const t = stmt.tokens;
  const first = t[0]?.upper;
  if (first === 'TRUNCATE' || first === 'RENAME') return 'contract';
  if (first === 'DROP') {
    const what = t[1]?.upper === 'TEMPORARY' ? t[2]?.upper : t[1]?.upper;
    return what && MYSQL_DROPPABLE.includes(what) ? 'contract' : 'expand';
  }
  const name = alterTableName(stmt);
  if (name >= 0) {
    for (const [from, to] of alterClauses(stmt, name)) {
      const word = t[from]?.upper;
      if (word === 'DROP' && !NOT_A_COLUMN.includes(t[from + 1]?.upper ?? '')) return 'contract';
      if (word === 'RENAME' && findWord(t.slice(from, to), ['INDEX', 'KEY']) === -1) return 'contract';
      if (word === 'CHANGE') {
        const i = t[from + 1]?.upper === 'COLUMN' ? from + 2 : from + 1;
        if (t[i] && t[i + 1] && t[i]!.upper !== t[i + 1]!.upper) return 'contract';
      }
    }
    return 'expand';
  }
  if (first === 'CREATE' || first === 'ALTER') return 'expand';
  return null;
}
