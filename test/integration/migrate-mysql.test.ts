/**
 * MySQL/MariaDB statement-by-statement migrations: a failing statement stops the migration with
 * exit 6 naming it; the not-yet-run statements may be fixed and the re-run resumes there, while
 * editing a statement that already ran is refused. Down migrations revert and unrecord.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/index.js';
import { freshMysql, type FreshDatabase } from '../helpers/databases.js';
import { runCli, writePlan } from './migrate-support.js';

describe('mysql: statement-by-statement', () => {
  let fdb: FreshDatabase | undefined;
  afterEach(async () => fdb?.drop());

  it('stops at a failing statement, resumes there after a fix, refuses edits to statements already run', async () => {
    fdb = await freshMysql();
    const { plan, dir } = await writePlan({
      engine: 'mysql',
      url: fdb.url,
      migrations: {
        '001_three.sql':
          "create table log (step varchar(10));\ninsert into log values ('one');\ninsert into missing_table values (1);\ninsert into log values ('three');\n",
        '001_three.down.sql': 'drop table log;\n',
      },
    });
    const first = await runCli(['migrate', plan, '--json']);
    expect(first.code).toBe(6);
    const out = JSON.parse(first.stdout) as { status: string; error: { code: string; message: string } };
    expect(out.error.code).toBe('MIGRATION_PARTIAL');
    expect(out.error.message).toContain('statement 3 of 4');

    const file = path.join(dir, 'migrations', '001_three.sql');
    const original = await readFile(file, 'utf8');
    // Editing a statement that already ran is refused ...
    await writeFile(file, original.replace("values ('one')", "values ('uno')"));
    const refused = await runCli(['migrate', plan, '--json']);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout).error.code).toBe('MIGRATION_CHANGED');
    // ... fixing the one that failed is not.
    await writeFile(
      file,
      original.replace('insert into missing_table values (1)', "insert into log values ('two')"),
    );
    const fixed = await runCli(['migrate', plan, '--json']);
    expect(fixed.code, fixed.stderr).toBe(0);

    const db = await openDatabase({ engine: 'mysql', url: fdb.url }, dir);
    try {
      expect(await db.query('select step from log')).toEqual([
        { step: 'one' },
        { step: 'two' },
        { step: 'three' },
      ]);
      const status = JSON.parse((await runCli(['migrate', 'status', plan, '--json'])).stdout) as {
        applied: Array<{ name: string }>;
      };
      expect(status.applied.map((m) => m.name)).toEqual(['001_three']);
      const down = await runCli(['migrate', 'down', plan, '--to', '0']);
      expect(down.code, down.stderr).toBe(0);
      expect(await db.listTables()).not.toContain('log');
      expect(await db.query('select name from maint_migrations')).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it("runs a migration's statements on one session: what one sets holds for the next, and not after it", async () => {
    fdb = await freshMysql();
    const { plan, dir } = await writePlan({
      engine: 'mysql',
      url: fdb.url,
      migrations: {
        '001_session.sql':
          "set @answer = 41;\nset session sql_mode = concat(@@sql_mode, ',PIPES_AS_CONCAT');\n" +
          "create table s (id int primary key, note varchar(20) not null);\ninsert into s values (@answer + 1, 'a' || 'b');\n",
        '002_after.sql':
          "insert into s values (coalesce(@answer, 0), if(@@session.sql_mode like '%PIPES_AS_CONCAT%', 'leaked', 'reset'));\n",
      },
    });
    const run = await runCli(['migrate', plan, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const db = await openDatabase({ engine: 'mysql', url: fdb.url }, dir);
    try {
      // Within 001 the user variable and sql_mode held (one session); 002, on the same pooled
      // connection or another, saw neither.
      expect(await db.query('select id, note from s order by id')).toEqual([
        { id: 0, note: 'reset' },
        { id: 42, note: 'ab' },
      ]);
    } finally {
      await db.close();
    }
  });
});
