/**
 * Which statement of a PostgreSQL one-round-trip script failed (exec-postgres.ts), and its line
 * (failure.ts): by the error's position, else by how many statements the server completed
 * before the error (runtime errors carry no position).
 */
import { describe, expect, it } from 'vitest';
import { QueryError } from '../../src/db/errors.js';
import { SCRIPT_BEGIN } from '../../src/db/sql.js';
import { failingStatement } from '../../src/migrations/exec-postgres.js';
import { transactionalBatchSql } from '../../src/migrations/exec-sql.js';
import { lineAt } from '../../src/migrations/failure.js';
import { literalSql } from '../../src/migrations/state-sql.js';

const statements = [
  'create table t (id int primary key)',
  'insert into t values (1)',
  'insert into t values (1)',
];
const script = transactionalBatchSql(2000, statements, literalSql("insert into m values ('x')")).sql;

function failed(completed: number | undefined, position?: number): QueryError {
  const error = new QueryError('duplicate key value violates unique constraint "t_pkey" (in: begin;)', {
    cause: Object.assign(new Error('dup'), {
      code: '23505',
      ...(position ? { position: String(position) } : {}),
    }),
  });
  error.completedStatements = completed;
  return error;
}

describe('failingStatement', () => {
  it('without a position, counts the statements the server completed (begin and the lock timeout first)', () => {
    // begin, set local lock_timeout, statement 1, statement 2 completed: statement 3 failed.
    expect(failingStatement(failed(4), script, statements)).toBe(2);
    expect(failingStatement(failed(2), script, statements)).toBe(0);
  });

  it('the record or the preamble failing is no statement of the file', () => {
    expect(failingStatement(failed(5), script, statements)).toBeUndefined();
    expect(failingStatement(failed(1), script, statements)).toBeUndefined();
    expect(failingStatement(failed(undefined), script, statements)).toBeUndefined();
  });

  it('a position wins over the count', () => {
    const offset = SCRIPT_BEGIN.length + script.indexOf(statements[1]!) + 3;
    expect(failingStatement(failed(0, offset + 1), script, statements)).toBe(1);
  });
});

describe('lineAt', () => {
  it('gives a statement written twice its own line', () => {
    const source =
      '-- header\ncreate table t (id int primary key);\ninsert into t values (1);\n\ninsert into t values (1);\n';
    expect(lineAt(source, statements, 0)).toBe(2);
    expect(lineAt(source, statements, 1)).toBe(3);
    expect(lineAt(source, statements, 2)).toBe(5);
  });
});
