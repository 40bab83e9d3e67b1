/**
 * Turns zod issues into messages a release engineer can act on: which key, what was expected,
 * and a suggestion for likely typos. Positions are added by the loader.
 */
import type { z } from 'zod';

export interface DescribedIssue {
  /** Path of the mapping or value concerned. */
  path: PropertyKey[];
  /** A key inside the mapping at `path` (unknown or missing keys). */
  key?: string;
  message: string;
}

type AnySchema = z.core.$ZodType;
interface Def {
  type: string;
  shape?: Record<string, AnySchema>;
  element?: AnySchema;
  options?: AnySchema[];
  innerType?: AnySchema;
  in?: AnySchema;
  discriminator?: string;
  values?: unknown[];
  entries?: Record<string, unknown>;
}
const def = (s: AnySchema): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

function unwrap(s: AnySchema): AnySchema {
  let cur = s;
  for (let i = 0; i < 20; i++) {
    const d = def(cur);
    if (['optional', 'default', 'nullable', 'prefault', 'readonly', 'catch', 'nonoptional'].includes(d.type) && d.innerType) cur = d.innerType;
    else if (d.type === 'pipe' && d.in) cur = d.in;
    else break;
  }
  return cur;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let cur = data;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

/** The schema that validates the value at `path`, choosing union branches by the data. */
export function schemaAt(root: AnySchema, path: readonly PropertyKey[], data: unknown): AnySchema | undefined {
  let cur: AnySchema | undefined = unwrap(root);
  for (let i = 0; i < path.length && cur; i++) {
    cur = pickBranch(cur, valueAt(data, path.slice(0, i)));
    const d = def(cur);
    const key = path[i]!;
    if (d.type === 'object' && d.shape) cur = d.shape[String(key)];
    else if (d.type === 'array' && d.element) cur = d.element;
    else cur = undefined;
    if (cur) cur = unwrap(cur);
  }
  return cur ? pickBranch(cur, valueAt(data, path)) : undefined;
}

function pickBranch(s: AnySchema, value: unknown): AnySchema {
  const d = def(s);
  if (d.type !== 'union' || !d.options) return s;
  const objects = d.options.map(unwrap).filter((o) => def(o).type === 'object');
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const disc = d.discriminator ?? 'kind';
    const tag = (value as Record<string, unknown>)[disc];
    const match = objects.find((o) => literalValues(def(o).shape?.[disc]).includes(tag));
    if (match) return match;
    if (objects.length === 1) return objects[0]!;
  }
  return s;
}

function literalValues(s: AnySchema | undefined): unknown[] {
  if (!s) return [];
  const d = def(unwrap(s));
  if (d.type === 'literal') return d.values ?? [];
  if (d.type === 'enum') return Object.values(d.entries ?? {});
  return [];
}

function allowedKeys(root: AnySchema, path: readonly PropertyKey[], data: unknown): string[] {
  const s = schemaAt(root, path, data);
  const d = s ? def(s) : undefined;
  return d?.type === 'object' && d.shape ? Object.keys(d.shape) : [];
}

function label(s: AnySchema): string {
  const d = def(unwrap(s));
  switch (d.type) {
    case 'literal':
      return (d.values ?? []).map((v) => JSON.stringify(v)).join(' or ');
    case 'enum':
      return Object.values(d.entries ?? {}).map((v) => JSON.stringify(v)).join(', ');
    case 'object': {
      const kind = d.shape?.kind ?? d.shape?.type ?? d.shape?.provider;
      const name = d.shape?.kind ? 'kind' : d.shape?.type ? 'type' : 'provider';
      return kind ? `{ ${name}: ${literalValues(kind).join('|')}, … }` : 'a mapping';
    }
    case 'boolean':
      return 'true or false';
    default:
      return `a ${d.type}`;
  }
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  return `${typeof value} ${String(value)}`;
}

const ARTICLE: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  int: 'a whole number',
};

/** Closest candidate by edit distance, when close enough to be a typo. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const score = distance(word.toLowerCase(), c.toLowerCase());
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best !== undefined && bestScore <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

export function describeZodIssue(issue: z.core.$ZodIssue, root: AnySchema, data: unknown): DescribedIssue[] {
  const path = issue.path as PropertyKey[];
  const value = valueAt(data, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(root, path, data);
      return issue.keys.map((key) => {
        const near = suggest(key, allowed);
        const hint = near ? ` (did you mean "${near}"?)` : allowed.length ? ` (allowed here: ${allowed.join(', ')})` : '';
        return { path, key, message: `unknown key "${key}"${hint}` };
      });
    }
    case 'invalid_type': {
      if (value === undefined && path.length > 0) {
        return [{ path: path.slice(0, -1), key: String(path[path.length - 1]), message: `missing required key "${String(path[path.length - 1])}"` }];
      }
      const expected = ARTICLE[issue.expected] ?? issue.expected;
      return [{ path, message: `expected ${expected}, got ${kindOf(value)}` }];
    }
    case 'invalid_value': {
      const options = issue.values.map((v) => JSON.stringify(v));
      const near = typeof value === 'string' ? suggest(value, issue.values.map(String)) : undefined;
      const hint = near ? ` (did you mean "${near}"?)` : '';
      return [{ path, message: `${kindOf(value)} is not allowed; expected ${options.length === 1 ? options[0] : `one of ${options.join(', ')}`}${hint}` }];
    }
    case 'invalid_union': {
      const disc = (issue as { discriminator?: string }).discriminator;
      if (disc) {
        const schema = schemaAt(root, path, data);
        const options = schema && def(schema).options ? def(schema).options!.flatMap((o) => literalValues(def(unwrap(o)).shape?.[disc])).map(String) : [];
        const tag = value && typeof value === 'object' ? (value as Record<string, unknown>)[disc] : undefined;
        if (tag === undefined) return [{ path, key: disc, message: `missing required key "${disc}" (one of ${options.join(', ')})` }];
        const near = typeof tag === 'string' ? suggest(tag, options) : undefined;
        return [{ path: [...path, disc], message: `unknown ${disc} ${JSON.stringify(tag)}; expected one of ${options.join(', ')}${near ? ` (did you mean "${near}"?)` : ''}` }];
      }
      // The branch that got furthest explains the problem best.
      const branches = issue.errors.filter((b) => b.length > 0);
      const deepest = branches
        .map((b) => ({ b, depth: Math.max(...b.map((e) => e.path.length)) }))
        .sort((x, y) => y.depth - x.depth)[0];
      if (deepest && deepest.depth > 0) {
        return deepest.b.flatMap((e) => describeZodIssue({ ...e, path: [...path, ...e.path] } as z.core.$ZodIssue, root, data));
      }
      const schema = schemaAt(root, path, data);
      const options = schema && def(schema).type === 'union' ? def(schema).options!.map(label) : [];
      return [{ path, message: `${kindOf(value)} is not allowed; expected ${options.length ? options.join(' or ') : 'another value'}` }];
    }
    case 'too_small':
      if (issue.origin === 'array') return [{ path, message: `must list at least ${String(issue.minimum)} item(s)` }];
      if (issue.origin === 'string') return [{ path, message: issue.minimum === 1 ? 'must not be empty' : `must be at least ${String(issue.minimum)} characters` }];
      return [{ path, message: `must be ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}, got ${String(value)}` }];
    case 'too_big':
      if (issue.origin === 'array') return [{ path, message: `must list at most ${String(issue.maximum)} item(s)` }];
      return [{ path, message: `must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}, got ${String(value)}` }];
    case 'invalid_format':
      if (issue.message.startsWith('Invalid')) {
        return [{ path, message: issue.format === 'url' ? `${kindOf(value)} is not a valid URL for this field` : `${kindOf(value)} has the wrong form (${issue.format})` }];
      }
      return [{ path, message: `${kindOf(value)}: ${issue.message}` }];
    default:
      return [{ path, message: issue.message }];
  }
}
