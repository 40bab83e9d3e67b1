/**
 * Every lint rule, by id. One rule per file; the map is typed so a rule id without a rule (or a
 * rule without an id) fails to compile. docs/lint.md has an entry per id (a unit test checks).
 */
import type { Rule } from '../types.js';
import { RULE_IDS, type RuleId } from '../vocabulary.js';
import { addAndValidateInOneTransaction } from './add-and-validate-in-one-transaction.js';
import { addingFieldWithVolatileDefault } from './adding-field-with-volatile-default.js';
import { addingPrimaryKeyWithoutIndex } from './adding-primary-key-without-index.js';
import { addingRequiredField } from './adding-required-field.js';
import { addingUniqueConstraintWithoutIndex } from './adding-unique-constraint-without-index.js';
import { banCluster } from './ban-cluster.js';
import { banDropColumn } from './ban-drop-column.js';
import { banDropDatabase } from './ban-drop-database.js';
import { banDropTable } from './ban-drop-table.js';
import { banTruncate } from './ban-truncate.js';
import { banVacuumFull } from './ban-vacuum-full.js';
import { changingColumnType } from './changing-column-type.js';
import { concurrentlyInTransaction } from './concurrently-in-transaction.js';
import { constraintMissingNotValid } from './constraint-missing-not-valid.js';
import { mixedExpandContract } from './mixed-expand-contract.js';
import { mysqlAddIndex } from './mysql-add-index.js';
import { mysqlColumnTypeChange } from './mysql-column-type-change.js';
import { mysqlCopyAlgorithm } from './mysql-copy-algorithm.js';
import { mysqlDropOrRename } from './mysql-drop-or-rename.js';
import { reindexWithoutConcurrently } from './reindex-without-concurrently.js';
import { renamingColumn } from './renaming-column.js';
import { renamingTable } from './renaming-table.js';
import { requireConcurrentIndexCreation } from './require-concurrent-index-creation.js';
import { requireConcurrentIndexDeletion } from './require-concurrent-index-deletion.js';
import { requireLockTimeout } from './require-lock-timeout.js';
import { setNotNullWithoutCheck } from './set-not-null-without-check.js';

export const RULES = {
  'require-concurrent-index-creation': requireConcurrentIndexCreation,
  'require-concurrent-index-deletion': requireConcurrentIndexDeletion,
  'constraint-missing-not-valid': constraintMissingNotValid,
  'set-not-null-without-check': setNotNullWithoutCheck,
  'changing-column-type': changingColumnType,
  'adding-field-with-volatile-default': addingFieldWithVolatileDefault,
  'adding-required-field': addingRequiredField,
  'require-lock-timeout': requireLockTimeout,
  'concurrently-in-transaction': concurrentlyInTransaction,
  'add-and-validate-in-one-transaction': addAndValidateInOneTransaction,
  'renaming-column': renamingColumn,
  'renaming-table': renamingTable,
  'ban-drop-column': banDropColumn,
  'ban-drop-table': banDropTable,
  'adding-primary-key-without-index': addingPrimaryKeyWithoutIndex,
  'adding-unique-constraint-without-index': addingUniqueConstraintWithoutIndex,
  'ban-vacuum-full': banVacuumFull,
  'ban-cluster': banCluster,
  'ban-truncate': banTruncate,
  'ban-drop-database': banDropDatabase,
  'reindex-without-concurrently': reindexWithoutConcurrently,
  'mixed-expand-contract': mixedExpandContract,
  'mysql-copy-algorithm': mysqlCopyAlgorithm,
  'mysql-column-type-change': mysqlColumnTypeChange,
  'mysql-add-index': mysqlAddIndex,
  'mysql-drop-or-rename': mysqlDropOrRename,
} satisfies Record<RuleId, Rule>;

export { RULE_IDS, type RuleId };

export function isRuleId(id: string): id is RuleId {
  return Object.hasOwn(RULES, id);
}
