/**
 * MySQL/MariaDB migrations are checked on tokens, not on a full parse: no well-kept MySQL parser
 * for Node covers the DDL these rules need (ALGORITHM/LOCK clauses, MariaDB's forms) with
 * positions at a reasonable weight (see docs/lint.md). The tokenizer knows strings, quoted
 * identifiers, comments and `DELIMITER`, so positions are exact and nothing inside a string or a
 * comment is ever taken for a keyword.
 */
import type { Token } from './pg-ast.js';
import type { Comment } from './source.js';

export interface MysqlToken extends Token {
  /** A quoted identifier or string: never a keyword. */
  quoted: boolean;
}

export interface MysqlStatement {
  index: number;
  start: number;
  end: number;
  tokens: MysqlToken[];
}

export interface ParsedMysql {
  statements: MysqlStatement[];
  comments: Comment[];
}

export function tokenizeMysql(text: string): ParsedMysql {
  const comments: Comment[] = [];
  const statements: MysqlStatement[] = [];
  let current: MysqlToken[] = [];
  let delimiter = ';';
  const flush = (end: number): void => {
    if (current.length > 0)
      statements.push({ index: statements.length, start: current[0]!.start, end, tokens: current });
    current = [];
  };
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i]!;
    const atLineStart = i === 0 || text[i - 1] === '\n';
    if (atLineStart) {
      const m = /^[ \t]*delimiter[ \t]+(\S+)[ \t]*(?=\r?\n|$)/i.exec(text.slice(i, i + 200));
      if (m) {
        flush(i);
        delimiter = m[1]!;
        i += m[0].length;
        continue;
      }
    }
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if ((ch === '-' && text[i + 1] === '-' && /[\s]/.test(text[i + 2] ?? ' ')) || ch === '#') {
      const end = text.indexOf('\n', i) === -1 ? n : text.indexOf('\n', i);
      comments.push({ start: i, end, text: text.slice(i, end) });
      i = end;
      continue;
    }
    if (ch === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      const end = close === -1 ? n : close + 2;
      comments.push({ start: i, end, text: text.slice(i, end) });
      i = end;
      continue;
    }
    if (text.startsWith(delimiter, i)) {
      flush(i);
      i += delimiter.length;
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') {
      let j = i + 1;
      while (j < n) {
        if (ch !== '`' && text[j] === '\\') j += 2;
        else if (text[j] === ch && text[j + 1] === ch) j += 2;
        else if (text[j] === ch) break;
        else j++;
      }
      const end = Math.min(j + 1, n);
      const inner = text.slice(i + 1, end - 1);
      current.push({
        start: i,
        end,
        upper: ch === '`' ? inner.toUpperCase() : text.slice(i, end),
        quoted: true,
      });
      i = end;
      continue;
    }
    const word = /^[A-Za-z0-9_$]+/.exec(text.slice(i, i + 256));
    if (word) {
      current.push({ start: i, end: i + word[0].length, upper: word[0].toUpperCase(), quoted: false });
      i += word[0].length;
      continue;
    }
    current.push({ start: i, end: i + 1, upper: ch, quoted: false });
    i++;
  }
  flush(n);
  return { statements, comments };
}

/** Index of the first unquoted token equal to one of `words` from `from`, or -1. */
export function findWord(tokens: MysqlToken[], words: readonly string[], from = 0): number {
  for (let i = Math.max(from, 0); i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!t.quoted && words.includes(t.upper)) return i;
  }
  return -1;
}

/** Whether the statement is `ALTER [ONLINE|IGNORE] TABLE name …`; returns the name's index. */
export function alterTableName(stmt: MysqlStatement): number {
  const t = stmt.tokens;
  if (t[0]?.upper !== 'ALTER') return -1;
  let i = 1;
  while (t[i] && !t[i]!.quoted && ['ONLINE', 'IGNORE'].includes(t[i]!.upper)) i++;
  if (t[i]?.upper !== 'TABLE') return -1;
  i++;
  if (t[i]?.upper === 'IF' && t[i + 1]?.upper === 'EXISTS') i += 2;
  return t[i] ? i : -1;
}

/** `db.table` or `table` starting at token `i`. */
export function tableAt(tokens: MysqlToken[], i: number): string {
  const first = tokens[i]!;
  const name = first.quoted ? first.upper : first.upper;
  if (tokens[i + 1]?.upper === '.' && tokens[i + 2]) return `${name}.${tokens[i + 2]!.upper}`.toLowerCase();
  return name.toLowerCase();
}

/** The comma-separated clauses of an ALTER TABLE after its name: [start index, end index). */
export function alterClauses(stmt: MysqlStatement, nameIndex: number): Array<[number, number]> {
  const t = stmt.tokens;
  let i = nameIndex + 1;
  if (t[i]?.upper === '.') i += 2;
  const out: Array<[number, number]> = [];
  let depth = 0;
  let start = i;
  for (; i < t.length; i++) {
    const u = t[i]!.quoted ? '' : t[i]!.upper;
    if (u === '(') depth++;
    else if (u === ')') depth--;
    else if (u === ',' && depth === 0) {
      out.push([start, i]);
      start = i + 1;
    }
  }
  if (start < t.length) out.push([start, t.length]);
  return out;
}
