/**
 * Secret redaction. Every string that leaves maint (stdout, stderr, logs, journal, event
 * payloads) passes through `redact`. Two nets: known secret values registered when a plan is
 * loaded (whatever their shape), and patterns for secrets that arrive from elsewhere (a driver's
 * error message quoting a connection URL, a token in a stack).
 */

const MASK = '***';
const known = new Set<string>();

/** Register a secret value (and, for URLs, the password and token parts) to be masked everywhere. */
export function registerSecret(value: string | undefined | null): void {
  if (!value || value.length < 4) return;
  known.add(value);
  for (const part of urlSecrets(value)) known.add(part);
}

/**
 * Register only the credentials inside a URL (password, secret query parameters): for values
 * such as database URLs whose host and path are useful in messages and not secret.
 */
export function registerCredentials(value: string | undefined | null): void {
  if (!value) return;
  for (const part of urlSecrets(value)) known.add(part);
}

/** For tests: forget every registered secret. */
export function clearSecrets(): void {
  known.clear();
}

function urlSecrets(value: string): string[] {
  const out: string[] = [];
  try {
    const url = new URL(value);
    if (url.password) {
      out.push(url.password, decodeURIComponent(url.password));
    }
    for (const [key, v] of url.searchParams) {
      if (SECRET_PARAM.test(key) && v.length >= 4) out.push(v);
    }
  } catch {
    // not a URL: nothing more to extract
  }
  return out.filter((s) => s.length >= 4);
}

const SECRET_PARAM = /pass(word)?|secret|token|key|signature|sig|auth/i;

const PATTERNS: Array<[RegExp, string]> = [
  // scheme://user:password@host  →  scheme://user:***@host
  [/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)([^\s@/]+)(@)/gi, `$1${MASK}$3`],
  // Standard Webhooks secrets
  [/whsec_[A-Za-z0-9+/=]+/g, `whsec_${MASK}`],
  // Slack incoming-webhook paths and tokens
  [/(hooks\.slack\.com\/services\/)[A-Za-z0-9/_-]+/g, `$1${MASK}`],
  [/xox[abposr]-[A-Za-z0-9-]+/g, MASK],
  // Authorization headers and bearer tokens
  [/(bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, `$1${MASK}`],
  // key=value pairs whose key names a secret (query strings, DSNs, libpq strings)
  // (also JSON: "password": "…", where a quote closes the key before the colon), but not a key
  // path in a message such as `notify.channels[0].secret: must start with whsec_`
  // but not MySQL's `(using password: YES)`, which says only whether a password was sent
  // SQL that sets a password: ALTER ROLE app PASSWORD '…', CREATE USER … IDENTIFIED BY '…'
  [/(\b(?:password|identified\s+by)\s+)('(?:[^']|'')*')/gi, `$1'${MASK}'`],
  [
    /(?<!\.|using\s)\b((?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&;,"']+)/gi,
    `$1${MASK}`,
  ],
];

export function redact(text: string): string {
  let out = text;
  // Longest first so a secret containing another is masked whole.
  for (const secret of [...known].sort((a, b) => b.length - a.length)) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
  }
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * For text cut out of a longer stream (the tail of a command's output): a cut inside a secret
 * leaves its end at the start of the text, which `redact` no longer recognises; mask it.
 */
export function redactCutStart(text: string): string {
  let longest = 0;
  for (const secret of known) {
    for (let k = secret.length - 1; k >= 4 && k > longest; k--) {
      if (text.startsWith(secret.slice(secret.length - k))) {
        longest = k;
        break;
      }
    }
  }
  return longest > 0 ? MASK + text.slice(longest) : text;
}

/** Deeply redact every string in a JSON-like value (objects are copied, never mutated). */
export function redactDeep<T>(value: T): T {
  return walk(value, new Set()) as T;
}

/**
 * `ancestors` holds the objects on the path from the root only: a value shared by two branches
 * (the same issue listed in a result and in its error) is copied twice, not called circular.
 */
function walk(value: unknown, ancestors: Set<object>): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object') return value;
  if (ancestors.has(value)) return '[circular]';
  if (value instanceof Date) return value.toISOString();
  ancestors.add(value);
  try {
    if (value instanceof Error) {
      // Only name and message: driver errors carry raw SQL and parameters in their other fields.
      return { name: value.name, message: redact(value.message) };
    }
    if (Array.isArray(value)) return value.map((v) => walk(v, ancestors));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = walk(v, ancestors);
    return out;
  } finally {
    ancestors.delete(value);
  }
}
