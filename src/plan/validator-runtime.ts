/**
 * What the generated plan validator (src/generated/plan-validator.ts) needs besides the schema's
 * own rules: the sentinels and the few zod behaviours it reproduces (plain-object test, length in
 * code points, URL check, the secret walk). Without zod: this is on every plan command's path.
 *
 * The contract (validator-gen.ts): `REJECT` only where zod reports an issue, `Bail` (thrown) where
 * the generated code cannot be sure; both send the loader to the zod path, which gives the
 * error texts and positions.
 */

/** zod would report an issue here. */
export const REJECT: unique symbol = Symbol('reject');

/** The generated code cannot tell what zod would do; the loader falls back to zod. */
export class Bail extends Error {}

export function bail(why: string): never {
  throw new Bail(why);
}

/** zod's `isObject`. */
export function isObject(x: unknown): x is Record<PropertyKey, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** zod's `isPlainObject` (records). */
export function isPlainObject(o: unknown): o is Record<PropertyKey, unknown> {
  if (!isObject(o)) return false;
  const ctor = (o as { constructor?: unknown }).constructor;
  if (ctor === undefined) return true;
  if (typeof ctor !== 'function') return true;
  const prot = (ctor as { prototype?: unknown }).prototype;
  if (!isObject(prot)) return false;
  return Object.prototype.hasOwnProperty.call(prot, 'isPrototypeOf');
}

/** A string's length in code points (a surrogate pair counts once), as zod's min/max length. */
export function codePoints(str: string): number {
  let count = str.length;
  for (let i = 0; i < str.length - 1; i++) {
    if ((str.charCodeAt(i) & 0xfc00) === 0xd800 && (str.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      count--;
      i++;
    }
  }
  return count;
}

/** The length zod compares with a `min(n)` of a string or an array. */
export function lengthFor(input: string | unknown[], n: number): number {
  const units = input.length;
  return typeof input === 'string' && units >= n && units < n * 2 ? codePoints(input) : units;
}

export interface UrlOptions {
  protocol?: RegExp;
  hostname?: RegExp;
  normalize?: boolean;
  /** Which of the three the schema's definition has at all (zod tests `key in def`). */
  has: { protocol: boolean; hostname: boolean; normalize: boolean };
}

const HTTP_PROTOCOL = '^https?$';

function parseUrl(text: string): URL | undefined {
  const parse = (URL as unknown as { parse?: (s: string) => URL | null }).parse;
  if (typeof parse === 'function') return parse(text) ?? undefined;
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** zod's `z.url()` check: the value it leaves (trimmed, tabs and newlines removed), or REJECT. */
export function checkUrl(value: string, o: UrlOptions): string | typeof REJECT {
  const trimmed = value.trim();
  const stripped = (): string => trimmed.replace(/[\t\n\r]/g, '');
  if (!o.has.normalize && !o.has.hostname && !o.has.protocol) {
    if (typeof URL.canParse !== 'function') bail('url');
    return URL.canParse(trimmed) ? stripped() : REJECT;
  }
  if (!o.normalize && o.protocol?.source === HTTP_PROTOCOL && !/^https?:\/\//i.test(trimmed)) return REJECT;
  const url = parseUrl(trimmed);
  if (!url) return REJECT;
  if (o.hostname) {
    o.hostname.lastIndex = 0;
    if (!o.hostname.test(url.hostname)) return REJECT;
  }
  if (o.protocol) {
    o.protocol.lastIndex = 0;
    if (!o.protocol.test(url.protocol.endsWith(':') ? url.protocol.slice(0, -1) : url.protocol))
      return REJECT;
  }
  return o.normalize ? url.href : stripped();
}

export type SecretKind = 'value' | 'credentials';

/**
 * Where a plan's secrets are, as the generator read it from the schema's `'x-secret'` metas:
 * a secret, a mapping's fields, a record's values, a list's items, or a union's branches.
 */
export type SecretTree =
  | ['secret', SecretKind]
  | ['object', Array<[string, SecretTree]>]
  | ['record', SecretTree]
  | ['array', SecretTree]
  | ['union', SecretTree[]];

/** Every secret string of `data` the tree points at, in document order of the schema. */
export function walkSecrets(
  tree: SecretTree,
  data: unknown,
  out: Array<{ value: string; kind: SecretKind }> = [],
): Array<{ value: string; kind: SecretKind }> {
  if (data === undefined || data === null) return out;
  switch (tree[0]) {
    case 'secret':
      if (typeof data === 'string') out.push({ value: data, kind: tree[1] });
      break;
    case 'object':
      if (typeof data === 'object' && !Array.isArray(data))
        for (const [key, child] of tree[1]) walkSecrets(child, (data as Record<string, unknown>)[key], out);
      break;
    case 'record':
      if (typeof data === 'object' && !Array.isArray(data))
        for (const value of Object.values(data)) walkSecrets(tree[1], value, out);
      break;
    case 'array':
      if (Array.isArray(data)) for (const item of data) walkSecrets(tree[1], item, out);
      break;
    case 'union':
      for (const branch of tree[1]) walkSecrets(branch, data, out);
      break;
  }
  return out;
}
