/**
 * Which plan values are secret is said once, in the schema (`'x-secret'` in a field's meta:
 * `value` when the whole value is secret, `credentials` when only a URL's password and secret
 * parameters are). This walks a plan document against the schema and registers every secret for
 * redaction. It runs on the raw document before validation, so a rejected value (a malformed
 * token, a webhook secret of the wrong shape) is masked in the very error that reports it.
 */
import { z } from 'zod';
import { registerCredentials, registerSecret } from '../output/redact.js';
import { PlanSchema } from './schema.js';
import { def, type AnySchema } from './zod-issues.js';

type SecretKind = 'value' | 'credentials';

function secretKind(schema: AnySchema): SecretKind | undefined {
  const meta = z.globalRegistry.get(schema) as Record<string, unknown> | undefined;
  const kind = meta?.['x-secret'];
  return kind === 'value' || kind === 'credentials' ? kind : undefined;
}

/** Every secret value in `data`, with its kind, found by walking `schema`. */
export function findSecrets(
  data: unknown,
  schema: AnySchema = PlanSchema,
): Array<{ value: string; kind: SecretKind }> {
  const out: Array<{ value: string; kind: SecretKind }> = [];
  const walk = (s: AnySchema, value: unknown, depth: number): void => {
    if (value === undefined || value === null || depth > 40) return;
    const kind = secretKind(s);
    if (kind) {
      if (typeof value === 'string') out.push({ value, kind });
      return;
    }
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
      // The document may not be valid yet: a value is secret if any branch says so.
      for (const option of d.options) walk(option, value, depth + 1);
    }
  };
  walk(schema, data, 0);
  // Union branches can name the same field (webhook and slack both have a secret `url`).
  const seen = new Set<string>();
  return out.filter((s) => !seen.has(s.kind + s.value) && seen.add(s.kind + s.value));
}

/** Register every secret of a plan document (valid or not) for redaction. */
export function registerPlanSecrets(data: unknown): void {
  for (const { value, kind } of findSecrets(data)) {
    if (kind === 'value') {
      registerSecret(value);
      // A Standard Webhooks secret is also used without its prefix (the raw key).
      if (value.startsWith('whsec_')) registerSecret(value.slice('whsec_'.length));
    } else {
      registerCredentials(value);
    }
  }
}
