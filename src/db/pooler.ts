/**
 * Session locks need a direct connection: through a transaction-pooling proxy (PgBouncer,
 * RDS Proxy, Supavisor) the session that took the lock is not the one that later asks for it,
 * and the lock outlives or escapes its holder.
 */
import { act, hint } from '../hints.js';
import { InputError } from '../errors.js';

/** Why this URL looks pooled, or null when it looks direct. */
export function poolerReason(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.port === '6432') return "it uses port 6432, PgBouncer's default";
  const flag = parsed.searchParams.get('pgbouncer');
  if (flag !== null && flag !== 'false' && flag !== '0') return 'it sets pgbouncer=true';
  if (/pooler|proxy/i.test(parsed.hostname))
    return `its host name (${parsed.hostname}) names a pooler or proxy`;
  return null;
}

export function lockUrlRequiredError(reason: string): InputError {
  return new InputError(
    'LOCK_URL_REQUIRED',
    `The database URL goes through a connection pooler (${reason}); the single-runner lock needs a direct connection.`,
    [{ path: 'database.lockUrl', message: 'set a direct (not pooled) URL for the lock' }],
    {
      hint: hint(
        'Add `database.lockUrl` to the plan with a direct URL to the server (not through PgBouncer or a proxy), then run {lock} to check it.',
        { lock: act('lock') },
      ),
    },
  );
}
