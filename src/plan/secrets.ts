/**
 * Which plan values are secret is said once, in the schema (`'x-secret'` in a field's meta:
 * `value` when the whole value is secret, `credentials` when only a URL's password and secret
 * parameters are). This walks a plan document against the schema and registers every secret for
 * redaction. It runs on the raw document before validation, so a rejected value (a malformed
 * token, a webhook secret of the wrong shape) is masked in the very error that reports it.
 */
import { planSecrets } from '../generated/plan-validator.js';
import { registerCredentials, registerSecret } from '../support/redact.js';

type SecretKind = 'value' | 'credentials';

/**
 * Every secret value in `data`, with its kind. The walk was generated from the schema's metas
 * (validator-gen.ts; zod's walk is `findSecretsBySchema` there, and the differential test holds
 * them equal): every union branch counts, since the document may not be valid yet, and a value
 * is secret if any branch says so.
 */
export function findSecrets(data: unknown): Array<{ value: string; kind: SecretKind }> {
  const out = planSecrets(data);
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
