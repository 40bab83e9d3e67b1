/**
 * Acceptance 2: several agent processes on the same plans and database. Over 10 trials, three
 * agents ticking at once announce each operation once and run it once (events counted at a
 * receiver, runs counted in the journal). Then kill -9 the agent executing a run: the survivor
 * recovers it on its next tick, and the lock is never left with the dead process.
 */
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import {
  BEFORE,
  WINDOW,
  agentOnce,
  hookReceiver,
  plansDir,
  startAgent,
  writeAgentPlan,
  type AgentProcess,
} from '../helpers/agent.js';
import { json, runCli, waitFor } from '../helpers/run-cli.js';

let db: FreshDatabase;
let hook: Awaited<ReturnType<typeof hookReceiver>>;
const dirs: string[] = [];
const agents: AgentProcess[] = [];

beforeAll(async () => {
  db = await freshPostgres();
  hook = await hookReceiver();
});
afterAll(async () => {
  for (const a of agents)
    if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL');
  await Promise.all(agents.map((a) => a.done.catch(() => undefined)));
  await hook?.close();
  await db?.drop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function query<R>(sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as R[];
  } finally {
    await client.end();
  }
}

describe('three agents on the same plans', () => {
  it('announce and run each operation exactly once, over 10 trials', async () => {
    const actions: string[] = [];
    for (let trial = 0; trial < 10; trial++) {
      const name = `ha${trial}`;
      const dir = await plansDir();
      dirs.push(dir);
      await writeAgentPlan(dir, {
        name,
        engine: 'postgres',
        url: db.url,
        hookUrl: hook.url,
        migrations: { [`001_${name}.sql`]: `create table ${name} (id int); select pg_sleep(0.5);` },
      });
      const announce = await Promise.all([0, 1, 2].map(() => agentOnce(dir, BEFORE)));
      for (const a of announce) expect(a.result.code, a.result.stdout + a.result.stderr).toBe(0);
      const run = await Promise.all([0, 1, 2].map(() => agentOnce(dir, '2026-12-03T21:00:02Z')));
      for (const a of run) expect(a.result.code, a.result.stdout + a.result.stderr).toBe(0);
      const did = run.map((a) => a.plans[0]!);
      actions.push(...did.map((p) => p.lastAction ?? 'none'));
      expect(
        did.filter((p) => p.lastAction === 'ran'),
        `trial ${trial}`,
      ).toHaveLength(1);
      for (const p of did.filter((x) => x.lastAction === 'elsewhere'))
        expect(p.message).toMatch(/^running elsewhere: \S+ pid \d+, [\w-]+ since /);

      const types = hook
        .hooks()
        .filter((h) => h.plan === name)
        .map((h) => h.type);
      expect(types, `trial ${trial}`).toEqual([
        'maintenance_planned',
        'maintenance_started',
        'maintenance_completed',
      ]);
      const runs = await query<{ status: string }>('select status from maint_runs where plan = $1', [name]);
      expect(runs).toEqual([{ status: 'completed' }]);
    }
    expect(hook.rejected).toBe(0);
    // Evidence that the agents did contend (not merely run one after the other).
    expect(actions.filter((a) => a === 'elsewhere').length).toBeGreaterThan(0);
    console.log(`ha trials: ${JSON.stringify(countBy(actions))}`);
  }, 480_000);

  it(
    'kill -9 of the executing agent: the survivor recovers the run; the lock never stays with the dead',
    { timeout: 240_000 },
    async () => {
      const name = 'crash';
      const dir = await plansDir();
      dirs.push(dir);
      await writeAgentPlan(dir, {
        name,
        engine: 'postgres',
        url: db.url,
        hookUrl: hook.url,
        migrations: { '001_slow.sql': 'create table crash (id int); select pg_sleep(6);' },
      });
      const env = { MAINT_NOW: WINDOW.replace('.000Z', 'Z') };
      const a = await startAgent(dir, ['--tick', '1s'], env);
      agents.push(a);
      const b = await startAgent(dir, ['--tick', '1s'], env);
      agents.push(b);
      const status = async (agent: AgentProcess) =>
        (await (await fetch(`${agent.url}/status`)).json()) as {
          agent: { pid: number };
          plans: Array<{
            running: { runId: string; step: string | null } | null;
            scheduled: { status: string } | null;
          }>;
        };
      // Whichever took it: its /status shows the run and the step in progress.
      const executor = await waitFor('an agent to be running the migration', async () => {
        for (const agent of [a, b]) {
          const s = await status(agent);
          if (s.plans[0]?.running?.step === 'migrate') return { agent, runId: s.plans[0].running.runId };
        }
        return undefined;
      });
      const survivor = executor.agent === a ? b : a;
      const deadPid = executor.agent.child.pid!;
      executor.agent.child.kill('SIGKILL');
      await executor.agent.done;

      const lockHolder = async () =>
        json<{ holder: { pid: number } | null }>(await runCli(['lock', `${dir}/${name}.yaml`, '--json'], env))
          .holder;
      // The server notices the closed socket at once; bounded poll, then it must never come back.
      await waitFor('the dead agent to lose the lock', async () =>
        (await lockHolder())?.pid === deadPid ? undefined : true,
      );
      const done = await waitFor(
        'the survivor to recover and complete the run',
        async () => {
          expect((await lockHolder())?.pid).not.toBe(deadPid);
          const s = await status(survivor);
          return s.plans[0]?.scheduled?.status === 'completed' ? s : undefined;
        },
        60_000,
      );
      expect(done.agent.pid).toBe(survivor.child.pid);
      // By id, not by time: each agent's clock was pinned by MAINT_NOW when it started.
      const runs = await query<{ run_id: string; status: string }>(
        'select run_id, status from maint_runs where plan = $1',
        [name],
      );
      const killed = runs.find((r) => r.run_id === executor.runId);
      expect(killed?.status).toMatch(/^(resumed|rolled_back)$/);
      expect(runs.filter((r) => r.status === 'completed')).toHaveLength(1);
      expect(runs.filter((r) => r.status === 'running')).toEqual([]);
      expect(await query('select * from crash')).toEqual([]);
      const types = hook
        .hooks()
        .filter((h) => h.plan === name)
        .map((h) => h.type);
      expect(types.filter((t) => t === 'maintenance_planned')).toHaveLength(1);
      expect(types.at(-1)).toBe('maintenance_completed');
    },
  );
});

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
