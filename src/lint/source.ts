/**
 * Positions and comment directives of a migration's text. The PostgreSQL parser reports byte
 * offsets into the UTF-8 text; findings report 1-based line and column in characters.
 */
import { InputError, type InputIssue } from '../errors.js';
import type { Classification } from './vocabulary.js';

/** Maps the parser's UTF-8 byte offsets to string offsets. */
export function byteToChar(text: string): (byte: number) => number {
  if (Buffer.byteLength(text, 'utf8') === text.length) return (b) => b;
  const map: number[] = [];
  let i = 0;
  for (const ch of text) {
    const bytes = Buffer.byteLength(ch, 'utf8');
    for (let k = 0; k < bytes; k++) map.push(i);
    i += ch.length;
  }
  map.push(i);
  return (b) => map[Math.min(Math.max(b, 0), map.length - 1)]!;
}

export interface Position {
  line: number;
  col: number;
}

/** 1-based line and column of a string offset. */
export function positionOf(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: offset - lineStart + 1 };
}

export interface Comment {
  start: number;
  end: number;
  text: string;
}

export interface Suppression {
  rule: string;
  reason: string;
  /** Offset of the comment; it applies to the statement it is in or that follows it. */
  at: number;
  line: number;
}

export interface Directives {
  suppressions: Suppression[];
  /** `-- maint:contract` / `-- maint:expand`: the author's classification of the migration. */
  override: Classification | null;
}

const IGNORE = /^--\s*maint:lint-ignore\b(.*)$/i;
const OVERRIDE = /^--\s*maint:(contract|expand)\s*$/i;

/**
 * Reads `-- maint:lint-ignore RULE reason` and `-- maint:contract|expand` comments. A directive
 * naming an unknown rule or giving no reason is an input error (exit 2) at its position: a
 * suppression nobody can explain later is not one maint accepts.
 */
export function readDirectives(
  file: string,
  text: string,
  comments: Comment[],
  knownRule: (id: string) => boolean,
): Directives {
  const issues: InputIssue[] = [];
  const suppressions: Suppression[] = [];
  let override: Classification | null = null;
  for (const c of comments) {
    const body = c.text.trim();
    const pos = positionOf(text, c.start);
    const ignore = IGNORE.exec(body);
    if (ignore) {
      const [rule = '', ...words] = ignore[1]!.trim().split(/\s+/);
      const reason = words.join(' ').trim();
      if (!rule || !knownRule(rule))
        issues.push({
          file,
          ...pos,
          message: rule
            ? `maint:lint-ignore names an unknown rule "${rule}"`
            : 'maint:lint-ignore names no rule',
        });
      else if (!reason) issues.push({ file, ...pos, message: `maint:lint-ignore ${rule} gives no reason` });
      else suppressions.push({ rule, reason, at: c.start, line: pos.line });
      continue;
    }
    const o = OVERRIDE.exec(body);
    if (o) override = o[1]!.toLowerCase() as Classification;
  }
  if (issues.length > 0)
    throw new InputError(
      'LINT_DIRECTIVE_INVALID',
      issues.map((i) => `${i.file}:${i.line}:${i.col}: ${i.message}`).join('\n'),
      issues,
      {
        hint: 'Write `-- maint:lint-ignore RULE reason` with a rule id from docs/lint.md (`maint lint --help` lists them) and why it is safe here.',
      },
    );
  return { suppressions, override };
}
