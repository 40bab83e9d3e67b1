/**
 * `maint lint` on a real MariaDB: table sizes come from information_schema, so the same
 * migration is an error on a table above the threshold and a warning on an empty one; the
 * tokenizer's positions are exact.
 */
import { rm } from 'node:fs/promises';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshMysql, type FreshDatabase } from '../helpers/databases.js';
import { json, runCli, writePlan, type WrittenPlan } from '../helpers/run-cli.js';

const MIGRATION =
  'ALTER TABLE orders MODIFY COLUMN total DECIMAL(14,2) NOT NULL, ADD INDEX idx_total (total);\n';

interface LintJson {
  errors: number;
  findings: Array<{ rule: string; severity: string; line: number; col: number; sizeBytes?: number }>;
}

describe('maint lint on MariaDB with table sizes', () => {
  let full: FreshDatabase;
  let empty: FreshDatabase;
  const plans: WrittenPlan[] = [];

  beforeAll(async () => {
    [full, empty] = await Promise.all([freshMysql(), freshMysql()]);
    for (const db of [full, empty]) {
      const c = await mysql.createConnection({ uri: db.url });
      try {
        await c.query(
          'create table orders (id bigint primary key, total decimal(12,2) not null, pad varchar(900))',
        );
        if (db === full) {
          await c.query('set session max_recursive_iterations = 100000');
          await c.query(
            "insert into orders with recursive s(n) as (select 1 union all select n + 1 from s where n < 20000) select n, n, repeat('x', 900) from s",
          );
          // information_schema sizes come from InnoDB statistics: refresh them.
          await c.query('analyze table orders');
        }
      } finally {
        await c.end();
      }
    }
  });

  afterAll(async () => {
    await Promise.all([full?.drop(), empty?.drop()]);
    await Promise.all(plans.map((p) => rm(p.dir, { recursive: true, force: true })));
  });

  it('is an error above the threshold (exit 7) and a warning on the empty table (exit 0), at exact positions', async () => {
    const fullPlan = await writePlan({
      engine: 'mysql',
      url: full.url,
      migrations: { '001_total.sql': MIGRATION },
      banner: false,
    });
    const emptyPlan = await writePlan({
      engine: 'mysql',
      url: empty.url,
      migrations: { '001_total.sql': MIGRATION },
      banner: false,
    });
    plans.push(fullPlan, emptyPlan);

    const onFull = await runCli(['lint', fullPlan.file, '--json', '--threshold', '8MB']);
    expect(onFull.code, onFull.stderr).toBe(7);
    const f = json<LintJson>(onFull);
    expect(f.findings.map((x) => [x.rule, x.severity, x.line, x.col])).toEqual([
      ['mysql-column-type-change', 'error', 1, 20],
      ['mysql-add-index', 'error', 1, 64],
    ]);
    expect(f.findings[0]!.sizeBytes).toBeGreaterThan(8 * 1024 * 1024);

    const onEmpty = await runCli(['lint', emptyPlan.file, '--json', '--threshold', '8MB']);
    expect(onEmpty.code, onEmpty.stderr).toBe(0);
    expect(json<LintJson>(onEmpty).findings.map((x) => x.severity)).toEqual(['warning', 'warning']);
  });
});
