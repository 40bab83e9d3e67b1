/**
 * A private MariaDB server for one test file: `mariadb-install-db` into a maint-mdb-* folder of
 * the test's temporary folder, `mariadbd` on a free port of 127.0.0.1 and its own socket, with
 * the settings given (binary log, binlog_format, server_id…). Root may connect over TCP without
 * a password. As root, the server runs as the `mysql` OS user. `stop()` kills the server (and
 * waits for it to be gone) and removes the folder; call it in afterAll, it is safe to call twice.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Connection } from 'mysql2/promise';
import { freePort, requireProgram } from './fleet-rig.js';
import { waitFor } from './run-cli.js';

const run = promisify(execFile);

export interface MariadbServer {
  port: number;
  dir: string;
  socket: string;
  /** URL of `database` on this server (root by default). */
  url(database?: string, user?: string, password?: string): string;
  /** One statement as root (a fresh connection each time). */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], database?: string): Promise<T[]>;
  /** A connection as root the caller closes. */
  connect(database?: string, user?: string): Promise<Connection>;
  /** SIGKILL the server and remove its folder. */
  stop(): Promise<void>;
}

/** `settings` become mariadbd options (`log_bin: 'mysql-bin'` → `--log_bin=mysql-bin`). */
export async function startMariadb(settings: Record<string, string> = {}): Promise<MariadbServer> {
  await requireProgram('mariadb-install-db', 'mariadb-server');
  const dir = await mkdtemp(path.join(tmpdir(), 'maint-mdb-'));
  const root = process.getuid?.() === 0;
  if (root) {
    const { stdout } = await run('id', ['-u', 'mysql']);
    const { stdout: gid } = await run('id', ['-g', 'mysql']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
    // The test run's private temporary folders are 0700 root: mysql must pass through them.
    for (let up = path.dirname(dir); path.basename(up).startsWith('maint-'); up = path.dirname(up))
      await chmod(up, 0o711);
  }
  const data = path.join(dir, 'data');
  const socket = path.join(dir, 'mysqld.sock');
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  const stop = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    child = null;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await run(
      'mariadb-install-db',
      [
        `--datadir=${data}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        // The test's TMPDIR belongs to root: the server's temporary files go to its own folder.
        `--tmpdir=${dir}`,
        ...(root ? ['--user=mysql'] : []),
      ],
      { timeout: 60_000 },
    ).catch((error: Error & { stderr?: string; stdout?: string }) => {
      throw new Error(
        `mariadb-install-db failed: ${error.message}\n${error.stdout ?? ''}${error.stderr ?? ''}`,
      );
    });
    const port = await freePort();
    const options = Object.entries(settings).map(([k, v]) => `--${k}=${v}`);
    child = spawn(
      '/usr/sbin/mariadbd',
      [
        '--no-defaults',
        `--datadir=${data}`,
        `--socket=${socket}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        `--pid-file=${path.join(dir, 'mysqld.pid')}`,
        `--tmpdir=${dir}`,
        '--skip-name-resolve',
        '--innodb-buffer-pool-size=32M',
        '--innodb-log-file-size=16M',
        '--innodb-flush-log-at-trx-commit=2',
        '--sync-binlog=0',
        '--performance-schema=OFF',
        ...(root ? ['--user=mysql'] : []),
        ...options,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    const c = child;
    exited = new Promise((resolve) => c.once('exit', () => resolve()));
    const mysql = await import('mysql2/promise');
    // Over the socket root@localhost has no password; open root@127.0.0.1 for TCP clients.
    const first = await waitFor(
      `mariadbd on port ${port}`,
      async () => {
        if (c.exitCode !== null) throw new Error(`mariadbd exited (${c.exitCode}):\n${log}`);
        try {
          return await mysql.createConnection({ socketPath: socket, user: 'root' });
        } catch {
          return undefined;
        }
      },
      60_000,
    );
    try {
      await first.query("create user if not exists root@'127.0.0.1'");
      await first.query("grant all privileges on *.* to root@'127.0.0.1' with grant option");
    } finally {
      await first.end();
    }
    const url = (database = '', user = 'root', password?: string) =>
      `mysql://${encodeURIComponent(user)}${password ? `:${encodeURIComponent(password)}` : ''}@127.0.0.1:${port}/${database}`;
    const connect = async (database?: string, user = 'root') =>
      mysql.createConnection({ host: '127.0.0.1', port, user, ...(database ? { database } : {}) });
    return {
      port,
      dir,
      socket,
      url,
      connect,
      async query<T>(sql: string, params: unknown[] = [], database?: string) {
        const conn = await connect(database);
        try {
          const [rows] = await conn.query(sql, params);
          return rows as T[];
        } finally {
          await conn.end();
        }
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
