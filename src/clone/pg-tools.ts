/**
 * The PostgreSQL client tools the clone methods run: `pg_dump --schema-only | psql` copies the
 * schema (roles' grants included) before the `logical` method's subscription copies the rows;
 * `dump` copies schema and rows in one `pg_dump | psql` during the freeze. Passwords travel
 * in PGPASSWORD, never on a command line another user could read with `ps`.
 */
import { spawn } from 'node:child_process';
import { ExitCode, MaintError } from '../errors.js';
import { redact } from '../support/redact.js';

/** A URL without its password, and the password apart. */
export function splitPassword(url: string): { url: string; password: string | undefined } {
  try {
    const u = new URL(url);
    const password = u.password ? decodeURIComponent(u.password) : undefined;
    u.password = '';
    return { url: u.toString(), password };
  } catch {
    return { url, password: undefined };
  }
}

/** The URL as it may be shown: the password replaced by `***`. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return redact(url);
  }
}

/** The same server's URL with another database (the admin connection creates and drops the clone). */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

export function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

/** Copy the schema of `fromUrl` into the (empty) database at `toUrl`; aborting kills both tools. */
export async function copySchema(fromUrl: string, toUrl: string, signal: AbortSignal): Promise<void> {
  await pipeDump(fromUrl, toUrl, ['--schema-only'], signal, 'CLONE_SCHEMA_COPY_FAILED');
}

/**
 * Copy schema and rows of `fromUrl` (one snapshot: pg_dump's) into the empty database at
 * `toUrl`, without the rows of the tables named in `exclude` (maint's journal and lock tables).
 */
export async function copyDatabase(
  fromUrl: string,
  toUrl: string,
  exclude: string[],
  signal: AbortSignal,
): Promise<void> {
  await pipeDump(
    fromUrl,
    toUrl,
    exclude.map((t) => `--exclude-table-data=${t}`),
    signal,
    'CLONE_DUMP_FAILED',
  );
}

async function pipeDump(
  fromUrl: string,
  toUrl: string,
  args: string[],
  signal: AbortSignal,
  code: string,
): Promise<void> {
  const from = splitPassword(fromUrl);
  const to = splitPassword(toUrl);
  const env = (password: string | undefined) => ({
    ...process.env,
    ...(password === undefined ? {} : { PGPASSWORD: password }),
  });
  const dump = spawn(
    'pg_dump',
    [...args, '--no-publications', '--no-subscriptions', `--dbname=${from.url}`],
    { env: env(from.password), stdio: ['ignore', 'pipe', 'pipe'], signal },
  );
  const restore = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', `--dbname=${to.url}`], {
    env: env(to.password),
    stdio: ['pipe', 'ignore', 'pipe'],
    signal,
  });
  dump.stdout.pipe(restore.stdin);
  const errors: string[] = [];
  dump.stderr.on('data', (d: Buffer) => errors.push(String(d)));
  restore.stderr.on('data', (d: Buffer) => errors.push(String(d)));
  const exit = (child: typeof dump | typeof restore, name: string) =>
    new Promise<void>((resolve, reject) => {
      child.on('error', (error) => reject(toolError(code, name, error.message)));
      child.on('close', (exit) =>
        exit === 0 ? resolve() : reject(toolError(code, name, errors.join('').trim())),
      );
    });
  await Promise.all([exit(dump, 'pg_dump'), exit(restore, 'psql')]);
}

function toolError(code: string, tool: string, output: string): MaintError {
  return new MaintError(
    code,
    ExitCode.rolledBack,
    `copying the ${code === 'CLONE_DUMP_FAILED' ? 'database' : 'schema'} to the clone failed (${tool}): ${redact(output).slice(-800) || 'no output'}`,
    {
      hint: 'pg_dump and psql (PostgreSQL client tools of the server version or newer) must be on PATH, and the clone server must know the roles the schema grants to.',
    },
  );
}
