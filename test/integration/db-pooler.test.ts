/**
 * The single-runner lock refuses to go through a transaction-pooling PgBouncer (a session lock
 * there escapes its holder) and asks for a direct `lockUrl`; session pooling is fine. Real
 * PgBouncer processes (Debian's `pgbouncer`, installed by .ci/run) in front of the real server,
 * on ports the URL heuristics do not recognise.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { runCli, waitFor, writePlan } from '../helpers/run-cli.js';

const PGBOUNCER = '/usr/sbin/pgbouncer';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Bouncer {
  port: number;
  stop(): Promise<void>;
}

async function startBouncer(
  dir: string,
  upstream: URL,
  mode: 'transaction' | 'session',
  admin: boolean,
): Promise<Bouncer> {
  const port = await freePort();
  const ini = path.join(dir, `${mode}.ini`);
  const users = path.join(dir, 'users.txt');
  await writeFile(users, `"${upstream.username || 'postgres'}" ""\n`);
  await writeFile(
    ini,
    [
      '[databases]',
      `* = host=${upstream.hostname} port=${upstream.port || '5432'}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'auth_type = trust',
      `auth_file = ${users}`,
      `pool_mode = ${mode}`,
      'unix_socket_dir =',
      admin ? `admin_users = ${upstream.username || 'postgres'}` : '',
      'ignore_startup_parameters = extra_float_digits,options,application_name',
      '',
    ].join('\n'),
  );
  await chmod(dir, 0o755);
  // PgBouncer will not run as root; as root, let it switch to the postgres user.
  const args = process.getuid?.() === 0 ? ['-u', 'postgres', ini] : [ini];
  const child: ChildProcess = spawn(PGBOUNCER, args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(`PgBouncer on port ${port}`, async () => {
    if (child.exitCode !== null) throw new Error(`PgBouncer exited with ${child.exitCode}`);
    return new Promise<true | undefined>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(undefined));
    });
  });
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function through(url: string, port: number): string {
  const u = new URL(url);
  u.port = String(port);
  return u.toString();
}

describe('the lock and connection poolers (real PgBouncer)', () => {
  let database: FreshDatabase;
  let dir: string;
  let transaction: Bouncer;
  let session: Bouncer;

  beforeAll(async () => {
    database = await freshPostgres();
    dir = await mkdtemp(path.join(tmpdir(), 'maint-pgbouncer-'));
    const upstream = new URL(database.url);
    transaction = await startBouncer(dir, upstream, 'transaction', false);
    session = await startBouncer(dir, upstream, 'session', true);
  });

  afterAll(async () => {
    await transaction?.stop();
    await session?.stop();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  async function tables(): Promise<string[]> {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const r = await client.query<{ t: string }>(
        "select tablename as t from pg_tables where schemaname = 'public' order by 1",
      );
      return r.rows.map((row) => row.t);
    } finally {
      await client.end();
    }
  }

  it('refuses a transaction-pooling PgBouncer for the lock, touching nothing', async () => {
    const plan = await writePlan({
      engine: 'postgres',
      url: through(database.url, transaction.port),
      migrations: { '001_t.sql': 'create table t (id int);' },
      banner: false,
    });
    const r = await runCli(['migrate', plan.file, '--json']);
    expect(r.code, r.stderr).toBe(2);
    const body = JSON.parse(r.stdout) as { error: { code: string; message: string; hint: string } };
    expect(body.error.code).toBe('LOCK_URL_REQUIRED');
    expect(body.error.message).toContain('PgBouncer');
    expect(body.error.hint).toContain('lockUrl');
    expect(await tables()).toEqual([]);
  });

  it('migrates through the pooler when the lock has a direct lockUrl', async () => {
    const pooled = through(database.url, transaction.port);
    const plan = await writePlan({
      engine: 'postgres',
      url: pooled,
      migrations: { '001_t.sql': 'create table t (id int);' },
      banner: false,
    });
    const text = await readFile(plan.file, 'utf8');
    await writeFile(
      plan.file,
      text.replace(`  url: "${pooled}"\n`, `  url: "${pooled}"\n  lockUrl: "${database.url}"\n`),
    );
    expect(await readFile(plan.file, 'utf8')).toContain('lockUrl');
    const r = await runCli(['migrate', plan.file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(await tables()).toContain('t');
  });

  it('accepts session pooling, where a session lock stays with its holder', async () => {
    const plan = await writePlan({
      engine: 'postgres',
      url: through(database.url, session.port),
      migrations: { '001_t.sql': 'create table t (id int);', '002_u.sql': 'create table u (id int);' },
      banner: false,
    });
    const r = await runCli(['migrate', plan.file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(await tables()).toEqual(expect.arrayContaining(['t', 'u']));
  });
});
