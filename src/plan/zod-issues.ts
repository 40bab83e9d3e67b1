/**
 * Turns zod issues into messages a release engineer can act on: which key, what was expected,
 * and a suggestion for likely typos. Positions are added by the loader. What the schema allows
 * comes from zod-introspect.ts, the only module that reads zod's internals.
 */
import type { z } from 'zod';
import { DURATION_PATTERN } from './duration.js';
import { suggest } from './suggest.js';

export { suggest };
import {
  fieldValues,
  innerMeta,
  literalValues,
  nodeType,
  objectKeys,
  schemaAt,
  unionOptions,
  unionTags,
  valueAt,
  type SchemaNode,
} from './zod-introspect.js';

/** A problem in the plan, placed by path; the loader turns the path into a line and column. */
export interface DescribedIssue {
  /** Path of the mapping or value concerned. */
  path: PropertyKey[];
  /** A key inside the mapping at `path` (unknown or missing keys). */
  key?: string;
  message: string;
}

function allowedKeys(root: SchemaNode, path: readonly PropertyKey[], data: unknown): string[] {
  const s = schemaAt(root, path, data);
  return (s && objectKeys(s)) ?? [];
}

function label(s: SchemaNode): string {
  const type = nodeType(s);
  switch (type) {
    case 'literal':
      return literalValues(s)
        .map((v) => JSON.stringify(v))
        .join(' or ');
    case 'enum':
      return literalValues(s)
        .map((v) => JSON.stringify(v))
        .join(', ');
    case 'object': {
      const keys = objectKeys(s) ?? [];
      const name = ['kind', 'type', 'provider'].find((k) => keys.includes(k));
      return name ? `{ ${name}: ${fieldValues(s, name).join('|')}, … }` : 'a mapping';
    }
    case 'boolean':
      return 'true or false';
    default:
      return ARTICLE[type] ?? `a ${type}`;
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

/** Is this the duration string schema (`40m`, `1h30m`)? */
function isDuration(s: SchemaNode | undefined): boolean {
  if (!s) return false;
  return innerMeta(s)?.pattern === DURATION_PATTERN;
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
function expectedAt(root: SchemaNode, path: readonly PropertyKey[], data: unknown): string {
  const schema = schemaAt(root, path, data);
  if (!schema) return '';
  if (isDuration(schema)) return ' (a duration like 8h or 40m)';
  const keys = objectKeys(schema);
  if (keys) return ` (a mapping with ${keys.join(', ')})`;
  const type = nodeType(schema);
  if (type === 'array') return ' (a list)';
  if (type === 'union') return '';
  return ` (${label(schema)})`;
}

/**
 * One zod issue as messages at positions in the document (`data`, validated against `root`).
 * An issue can become several messages (one per unknown key) or, for a union, the messages of
 * the branch that got furthest.
 */
export function describeZodIssue(issue: z.core.$ZodIssue, root: SchemaNode, data: unknown): DescribedIssue[] {
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
        const options = fromIssue ?? unionTags(schema)?.values ?? [];
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
      const kinds = unionTags(schema);
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
      const alternatives = (schema && unionOptions(schema)) ?? [];
      const options = [...new Set(alternatives.map(label))];
      const strings = alternatives
        .flatMap((o) => literalValues(o))
        .filter((v): v is string => typeof v === 'string');
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
