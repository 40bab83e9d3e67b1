/**
 * Output slips (issue 9, point 13), through the built CLI on a real PostgreSQL: the words a
 * person reads say exactly what happened, and `run` and `migrate` speak one vocabulary.
 */
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { json, runCli, writePlan } from '../helpers/run-cli.js';

// Sundays 21:00–23:00 in Paris; CLOSED is a Wednesday noon.
const WINDOW = '  timezone: Europe/Paris\n  days: [sun]\n  start: "21:00"\n  duration: 2h';
const CLOSED = { MAINT_NOW: '2026-11-25T12:00:00Z' };
const OPEN = { MAINT_NOW: '2026-11-29T20:30:00Z' };
const RUN_ID = /^run_\d{8}T\d{6}_[0-9a-f]{6}$/;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function setup(migrations: Record<string, string>, extra = '') {
  const db: FreshDatabase = await freshPostgres();
  cleanups.push(() => db.drop());
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  cleanups.push(() => sql.end());
  const plan = await writePlan({ engine: 'postgres', url: db.url, migrations, window: WINDOW, extra });
  cleanups.push(() => rm(plan.dir, { recursive: true, force: true }));
  return { sql, plan };
}

/** The `maintenance` event lines a `--json` run logs on stderr. */
function maintenanceLines(stderr: string): Array<{ msg: string }> {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { code: string; msg: string })
    .filter((l) => l.code === 'maintenance');
}

describe('output wording', () => {
  it('`plan` outside the window names the next window instead of "closed, closed"', async () => {
    const { plan } = await setup({
      '001_t.sql': 'create table t (id int);',
      '001_t.down.sql': 'drop table t;',
    });
    const r = await runCli(['plan', plan.file], CLOSED);
    expect(r.code).toBe(3);
    const text = r.stdout + r.stderr;
    expect(text).not.toMatch(/closed, closed/);
    expect(text).toMatch(/window closed, next Sun 29 Nov 2026 21:00/);
  });

  it('`migrate --json` steps say `done` and its run id has the shape of `run`', async () => {
    const { plan } = await setup({
      '001_t.sql': 'create table t (id int);',
      '001_t.down.sql': 'drop table t;',
    });
    const m = await runCli(['migrate', plan.file, '--json']);
    expect(m.code, m.stderr).toBe(0);
    const out = json<{ runId: string; status: string; steps: Array<{ name: string; status: string }> }>(m);
    expect(out.status).toBe('completed');
    expect(out.steps).toEqual([expect.objectContaining({ name: '001_t', status: 'done' })]);
    expect(out.runId).toMatch(RUN_ID);
    const down = await runCli(['migrate', 'down', plan.file, '--to', '0', '--json']);
    expect(down.code, down.stderr).toBe(0);
    const reverted = json<{ runId: string; steps: Array<{ status: string }> }>(down);
    expect(reverted.steps.map((s) => s.status)).toEqual(['done']);
    expect(reverted.runId).toMatch(RUN_ID);
    const run = await runCli(['run', plan.file, '--json'], OPEN);
    expect(run.code, run.stderr).toBe(0);
    const ran = json<{ runId: string; steps: Array<{ status: string }> }>(run);
    expect(ran.runId).toMatch(RUN_ID);
    expect(new Set(ran.steps.map((s) => s.status))).toEqual(new Set(['done']));
  });

  it('an emergency run announces how long it is expected to take, not "the window ends" at its start', async () => {
    const { plan } = await setup({
      '001_t.sql': 'create table t (id int);',
      '001_t.down.sql': 'drop table t;',
    });
    for (const env of [CLOSED, OPEN]) {
      const r = await runCli(['run', plan.file, '--emergency', '--reason', 'INC-7', '--json'], env);
      expect(r.code, r.stderr).toBe(0);
      const started = maintenanceLines(r.stderr).find((l) => l.msg.startsWith('maintenance_started'));
      expect(started?.msg).toMatch(
        /has started \(emergency: no window applies\); it is expected to take about \d/,
      );
      expect(started?.msg).not.toContain('the window ends');
      await runCli(['migrate', 'down', plan.file, '--to', '0']);
    }
  });

  it('a failed rollback says "nothing was reverted." once, not ".."', async () => {
    const { plan } = await setup(
      { '001_t.sql': 'create table t (id int);' },
      'checks:\n  - name: t has rows\n    sql: select count(*) from t\n    expect: ">= 1"\n',
    );
    const r = await runCli(['run', plan.file, '--json'], OPEN);
    expect(r.code, r.stderr).toBe(6);
    const out = json<{ error: { code: string; message: string } }>(r);
    expect(out.error.code).toBe('ROLLBACK_FAILED');
    expect(out.error.message).toContain('nothing was reverted');
    expect(out.error.message).not.toContain('..');
  });
});
