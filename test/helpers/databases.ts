/**
 * Fresh databases for integration tests: each call creates a uniquely named database on a real
 * server and returns its URL. The server comes from MAINT_TEST_PG_URL / MAINT_TEST_MYSQL_URL when
 * set, else the local servers on the default ports, else a testcontainers container when Docker
 * is there. When none is reachable this throws a loud error: tests never skip silently.
 */
import { randomBytes } from 'node:crypto';

export interface FreshDatabase {
  /** Connection URL of the new database. */
  url: string;
  /** Its name, e.g. `maint_t_3f9a0c12b4`. */
  name: string;
  /** Drop the database (terminating leftover sessions). Safe to call twice. */
  drop(): Promise<void>;
}

const LOCAL_PG = 'postgres://postgres@127.0.0.1:5432/postgres';
const LOCAL_MYSQL = 'mysql://root@127.0.0.1:3306';

function uniqueName(): string {
  return `maint_t_${randomBytes(5).toString('hex')}`;
}

function withDatabase(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

// One server URL per engine and worker process: probing (and starting a container) happens once.
let pgServer: Promise<string> | undefined;
let mysqlServer: Promise<string> | undefined;

async function canConnectPg(url: string): Promise<string | null> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function canConnectMysql(url: string): Promise<string | null> {
  const mysql = await import('mysql2/promise');
  try {
    const conn = await mysql.createConnection({ uri: url, connectTimeout: 3000 });
    await conn.query('select 1');
    await conn.end();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

async function resolveServer(
  kind: 'PostgreSQL' | 'MySQL/MariaDB',
  envVar: string,
  local: string,
  probe: (url: string) => Promise<string | null>,
  container: () => Promise<string>,
): Promise<string> {
  const tried: string[] = [];
  const fromEnv = process.env[envVar];
  if (fromEnv) {
    const problem = await probe(fromEnv);
    if (problem === null) return fromEnv;
    // An explicit URL that does not work is a configuration error: do not fall back silently.
    throw new Error(`${kind} for tests: ${envVar} is set but not reachable: ${problem}`);
  }
  const localProblem = await probe(local);
  if (localProblem === null) return local;
  tried.push(`${local}: ${localProblem}`);
  try {
    return await container();
  } catch (error) {
    tried.push(`testcontainers: ${(error as Error).message.split('\n')[0]}`);
  }
  const fix =
    kind === 'PostgreSQL'
      ? `start the local server (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start), or set ${envVar}=postgres://user:pass@host:5432/postgres, or start Docker for testcontainers`
      : `start the local server (start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd), or set ${envVar}=mysql://root:pass@host:3306, or start Docker for testcontainers`;
  throw new Error(
    `No ${kind} server for integration tests. Tried:\n  - ${tried.join('\n  - ')}\nFix: ${fix}.`,
  );
}

async function pgContainer(): Promise<string> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const started = await new GenericContainer('postgres:16-alpine')
    .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
    .withExposedPorts(5432)
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  return `postgres://postgres@${started.getHost()}:${started.getMappedPort(5432)}/postgres`;
}

async function mysqlContainer(): Promise<string> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const started = await new GenericContainer('mariadb:10.11')
    .withEnvironment({ MARIADB_ALLOW_EMPTY_ROOT_PASSWORD: '1' })
    .withExposedPorts(3306)
    .withWaitStrategy(Wait.forLogMessage(/ready for connections/, 2))
    .start();
  return `mysql://root@${started.getHost()}:${started.getMappedPort(3306)}`;
}

/** The PostgreSQL server URL used for tests (its maintenance database). */
export function postgresServerUrl(): Promise<string> {
  pgServer ??= resolveServer('PostgreSQL', 'MAINT_TEST_PG_URL', LOCAL_PG, canConnectPg, pgContainer);
  return pgServer;
}

/** The MySQL/MariaDB server URL used for tests (no database selected). */
export function mysqlServerUrl(): Promise<string> {
  mysqlServer ??= resolveServer(
    'MySQL/MariaDB',
    'MAINT_TEST_MYSQL_URL',
    LOCAL_MYSQL,
    canConnectMysql,
    mysqlContainer,
  );
  return mysqlServer;
}

/** A new, empty PostgreSQL database. */
export async function freshPostgres(): Promise<FreshDatabase> {
  const server = await postgresServerUrl();
  const name = uniqueName();
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  let dropped = false;
  return {
    name,
    url: withDatabase(server, name),
    async drop() {
      if (dropped) return;
      dropped = true;
      const c = new pg.Client({ connectionString: server });
      await c.connect();
      try {
        // WITH (FORCE) ends sessions a killed child process may have left behind.
        await c.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A new, empty MySQL/MariaDB database. */
export async function freshMysql(): Promise<FreshDatabase> {
  const server = await mysqlServerUrl();
  const name = uniqueName();
  const mysql = await import('mysql2/promise');
  const admin = await mysql.createConnection({ uri: server });
  try {
    await admin.query(`create database \`${name}\``);
  } finally {
    await admin.end();
  }
  let dropped = false;
  return {
    name,
    url: withDatabase(server, name),
    async drop() {
      if (dropped) return;
      dropped = true;
      const c = await mysql.createConnection({ uri: server });
      try {
        // Sessions left by killed processes would hold metadata locks and block the drop.
        const [rows] = await c.query(
          'select id from information_schema.processlist where db = ? and id <> connection_id()',
          [name],
        );
        for (const row of rows as Array<{ id: number }>)
          await c.query(`kill ${Number(row.id)}`).catch(() => undefined);
        await c.query(`drop database if exists \`${name}\``);
      } finally {
        await c.end();
      }
    },
  };
}
