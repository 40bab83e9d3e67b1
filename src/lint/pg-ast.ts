/**
 * The parsed form of a PostgreSQL migration: statements from the real parser (libpg-query), with
 * their tokens so a rule can point at the exact clause (`ADD CONSTRAINT`, `ALTER COLUMN … TYPE`)
 * rather than at the start of the statement.
 */

/** A node of libpg-query's JSON AST: the body of `{ "AlterTableStmt": { … } }`. */
export type PgNode = Record<string, unknown>;

export interface Token {
  start: number;
  end: number;
  /** Upper-cased for keywords and identifiers. */
  upper: string;
}

export interface PgStatement {
  index: number;
  /** Node type, e.g. `AlterTableStmt`. */
  type: string;
  node: PgNode;
  /** String offsets in the file. */
  start: number;
  end: number;
  /** The statement's tokens, comments excluded. */
  tokens: Token[];
}

/** `{ "X": body }` → ['X', body]. */
export function unwrap(value: unknown): [string, PgNode] | null {
  if (!value || typeof value !== 'object') return null;
  const keys = Object.keys(value);
  if (keys.length !== 1) return null;
  const key = keys[0]!;
  const body = (value as Record<string, unknown>)[key];
  return body && typeof body === 'object' ? [key, body as PgNode] : null;
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** `schema.table` or `table` from a RangeVar. */
export function relName(rangeVar: unknown): string | undefined {
  const rv = rangeVar as { relname?: string; schemaname?: string } | undefined;
  if (!rv?.relname) return undefined;
  return rv.schemaname ? `${rv.schemaname}.${rv.relname}` : rv.relname;
}

/** Names from a list of `{String: {sval}}`. */
export function names(value: unknown): string[] {
  return list(value)
    .map((v) => (unwrap(v)?.[1] as { sval?: string } | undefined)?.sval)
    .filter((s): s is string => typeof s === 'string');
}

/** The commands of an ALTER TABLE, with the offset where each one's clause begins. */
export function alterCommands(stmt: PgStatement): Array<{ cmd: PgNode; at: number }> {
  const cmds = list(stmt.node.cmds)
    .map((c) => unwrap(c))
    .filter((c): c is [string, PgNode] => c?.[0] === 'AlterTableCmd')
    .map(([, body]) => body);
  const relation = stmt.node.relation as { location?: number } | undefined;
  const relAt = typeof relation?.location === 'number' ? relation.location : stmt.start;
  // The clauses follow the table name (`t` or `schema . t`), separated by commas outside parentheses.
  const toks = stmt.tokens;
  let i = toks.findIndex((t) => t.start >= relAt) + 1;
  while (i > 0 && toks[i]?.upper === '.') i += 2;
  const starts: number[] = [];
  let depth = 0;
  let expectStart = true;
  for (; i > 0 && i < toks.length; i++) {
    const t = toks[i]!;
    if (expectStart) {
      starts.push(t.start);
      expectStart = false;
    }
    if (t.upper === '(') depth++;
    else if (t.upper === ')') depth--;
    else if (t.upper === ',' && depth === 0) expectStart = true;
  }
  return cmds.map((cmd, k) => ({ cmd, at: starts[k] ?? stmt.start }));
}

/** The first token at or after `from` whose text is `word` (upper-case), or undefined. */
export function tokenAfter(stmt: PgStatement, from: number, word: string): Token | undefined {
  return stmt.tokens.find((t) => t.start >= from && t.upper === word);
}

/** Whether `word` appears among the statement's tokens between `from` and `to`. */
export function hasToken(stmt: PgStatement, word: string, from = stmt.start, to = stmt.end): boolean {
  return stmt.tokens.some((t) => t.start >= from && t.start < to && t.upper === word);
}
