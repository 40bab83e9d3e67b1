/**
 * Reading a plan file's YAML: positions, `${VAR}` from the environment, the structural limits,
 * and YAML problems as messages with `file:line:col`. No zod here: the loader's fast path
 * (loader.ts) and the zod path (parse.ts) share it.
 */
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Document,
  type Node,
} from 'yaml';
import { PlanError, type InputIssue } from '../errors.js';
import { suggest } from './suggest.js';

/** Deeper nesting than any real plan needs; refused before conversion (stack safety). */
const MAX_DEPTH = 24;
/** Aliases may expand to at most this many nodes (alias bombs). */
const MAX_ALIAS_COUNT = 50;

export interface LoadOptions {
  /** @default process.env */
  env?: Record<string, string | undefined>;
}

/** A plan document read from YAML: its syntax tree, the `${VAR}` problems, and the data. */
export interface PlanDocument {
  doc: Document;
  at: At;
  /** Unset or malformed `${VAR}` references (reported with every other problem of the plan). */
  envIssues: InputIssue[];
  /** The document as plain data (a mapping), before validation. */
  data: Record<string, unknown>;
}

/**
 * Parse plan text as YAML 1.2 and fill `${VAR}`; throws the PlanError for an empty file, a YAML
 * syntax problem, a disallowed tag or depth, an alias bomb or a document that is not a mapping.
 * Validation against the schema is the caller's (`file` is used in messages only).
 */
export function readPlanDocument(
  text: string,
  file: string,
  env: Record<string, string | undefined>,
): PlanDocument {
  if (text.trim() === '' || text.split('\n').every((l) => /^\s*(#.*)?$/.test(l))) {
    throw new PlanError(file, [{ file, message: 'the plan file is empty' }], {
      hint: 'Start from `maint init`, or see `maint schema` for the format.',
    });
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    version: '1.2',
    schema: 'core',
    uniqueKeys: true,
    strict: true,
    merge: false,
    prettyErrors: false,
    lineCounter,
  });
  const at = (offset: number | undefined): Pick<InputIssue, 'line' | 'col'> => {
    if (offset === undefined) return {};
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, col: pos.col };
  };

  const syntax: InputIssue[] = [...doc.errors, ...doc.warnings].map((e) => {
    const { offset, message } = syntaxIssue(e.code, e.message, e.pos[0], doc, text);
    return { file, ...at(offset), message };
  });
  if (syntax.length > 0) throw new PlanError(file, syntax);

  const structural = checkStructure(doc, file, at, text);
  if (structural.length > 0) throw new PlanError(file, structural);

  // Unset variables are reported together with every other problem of the plan (below), not
  // alone: fixing one at a time would take a round trip per problem.
  const envIssues = interpolate(doc, env, file, at);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const firstAlias = findFirst(doc, isAlias);
    throw new PlanError(
      file,
      [
        {
          file,
          ...at(firstAlias?.range?.[0]),
          message: `aliases (*name) expand to more than ${MAX_ALIAS_COUNT} copies, which looks like an alias bomb; write the values out instead of nesting aliases`,
        },
      ],
      { cause: error },
    );
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    if (envIssues.length > 0) throw new PlanError(file, envIssues, { hint: ENV_HINT });
    throw new PlanError(file, [
      {
        file,
        ...at(doc.contents?.range?.[0]),
        message: 'a plan is a mapping of keys (version, name, window, …)',
      },
    ]);
  }

  return { doc, at, envIssues, data: data as Record<string, unknown> };
}

export const ENV_HINT = 'Set the variable(s) in the environment, or write the value in the plan.';

/** A YAML syntax problem as a message that says what is wrong and what to write instead. */
function syntaxIssue(
  code: string,
  message: string,
  offset: number,
  doc: Document,
  text: string,
): { offset: number; message: string } {
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  switch (code) {
    case 'DUPLICATE_KEY': {
      const key = /^("[^"]*"|'[^']*'|[^:\s]+)/.exec(text.slice(offset))?.[1];
      return {
        offset,
        message: `duplicate key${key ? ` ${key.startsWith('"') || key.startsWith("'") ? key : `"${key}"`}` : ''}: each key may appear only once in a mapping`,
      };
    }
    case 'TAB_AS_INDENT':
      return { offset, message: 'tab character used for indentation; YAML indents with spaces' };
    case 'MULTIPLE_DOCS':
      return {
        offset,
        message: 'more than one YAML document in the file (a second `---`); a plan is a single document',
      };
    case 'TAG_RESOLVE_FAILED':
      return {
        offset,
        message: `${first}; plans use plain YAML values without tags (for environment variables write \${NAME})`,
      };
    case 'BAD_INDENT':
      if (first.startsWith('All mapping items')) {
        return { offset, message: `${first}; indent every key of one mapping by the same number of spaces` };
      }
      return { offset, message: first };
    case 'MISSING_CHAR':
      if (/quote/.test(first)) {
        // The parser notices at the end of the text; the opening quote is where the fix goes.
        const open = unclosedQuoteStart(doc, offset);
        return {
          offset: open ?? offset,
          message:
            'this quoted string is never closed; add the closing quote on the same line (e.g. start: "21:00")',
        };
      }
      return { offset, message: first };
    default:
      return { offset, message: first };
  }
}

function unclosedQuoteStart(doc: Document, errorOffset: number): number | undefined {
  let found: number | undefined;
  visit(doc, {
    Scalar(_key, node) {
      const range = node.range;
      if (
        range &&
        (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') &&
        range[1] >= errorOffset
      ) {
        found = range[0];
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

export type At = (offset: number | undefined) => Pick<InputIssue, 'line' | 'col'>;

/** Depth limit and tags, checked on the syntax tree before any conversion. */
function checkStructure(doc: Document, file: string, at: At, text: string): InputIssue[] {
  const issues: InputIssue[] = [];
  visit(doc, {
    Node(_key, node, ancestors) {
      const depth = ancestors.filter((a) => isMap(a) || isSeq(a)).length;
      if (depth > MAX_DEPTH) {
        issues.push({
          file,
          ...at(node.range?.[0]),
          message: `nested more than ${MAX_DEPTH} levels deep; a plan needs only a few levels (check the indentation)`,
        });
        return visit.BREAK;
      }
      const tag = (node as { tag?: string }).tag;
      if (
        tag &&
        ![
          'tag:yaml.org,2002:str',
          'tag:yaml.org,2002:int',
          'tag:yaml.org,2002:float',
          'tag:yaml.org,2002:bool',
          'tag:yaml.org,2002:null',
          'tag:yaml.org,2002:map',
          'tag:yaml.org,2002:seq',
        ].includes(tag)
      ) {
        const shown = tag.startsWith('tag:yaml.org,2002:')
          ? `!!${tag.slice('tag:yaml.org,2002:'.length)}`
          : tag;
        // The node's range starts at its value; the tag (the fix) is just before it on the line.
        const start = node.range?.[0];
        const offset = start === undefined ? undefined : tagStart(text, start);
        issues.push({
          file,
          ...at(offset),
          message: `tag ${shown} is not allowed; plans use plain YAML values (strings, numbers, true/false, lists, mappings)`,
        });
      }
      return undefined;
    },
  });
  return issues;
}

/** Where the tag token (`!!binary`, `!env`) before a node's value begins, else the value. */
function tagStart(text: string, valueStart: number): number {
  const before = text.slice(0, valueStart);
  const m = /(![^\s]*)[ \t]+$/.exec(before);
  return m ? valueStart - m[0].length : valueStart;
}

const VAR = /\$\$|\$\{([^}]*)\}/g;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Fill `${VAR}` in string scalars from the environment; `$$` is a literal `$`. */
function interpolate(
  doc: Document,
  env: Record<string, string | undefined>,
  file: string,
  at: At,
): InputIssue[] {
  const issues: InputIssue[] = [];
  const names = Object.keys(env).filter((k) => env[k] !== undefined);
  const near = (name: string): string => {
    const guess = suggest(name, names);
    // A near spelling only (not a shorter variable the name happens to start with).
    return guess && guess !== name && Math.abs(guess.length - name.length) <= 2
      ? ` (did you mean ${guess}?)`
      : '';
  };
  visit(doc, {
    Scalar(key, node, ancestors) {
      if (typeof node.value !== 'string' || !node.value.includes('$')) return;
      // Keys are never interpolated: only values.
      const parent = ancestors[ancestors.length - 1];
      if (key === 'key' && isPair(parent)) return;
      const keyPath = pathOf(ancestors, node);
      node.value = node.value.replace(VAR, (match, name: string | undefined) => {
        if (match === '$$') return '$';
        if (name === undefined || !VAR_NAME.test(name)) {
          issues.push({
            file,
            ...at(node.range?.[0]),
            path: keyPath,
            message: `"${match}" is not a variable reference; write \${NAME} with letters, digits and _ (or $$ for a literal $)`,
          });
          return match;
        }
        const value = env[name];
        if (value === undefined) {
          issues.push({
            file,
            ...at(node.range?.[0]),
            path: keyPath,
            message: `environment variable ${name} is not set${near(name)}`,
          });
          return match;
        }
        return value;
      });
    },
  });
  return issues;
}

function pathOf(ancestors: readonly unknown[], node: unknown): string {
  const parts: Array<string | number> = [];
  const chain = [...ancestors, node];
  for (let i = 0; i < chain.length; i++) {
    const a = chain[i];
    if (isPair(a) && isScalar(a.key)) parts.push(String(a.key.value));
    if (isSeq(a)) {
      const child = chain[i + 1];
      const index = a.items.indexOf(child as never);
      if (index >= 0) parts.push(index);
    }
  }
  return formatPath(parts);
}

export function formatPath(parts: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

function findFirst<T extends Node>(doc: Document, test: (n: unknown) => n is T): T | undefined {
  let found: T | undefined;
  visit(doc, (_k, node) => {
    if (test(node)) {
      found = node;
      return visit.BREAK;
    }
    return undefined;
  });
  return found;
}
