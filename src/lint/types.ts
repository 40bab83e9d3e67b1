/**
 * The linter's vocabulary: findings, rules, and what a rule sees of a migration. Rules are pure:
 * they read a parsed statement and report positions; severity by table size and suppressions are
 * applied around them (lint-file.ts), so every rule stays a few lines of AST matching.
 */
import type { Dialect } from '../db/database.js';
import type { PgNode, PgStatement } from './pg-ast.js';
import type { MysqlStatement } from './mysql-tokens.js';
import type { Classification, RuleId, Severity } from './vocabulary.js';

export type { Classification, RuleId, Severity };

export interface Finding {
  rule: RuleId;
  severity: Severity;
  /** Path relative to the plan's folder (or as given). */
  file: string;
  /** 1-based line and column of the offending clause. */
  line: number;
  col: number;
  message: string;
  /** The safe rewrite. */
  hint: string;
  /** What the offending operation is: expand or contract. */
  classification: Classification;
  /** The table the operation locks or rewrites, when there is one. */
  table?: string;
  /** Why this severity: the table's size when the database was read. */
  sizeBytes?: number;
}

/** What a rule reports; `lint-file.ts` adds the position, file and final severity. */
export interface Report {
  /** Character offset in the file of the offending clause. */
  at: number;
  message: string;
  hint: string;
  /** The table whose size decides the severity of a size-aware rule. */
  table?: string;
  /** Overrides the rule's classification for this finding. */
  classification?: Classification;
}

/** A whole migration file as the PostgreSQL rules see it. */
export interface PgFileView {
  file: string;
  text: string;
  statements: PgStatement[];
  /** False for `-- maint:no-transaction` migrations. */
  transactional: boolean;
  /** Whether an earlier statement of this file created `table` (a new table locks nobody). */
  createdBefore(stmt: PgStatement, table: string): boolean;
}

export interface PgRuleContext {
  view: PgFileView;
  stmt: PgStatement;
  /** The statement's node (e.g. the body of `AlterTableStmt`); its `location`s are string offsets. */
  node: PgNode;
  report(r: Report): void;
}

export interface MysqlRuleContext {
  file: string;
  stmt: MysqlStatement;
  statements: MysqlStatement[];
  report(r: Report): void;
}

interface RuleBase {
  summary: string;
  /** Severity offline, or on a large table for a size-aware rule. */
  severity: Severity;
  classification: Classification;
  /**
   * Size-aware rules lock or rewrite a table: an error on a table above the threshold, a warning
   * on a small, empty or new table (when the database was read).
   */
  sizeAware: boolean;
  /** The matching squawk rule, for docs/lint.md's table. */
  squawk: string | null;
}

export interface PgRule extends RuleBase {
  dialect: 'postgres';
  /** The statement node types the rule looks at (`AlterTableStmt`, `IndexStmt`, …). */
  nodes: readonly string[];
  check(ctx: PgRuleContext): void;
}

export interface MysqlRule extends RuleBase {
  dialect: 'mysql';
  check(ctx: MysqlRuleContext): void;
}

/** A rule over the whole migration, for either dialect. */
export interface FileRuleContext {
  file: string;
  /** Each statement's start offset and its classification (null: neutral). */
  statements: Array<{ start: number; classification: Classification | null }>;
  report(r: Report): void;
}

export interface FileRule extends RuleBase {
  dialect: 'any';
  check(ctx: FileRuleContext): void;
}

export type Rule = PgRule | MysqlRule | FileRule;

export type { Dialect };
