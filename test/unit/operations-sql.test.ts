import { describe, expect, it } from 'vitest';
import type { Database, Queryable, Row } from '../../src/db/database.js';
import { runSql, SqlOperationError } from '../../src/operations/sql.js';
import { FakeDatabase } from '../helpers/fakes.js';

/** A fake that records statements and fails the one containing `fail`. */
function recording(dialect: 'postgres' | 'mysql' = 'postgres') {
  const db = new FakeDatabase();
  const ran: string[] = [];
  const transactions: number[] = [];
  const query = async <R extends Row>(sql: string): Promise<R[]> => {
    if (sql.includes('fail')) throw new Error(`boom in ${sql}`);
    ran.push(sql);
    return [];
  };
  const fake = Object.assign(Object.create(db) as Database, {
    dialect,
    query,
    transaction: async <T>(fn: (tx: Queryable) => Promise<T>) => {
      transactions.push(ran.length);
      return fn({ query });
    },
  });
  return { db: fake, ran, transactions };
}

/** The error runSql rejects with (fails the test when it resolves). */
async function failure(p: Promise<unknown>): Promise<SqlOperationError> {
  const outcome = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(outcome).toBeInstanceOf(SqlOperationError);
  return outcome as SqlOperationError;
}

const text = "set x = 1; update t set s = 'a;b'; vacuum t";

describe('runSql', () => {
  it('runs the whole text in one transaction by default, split into statements', async () => {
    const f = recording();
    expect(await runSql(f.db, { sql: text, transaction: true })).toEqual({ statements: 3 });
    expect(f.transactions).toHaveLength(1);
    expect(f.ran).toEqual(['set x = 1', "update t set s = 'a;b'", 'vacuum t']);
  });

  it('without a transaction runs statement by statement and names the one that failed', async () => {
    const f = recording();
    const error = await failure(runSql(f.db, { sql: 'select 1; select fail; select 3', transaction: false }));
    expect(error.message).toBe('boom in select fail (statement 2 of 3)');
    expect(error.nothingCommitted).toBe(false);
    expect(f.transactions).toHaveLength(0);

    const first = await failure(runSql(f.db, { sql: 'select fail; select 2', transaction: false }));
    expect(first.nothingCommitted).toBe(true);
  });

  it('a failed transaction committed nothing, except MySQL DDL that ran before the failure', async () => {
    const pg = await failure(
      runSql(recording().db, {
        sql: 'create table a (i int); select fail',
        transaction: true,
      }),
    );
    expect(pg.nothingCommitted).toBe(true);
    expect(pg.message).toContain('(the transaction was rolled back)');
    const my = await failure(
      runSql(recording('mysql').db, {
        sql: 'create table a (i int); select fail',
        transaction: true,
      }),
    );
    expect(my.nothingCommitted).toBe(false);
    expect(my.message).not.toContain('rolled back');
  });

  it('an empty or comment-only text does nothing', async () => {
    const f = recording();
    expect(await runSql(f.db, { sql: '-- nothing\n', transaction: true })).toEqual({ statements: 0 });
    expect(f.ran).toEqual([]);
  });
});
