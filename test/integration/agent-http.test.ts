/**
 * Acceptance 3: a real agent process serving HTTP while a run is in progress. /status and
 * /metrics answer during the run (/metrics parsed by a Prometheus text parser, and every line
 * checked against the exposition format); a broken plan file shows on /status with its
 * positioned error while the other plan runs; the bearer token guards all but /healthz and is
 * never printed; SIGTERM mid-step cancels, rolls back and exits within the grace period.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
// @ts-expect-error -- the parser ships no types
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentStatusDocument } from '../../src/agent/status.js';
import { freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { WINDOW, plansDir, startAgent, writeAgentPlan, type AgentProcess } from '../helpers/agent.js';
import { runCli, waitFor } from '../helpers/run-cli.js';

interface Family {
  name: string;
  type: string;
  metrics: Array<{ value?: string; labels?: Record<string, string>; count?: string }>;
}
const parseMetrics = parsePrometheusTextFormat as (text: string) => Family[];

const TOKEN = 'tok_6f1d2c3b4a5e6f708192';
const IN_WINDOW = '2026-12-03T21:00:05Z';

let db: FreshDatabase;
const dirs: string[] = [];
const agents: AgentProcess[] = [];

beforeAll(async () => {
  db = await freshPostgres();
});
afterAll(async () => {
  for (const a of agents)
    if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL');
  await Promise.all(agents.map((a) => a.done.catch(() => undefined)));
  await db?.drop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tableExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const { rows } = await client.query('select to_regclass($1) as t', [name]);
    return rows[0].t !== null;
  } finally {
    await client.end();
  }
}

/** Every line is a comment (# HELP / # TYPE) or `name{labels} value`: the exposition format. */
function strictlyExposition(text: string): string[] {
  const sample =
    /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/;
  return text
    .split('\n')
    .filter((l) => l !== '')
    .filter((l) => !(/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(l) || sample.test(l)));
}

describe('maint agent over HTTP', () => {
  it(
    'answers /status and /metrics during a run; shows a broken plan; guards with the token',
    { timeout: 240_000 },
    async () => {
      const dir = await plansDir();
      dirs.push(dir);
      await writeAgentPlan(dir, {
        name: 'orders',
        engine: 'postgres',
        url: db.url,
        migrations: { '001_orders.sql': 'create table orders (id int); select pg_sleep(4);' },
      });
      await writeFile(
        path.join(dir, 'broken.yaml'),
        'version: 1\nname: broken\nwindow:\n  timezone: Mars/Olympus\n',
      );
      const agent = await startAgent(dir, ['--tick', '1h'], {
        MAINT_NOW: IN_WINDOW,
        MAINT_AGENT_TOKEN: TOKEN,
      });
      agents.push(agent);
      const get = (p: string, token: string | null = TOKEN) =>
        fetch(`${agent.url}${p}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

      expect((await get('/healthz', null)).status).toBe(200);
      expect((await get('/status', null)).status).toBe(401);
      expect((await get('/metrics', 'wrong')).status).toBe(401);
      expect((await get('/', null)).status).toBe(401);

      type Status = AgentStatusDocument;
      const during = await waitFor('the run to be in its migrate step', async () => {
        const s = (await (await get('/status')).json()) as Status;
        return s.plans.find((p) => p.plan === 'orders')?.running?.step === 'migrate' ? s : undefined;
      });
      const broken = during.plans.find((p) => p.file === 'broken.yaml')!;
      expect(broken.error?.code).toBe('PLAN_INVALID');
      expect(broken.error?.message).toMatch(/broken\.yaml:\d+:\d+/);
      expect((broken.error?.issues as unknown[])[0]).toMatchObject({
        line: expect.any(Number),
        col: expect.any(Number),
      });

      const metricsDuring = await (await get('/metrics')).text();
      expect(strictlyExposition(metricsDuring)).toEqual([]);
      const families = parseMetrics(metricsDuring);
      const value = (fs: Family[], name: string, labels: Record<string, string> = {}) =>
        fs
          .find((f) => f.name === name)
          ?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value;
      expect(value(families, 'maint_agent_lock_held', { plan: 'orders' })).toBe('1');
      expect(value(families, 'maint_agent_next_window_seconds', { plan: 'orders' })).toBe('0');
      expect(value(families, 'maint_agent_plan_error', { plan: 'broken.yaml' })).toBe('1');
      expect(families.find((f) => f.name === 'maint_agent_last_tick_age_seconds')?.type).toBe('GAUGE');
      expect((await get('/')).headers.get('content-type')).toMatch(/text\/html/);

      const after = await waitFor('the run to complete', async () => {
        const s = (await (await get('/status')).json()) as Status;
        const orders = s.plans.find((p) => p.plan === 'orders')!;
        return orders.scheduled?.status === 'completed' && !orders.running ? orders : undefined;
      });
      expect(after.lastRuns[0]).toMatchObject({ status: 'completed' });
      const text2 = await (await get('/metrics')).text();
      expect(strictlyExposition(text2)).toEqual([]);
      const families2 = parseMetrics(text2);
      expect(value(families2, 'maint_agent_runs_total', { plan: 'orders', outcome: 'completed' })).toBe('1');
      expect(value(families2, 'maint_agent_lock_held', { plan: 'orders' })).toBe('0');
      expect(families2.find((f) => f.name === 'maint_agent_step_duration_seconds')?.type).toBe('HISTOGRAM');
      // The parser keeps no labels on histogram series; the sample line says it exactly.
      expect(text2).toMatch(/^maint_agent_step_duration_seconds_count\{plan="orders",step="migrate"\} 1$/m);
      const page = await (await get('/')).text();
      expect(page).toContain('orders');
      expect(await tableExists('orders')).toBe(true);

      agent.child.kill('SIGTERM');
      const exit = await agent.done;
      expect(exit.code).toBe(0);
      expect(exit.stdout + exit.stderr).not.toContain(TOKEN);
    },
  );

  it(
    'SIGTERM mid-step: the step is cancelled after the grace period, everything rolls back, exit 0',
    { timeout: 240_000 },
    async () => {
      const dir = await plansDir();
      dirs.push(dir);
      await writeAgentPlan(dir, {
        name: 'slow',
        engine: 'postgres',
        url: db.url,
        migrations: { '001_slow.sql': 'create table slow (id int); select pg_sleep(60);' },
      });
      const agent = await startAgent(dir, ['--grace', '2s'], { MAINT_NOW: IN_WINDOW });
      agents.push(agent);
      await waitFor('the run to be in its migrate step', async () => {
        const s = (await (await fetch(`${agent.url}/status`)).json()) as AgentStatusDocument;
        return s.plans[0]?.running?.step === 'migrate' ? true : undefined;
      });
      const sent = performance.now();
      agent.child.kill('SIGTERM');
      const exit = await agent.done;
      const tookMs = performance.now() - sent;
      console.log(`SIGTERM to exit: ${Math.round(tookMs)} ms (grace 2000 ms)`);
      expect(exit.code, exit.stderr).toBe(0);
      // The grace, then the cancel and the rollback: bounded, and far below the 60 s step.
      expect(tookMs).toBeGreaterThanOrEqual(1900);
      expect(tookMs).toBeLessThan(20_000);
      expect(exit.stderr).toContain('step.cancelled');
      expect(await tableExists('slow')).toBe(false);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const { rows } = await client.query("select status from maint_runs where plan = 'slow'");
      await client.end();
      expect(rows).toEqual([{ status: 'rolled_back' }]);
      const banner = JSON.parse(await readFile(path.join(dir, 'site/slow.json'), 'utf8')) as {
        state: string;
      };
      expect(banner.state).toBe('off');
      expect(WINDOW).toBe('2026-12-03T21:00:00.000Z');
    },
  );

  it(
    'bad input: a missing plans folder, a bad duration, a port in use: exit 2 with a hint, no stack',
    { timeout: 240_000 },
    async () => {
      const missing = await runCli(['agent', '--plans', '/nonexistent/maint-plans', '--once']);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('--plans /nonexistent/maint-plans is not a folder');
      expect(missing.stderr).toMatch(/hint: Point --plans at the folder/);
      const dir = await plansDir();
      dirs.push(dir);
      const tick = await runCli(['agent', '--plans', dir, '--tick', '5x']);
      expect(tick.code).toBe(2);
      expect(tick.stderr).toContain('"5x" is not a duration');
      const other = await startAgent(dir, [], {});
      agents.push(other);
      const port = new URL(other.url).port;
      const busy = await runCli(['agent', '--plans', dir, '--port', port, '--json']);
      expect(busy.code).toBe(2);
      expect(JSON.parse(busy.stdout).error).toMatchObject({
        code: 'USAGE',
        message: `cannot listen on 127.0.0.1:${port}: EADDRINUSE`,
      });
      for (const r of [missing, tick, busy]) expect(r.stderr).not.toMatch(/\n\s+at /);
      other.child.kill('SIGTERM');
      expect((await other.done).code).toBe(0);
    },
  );
});
