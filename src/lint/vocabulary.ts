/** The linter's words, with no imports so every other lint module can use them. */

/** Every rule id; `RULES` in rules/index.ts maps each to its rule. */
export const RULE_IDS = [
  'require-concurrent-index-creation',
  'require-concurrent-index-deletion',
  'constraint-missing-not-valid',
  'set-not-null-without-check',
  'changing-column-type',
  'adding-field-with-volatile-default',
  'adding-required-field',
  'require-lock-timeout',
  'concurrently-in-transaction',
  'add-and-validate-in-one-transaction',
  'renaming-column',
  'renaming-table',
  'ban-drop-column',
  'ban-drop-table',
  'adding-primary-key-without-index',
  'adding-unique-constraint-without-index',
  'ban-vacuum-full',
  'ban-cluster',
  'ban-truncate',
  'ban-drop-database',
  'reindex-without-concurrently',
  'mixed-expand-contract',
  'mysql-copy-algorithm',
  'mysql-column-type-change',
  'mysql-add-index',
  'mysql-drop-or-rename',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

export type Severity = 'error' | 'warning' | 'info';

/** Expand: safe while the old release serves. Contract: drops or renames what it uses. */
export type Classification = 'expand' | 'contract';
