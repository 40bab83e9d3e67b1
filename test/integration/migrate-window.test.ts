/**
 * `maint migrate --window` and `migrations.requireWindow: true` (issue 9): a container started
 * outside the window does not migrate (exit 3, the next window named, nothing written), a
 * restart with nothing pending still exits 0, and inside the window it migrates. Real CLI
 * processes on PostgreSQL, MariaDB and PGlite (whose check runs under its folder lock).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/index.js';
import { freshMysql, freshPostgres } from '../helpers/databases.js';
import { runCli } from './migrate-support.js';

// Sundays 21:00–23:00 in Paris.
const CLOSED = { MAINT_NOW: '2026-11-25T12:00:00Z' };
const OPEN = { MAINT_NOW: '2026-11-29T20:30:00Z' };
const NEXT_START = '2026-11-29T20:00:00.000Z';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

type Engine = 'postgres' | 'mysql' | 'pglite';

async function target(engine: Engine): Promise<{ engine: Engine; url: string }> {
  if (engine === 'pglite') {
    const dir = await mkdtemp(path.join(tmpdir(), 'maint-pglite-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return { engine, url: path.join(dir, 'data') };
  }
  const db = engine === 'postgres' ? await freshPostgres() : await freshMysql();
  cleanups.push(() => db.drop());
  return { engine, url: db.url };
}

async function writePlan(t: { engine: Engine; url: string }, requireWindow: boolean) {
  const dir = await mkdtemp(path.join(tmpdir(), 'maint-plan-'));
  await mkdir(path.join(dir, 'migrations'));
  await writeFile(
    path.join(dir, 'migrations', '001_orders.sql'),
    'create table orders (id integer primary key);\n',
  );
  const plan = path.join(dir, 'plan.yaml');
  await writeFile(
    plan,
    [
      'version: 1',
      'name: windowed',
      'window: { timezone: Europe/Paris, days: [sun], start: "21:00", duration: 2h }',
      `database: { engine: ${t.engine}, url: "${t.url}" }`,
      `migrations: { lockTimeout: 2s${requireWindow ? ', requireWindow: true' : ''} }`,
      '',
    ].join('\n'),
  );
  return { dir, plan };
}

async function tables(t: { engine: Engine; url: string }, dir: string): Promise<string[]> {
  const db = await openDatabase({ engine: t.engine, url: t.url }, dir);
  try {
    return (await db.listTables()).sort();
  } finally {
    await db.close();
  }
}

interface MigrateJson {
  status: string;
  steps: Array<{ name: string; status: string }>;
  error: {
    code: string;
    exitCode: number;
    hint: string;
    nextWindow: { start: string };
    pending: string[];
  } | null;
}

describe.each(['postgres', 'mysql', 'pglite'] as const)('migrate --window on %s', (engine) => {
  it('closed with pending migrations: exit 3 naming the next window, nothing written', async () => {
    const t = await target(engine);
    const { dir, plan } = await writePlan(t, false);
    const refused = await runCli(['migrate', plan, '--window', '--json'], CLOSED);
    expect(refused.code, refused.stdout + refused.stderr).toBe(3);
    const out = JSON.parse(refused.stdout) as MigrateJson;
    expect(out.status).toBe('refused');
    expect(out.steps).toEqual([]);
    expect(out.error).toMatchObject({ code: 'WINDOW_CLOSED', exitCode: 3, pending: ['001_orders'] });
    expect(out.error!.nextWindow.start).toBe(NEXT_START);
    expect(out.error!.hint).toContain(
      'The next window opens Sun 29 Nov 2026 21:00 CET (2026-11-29T20:00:00.000Z)',
    );
    // Nothing was applied or recorded (no migrations table, no lock table).
    expect(await tables(t, dir)).toEqual([]);
    // Human output says the same.
    const human = await runCli(['migrate', plan, '--window'], CLOSED);
    expect(human.code).toBe(3);
    expect(human.stderr).toContain(
      'migrations must wait for it: 1 pending (001_orders); nothing was applied',
    );
  });

  it('inside the window it migrates; a restart outside it with nothing pending exits 0', async () => {
    const t = await target(engine);
    const { plan } = await writePlan(t, false);
    const applied = await runCli(['migrate', plan, '--window', '--json'], OPEN);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect((JSON.parse(applied.stdout) as MigrateJson).steps).toMatchObject([
      { name: '001_orders', status: 'done' },
    ]);
    // A container restarted outside the window with nothing to do still starts.
    const restart = await runCli(['migrate', plan, '--window', '--wait', '--json'], CLOSED);
    expect(restart.code, restart.stdout + restart.stderr).toBe(0);
    expect((JSON.parse(restart.stdout) as MigrateJson).status).toBe('completed');
  });

  it('migrations.requireWindow: true refuses without the flag, with --wait too (it waits for the lock, not the window)', async () => {
    const t = await target(engine);
    const { dir, plan } = await writePlan(t, true);
    const refused = await runCli(['migrate', plan, '--wait', '--json'], CLOSED);
    expect(refused.code, refused.stdout + refused.stderr).toBe(3);
    expect((JSON.parse(refused.stdout) as MigrateJson).error?.code).toBe('WINDOW_CLOSED');
    expect(await tables(t, dir)).not.toContain('orders');
  });
});
