import { describe, expect, it } from 'vitest';
import { concurrentIndexName, isNoTransaction, splitStatements } from '../../src/migrations/split.js';

describe('splitStatements', () => {
  it('splits on semicolons outside strings, identifiers and comments (postgres)', () => {
    const sql = [
      "insert into t values ('a;b', 'it''s;');",
      'create table "we;ird" (id int); -- trailing; comment',
      '/* block; /* nested; */ still; */ select 1;',
      "select E'back\\';slash';",
      'create function f() returns int as $body$ begin return 1; end; $body$ language plpgsql;',
      'select $1::int;',
      '-- only a comment;',
    ].join('\n');
    expect(splitStatements(sql, { dialect: 'postgres' })).toEqual([
      "insert into t values ('a;b', 'it''s;')",
      'create table "we;ird" (id int)',
      '-- trailing; comment\n/* block; /* nested; */ still; */ select 1',
      "select E'back\\';slash'",
      'create function f() returns int as $body$ begin return 1; end; $body$ language plpgsql',
      'select $1::int',
    ]);
  });

  it('honours MySQL backslash escapes, backticks, # comments and DELIMITER', () => {
    const sql = [
      "insert into t values ('a\\';b');",
      'create table `x;y` (id int); # note; here',
      'DELIMITER //',
      'create trigger tr before insert on t for each row begin set new.a = 1; set new.b = 2; end//',
      'DELIMITER ;',
      'select 2;',
    ].join('\n');
    expect(splitStatements(sql, { dialect: 'mysql' })).toEqual([
      "insert into t values ('a\\';b')",
      'create table `x;y` (id int)',
      'create trigger tr before insert on t for each row begin set new.a = 1; set new.b = 2; end',
      'select 2',
    ]);
  });

  it('keeps a last statement without a semicolon and drops empty ones', () => {
    expect(splitStatements(';;\nselect 1;\n\nselect 2', { dialect: 'postgres' })).toEqual([
      'select 1',
      'select 2',
    ]);
  });
});

describe('migration directives', () => {
  it('reads -- maint:no-transaction in the leading comments only (under a `migrate create` header too)', () => {
    expect(isNoTransaction('-- maint:no-transaction\ncreate index concurrently i on t (a);')).toBe(true);
    const header = '-- 003_idx.sql: apply. Each statement runs under migrations.lockTimeout.\n';
    expect(isNoTransaction(`${header}-- maint:no-transaction\ncreate index concurrently i on t (a);`)).toBe(
      true,
    );
    expect(isNoTransaction(`${header}\n-- maint:no-transaction\nselect 1;`)).toBe(true);
    expect(isNoTransaction('select 1;\n-- maint:no-transaction')).toBe(false);
    expect(isNoTransaction(`${header}select 1;\n-- maint:no-transaction`)).toBe(false);
  });

  it('the header `migrate create` writes is not a statement', () => {
    const header = '-- 003_idx.sql: apply. Each statement runs under migrations.lockTimeout.\n';
    for (const dialect of ['postgres', 'mysql'] as const) {
      expect(splitStatements(header, { dialect })).toEqual([]);
      expect(
        splitStatements(`${header}create table a (id int);\ncreate table b (id int);\n`, { dialect }),
      ).toHaveLength(2);
    }
  });

  it('finds the index a CREATE INDEX CONCURRENTLY builds', () => {
    expect(
      concurrentIndexName('-- why\ncreate unique index concurrently if not exists orders_idx on orders (a)'),
    ).toBe('orders_idx');
    expect(concurrentIndexName('CREATE INDEX CONCURRENTLY "Odd ""name""" ON t (a)')).toBe('Odd "name"');
    expect(concurrentIndexName('create index orders_idx on orders (a)')).toBeNull();
  });
});
