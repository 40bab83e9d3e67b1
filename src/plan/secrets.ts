/**
 * Which plan values are secret is said once, in the schema (`'x-secret'` in a field's meta:
 * `value` when the whole value is secret, `credentials` when only a URL's password and secret
 * parameters are). This walks a plan document against the schema and registers every secret for
 * redaction. It runs on the raw document before validation, so a rejected value (a malformed
 * token, a webhook secret of the wrong shape) is masked in the very error that reports it.
 */
import { registerCredentials, registerSecret } from '../support/redact.js';
import { PlanSchema } from './schema.js';
import { ownMeta, walkSchema, type SchemaNode } from './zod-introspect.js';

type SecretKind = 'value' | 'credentials';

function secretKind(schema: SchemaNode): SecretKind | undefined {
  const kind = ownMeta(schema)?.['x-secret'];
  return kind === 'value' || kind === 'credentials' ? kind : undefined;
}

/** Every secret value in `data`, with its kind, found by walking `schema`. */
export function findSecrets(
  data: unknown,
  schema: SchemaNode = PlanSchema,
): Array<{ value: string; kind: SecretKind }> {
  const out: Array<{ value: string; kind: SecretKind }> = [];
  // walkSchema visits every union branch (the document may not be valid yet): a value is secret
  // if any branch says so.
  walkSchema(schema, data, (s, value) => {
    const kind = secretKind(s);
    if (!kind) return true;
    if (typeof value === 'string') out.push({ value, kind });
    return false;
  });
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
