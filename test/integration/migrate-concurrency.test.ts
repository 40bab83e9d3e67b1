/**
 * Acceptance 1: 20 real `maint migrate --wait` processes at once apply every migration exactly
 * once and all exit 0; ten rounds per engine, each on its own fresh database.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/index.js';
import { freshMysql, freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { startCli, writePlan } from './migrate-support.js';

const ROUNDS = 10;
const PROCESSES = 20;

const migrations = {
  '001_log.sql':
    "create table applied_log (migration varchar(40) not null);\ninsert into applied_log values ('001');\n",
  '002_orders.sql': "create table orders (id int primary key);\ninsert into applied_log values ('002');\n",
  '003_status.sql':
    "alter table orders add column status varchar(20);\ninsert into applied_log values ('003');\n",
};

describe.each([
  { engine: 'postgres' as const, fresh: freshPostgres },
  { engine: 'mysql' as const, fresh: freshMysql },
])('$engine: concurrent migrate --wait', ({ engine, fresh }) => {
  let db: FreshDatabase | undefined;
  afterEach(async () => {
    await db?.drop();
  });

  it.each(Array.from({ length: ROUNDS }, (_, i) => i + 1))(
    `round %i: ${PROCESSES} processes, every migration exactly once`,
    async () => {
      db = await fresh();
      const { plan } = await writePlan({ engine, url: db.url, migrations });
      const runs = Array.from({ length: PROCESSES }, () => startCli(['migrate', plan, '--wait', '--json']));
      const results = await Promise.all(runs.map((r) => r.done));
      for (const r of results)
        expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
      const applied = results.flatMap(
        (r) => (JSON.parse(r.stdout) as { steps: Array<{ name: string; status: string }> }).steps,
      );
      expect(applied.map((s) => s.name).sort()).toEqual(['001_log', '002_orders', '003_status']);
      expect(applied.every((s) => s.status === 'done')).toBe(true);
      const conn = await openDatabase({ engine, url: db.url }, process.cwd());
      try {
        const rows = await conn.query<{ migration: string; n: number | string }>(
          'select migration, count(*) as n from applied_log group by migration order by migration',
        );
        expect(rows.map((r) => [r.migration, Number(r.n)])).toEqual([
          ['001', 1],
          ['002', 1],
          ['003', 1],
        ]);
        const recorded = await conn.query<{ name: string; state: string }>(
          'select name, state from maint_migrations order by name',
        );
        expect(recorded).toEqual([
          { name: '001_log', state: 'applied' },
          { name: '002_orders', state: 'applied' },
          { name: '003_status', state: 'applied' },
        ]);
      } finally {
        await conn.close();
      }
    },
  );
});
