/**
 * Turns zod issues into messages a release engineer can act on: which key, what was expected,
 * and a suggestion for likely typos. Positions are added by the loader.
 */
import { z } from 'zod';
import { DURATION_PATTERN } from './duration.js';

export interface DescribedIssue {
  /** Path of the mapping or value concerned. */
  path: PropertyKey[];
  /** A key inside the mapping at `path` (unknown or missing keys). */
  key?: string;
  message: string;
}

export type AnySchema = z.core.$ZodType;
/** The parts of a zod schema's definition that maint walks (zod keeps them on `_zod.def`). */
export interface Def {
  type: string;
  shape?: Record<string, AnySchema>;
  element?: AnySchema;
  /** Records (`env: { KEY: value }`). */
  valueType?: AnySchema;
  options?: AnySchema[];
  innerType?: AnySchema;
  in?: AnySchema;
  discriminator?: string;
  values?: unknown[];
  checks?: unknown[];
  entries?: Record<string, unknown>;
}
export const def = (s: AnySchema): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

function unwrap(s: AnySchema): AnySchema {
  let cur = s;
  for (let i = 0; i < 20; i++) {
    const d = def(cur);
    if (
      ['optional', 'default', 'nullable', 'prefault', 'readonly', 'catch', 'nonoptional'].includes(d.type) &&
      d.innerType
    )
      cur = d.innerType;
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
export function schemaAt(
  root: AnySchema,
  path: readonly PropertyKey[],
  data: unknown,
): AnySchema | undefined {
  let cur: AnySchema | undefined = unwrap(root);
  for (let i = 0; i < path.length && cur; i++) {
    cur = pickBranch(cur, valueAt(data, path.slice(0, i)));
    const d = def(cur);
    const key = path[i]!;
    if (d.type === 'object' && d.shape) cur = d.shape[String(key)];
    else if (d.type === 'array' && d.element) cur = d.element;
    else if (d.type === 'record' && d.valueType) cur = d.valueType;
    else cur = undefined;
    if (cur) cur = unwrap(cur);
  }
  return cur ? pickBranch(cur, valueAt(data, path)) : undefined;
}

function pickBranch(s: AnySchema, value: unknown): AnySchema {
  const d = def(s);
  if (d.type !== 'union' || !d.options) return s;
  const objects = d.options.map(unwrap).filter((o) => def(o).type === 'object');
  if (Array.isArray(value)) {
    const list = d.options.map(unwrap).find((o) => def(o).type === 'array');
    if (list) return list;
  }
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
      return Object.values(d.entries ?? {})
        .map((v) => JSON.stringify(v))
        .join(', ');
    case 'object': {
      const kind = d.shape?.kind ?? d.shape?.type ?? d.shape?.provider;
      const name = d.shape?.kind ? 'kind' : d.shape?.type ? 'type' : 'provider';
      return kind ? `{ ${name}: ${literalValues(kind).join('|')}, … }` : 'a mapping';
    }
    case 'boolean':
      return 'true or false';
    default:
      return ARTICLE[d.type] ?? `a ${d.type}`;
  }
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
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
  if (best !== undefined && bestScore <= Math.max(1, Math.floor(word.length / 3))) return best;
  // `sunday` for `sun`, `postgresql` for `postgres`: a candidate the word starts with.
  const lower = word.toLowerCase();
  const prefix = candidates.filter((c) => c.length >= 3 && lower.startsWith(c.toLowerCase()));
  return prefix.sort((a, b) => b.length - a.length)[0];
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

/** Is this the duration string schema (`40m`, `1h30m`)? */
function isDuration(s: AnySchema | undefined): boolean {
  if (!s) return false;
  const meta = z.globalRegistry.get(unwrap(s) as z.ZodType) as { pattern?: string } | undefined;
  return meta?.pattern === DURATION_PATTERN;
}

/** `^smtps?$` → `smtp:// or smtps://`; other patterns are shown as they are. */
function protocols(pattern: string | undefined): string | undefined {
  if (!pattern) return undefined;
  const m = /^\^([a-z][a-z0-9+.-]*?)(s\?)?\$$/.exec(pattern);
  if (!m) return `a scheme matching /${pattern}/`;
  return m[2] ? `${m[1]}:// or ${m[1]}s://` : `${m[1]}://`;
}

const YAML11_BOOLEANS = new Set(['yes', 'no', 'on', 'off', 'y', 'n']);

function missingKey(path: readonly PropertyKey[], extra = ''): DescribedIssue[] {
  const key = String(path[path.length - 1]);
  return [{ path: path.slice(0, -1), key, message: `missing required key "${key}"${extra}` }];
}

/** What a missing key should hold, for the message: `a mapping with timezone, days, …`. */
function expectedAt(root: AnySchema, path: readonly PropertyKey[], data: unknown): string {
  const schema = schemaAt(root, path, data);
  if (!schema) return '';
  if (isDuration(schema)) return ' (a duration like 8h or 40m)';
  const d = def(schema);
  if (d.type === 'object' && d.shape) return ` (a mapping with ${Object.keys(d.shape).join(', ')})`;
  if (d.type === 'array') return ' (a list)';
  if (d.type === 'union') return '';
  return ` (${label(schema)})`;
}

/** The discriminator values of a union's object branches (`kind`, `type`, `provider`). */
function discriminated(schema: AnySchema | undefined): { key: string; values: string[] } | undefined {
  if (!schema) return undefined;
  const d = def(schema);
  if (d.type !== 'union' || !d.options) return undefined;
  const objects = d.options.map(unwrap).filter((o) => def(o).type === 'object');
  for (const key of [d.discriminator, 'kind', 'type', 'provider']) {
    if (!key) continue;
    const values = objects.flatMap((o) => literalValues(def(o).shape?.[key]));
    if (objects.length > 0 && values.length >= objects.length) return { key, values: values.map(String) };
  }
  return undefined;
}

export function describeZodIssue(issue: z.core.$ZodIssue, root: AnySchema, data: unknown): DescribedIssue[] {
  const path = issue.path as PropertyKey[];
  const value = valueAt(data, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(root, path, data);
      return issue.keys.map((key) => {
        if (key === '<<') {
          return {
            path,
            key,
            message: 'merge keys (<<: *alias) are not supported; write the keys out in this mapping',
          };
        }
        const near = suggest(key, allowed);
        const hint = near
          ? ` (did you mean "${near}"?)`
          : allowed.length
            ? ` (allowed here: ${allowed.join(', ')})`
            : '';
        return { path, key, message: `unknown key "${key}"${hint}` };
      });
    }
    case 'invalid_type': {
      if (value === undefined && path.length > 0) return missingKey(path, expectedAt(root, path, data));
      const schema = schemaAt(root, path, data);
      if (isDuration(schema)) {
        const unit = typeof value === 'number' ? ` (add a unit: "${value}s" or "${value}m")` : '';
        return [
          { path, message: `expected a duration like 90s, 40m, 8h or 1h30m, got ${kindOf(value)}${unit}` },
        ];
      }
      const expected = ARTICLE[issue.expected] ?? issue.expected;
      let hint = '';
      if (issue.expected === 'string' && typeof value === 'number') hint = ' (quote it to make it a string)';
      if (
        issue.expected === 'boolean' &&
        typeof value === 'string' &&
        YAML11_BOOLEANS.has(value.toLowerCase())
      ) {
        hint = ' (in YAML 1.2 yes/no/on/off are strings; write true or false)';
      }
      return [{ path, message: `expected ${expected}, got ${kindOf(value)}${hint}` }];
    }
    case 'invalid_value': {
      if (value === undefined && path.length > 0) {
        return missingKey(path, ` (one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')})`);
      }
      const options = issue.values.map((v) => JSON.stringify(v));
      const expected = options.length === 1 ? options[0] : `one of ${options.join(', ')}`;
      // `version: "1"`: the right value, quoted.
      if (
        typeof value === 'string' &&
        issue.values.some((v) => typeof v !== 'string' && String(v) === value)
      ) {
        return [
          {
            path,
            message: `${kindOf(value)} is not allowed; expected the ${typeof issue.values[0]} ${expected}, without quotes`,
          },
        ];
      }
      const near =
        typeof value === 'string'
          ? suggest(
              value,
              issue.values.filter((v) => typeof v === 'string'),
            )
          : undefined;
      const hint = near ? ` (did you mean "${near}"?)` : '';
      return [{ path, message: `${kindOf(value)} is not allowed; expected ${expected}${hint}` }];
    }
    case 'invalid_union': {
      const disc = (issue as { discriminator?: string }).discriminator;
      if (disc) {
        // zod reports a bad discriminator at the discriminator's own path.
        const objectPath = path[path.length - 1] === disc ? path.slice(0, -1) : path;
        const object = valueAt(data, objectPath);
        const fromIssue = (issue as { options?: unknown[] }).options?.map(String);
        const schema = schemaAt(root, objectPath, data);
        const options = fromIssue ?? discriminated(schema)?.values ?? [];
        if (object === null || typeof object !== 'object' || Array.isArray(object)) {
          return [
            {
              path: objectPath,
              message: `expected a mapping with "${disc}: ${options.join('|')}", got ${kindOf(object)}`,
            },
          ];
        }
        const tag = (object as Record<string, unknown>)[disc];
        if (tag === undefined)
          return [
            {
              path: objectPath,
              key: disc,
              message: `missing required key "${disc}" (one of ${options.join(', ')})`,
            },
          ];
        const near = typeof tag === 'string' ? suggest(tag, options) : undefined;
        return [
          {
            path: [...objectPath, disc],
            message: `unknown ${disc} ${JSON.stringify(tag)}; expected one of ${options.join(', ')}${near ? ` (did you mean "${near}"?)` : ''}`,
          },
        ];
      }
      const schema = schemaAt(root, path, data);
      // A mapping whose kind matches no branch: say so, rather than explain one branch's failure.
      const kinds = discriminated(schema);
      if (kinds && value && typeof value === 'object' && !Array.isArray(value)) {
        const tag = (value as Record<string, unknown>)[kinds.key];
        if (tag === undefined)
          return [
            {
              path,
              key: kinds.key,
              message: `missing required key "${kinds.key}" (one of ${kinds.values.join(', ')})`,
            },
          ];
        if (!kinds.values.includes(String(tag))) {
          const near = typeof tag === 'string' ? suggest(tag, kinds.values) : undefined;
          return [
            {
              path: [...path, kinds.key],
              message: `unknown ${kinds.key} ${JSON.stringify(tag)}; expected one of ${kinds.values.join(', ')}${near ? ` (did you mean "${near}"?)` : ''}`,
            },
          ];
        }
      }
      // The branch that got furthest explains the problem best.
      const branches = issue.errors.filter((b) => b.length > 0);
      const deepest = branches
        .map((b) => ({ b, depth: Math.max(...b.map((e) => e.path.length)) }))
        .sort((x, y) => y.depth - x.depth)[0];
      if (deepest && deepest.depth > 0) {
        return deepest.b.flatMap((e) =>
          describeZodIssue({ ...e, path: [...path, ...e.path] } as z.core.$ZodIssue, root, data),
        );
      }
      const options =
        schema && def(schema).type === 'union' ? [...new Set(def(schema).options!.map(label))] : [];
      const strings =
        schema && def(schema).type === 'union'
          ? def(schema)
              .options!.flatMap((o) => literalValues(o))
              .filter((v): v is string => typeof v === 'string')
          : [];
      const near = typeof value === 'string' ? suggest(value, strings) : undefined;
      const yaml11 =
        typeof value === 'string' &&
        YAML11_BOOLEANS.has(value.toLowerCase()) &&
        options.includes('true or false')
          ? ' (in YAML 1.2 yes/no/on/off are strings; write true or false)'
          : '';
      const list =
        options.length > 1
          ? `${options.slice(0, -1).join(', ')} or ${options[options.length - 1]}`
          : (options[0] ?? 'another value');
      return [
        {
          path,
          message: `${kindOf(value)} is not allowed; expected ${list}${near ? ` (did you mean "${near}"?)` : ''}${yaml11}`,
        },
      ];
    }
    case 'too_small': {
      const n = Number(issue.minimum);
      if (issue.origin === 'array')
        return [
          {
            path,
            message: n === 1 ? 'must not be empty; list at least one item' : `must list at least ${n} items`,
          },
        ];
      if (issue.origin === 'string')
        return [{ path, message: n === 1 ? 'must not be empty' : `must be at least ${n} characters` }];
      return [
        { path, message: `must be ${issue.inclusive ? 'at least' : 'more than'} ${n}, got ${String(value)}` },
      ];
    }
    case 'too_big':
      if (issue.origin === 'array')
        return [{ path, message: `must list at most ${String(issue.maximum)} items` }];
      if (issue.origin === 'string')
        return [{ path, message: `must be at most ${String(issue.maximum)} characters` }];
      return [
        {
          path,
          message: `must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}, got ${String(value)}`,
        },
      ];
    case 'invalid_format':
      if (issue.message.startsWith('Invalid')) {
        if (issue.format === 'url') {
          const schemes =
            (issue as { note?: string }).note === 'Invalid protocol'
              ? protocols((issue as { pattern?: string }).pattern)
              : undefined;
          return [
            {
              path,
              message: schemes
                ? `${kindOf(value)} must be a URL starting with ${schemes}`
                : `${kindOf(value)} is not a URL; write it in full, like https://host/path`,
            },
          ];
        }
        const pattern = (issue as { pattern?: string }).pattern;
        return [
          {
            path,
            message: `${kindOf(value)} has the wrong form${pattern ? `; it must match /${pattern}/` : ` (${issue.format})`}`,
          },
        ];
      }
      return [{ path, message: `${kindOf(value)}: ${issue.message}` }];
    default:
      return [{ path, message: issue.message }];
  }
}
