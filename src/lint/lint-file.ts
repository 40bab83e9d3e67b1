/**
 * Lints one migration file: parse (PostgreSQL's parser, or the MySQL tokenizer), classify each
 * statement, run the rules, apply suppressions, and set each finding's severity from the size of
 * its table when sizes are known. Pure apart from loading the parser.
 */
import type { Dialect } from '../db/database.js';
import { classifyMysql, classifyPg } from './classify.js';
import { tokenizeMysql } from './mysql-tokens.js';
import { relName, type PgStatement } from './pg-ast.js';
import { isRuleId, RULE_IDS, RULES, type RuleId } from './rules/index.js';
import { positionOf, readDirectives, type Comment, type Suppression } from './source.js';
import type {
  Classification,
  Finding,
  FileRule,
  MysqlRule,
  PgRule,
  Report,
  Rule,
  Severity,
} from './types.js';

export interface TableSizes {
  /** Bytes by lower-case table name (`name` and `schema.name`). */
  bytes: ReadonlyMap<string, number>;
  /** At or above this, a size-aware finding is an error; below it (or a new table), a warning. */
  thresholdBytes: number;
}

export interface FileInput {
  file: string;
  text: string;
  dialect: Dialect;
  transactional: boolean;
}

export interface AppliedSuppression {
  rule: RuleId;
  reason: string;
  file: string;
  line: number;
  col: number;
}

export interface FileLint {
  file: string;
  /** The migration's classification: the author's override, else contract if any statement is. */
  classification: Classification;
  /** Where the classification came from. */
  classifiedBy: 'parse' | 'override';
  findings: Finding[];
  /** Findings a `-- maint:lint-ignore` removed, with its reason: `maint run` journals these. */
  suppressed: AppliedSuppression[];
}

interface Stmt {
  start: number;
  end: number;
  classification: Classification | null;
}

export async function lintFile(input: FileInput, sizes?: TableSizes): Promise<FileLint> {
  const raw: Array<{ rule: RuleId; report: Report; stmt: Stmt }> = [];
  let stmts: Stmt[];
  let comments: Comment[];
  const ruleList = RULE_IDS.map((id) => [id, RULES[id] as Rule] as const);
  if (input.dialect === 'postgres') {
    const { parsePostgres } = await import('./pg-parse.js');
    const parsed = await parsePostgres(input.file, input.text);
    comments = parsed.comments;
    const created = new Map<string, number>();
    for (const s of parsed.statements)
      if (s.type === 'CreateStmt') {
        const name = relName(s.node.relation)?.toLowerCase();
        if (name && !created.has(name)) created.set(name, s.index);
      }
    const view = {
      file: input.file,
      text: input.text,
      statements: parsed.statements,
      transactional: input.transactional,
      createdBefore: (stmt: PgStatement, table: string) =>
        (created.get(table.toLowerCase()) ?? Infinity) < stmt.index,
    };
    stmts = parsed.statements.map((s) => ({ start: s.start, end: s.end, classification: classifyPg(s) }));
    parsed.statements.forEach((stmt, i) => {
      for (const [id, rule] of ruleList) {
        if (rule.dialect !== 'postgres' || !rule.nodes.includes(stmt.type)) continue;
        (rule as PgRule).check({
          view,
          stmt,
          node: stmt.node,
          report: (report) => raw.push({ rule: id, report, stmt: stmts[i]! }),
        });
      }
    });
  } else {
    const parsed = tokenizeMysql(input.text);
    comments = parsed.comments;
    stmts = parsed.statements.map((s) => ({ start: s.start, end: s.end, classification: classifyMysql(s) }));
    parsed.statements.forEach((stmt, i) => {
      for (const [id, rule] of ruleList) {
        if (rule.dialect !== 'mysql') continue;
        (rule as MysqlRule).check({
          file: input.file,
          stmt,
          statements: parsed.statements,
          report: (report) => raw.push({ rule: id, report, stmt: stmts[i]! }),
        });
      }
    });
  }
  for (const [id, rule] of ruleList) {
    if (rule.dialect !== 'any') continue;
    (rule as FileRule).check({
      file: input.file,
      statements: stmts,
      report: (report) =>
        raw.push({
          rule: id,
          report,
          stmt: stmts.find((s) => s.start <= report.at && report.at <= s.end) ?? stmts[0]!,
        }),
    });
  }

  const directives = readDirectives(input.file, input.text, comments, isRuleId);
  const parseClass: Classification = stmts.some((s) => s.classification === 'contract')
    ? 'contract'
    : 'expand';
  const findings: Finding[] = [];
  const suppressed: AppliedSuppression[] = [];
  for (const { rule: id, report, stmt } of raw) {
    const rule = RULES[id] as Rule;
    const pos = positionOf(input.text, report.at);
    const suppression = suppressionFor(directives.suppressions, id, stmt, stmts, input.text);
    if (suppression) {
      suppressed.push({ rule: id, reason: suppression.reason, file: input.file, ...pos });
      continue;
    }
    const { severity, sizeBytes } = severityOf(rule, report.table, sizes);
    findings.push({
      rule: id,
      severity,
      file: input.file,
      ...pos,
      message: report.message,
      hint: report.hint,
      classification: report.classification ?? rule.classification,
      ...(report.table ? { table: report.table } : {}),
      ...(sizeBytes !== undefined ? { sizeBytes } : {}),
    });
  }
  findings.sort((a, b) => a.line - b.line || a.col - b.col || a.rule.localeCompare(b.rule));
  return {
    file: input.file,
    classification: directives.override ?? parseClass,
    classifiedBy: directives.override ? 'override' : 'parse',
    findings,
    suppressed,
  };
}

/**
 * A suppression applies to the statement it is written in, to the statement it ends the line of
 * (`ALTER …; -- maint:lint-ignore …`), or else to the next statement (a comment line above it).
 */
function suppressionFor(
  list: Suppression[],
  rule: RuleId,
  stmt: Stmt,
  stmts: Stmt[],
  text: string,
): Suppression | undefined {
  const lineOf = (offset: number): number => positionOf(text, offset).line;
  return list.find((s) => {
    if (s.rule !== rule) return false;
    if (s.at >= stmt.start && s.at <= stmt.end) return true;
    const owner = [...stmts].reverse().find((o) => o.end <= s.at);
    if (owner && lineOf(owner.end) === s.line) return owner === stmt;
    return stmts.find((o) => o.start > s.at) === stmt;
  });
}

function severityOf(
  rule: Rule,
  table: string | undefined,
  sizes: TableSizes | undefined,
): { severity: Severity; sizeBytes?: number } {
  if (!rule.sizeAware || !sizes || !table) return { severity: rule.severity };
  const bytes = sizes.bytes.get(table.toLowerCase());
  // A table that does not exist yet is created by an earlier pending migration: new, empty.
  if (bytes === undefined) return { severity: 'warning' };
  return { severity: bytes >= sizes.thresholdBytes ? 'error' : 'warning', sizeBytes: bytes };
}
