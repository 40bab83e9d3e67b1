/**
 * Splits a SQL file into statements. MySQL commits DDL implicitly, so maint runs and records
 * each statement on its own; the splitter must therefore never cut inside a string, a quoted
 * identifier, a comment or a PostgreSQL dollar-quoted body. MySQL `DELIMITER` lines are honoured
 * for procedure and trigger bodies.
 */
import type { Dialect } from '../db/database.js';

export interface SplitOptions {
  dialect: Dialect;
}

/** The statements of `sql`, trimmed, without their terminating delimiter; comment-only pieces are dropped. */
export function splitStatements(sql: string, options: SplitOptions): string[] {
  const mysql = options.dialect === 'mysql';
  const out: string[] = [];
  let delimiter = ';';
  let start = 0;
  let i = 0;
  let meaningful = false;
  const n = sql.length;

  const push = (end: number): void => {
    const text = sql.slice(start, end).trim();
    if (meaningful && text) out.push(text);
    meaningful = false;
  };

  while (i < n) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    const atLineStart = i === 0 || sql[i - 1] === '\n';

    if (mysql && atLineStart) {
      const m = /^[ \t]*delimiter[ \t]+(\S+)[ \t]*(\r?\n|$)/i.exec(sql.slice(i));
      if (m) {
        push(i);
        delimiter = m[1]!;
        i += m[0].length;
        start = i;
        continue;
      }
    }
    if (ch === '-' && next === '-') {
      i = skipLine(sql, i);
      continue;
    }
    if (mysql && ch === '#') {
      i = skipLine(sql, i);
      continue;
    }
    if (ch === '/' && next === '*') {
      i = skipBlockComment(sql, i, !mysql);
      continue;
    }
    if (ch === "'" || ch === '"' || (mysql && ch === '`')) {
      // MySQL strings take backslash escapes; PostgreSQL only in E'' strings.
      const backslash = mysql
        ? ch !== '`'
        : ch === "'" && /[eE]/.test(sql[i - 1] ?? '') && !/\w/.test(sql[i - 2] ?? '');
      i = skipQuoted(sql, i, ch, backslash);
      meaningful = true;
      continue;
    }
    if (!mysql && ch === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      // `$1` parameters are not dollar quotes; the tag must not follow an identifier character.
      if (tag && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? '')) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        i = close === -1 ? n : close + tag[0].length;
        meaningful = true;
        continue;
      }
    }
    if (sql.startsWith(delimiter, i)) {
      push(i);
      i += delimiter.length;
      start = i;
      continue;
    }
    if (!/\s/.test(ch)) meaningful = true;
    i++;
  }
  push(n);
  return out;
}

function skipLine(sql: string, i: number): number {
  const end = sql.indexOf('\n', i);
  return end === -1 ? sql.length : end + 1;
}

function skipBlockComment(sql: string, i: number, nested: boolean): number {
  let depth = 0;
  while (i < sql.length) {
    if (sql.startsWith('/*', i)) {
      depth = nested ? depth + 1 : 1;
      i += 2;
    } else if (sql.startsWith('*/', i)) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return sql.length;
}

function skipQuoted(sql: string, i: number, quote: string, backslash: boolean): number {
  i++;
  while (i < sql.length) {
    const c = sql[i]!;
    if (backslash && c === '\\') {
      i += 2;
      continue;
    }
    if (c === quote) {
      // A doubled quote is an escaped quote, not the end.
      if (sql[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return sql.length;
}

/**
 * `-- maint:no-transaction` on a line of the file's leading comments (before its first
 * statement: under the header `maint migrate create` writes, say) marks a migration that must
 * run outside a transaction.
 */
export function isNoTransaction(sql: string): boolean {
  for (const line of sql.replace(/^\uFEFF/, '').split('\n')) {
    if (/^\s*--\s*maint:no-transaction\b/i.test(line)) return true;
    if (line.trim() !== '' && !/^\s*--/.test(line)) return false;
  }
  return false;
}

/** Names of indexes built concurrently by a statement (their INVALID leftovers are rebuilt on retry). */
export function concurrentIndexName(statement: string): string | null {
  const m =
    /^\s*create\s+(?:unique\s+)?index\s+concurrently\s+(?:if\s+not\s+exists\s+)?("(?:[^"]|"")+"|[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)?)/i.exec(
      stripLeadingComments(statement),
    );
  if (!m) return null;
  const raw = m[1]!;
  return raw.startsWith('"') ? raw.slice(1, -1).replaceAll('""', '"') : raw.toLowerCase();
}

/** The statement without the comments before it (for messages and pattern checks). */
export function stripLeadingComments(statement: string): string {
  let s = statement;
  for (;;) {
    const t = s.trimStart();
    if (t.startsWith('--')) s = t.slice(t.indexOf('\n') === -1 ? t.length : t.indexOf('\n') + 1);
    else if (t.startsWith('/*')) s = t.slice(t.indexOf('*/') === -1 ? t.length : t.indexOf('*/') + 2);
    else return t;
  }
}
