/**
 * Acceptance 1 with real processes under MAINT_NOW, on PostgreSQL and MariaDB: a plan whose
 * window opens in 23 h is announced once (one signed webhook, banner planned), runs at the
 * window's start and ends completed; a plan whose estimate does not fit is rescheduled to the
 * next window; a fresh agent process between ticks announces nothing twice.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshMysql, freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import {
  BEFORE,
  NEXT_WINDOW,
  WINDOW,
  agentOnce,
  hookReceiver,
  plansDir,
  writeAgentPlan,
} from '../helpers/agent.js';

for (const engine of ['postgres', 'mysql'] as const) {
  describe(`maint agent ticks on ${engine}`, () => {
    let db: FreshDatabase;
    let dir: string;
    let hook: Awaited<ReturnType<typeof hookReceiver>>;
    beforeAll(async () => {
      db = engine === 'postgres' ? await freshPostgres() : await freshMysql();
      hook = await hookReceiver();
      dir = await plansDir();
      await writeAgentPlan(dir, {
        name: 'orders',
        engine,
        url: db.url,
        hookUrl: hook.url,
        migrations: { '001_orders.sql': 'create table orders (id int primary key);' },
      });
      await writeAgentPlan(dir, {
        name: 'billing',
        engine,
        url: db.url,
        hookUrl: hook.url,
        extra: 'estimate: 3h\n',
        migrations: { '001_billing.sql': 'create table billing (id int primary key);' },
      });
    });
    afterAll(async () => {
      await hook?.close();
      await db?.drop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const banner = async (name: string) =>
      JSON.parse(await readFile(path.join(dir, 'site', `${name}.json`), 'utf8')) as Record<string, unknown>;
    const byPlan = (plans: Awaited<ReturnType<typeof agentOnce>>['plans'], name: string) =>
      plans.find((p) => p.plan === name)!;

    // Nine CLI processes in turn: on a busy 2-core runner that took 95 s once.
    it(
      'announces once, runs at the window start, reschedules what does not fit',
      { timeout: 300_000 },
      async () => {
        // 23 h before: both announced, once each, signed.
        const first = await agentOnce(dir, BEFORE);
        expect(first.result.code, first.result.stderr).toBe(0);
        expect(byPlan(first.plans, 'orders').lastAction).toBe('announced');
        expect(byPlan(first.plans, 'billing').lastAction).toBe('announced');
        expect(
          hook
            .hooks()
            .map((h) => `${h.plan}:${h.type}`)
            .sort(),
        ).toEqual(['billing:maintenance_planned', 'orders:maintenance_planned']);
        expect(hook.rejected).toBe(0);
        expect(await banner('orders')).toMatchObject({ enabled: true, state: 'planned', starts_at: WINDOW });

        // Fresh agent processes an hour and two hours later: nothing is announced again.
        for (const now of ['2026-12-02T23:00:00Z', '2026-12-03T00:00:00Z']) {
          const again = await agentOnce(dir, now);
          expect(again.result.code).toBe(0);
          expect(again.plans.map((p) => p.lastAction)).toEqual(['idle', 'idle']);
        }
        expect(hook.requests).toHaveLength(2);

        // The window opens: orders runs and completes; billing (3 h estimate, 2 h window) moves on.
        const start = await agentOnce(dir, '2026-12-03T21:00:05Z');
        expect(start.result.code, start.result.stderr).toBe(0);
        const orders = byPlan(start.plans, 'orders');
        expect(orders.lastAction).toBe('ran');
        expect(orders.scheduled).toMatchObject({ status: 'completed', windowStart: WINDOW });
        const billing = byPlan(start.plans, 'billing');
        expect(billing.lastAction).toBe('rescheduled');
        expect(billing.scheduled).toMatchObject({ status: 'scheduled', windowStart: NEXT_WINDOW });
        expect(await banner('orders')).toMatchObject({ enabled: false, state: 'off' });
        expect(await banner('billing')).toMatchObject({
          enabled: true,
          state: 'planned',
          starts_at: NEXT_WINDOW,
        });

        const hooks = hook.hooks();
        expect(hooks.filter((h) => h.plan === 'orders').map((h) => h.type)).toEqual([
          'maintenance_planned',
          'maintenance_started',
          'maintenance_completed',
        ]);
        const moved = hooks.filter((h) => h.plan === 'billing');
        expect(moved.map((h) => h.type)).toEqual(['maintenance_planned', 'maintenance_rescheduled']);
        expect((moved[1]!.data.nextWindow as { start: string }).start).toBe(NEXT_WINDOW);
        expect(new Set(hooks.map((h) => h.id)).size).toBe(hooks.length);
        expect(hook.rejected).toBe(0);

        // Later in the window and a day before the next one: nothing more is sent.
        await agentOnce(dir, '2026-12-03T22:00:00Z');
        const dayBefore = await agentOnce(dir, '2026-12-09T22:00:00Z');
        expect(byPlan(dayBefore.plans, 'billing').lastAction).toBe('idle');
        expect(hook.requests).toHaveLength(5);
      },
    );
  });
}
