/**
 * The one place that reads zod's internals: schema definitions (`_zod.def`), object shapes,
 * union branches, the wrappers (optional, default, pipe…) around a schema, and `.meta()`.
 * zod documents none of this as stable API, so a zod upgrade that moves it breaks only this
 * file. Everything else (messages, secrets) asks questions through the functions below.
 */
import { z } from 'zod';

/** A zod schema as this module's functions take and return it; callers do not look inside. */
export type SchemaNode = z.core.$ZodType;

/** The parts of a zod schema's definition read here (zod keeps them on `_zod.def`). */
interface Def {
  type: string;
  shape?: Record<string, SchemaNode>;
  element?: SchemaNode;
  /** Records (`env: { KEY: value }`). */
  valueType?: SchemaNode;
  options?: SchemaNode[];
  innerType?: SchemaNode;
  in?: SchemaNode;
  discriminator?: string;
  values?: unknown[];
  entries?: Record<string, unknown>;
}
const def = (s: SchemaNode): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

const WRAPPERS = ['optional', 'default', 'nullable', 'prefault', 'readonly', 'catch', 'nonoptional'];

/** The schema under its wrappers; a pipe counts as its input, which is what the document holds. */
function unwrap(s: SchemaNode): SchemaNode {
  let cur = s;
  for (let i = 0; i < 20; i++) {
    const d = def(cur);
    if (WRAPPERS.includes(d.type) && d.innerType) cur = d.innerType;
    else if (d.type === 'pipe' && d.in) cur = d.in;
    else break;
  }
  return cur;
}

/** The part of a document at `path`; undefined where the document has nothing there. */
export function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let cur = data;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

/**
 * The schema that validates the value at `path`, choosing union branches by the data, with its
 * wrappers removed; undefined when the schema has no such path.
 */
export function schemaAt(
  root: SchemaNode,
  path: readonly PropertyKey[],
  data: unknown,
): SchemaNode | undefined {
  let cur: SchemaNode | undefined = unwrap(root);
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

function pickBranch(s: SchemaNode, value: unknown): SchemaNode {
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

// The accessors look through wrappers (all but ownMeta), so callers never need to know of them.

/** The values a literal or enum schema allows; empty for anything else (or nothing). */
export function literalValues(s: SchemaNode | undefined): unknown[] {
  if (!s) return [];
  const d = def(unwrap(s));
  if (d.type === 'literal') return d.values ?? [];
  if (d.type === 'enum') return Object.values(d.entries ?? {});
  return [];
}

/** zod's name for what the schema is: `object`, `array`, `union`, `literal`, `enum`, `string`, … */
export function nodeType(s: SchemaNode): string {
  return def(unwrap(s)).type;
}

/** The keys a mapping schema allows, in schema order; undefined for anything but a mapping. */
export function objectKeys(s: SchemaNode): string[] | undefined {
  const d = def(unwrap(s));
  return d.type === 'object' && d.shape ? Object.keys(d.shape) : undefined;
}

/** The values the field `key` of a mapping schema allows, when it is a literal or an enum. */
export function fieldValues(s: SchemaNode, key: string): unknown[] {
  const d = def(unwrap(s));
  return d.type === 'object' ? literalValues(d.shape?.[key]) : [];
}

/** A union's branches as declared (still wrapped); undefined for anything but a union. */
export function unionOptions(s: SchemaNode): SchemaNode[] | undefined {
  const d = def(unwrap(s));
  return d.type === 'union' ? d.options : undefined;
}

/**
 * For a union of mappings told apart by one key (`kind`, `type`, `provider`, or the declared
 * discriminator): that key and the values its branches accept.
 */
export function unionTags(s: SchemaNode | undefined): { key: string; values: string[] } | undefined {
  if (!s) return undefined;
  const d = def(unwrap(s));
  if (d.type !== 'union' || !d.options) return undefined;
  const objects = d.options.map(unwrap).filter((o) => def(o).type === 'object');
  for (const key of [d.discriminator, 'kind', 'type', 'provider']) {
    if (!key) continue;
    const values = objects.flatMap((o) => literalValues(def(o).shape?.[key]));
    if (objects.length > 0 && values.length >= objects.length) return { key, values: values.map(String) };
  }
  return undefined;
}

/** What `.meta()` gave this very schema (a wrapper such as `.optional()` has meta of its own). */
export function ownMeta(s: SchemaNode): Readonly<Record<string, unknown>> | undefined {
  return z.globalRegistry.get(s) as Record<string, unknown> | undefined;
}

/** What `.meta()` gave the schema under the wrappers (a shared base such as the duration string). */
export function innerMeta(s: SchemaNode): Readonly<Record<string, unknown>> | undefined {
  return ownMeta(unwrap(s));
}

/**
 * Walk `schema` and `data` together, outermost schema first, calling `visit` with every schema
 * and the part of the data it applies to; `visit` returns false to skip what lies under that
 * schema. Parts the data lacks (undefined, null) are not visited. Every branch of a union is
 * visited, since the data may not be valid yet and any branch could be the one meant.
 */
export function walkSchema(
  schema: SchemaNode,
  data: unknown,
  visit: (schema: SchemaNode, value: unknown) => boolean,
): void {
  const walk = (s: SchemaNode, value: unknown, depth: number): void => {
    if (value === undefined || value === null || depth > 40) return;
    if (!visit(s, value)) return;
    const d = def(s);
    if (d.innerType) return walk(d.innerType, value, depth + 1);
    if (d.type === 'pipe' && d.in) return walk(d.in, value, depth + 1);
    if (d.type === 'object' && d.shape && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, child] of Object.entries(d.shape))
        walk(child, (value as Record<string, unknown>)[key], depth + 1);
    } else if (d.type === 'record' && d.valueType && typeof value === 'object' && !Array.isArray(value)) {
      for (const child of Object.values(value as Record<string, unknown>))
        walk(d.valueType, child, depth + 1);
    } else if (d.type === 'array' && d.element && Array.isArray(value)) {
      for (const item of value) walk(d.element, item, depth + 1);
    } else if (d.type === 'union' && d.options) {
      for (const option of d.options) walk(option, value, depth + 1);
    }
  };
  walk(schema, data, 0);
}
