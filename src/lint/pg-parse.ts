/**
 * Parses a PostgreSQL migration with the real PostgreSQL parser (libpg-query: PostgreSQL's own
 * grammar compiled to WebAssembly). Imported only by the lint use case, so commands that do not
 * lint never load the 1.7 MB WebAssembly module.
 */
import { InputError } from '../errors.js';
import type { PgNode, PgStatement, Token } from './pg-ast.js';
import { unwrap } from './pg-ast.js';
import { byteToChar, positionOf, type Comment } from './source.js';

interface RawStmt {
  stmt?: unknown;
  stmt_location?: number;
  stmt_len?: number;
}
interface RawToken {
  start: number;
  end: number;
  text: string;
  tokenName: string;
}

type Parser = typeof import('libpg-query');
let parser: Promise<Parser> | undefined;

async function load(): Promise<Parser> {
  parser ??= import('libpg-query').then(async (m) => {
    await m.loadModule();
    return m;
  });
  return parser;
}

export interface ParsedPg {
  statements: PgStatement[];
  comments: Comment[];
}

export async function parsePostgres(file: string, text: string): Promise<ParsedPg> {
  const pg = await load();
  const toChar = byteToChar(text);
  let raw: RawStmt[];
  try {
    raw = (pg.parseSync(text) as { stmts?: RawStmt[] }).stmts ?? [];
  } catch (error) {
    const cursor = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails?.cursorPosition;
    const at = positionOf(text, toChar(cursor ?? 0));
    const reason = error instanceof Error ? error.message : String(error);
    throw new InputError(
      'MIGRATION_SQL_INVALID',
      `${file}:${at.line}:${at.col}: ${reason}`,
      [{ file, ...at, message: reason }],
      { hint: 'Fix the SQL at that position; maint lints with the PostgreSQL parser itself.', cause: error },
    );
  }
  const scanned = (pg.scanSync(text) as { tokens: RawToken[] }).tokens;
  const comments: Comment[] = [];
  const tokens: Token[] = [];
  for (const t of scanned) {
    const start = toChar(t.start);
    const end = toChar(t.end);
    if (t.tokenName === 'SQL_COMMENT' || t.tokenName === 'C_COMMENT')
      comments.push({ start, end, text: text.slice(start, end) });
    else tokens.push({ start, end, upper: text.slice(start, end).toUpperCase() });
  }
  // Every `location` in the AST is a byte offset: make them string offsets once, here.
  toCharOffsets(raw, toChar);
  const statements: PgStatement[] = [];
  raw.forEach((r, index) => {
    const node = unwrap(r.stmt);
    if (!node) return;
    const startByte = r.stmt_location ?? 0;
    const endByte = r.stmt_len ? startByte + r.stmt_len : Buffer.byteLength(text, 'utf8');
    // stmt_location of the first statement is 0 even after leading comments: start at its first token.
    const own = tokens.filter((t) => t.start >= toChar(startByte) && t.start < toChar(endByte));
    const start = own[0]?.start ?? toChar(startByte);
    statements.push({
      index,
      type: node[0],
      node: node[1] as PgNode,
      start,
      end: toChar(endByte),
      tokens: own,
    });
  });
  return { statements, comments };
}

function toCharOffsets(value: unknown, toChar: (byte: number) => number): void {
  if (Array.isArray(value)) {
    for (const v of value) toCharOffsets(v, toChar);
    return;
  }
  if (!value || typeof value !== 'object') return;
  const obj = value as Record<string, unknown>;
  for (const [key, v] of Object.entries(obj)) {
    if (key === 'location' && typeof v === 'number' && v >= 0) obj[key] = toChar(v);
    else if (typeof v === 'object') toCharOffsets(v, toChar);
  }
}
