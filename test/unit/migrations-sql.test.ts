import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { QueryError } from '../../src/db/errors.js';
import { listMigrationFiles, nextMigrationNames, sha256 } from '../../src/migrations/files.js';
import {
  backoffDelay,
  isLockTimeout,
  LockTimeoutExhaustedError,
  retryOnLockTimeout,
} from '../../src/migrations/retry.js';
import { dropIndexConcurrentlySql, lockTimeoutSql, stateSql } from '../../src/migrations/state-sql.js';

describe('state table SQL', () => {
  it('builds postgres statements with quoted identifiers and $n parameters', () => {
    const sql = stateSql('postgres', 'maint_migrations');
    expect(sql.insertApplied).toBe(
      'insert into "maint_migrations" ("name", "checksum", "state", "applied_at", "duration_ms") values ($1, $2, \'applied\', clock_timestamp(), $3)',
    );
    expect(sql.begin).toBe(
      'insert into "maint_migrations" ("name", "checksum", "state") values ($1, $2, \'running\') on conflict ("name") do nothing',
    );
    expect(sql.progress).toBe(
      'update "maint_migrations" set "statements_done" = $1, "checksum" = $2 where "name" = $3',
    );
  });

  it('builds mysql statements with backticks and ? parameters', () => {
    const sql = stateSql('mysql', 'my_migs');
    expect(sql.finish).toBe(
      "update `my_migs` set `state` = 'applied', `checksum` = ?, `applied_at` = utc_timestamp(3), `duration_ms` = ? where `name` = ?",
    );
    expect(sql.remove).toBe('delete from `my_migs` where `name` = ?');
  });

  it('sets lock timeouts per dialect', () => {
    expect(lockTimeoutSql('postgres', 2000, true)).toEqual(["set local lock_timeout = '2000ms'"]);
    expect(lockTimeoutSql('postgres', 250, false)).toEqual(["set lock_timeout = '250ms'"]);
    expect(lockTimeoutSql('mysql', 1500, false)).toEqual([
      'set session lock_wait_timeout = 2',
      'set session innodb_lock_wait_timeout = 2',
    ]);
    expect(dropIndexConcurrentlySql('public."Odd"')).toBe('drop index concurrently if exists public."Odd"');
  });
});

describe('retryOnLockTimeout', () => {
  const lockError = () => new QueryError('lock timeout', { sqlState: '55P03' });

  it('retries lock timeouts and returns the first success', async () => {
    let calls = 0;
    const retries: number[] = [];
    const value = await retryOnLockTimeout(
      async () => {
        calls++;
        if (calls < 3) throw lockError();
        return 'done';
      },
      { dialect: 'postgres', retries: 5, minDelayMs: 1, maxDelayMs: 2, onRetry: (n) => retries.push(n) },
    );
    expect(value).toBe('done');
    expect(calls).toBe(3);
    expect(retries).toEqual([1, 2]);
  });

  it('gives up after the retries with LockTimeoutExhaustedError', async () => {
    let calls = 0;
    const attempt = retryOnLockTimeout(
      async () => {
        calls++;
        throw lockError();
      },
      { dialect: 'postgres', retries: 2, minDelayMs: 1, maxDelayMs: 2 },
    );
    await expect(attempt).rejects.toBeInstanceOf(LockTimeoutExhaustedError);
    expect(calls).toBe(3);
  });

  it('does not retry other errors', async () => {
    let calls = 0;
    const boom = new QueryError('syntax', { sqlState: '42601' });
    await expect(
      retryOnLockTimeout(
        async () => {
          calls++;
          throw boom;
        },
        { dialect: 'postgres', retries: 5, minDelayMs: 1 },
      ),
    ).rejects.toBe(boom);
    expect(calls).toBe(1);
  });

  it('classifies lock timeouts by code, per dialect', () => {
    expect(isLockTimeout('mysql', new QueryError('x', { errno: 1205 }))).toBe(true);
    expect(isLockTimeout('mysql', new QueryError('x', { sqlState: '55P03' }))).toBe(false);
    expect(isLockTimeout('postgres', new Error('55P03'))).toBe(false);
    expect([1, 2, 3, 10].map((n) => backoffDelay(n, 200, 10_000))).toEqual([200, 400, 800, 10_000]);
  });
});

describe('migration files', () => {
  it('orders files by number, pairs down files and checksums content', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'maint-files-'));
    await writeFile(path.join(dir, '010_later.sql'), 'select 10;');
    await writeFile(
      path.join(dir, '002_first.sql'),
      '-- maint:no-transaction\ncreate index concurrently i on t (a);',
    );
    await writeFile(path.join(dir, '002_first.down.sql'), 'drop index i;');
    await writeFile(path.join(dir, '011_code.js'), 'export async function up() {}');
    await writeFile(path.join(dir, 'README.md'), 'ignored');
    const files = await listMigrationFiles(dir, path.dirname(dir));
    expect(files.map((f) => [f.name, f.kind, f.transactional, Boolean(f.downPath)])).toEqual([
      ['002_first', 'sql', false, true],
      ['010_later', 'sql', true, false],
      ['011_code', 'module', true, false],
    ]);
    expect(files[1]!.checksum).toBe(sha256('select 10;'));
    expect(nextMigrationNames(files, 'add_x')).toEqual({ up: '012_add_x.sql', down: '012_add_x.down.sql' });
  });

  it('refuses duplicate numbers, orphan down files and misnamed SQL, naming each file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'maint-files-'));
    await writeFile(path.join(dir, '001_a.sql'), '');
    await writeFile(path.join(dir, '001_b.sql'), '');
    await writeFile(path.join(dir, '002_gone.down.sql'), '');
    await writeFile(path.join(dir, 'fix.sql'), '');
    const error = await listMigrationFiles(dir, dir).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'MIGRATION_FILES_INVALID', exitCode: 2 });
    const issues = (error as { issues: Array<{ file: string }> }).issues.map((i) => i.file).sort();
    expect(issues).toEqual(['001_b.sql', '002_gone.down.sql', 'fix.sql']);
  });
});

describe('batched record', () => {
  it('inserts the applied record with literals and the server-measured duration', async () => {
    const { insertAppliedLiteralSql } = await import('../../src/migrations/state-sql.js');
    expect(insertAppliedLiteralSql('maint_migrations', "001_it's", 'ab12')).toBe(
      'insert into "maint_migrations" ("name", "checksum", "state", "applied_at", "duration_ms") ' +
        "values ('001_it''s', 'ab12', 'applied', clock_timestamp(), (extract(epoch from clock_timestamp() - now()) * 1000)::int)",
    );
  });
});
