/**
 * A private PostgreSQL 15 cluster for one test file: `initdb` into a /tmp/maint-pgc-* folder,
 * started with `wal_level=logical` on a free port of 127.0.0.1 (logical replication needs a
 * restart-time setting the shared server does not have). As root, the tools run as the
 * `postgres` OS user (initdb refuses root). `stop()` kills the server and removes the folder;
 * call it in afterAll, it is safe to call twice.
 */
import { execFile } from 'node:child_process';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const BIN = process.env.MAINT_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PgCluster {
  port: number;
  dir: string;
  /** URL of `database` on this cluster as the superuser `postgres`. */
  url(database?: string, user?: string, password?: string): string;
  query(sql: string, params?: unknown[], database?: string): Promise<pg.QueryResult>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function asOwner(command: string, args: string[]): Promise<void> {
  const root = process.getuid?.() === 0;
  const [file, argv] = root ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  await run(file, argv, { timeout: 60_000 });
}

export async function startPgCluster(settings: Record<string, string> = {}): Promise<PgCluster> {
  const dir = await mkdtemp(path.join(tmpdir(), 'maint-pgc-'));
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
    // The test run's private temporary folders (tmp-root.ts, tmp-sandbox.ts) are 0700 root: the
    // postgres user must be able to pass through them to reach its data folder.
    for (let up = path.dirname(dir); path.basename(up).startsWith('maint-'); up = path.dirname(up))
      await chmod(up, 0o711);
  }
  const data = path.join(dir, 'data');
  let started = false;
  const stop = async () => {
    if (started) {
      started = false;
      await asOwner(path.join(BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(
        () => undefined,
      );
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await asOwner(path.join(BIN, 'initdb'), [
      '-D',
      data,
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-sync',
      '-E',
      'UTF8',
    ]);
    const port = await freePort();
    const options = {
      port: String(port),
      listen_addresses: '127.0.0.1',
      unix_socket_directories: dir,
      wal_level: 'logical',
      max_replication_slots: '16',
      max_wal_senders: '16',
      max_logical_replication_workers: '8',
      fsync: 'off',
      ...settings,
    };
    const o = Object.entries(options)
      .map(([k, v]) => `-c ${k}=${v}`)
      .join(' ');
    started = true;
    await asOwner(path.join(BIN, 'pg_ctl'), [
      '-D',
      data,
      '-o',
      o,
      '-l',
      path.join(dir, 'log'),
      '-w',
      '-t',
      '60',
      'start',
    ]);
    const url = (database = 'postgres', user = 'postgres', password?: string) =>
      `postgres://${user}${password ? `:${password}` : ''}@127.0.0.1:${port}/${database}`;
    return {
      port,
      dir,
      url,
      async query(sql, params, database) {
        const c = new pg.Client({ connectionString: url(database) });
        await c.connect();
        try {
          return await c.query(sql, params);
        } finally {
          await c.end();
        }
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
