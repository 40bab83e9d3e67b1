/**
 * Strict plan loading. Reads the file, parses YAML 1.2 with positions, fills `${VAR}` from the
 * environment, validates against the schema and maps every problem back to `file:line:col` and a
 * key path. Nothing here opens a connection: a plan is valid before anything is touched.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
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
import type { z } from 'zod';
import { PlanError, type InputIssue } from '../errors.js';
import { PlanSchema, type Plan } from './schema.js';
import { registerPlanSecrets } from './secrets.js';
import { describeZodIssue, suggest } from './zod-issues.js';

/** A plan file larger than this is not a plan. */
const MAX_BYTES = 1024 * 1024;
/** Deeper nesting than any real plan needs; refused before conversion (stack safety). */
const MAX_DEPTH = 24;
/** Aliases may expand to at most this many nodes (alias bombs). */
const MAX_ALIAS_COUNT = 50;

export interface LoadedPlan {
  plan: Plan;
  /** The plan file as the user gave it: what messages and hints show. */
  path: string;
  /** The same file, absolute. */
  file: string;
  /** The plan's folder: relative paths in the plan resolve from it. */
  dir: string;
}

export interface LoadOptions {
  /** @default process.env */
  env?: Record<string, string | undefined>;
}

export async function loadPlan(file: string, options: LoadOptions = {}): Promise<LoadedPlan> {
  const text = await readPlanText(file);
  const plan = parsePlanText(text, file, options);
  const absolute = path.resolve(file);
  return { plan, path: file, file: absolute, dir: path.dirname(absolute) };
}

async function readPlanText(file: string): Promise<string> {
  const fail = (message: string, hint?: string): never => {
    throw new PlanError(file, [{ file, message }], hint ? { hint } : {});
  };
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fail('no such file', 'Check the path, or create a plan with `maint init`.');
    if (code === 'EACCES') return fail('permission denied reading the plan file');
    return fail(`cannot read the plan file (${code ?? String(error)})`);
  }
  if (info.isDirectory())
    return fail('is a directory, not a plan file', 'Name the plan file itself, e.g. plans/demo.yaml.');
  if (!info.isFile()) return fail('is not a regular file');
  if (info.size > MAX_BYTES) return fail(`is ${info.size} bytes; a plan file is at most ${MAX_BYTES} bytes`);
  const bytes = await readFile(file);
  if (bytes.includes(0)) return fail('is not a text file (it contains NUL bytes)');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('is not valid UTF-8 text');
  }
  return text.replace(/^\uFEFF/, '');
}

/** Parse and validate plan text; `file` is used in messages only. */
export function parsePlanText(text: string, file: string, options: LoadOptions = {}): Plan {
  const env = options.env ?? process.env;
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
  const envHint = 'Set the variable(s) in the environment, or write the value in the plan.';
  const envPaths = new Set(envIssues.map((i) => i.path));

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
    if (envIssues.length > 0) throw new PlanError(file, envIssues, { hint: envHint });
    throw new PlanError(file, [
      {
        file,
        ...at(doc.contents?.range?.[0]),
        message: 'a plan is a mapping of keys (version, name, window, …)',
      },
    ]);
  }

  // Before validation: an invalid secret must be masked in the error that reports it.
  registerPlanSecrets(data);
  const result = PlanSchema.safeParse(data);
  if (!result.success || envIssues.length > 0) {
    const schemaIssues = result.success
      ? []
      : result.error.issues
          .flatMap((issue) => positionIssue(issue, doc, file, at, data))
          // A value that is still `${NAME}` is already explained by its unset variable.
          .filter((i) => !envPaths.has(i.path));
    const issues = [...envIssues, ...schemaIssues];
    issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
    throw new PlanError(
      file,
      dedupe(dropExplainedMissing(issues)),
      envIssues.length > 0 && schemaIssues.length === 0 ? { hint: envHint } : {},
    );
  }
  return result.data;
}

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

type At = (offset: number | undefined) => Pick<InputIssue, 'line' | 'col'>;

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

/** The syntax node at a key path, the closest existing ancestor when the key is missing. */
function nodeAt(doc: Document, parts: ReadonlyArray<PropertyKey>): { node: unknown; exact: boolean } {
  let current: unknown = doc.contents;
  for (let i = 0; i < parts.length; i++) {
    const key = parts[i];
    let next: unknown;
    if (isMap(current)) {
      const pair = current.items.find((p) => isScalar(p.key) && p.key.value === key);
      next = pair?.value ?? (pair ? pair.key : undefined);
    } else if (isSeq(current) && typeof key === 'number') {
      next = current.items[key];
    }
    if (next === undefined || next === null) return { node: current, exact: false };
    current = next;
  }
  return { node: current, exact: true };
}

function keyNodeAt(doc: Document, parts: ReadonlyArray<PropertyKey>, key: string): unknown {
  const { node } = nodeAt(doc, parts);
  if (isMap(node)) return node.items.find((p) => isScalar(p.key) && p.key.value === key)?.key;
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  return (node as { range?: [number, number, number] } | undefined)?.range?.[0];
}

function positionIssue(
  issue: z.core.$ZodIssue,
  doc: Document,
  file: string,
  at: At,
  data: unknown,
): InputIssue[] {
  const described = describeZodIssue(issue, PlanSchema, data);
  return described.map((d) => {
    let offset: number | undefined;
    if (d.key !== undefined) offset = rangeStart(keyNodeAt(doc, d.path, d.key));
    if (offset === undefined) offset = rangeStart(nodeAt(doc, d.path).node);
    const fullPath = d.key !== undefined ? [...d.path, d.key] : d.path;
    return { file, ...at(offset), path: formatPath(fullPath) || undefined, message: d.message };
  });
}

/**
 * A typo'd key also makes the intended key "missing"; the unknown-key message already names it
 * (did you mean …?), so the second report would only be noise.
 */
function dropExplainedMissing(issues: InputIssue[]): InputIssue[] {
  const suggested = new Set<string>();
  for (const i of issues) {
    const near = /did you mean "([^"]+)"/.exec(i.message)?.[1];
    if (near && i.message.startsWith('unknown key') && i.path) {
      const parent = i.path.includes('.') ? i.path.slice(0, i.path.lastIndexOf('.') + 1) : '';
      suggested.add(parent + near);
    }
  }
  return issues.filter(
    (i) => !(i.path && suggested.has(i.path) && i.message.startsWith('missing required key')),
  );
}

function dedupe(issues: InputIssue[]): InputIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.line}:${i.col}:${i.path}:${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
