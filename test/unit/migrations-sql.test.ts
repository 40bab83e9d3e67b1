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
import {
  dropIndexConcurrentlySql,
  findInvalidIndexSql,
  lockTimeoutSql,
  mysqlCommitsImplicitly,
  mysqlCommitSql,
  mysqlStartTransactionSql,
  transactionalBatchSql,
} from '../../src/migrations/exec-sql.js';
import { insertAppliedLiteralSql, stateSql } from '../../src/migrations/state-sql.js';

const PG_COLUMNS = '"name", "checksum", "state", "statements_done", "applied_at", "duration_ms"';
const MY_COLUMNS = '`name`, `checksum`, `state`, `statements_done`, `applied_at`, `duration_ms`';

describe('state table SQL', () => {
  it('builds postgres statements with quoted identifiers and $n parameters', () => {
    const sql = stateSql('postgres', 'maint_migrations');
    expect(sql.create()).toEqual({
      sql:
        'create table if not exists "maint_migrations" ("name" text primary key, "checksum" text not null, "state" text not null, ' +
        '"statements_done" integer not null default 0, "applied_at" timestamptz, "duration_ms" integer)',
      params: [],
    });
    expect(sql.exists()).toEqual({
      sql: 'select count(*)::int as n from pg_tables where tablename = $1 and schemaname = any (current_schemas(false))',
      params: ['maint_migrations'],
    });
    expect(sql.select()).toEqual({
      sql: `select ${PG_COLUMNS} from "maint_migrations" order by "name"`,
      params: [],
    });
    expect(sql.selectOne('001_a')).toEqual({
      sql: `select ${PG_COLUMNS} from "maint_migrations" where "name" = $1`,
      params: ['001_a'],
    });
    expect(sql.begin('001_a', 'c0')).toEqual({
      sql: 'insert into "maint_migrations" ("name", "checksum", "state") values ($1, $2, \'running\') on conflict ("name") do nothing',
      params: ['001_a', 'c0'],
    });
    expect(sql.progress('001_a', 2, 'c2')).toEqual({
      sql: 'update "maint_migrations" set "statements_done" = $1, "checksum" = $2 where "name" = $3',
      params: [2, 'c2', '001_a'],
    });
    expect(sql.finish('001_a', 'c', 15)).toEqual({
      sql: 'update "maint_migrations" set "state" = \'applied\', "checksum" = $1, "applied_at" = clock_timestamp(), "duration_ms" = $2 where "name" = $3',
      params: ['c', 15, '001_a'],
    });
    expect(sql.insertApplied('001_a', 'c', 15)).toEqual({
      sql: 'insert into "maint_migrations" ("name", "checksum", "state", "applied_at", "duration_ms") values ($1, $2, \'applied\', clock_timestamp(), $3)',
      params: ['001_a', 'c', 15],
    });
    expect(sql.remove('001_a')).toEqual({
      sql: 'delete from "maint_migrations" where "name" = $1',
      params: ['001_a'],
    });
    expect(sql.accept('001_a', 'old', 'new')).toEqual({
      sql: 'update "maint_migrations" set "checksum" = $1 where "name" = $2 and "checksum" = $3',
      params: ['new', '001_a', 'old'],
    });
  });

  it('builds mysql statements with backticks and ? parameters', () => {
    const sql = stateSql('mysql', 'my_migs');
    expect(sql.create()).toEqual({
      sql:
        'create table if not exists `my_migs` (`name` varchar(255) not null primary key, `checksum` char(64) not null, `state` varchar(16) not null, ' +
        '`statements_done` int not null default 0, `applied_at` datetime(3) null, `duration_ms` int null)',
      params: [],
    });
    expect(sql.exists()).toEqual({
      sql: 'select count(*) as n from information_schema.tables where table_schema = database() and table_name = ?',
      params: ['my_migs'],
    });
    expect(sql.select()).toEqual({
      sql: `select ${MY_COLUMNS} from \`my_migs\` order by \`name\``,
      params: [],
    });
    expect(sql.selectOne('001_a')).toEqual({
      sql: `select ${MY_COLUMNS} from \`my_migs\` where \`name\` = ?`,
      params: ['001_a'],
    });
    expect(sql.begin('001_a', 'c0')).toEqual({
      sql: "insert ignore into `my_migs` (`name`, `checksum`, `state`) values (?, ?, 'running')",
      params: ['001_a', 'c0'],
    });
    expect(sql.progress('001_a', 2, 'c2')).toEqual({
      sql: 'update `my_migs` set `statements_done` = ?, `checksum` = ? where `name` = ?',
      params: [2, 'c2', '001_a'],
    });
    expect(sql.finish('001_a', 'c', 15)).toEqual({
      sql: "update `my_migs` set `state` = 'applied', `checksum` = ?, `applied_at` = utc_timestamp(3), `duration_ms` = ? where `name` = ?",
      params: ['c', 15, '001_a'],
    });
    expect(sql.insertApplied('001_a', 'c', 15)).toEqual({
      sql: "insert into `my_migs` (`name`, `checksum`, `state`, `applied_at`, `duration_ms`) values (?, ?, 'applied', utc_timestamp(3), ?)",
      params: ['001_a', 'c', 15],
    });
    expect(sql.remove('001_a')).toEqual({ sql: 'delete from `my_migs` where `name` = ?', params: ['001_a'] });
    expect(sql.accept('001_a', 'old', 'new')).toEqual({
      sql: 'update `my_migs` set `checksum` = ? where `name` = ? and `checksum` = ?',
      params: ['new', '001_a', 'old'],
    });
  });

  it('quotes odd table names', () => {
    expect(stateSql('postgres', 'we"ird').remove('x').sql).toBe('delete from "we""ird" where "name" = $1');
    expect(stateSql('mysql', 'we`ird').remove('x').sql).toBe('delete from `we``ird` where `name` = ?');
    expect(stateSql('postgres', 'we"ird').exists().params).toEqual(['we"ird']);
  });
});

describe('executor SQL', () => {
  it('sets lock timeouts per dialect', () => {
    expect(lockTimeoutSql('postgres', 2000, true)).toEqual([
      { sql: "set local lock_timeout = '2000ms'", params: [] },
    ]);
    expect(lockTimeoutSql('postgres', 250, false)).toEqual([
      { sql: "set lock_timeout = '250ms'", params: [] },
    ]);
    expect(lockTimeoutSql('postgres', 0.2, false)).toEqual([{ sql: "set lock_timeout = '1ms'", params: [] }]);
    expect(lockTimeoutSql('mysql', 1500, false)).toEqual([
      { sql: 'set session lock_wait_timeout = 2, innodb_lock_wait_timeout = 2', params: [] },
    ]);
    expect(lockTimeoutSql('mysql', 300, true).map((s) => s.sql)).toEqual([
      'set session lock_wait_timeout = 1, innodb_lock_wait_timeout = 1',
    ]);
  });

  it('tells MySQL DDL (implicit commit) from everything else, which keeps its transaction', () => {
    for (const ddl of [
      'create table a (id int)',
      '  ALTER TABLE a ADD COLUMN b int',
      '-- maint:lint-ignore mysql-add-index reviewed\ncreate index i on a (b)',
      '/* why */ drop table a',
      '# old style comment\nRENAME TABLE a TO b',
      'truncate a',
    ])
      expect(mysqlCommitsImplicitly(ddl), ddl).toBe(true);
    for (const dml of [
      "insert into a values (1, 'create')",
      'update a set b = 1',
      'delete from a',
      'replace into a values (1)',
      "set @x = 'alter'",
      '/*!50001 create table x (id int) */',
      'createx()',
      'call create_things()',
      'with c as (select 1) select * from c',
    ])
      expect(mysqlCommitsImplicitly(dml), dml).toBe(false);
  });

  it('finds and drops INVALID indexes (postgres)', () => {
    expect(findInvalidIndexSql('Odd')).toEqual({
      sql:
        'select i.indexrelid::regclass::text as name from pg_index i join pg_class c on c.oid = i.indexrelid ' +
        'join pg_namespace n on n.oid = c.relnamespace where not i.indisvalid and c.relname = $1 and n.nspname = any (current_schemas(false))',
      params: ['Odd'],
    });
    expect(dropIndexConcurrentlySql('public."Odd"')).toEqual({
      sql: 'drop index concurrently if exists public."Odd"',
      params: [],
    });
  });

  it('wraps a mysql statement and its progress in a transaction', () => {
    expect(mysqlStartTransactionSql()).toEqual({ sql: 'start transaction', params: [] });
    expect(mysqlCommitSql()).toEqual({ sql: 'commit', params: [] });
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
  it('inserts the applied record with literals and the server-measured duration', () => {
    expect(insertAppliedLiteralSql('maint_migrations', "001_it's", 'ab12')).toEqual({
      sql:
        'insert into "maint_migrations" ("name", "checksum", "state", "applied_at", "duration_ms") ' +
        "values ('001_it''s', 'ab12', 'applied', clock_timestamp(), (extract(epoch from clock_timestamp() - now()) * 1000)::int)",
      params: [],
    });
  });

  it('sends the lock timeout, the statements and the record as one script', () => {
    const record = insertAppliedLiteralSql('m', '001_a', 'ab');
    expect(
      transactionalBatchSql(300, ['create table a (id int)', 'insert into a values (1)'], record),
    ).toEqual({
      sql: [
        "set local lock_timeout = '300ms'",
        'create table a (id int)',
        'insert into a values (1)',
        record.sql,
      ].join('\n;\n'),
      params: [],
    });
  });
});
