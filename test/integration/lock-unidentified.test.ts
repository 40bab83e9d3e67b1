/**
 * `maint lock release` ends only a holder that is provably dead. A session that holds the lock
 * without recording an identity or heartbeat (not maint's, or a maint in its first
 * milliseconds) proves nothing, so release refuses it and leaves it alive.
 */
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { mysqlLockName, pgAdvisoryKeys } from '../../src/db/sql.js';
import { freshMysql, freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { runCli, writePlan } from '../helpers/run-cli.js';

interface Foreign {
  /** The foreign session's id on the server. */
  sessionId: number;
  alive(): Promise<boolean>;
  close(): Promise<void>;
}

async function pgHolder(url: string, name: string): Promise<Foreign> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const [k1, k2] = pgAdvisoryKeys(name);
  await client.query('select pg_advisory_lock($1, $2)', [k1, k2]);
  const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
  return {
    sessionId: rows[0]!.pid,
    alive: () =>
      client.query('select 1').then(
        () => true,
        () => false,
      ),
    close: () => client.end().catch(() => undefined),
  };
}

async function mysqlHolder(url: string, name: string): Promise<Foreign> {
  const conn = await mysql.createConnection({ uri: url });
  const [[db]] = (await conn.query('select database() as db')) as unknown as [[{ db: string }]];
  await conn.query('select get_lock(?, 0)', [mysqlLockName(db.db, name)]);
  const [[me]] = (await conn.query('select connection_id() as id')) as unknown as [[{ id: number }]];
  return {
    sessionId: Number(me.id),
    alive: () =>
      conn.query('select 1').then(
        () => true,
        () => false,
      ),
    close: () => conn.end().catch(() => undefined),
  };
}

describe.each([
  { engine: 'postgres' as const, fresh: freshPostgres, hold: pgHolder },
  { engine: 'mysql' as const, fresh: freshMysql, hold: mysqlHolder },
])('$engine: release of an unidentified holder', ({ engine, fresh, hold }) => {
  let database: FreshDatabase | undefined;
  let foreign: Foreign | undefined;
  afterEach(async () => {
    await foreign?.close();
    await database?.drop();
    foreign = undefined;
    database = undefined;
  });

  it('shows the session, refuses to end it (exit 4) and leaves it alive', async () => {
    database = await fresh();
    const plan = await writePlan({
      name: 'orders',
      engine,
      url: database.url,
      migrations: {},
      banner: false,
    });
    foreign = await hold(database.url, 'orders');

    const status = JSON.parse((await runCli(['lock', plan.file, '--json'])).stdout) as {
      held: boolean;
      holder: { lockId: string } | null;
    };
    expect(status.held).toBe(true);
    expect(status.holder?.lockId).toBe(`session:${foreign.sessionId}`);

    const release = await runCli([
      'lock',
      'release',
      plan.file,
      '--lock-id',
      `session:${foreign.sessionId}`,
      '--json',
    ]);
    expect(release.code, release.stderr).toBe(4);
    expect((JSON.parse(release.stdout) as { error: { code: string } }).error.code).toBe(
      'LOCK_HOLDER_UNIDENTIFIED',
    );
    expect(await foreign.alive()).toBe(true);
  });
});
