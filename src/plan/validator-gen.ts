/**
 * Build-time generator of the zod-free plan validator (src/generated/plan-validator.ts, written by
 * `npm run build` through scripts/gen-plan-validator.ts). It walks the one zod schema and emits
 * plain JS that, for a plan zod accepts, returns what `PlanSchema.parse` returns (defaults,
 * prefaults, the duration transform, the refinements), and for anything else says "ask zod":
 *
 * - each emitted function returns `REJECT` only where zod reports an issue (unions and optional
 *   keys depend on that being exact), and throws `Bail` where it cannot be sure;
 * - refinements, cross-field rules and transforms run the same plain functions zod runs (from
 *   schema-rules.ts, found by identity); one it does not know (an inline arrow) makes that part
 *   of the schema bail at run time, so plans using it take the zod path, as before;
 * - zod types, checks or options it does not know bail too. The differential test
 *   (test/unit/plan-validator.test.ts) compares both paths on every plan of the repository and on
 *   mutated ones.
 *
 * It reads zod's internals (`_zod.def`, `optin`/`optout`, `propValues`), like zod-introspect.ts; a
 * zod upgrade that moves them fails the build here, not at run time.
 */
import { z } from 'zod';
import { ruleFunction } from './schema-common.js';
import * as rules from './schema-rules.js';
import { PlanSchema } from './schema.js';
import { ownMeta, walkSchema } from './zod-introspect.js';
import type { SecretTree } from './validator-runtime.js';

type Node = z.core.$ZodType;
interface Internals {
  def: Record<string, unknown> & { type: string; checks?: Node[] };
  optin?: 'optional' | 'defaulted';
  optout?: 'optional';
  values?: Set<unknown>;
  propValues?: Record<string, Set<unknown>>;
  traits: Set<string>;
}
/** A zod definition, read loosely: which keys it has depends on its type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- zod's defs differ per type
type AnyDef = Record<string, any>;
const zod = (s: Node): Internals => (s as unknown as { _zod: Internals })._zod;

const RULE_NAMES = new Map<unknown, string>(
  Object.entries(rules)
    .filter(([, v]) => typeof v === 'function')
    .map(([k, v]) => [v, k]),
);

export interface Generated {
  code: string;
  /** Parts of the schema the generated code cannot check (those plans take the zod path). */
  warnings: string[];
}

const lit = (v: unknown): string => {
  if (v === undefined) return 'undefined';
  if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`cannot emit ${v}`);
  if (typeof v === 'bigint' || typeof v === 'function' || typeof v === 'symbol')
    throw new Error(`cannot emit a ${typeof v}`);
  return JSON.stringify(v);
};

const regex = (r: RegExp): string => `new RegExp(${JSON.stringify(r.source)}, ${JSON.stringify(r.flags)})`;

export function generateValidator(root: Node = PlanSchema): Generated {
  const names = new Map<Node, string>();
  const bodies: string[] = [];
  const consts: string[] = [];
  const warnings: string[] = [];

  const constant = (expr: string): string => {
    const name = `C${consts.length}`;
    consts.push(`const ${name} = ${expr};`);
    return name;
  };
  const unknownPart = (where: string, what: string): string => {
    warnings.push(`${where || '(plan)'}: ${what}`);
    return `bail(${JSON.stringify(`${where}: ${what}`)})`;
  };

  /** The name of the function validating `node`; emits it on first sight. */
  const fn = (node: Node, where: string): string => {
    const known = names.get(node);
    if (known) return known;
    const name = `v${names.size}`;
    names.set(node, name);
    const lines: string[] = [];
    body(node, where, lines);
    checks(node, where, lines);
    bodies.push(
      `function ${name}(x: any): any {\n  let o: any;\n${lines.map((l) => `  ${l}`).join('\n')}\n  return o;\n}`,
    );
    return name;
  };

  /** Sets `o` to what zod's parse of `node` makes of `x`, or returns REJECT. */
  const body = (node: Node, where: string, out: string[]): void => {
    const { def } = zod(node);
    const d = def as AnyDef;
    if (d.coerce) {
      out.push(`${unknownPart(where, 'coercion')};`);
      return;
    }
    switch (def.type) {
      case 'string':
        out.push(`if (typeof x !== 'string') return REJECT;`, 'o = x;');
        return;
      case 'number':
        out.push(
          `if (typeof x !== 'number' || Number.isNaN(x) || !Number.isFinite(x)) return REJECT;`,
          'o = x;',
        );
        return;
      case 'boolean':
        out.push(`if (typeof x !== 'boolean') return REJECT;`, 'o = x;');
        return;
      case 'literal':
      case 'enum': {
        const values = [...(zod(node).values ?? [])];
        out.push(
          `if (!(${values.map((v) => `x === ${lit(v)}`).join(' || ') || 'false'})) return REJECT;`,
          'o = x;',
        );
        return;
      }
      case 'object': {
        const shape = d.shape as Record<string, Node>;
        const catchall = d.catchall as Node | undefined;
        out.push('if (!isObject(x)) return REJECT;');
        if (catchall !== undefined) {
          if (zod(catchall).def.type !== 'never') {
            out.push(`${unknownPart(where, 'catchall')};`);
            return;
          }
          const keys = constant(`new Set(${lit(Object.keys(shape))})`);
          out.push(`for (const k in x) if (!${keys}.has(k)) return REJECT;`);
        }
        out.push('o = {};');
        for (const [key, child] of Object.entries(shape)) {
          if (key === '__proto__') continue;
          const k = lit(key);
          const { optin, optout } = zod(child);
          const v = fn(child, where ? `${where}.${key}` : key);
          const lines: string[] = [];
          lines.push(`const p = ${k} in x;`);
          const guard = optin === 'optional' && optout === 'optional' ? 'if (p) ' : '';
          const inner: string[] = [`const r = ${v}(x[${k}]);`];
          if (optin !== undefined && optout === 'optional')
            inner.push('if (r === REJECT) { if (p) return REJECT; }');
          else inner.push('if (r === REJECT) return REJECT;');
          if (optin === undefined) inner.push('if (!p) return REJECT;');
          const keepUndefined = optin === 'defaulted' && optout !== 'optional' ? 'true' : 'p';
          inner.push(
            `if (r !== REJECT) { if (r !== undefined) o[${k}] = r; else if (${keepUndefined}) o[${k}] = undefined; }`,
          );
          lines.push(`${guard}{ ${inner.join(' ')} }`);
          out.push(`{ ${lines.join(' ')} }`);
        }
        return;
      }
      case 'array': {
        const v = fn(d.element as Node, `${where}[]`);
        out.push(
          'if (!Array.isArray(x)) return REJECT;',
          'o = new Array(x.length);',
          `for (let i = 0; i < x.length; i++) { const r = ${v}(x[i]); if (r === REJECT) return REJECT; o[i] = r; }`,
        );
        return;
      }
      case 'record': {
        const keyType = d.keyType as Node;
        const kd = zod(keyType).def;
        if (
          kd.type !== 'string' ||
          kd.checks?.length ||
          zod(keyType).values ||
          d.mode === 'loose' ||
          d.partial
        ) {
          out.push(`${unknownPart(where, 'record key type')};`);
          return;
        }
        const v = fn(d.valueType as Node, `${where}.*`);
        out.push(
          'if (!isPlainObject(x)) return REJECT;',
          'o = {};',
          'for (const k of Reflect.ownKeys(x)) {',
          `  if (k === '__proto__' || !Object.prototype.propertyIsEnumerable.call(x, k)) continue;`,
          `  if (typeof k !== 'string') return REJECT;`,
          `  const r = ${v}(x[k]); if (r === REJECT) return REJECT; o[k] = r;`,
          '}',
        );
        return;
      }
      case 'union': {
        const options = d.options as Node[];
        if (d.discriminator !== undefined) {
          if (d.unionFallback) {
            out.push(`${unknownPart(where, 'discriminated union with fallback')};`);
            return;
          }
          const key = lit(d.discriminator);
          out.push('if (!isObject(x)) return REJECT;', `const tag = x[${key}];`);
          const seen = new Set<unknown>();
          for (const option of options) {
            const values = zod(option).propValues?.[d.discriminator as string];
            if (!values) {
              out.push(`${unknownPart(where, 'union option without a tag')};`);
              return;
            }
            const fresh = [...values].filter((v) => !seen.has(v));
            fresh.forEach((v) => seen.add(v));
            if (fresh.length === 0) continue;
            const tag = String([...values][0]);
            const v = fn(option, `${where}<${tag}>`);
            out.push(
              `if (${fresh.map((t) => `tag === ${lit(t)}`).join(' || ')}) { o = ${v}(x); if (o === REJECT) return REJECT; }`,
            );
            out.push('else');
          }
          out.push('return REJECT;');
          return;
        }
        const vs = options.map((option, i) => fn(option, `${where}<${i}>`));
        out.push(`o = ${vs[0]}(x);`);
        for (const v of vs.slice(1)) out.push(`if (o === REJECT) o = ${v}(x);`);
        out.push('if (o === REJECT) return REJECT;');
        return;
      }
      case 'optional': {
        const inner = d.innerType as Node;
        const v = fn(inner, where);
        if (zod(inner).optin === 'defaulted')
          out.push(`if (x === undefined) { const r = ${v}(undefined); o = r === REJECT ? undefined : r; }`);
        else out.push('if (x === undefined) o = undefined;');
        out.push(`else { o = ${v}(x); if (o === REJECT) return REJECT; }`);
        return;
      }
      case 'default': {
        const v = fn(d.innerType as Node, where);
        const value = lit(d.defaultValue);
        out.push(
          `if (x === undefined) o = ${value};`,
          `else { o = ${v}(x); if (o === REJECT) return REJECT; if (o === undefined) o = ${value}; }`,
        );
        return;
      }
      case 'prefault': {
        const v = fn(d.innerType as Node, where);
        out.push(
          `o = ${v}(x === undefined ? ${lit(d.defaultValue)} : x);`,
          'if (o === REJECT) return REJECT;',
        );
        return;
      }
      case 'pipe': {
        const a = fn(d.in as Node, where);
        const b = fn(d.out as Node, where);
        out.push(
          `const a = ${a}(x);`,
          'if (a === REJECT) return REJECT;',
          `o = ${b}(a);`,
          'if (o === REJECT) return REJECT;',
        );
        return;
      }
      case 'transform': {
        const rule = ruleFunction(d.transform as object);
        const name = rule && RULE_NAMES.get(rule);
        if (!name) {
          out.push(`${unknownPart(where, 'transform not made by transformRule()')};`);
          return;
        }
        out.push(`const t = R.${name}(x);`, `if (!('value' in t)) return REJECT;`, 'o = t.value;');
        return;
      }
      default:
        out.push(`${unknownPart(where, `zod type ${def.type}`)};`);
    }
  };

  /** zod's checks of `node` (a string format is its own first check), run on `o`. */
  const checks = (node: Node, where: string, out: string[]): void => {
    const all = [...(zod(node).traits.has('$ZodCheck') ? [node] : []), ...(zod(node).def.checks ?? [])];
    for (const check of all) {
      const cd = zod(check).def as AnyDef;
      if (cd.when && check !== node && !['min_length'].includes(cd.check)) {
        out.push(`${unknownPart(where, `conditional check ${cd.check}`)};`);
        continue;
      }
      switch (cd.check) {
        case 'min_length':
          out.push(`if (lengthFor(o, ${lit(cd.minimum)}) < ${lit(cd.minimum)}) return REJECT;`);
          break;
        case 'greater_than':
        case 'less_than': {
          if (typeof cd.value !== 'number') {
            out.push(`${unknownPart(where, `${cd.check} of a ${typeof cd.value}`)};`);
            break;
          }
          const op = cd.check === 'greater_than' ? (cd.inclusive ? '>=' : '>') : cd.inclusive ? '<=' : '<';
          out.push(`if (!(o ${op} ${lit(cd.value)})) return REJECT;`);
          break;
        }
        case 'number_format':
          if (cd.format !== 'safeint') out.push(`${unknownPart(where, `number format ${cd.format}`)};`);
          else out.push('if (!Number.isInteger(o) || !Number.isSafeInteger(o)) return REJECT;');
          break;
        case 'string_format':
          if (cd.format === 'regex') {
            const re = constant(regex(cd.pattern as RegExp));
            out.push(`${re}.lastIndex = 0;`, `if (!${re}.test(o)) return REJECT;`);
          } else if (cd.format === 'url') {
            const opts = constant(
              `{ ${cd.protocol ? `protocol: ${regex(cd.protocol)}, ` : ''}${cd.hostname ? `hostname: ${regex(cd.hostname)}, ` : ''}${cd.normalize ? 'normalize: true, ' : ''}has: { protocol: ${'protocol' in cd}, hostname: ${'hostname' in cd}, normalize: ${'normalize' in cd} } }`,
            );
            out.push(`o = checkUrl(o, ${opts});`, 'if (o === REJECT) return REJECT;');
          } else {
            out.push(`${unknownPart(where, `string format ${cd.format}`)};`);
          }
          break;
        case 'custom': {
          if (typeof cd.fn === 'function') {
            const name = RULE_NAMES.get(cd.fn);
            if (name) out.push(`if (!R.${name}(o)) return REJECT;`);
            else out.push(`${unknownPart(where, 'refine() with a function not in schema-rules.ts')};`);
            break;
          }
          const rule = ruleFunction(check);
          const name = rule && RULE_NAMES.get(rule);
          if (name) out.push(`if (R.${name}(o).length > 0) return REJECT;`);
          else out.push(`${unknownPart(where, 'superRefine()/check() not made by rule()')};`);
          break;
        }
        default:
          out.push(`${unknownPart(where, `check ${String(cd.check)}`)};`);
      }
    }
  };

  const top = fn(root, '');
  const tree = secretTree(root);
  const code = `// GENERATED by src/plan/validator-gen.ts from the plan schema (src/plan/schema*.ts) — do not edit.
// \`npm run build\` rewrites it; test/unit/plan-validator.test.ts fails when it is out of date.
/* eslint-disable */
import type { Plan } from '../plan/schema.js';
import * as R from '../plan/schema-rules.js';
import {
  bail,
  checkUrl,
  isObject,
  isPlainObject,
  lengthFor,
  REJECT,
  walkSecrets,
  type SecretKind,
  type SecretTree,
} from '../plan/validator-runtime.js';

${consts.join('\n')}

${bodies.join('\n\n')}

/**
 * What \`PlanSchema.parse(data)\` makes of the data: its output, \`reject\` where zod reports an
 * issue, \`bail\` where this code cannot be sure (then zod decides).
 */
export function checkPlan(data: unknown): { value: Plan } | 'reject' | 'bail' {
  try {
    const result = ${top}(data);
    return result === REJECT ? 'reject' : { value: result };
  } catch {
    // Bail, or a rule that threw: zod's path reports it as it always did.
    return 'bail';
  }
}

/** \`PlanSchema.parse(data)\`, or undefined when the zod path must decide (invalid, or not sure). */
export function validatePlan(data: unknown): Plan | undefined {
  const result = checkPlan(data);
  return typeof result === 'object' ? result.value : undefined;
}

/** Where the plan's secrets are (the schema's \`'x-secret'\` metas). */
export const SECRET_TREE: SecretTree | null = ${JSON.stringify(tree)};

/** Every secret value in a plan document (valid or not), as secrets.ts reports them. */
export function planSecrets(data: unknown): Array<{ value: string; kind: SecretKind }> {
  return SECRET_TREE ? walkSecrets(SECRET_TREE, data) : [];
}

/** Parts of the schema this code cannot check (plans using them take the zod path). */
export const UNCHECKED: readonly string[] = ${JSON.stringify(warnings)};
`;
  return { code, warnings };
}

/** The schema's secrets as a tree walkSecrets reads, visiting what zod-introspect's walkSchema does. */
function secretTree(node: Node, depth = 0): SecretTree | null {
  if (depth > 40) return null;
  const kind = (z.globalRegistry.get(node) as Record<string, unknown> | undefined)?.['x-secret'];
  if (kind === 'value' || kind === 'credentials') return ['secret', kind];
  const d = zod(node).def as AnyDef;
  if (d.innerType) return secretTree(d.innerType as Node, depth + 1);
  if (d.type === 'pipe' && d.in) return secretTree(d.in as Node, depth + 1);
  if (d.type === 'object' && d.shape) {
    const fields = Object.entries(d.shape as Record<string, Node>)
      .map(([k, child]) => [k, secretTree(child, depth + 1)] as const)
      .filter((e): e is readonly [string, SecretTree] => e[1] !== null)
      .map(([k, t]) => [k, t] as [string, SecretTree]);
    return fields.length ? ['object', fields] : null;
  }
  if (d.type === 'record' && d.valueType) {
    const t = secretTree(d.valueType as Node, depth + 1);
    return t ? ['record', t] : null;
  }
  if (d.type === 'array' && d.element) {
    const t = secretTree(d.element as Node, depth + 1);
    return t ? ['array', t] : null;
  }
  if (d.type === 'union' && d.options) {
    const branches = (d.options as Node[]).map((o) => secretTree(o, depth + 1)).filter((t) => t !== null);
    return branches.length ? ['union', branches] : null;
  }
  return null;
}

/** zod-introspect's walk for secrets, as secrets.ts did it before the walk was generated. */
export function findSecretsBySchema(
  data: unknown,
  schema: Node = PlanSchema,
): Array<{ value: string; kind: 'value' | 'credentials' }> {
  const out: Array<{ value: string; kind: 'value' | 'credentials' }> = [];
  walkSchema(schema, data, (s, value) => {
    const kind = ownMeta(s)?.['x-secret'];
    if (kind !== 'value' && kind !== 'credentials') return true;
    if (typeof value === 'string') out.push({ value, kind });
    return false;
  });
  return out;
}
