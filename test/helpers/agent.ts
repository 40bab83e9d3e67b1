/**
 * Support for the `maint agent` integration tests: a plans folder with plans on Thursdays
 * 21:00 UTC for 2 h (2026-12-03 is a Thursday), a webhook receiver that verifies every
 * Standard Webhooks signature, and agent processes (the built CLI) under MAINT_NOW.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { startReceiver, type Receiver } from './receivers.js';
import { json, runCli, startCli, waitFor, type CliResult } from './run-cli.js';

export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
export const WINDOW = '2026-12-03T21:00:00.000Z';
export const NEXT_WINDOW = '2026-12-10T21:00:00.000Z';
/** 23 hours before the window opens. */
export const BEFORE = '2026-12-02T22:00:00Z';

export async function plansDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'maint-agent-'));
}

export interface AgentPlan {
  name: string;
  engine: 'postgres' | 'mysql';
  url: string;
  migrations: Record<string, string>;
  hookUrl?: string;
  /** Extra top-level YAML. */
  extra?: string;
}

/** Write `<name>.yaml` and its migrations folder into `dir`; returns the plan file. */
export async function writeAgentPlan(dir: string, p: AgentPlan): Promise<string> {
  const migrations = path.join(dir, `${p.name}-migrations`);
  await mkdir(migrations, { recursive: true });
  for (const [file, sql] of Object.entries(p.migrations)) await writeFile(path.join(migrations, file), sql);
  const channels = p.hookUrl
    ? `  channels:\n    - { type: webhook, url: "${p.hookUrl}", secret: "${SECRET}", retries: 0 }\n`
    : '';
  const yaml =
    `version: 1\nname: ${p.name}\n` +
    `window: { timezone: UTC, days: [thu], start: "21:00", duration: 2h, notice: 24h }\n` +
    `database: { engine: ${p.engine}, url: "${p.url}" }\n` +
    `migrations: { dir: ./${p.name}-migrations }\n${p.extra ?? ''}` +
    `notify:\n  banner:\n    - { file: site/${p.name}.json, text: "Maintenance of {{plan.name}} at {{window.startLocal}}" }\n${channels}`;
  const file = path.join(dir, `${p.name}.yaml`);
  await writeFile(file, yaml);
  return file;
}

export interface VerifiedHook {
  id: string;
  type: string;
  plan: string;
  data: Record<string, unknown>;
}

/** A receiver that accepts only correctly signed webhooks (401 otherwise) and keeps them parsed. */
export async function hookReceiver(): Promise<Receiver & { hooks(): VerifiedHook[]; rejected: number }> {
  const webhook = new Webhook(SECRET);
  const state = { rejected: 0 };
  const receiver = await startReceiver((request) => {
    try {
      webhook.verify(request.body, request.headers);
      return { status: 200 };
    } catch {
      state.rejected++;
      return { status: 401 };
    }
  });
  return Object.assign(receiver, {
    get rejected() {
      return state.rejected;
    },
    hooks(): VerifiedHook[] {
      return receiver.requests.map((r) => {
        const body = JSON.parse(r.body) as { type: string; data: Record<string, unknown> };
        return {
          id: r.headers['webhook-id']!,
          type: body.type,
          plan: String(body.data.plan),
          data: body.data,
        };
      });
    },
  });
}

export interface AgentOnce {
  result: CliResult;
  plans: Array<Record<string, unknown> & { plan: string; lastAction: string | null; message: string }>;
}

/** `maint agent --once --json` under MAINT_NOW. */
export async function agentOnce(
  dir: string,
  now: string,
  env: Record<string, string> = {},
): Promise<AgentOnce> {
  const result = await runCli(['agent', '--plans', dir, '--once', '--json'], { MAINT_NOW: now, ...env });
  const out = json<{ status: { plans: AgentOnce['plans'] } }>(result);
  return { result, plans: out.status.plans };
}

export interface AgentProcess {
  child: ReturnType<typeof startCli>['child'];
  done: Promise<CliResult>;
  url: string;
  stderr(): string;
}

/** A long-running agent on a free port; resolves once it serves. */
export async function startAgent(
  dir: string,
  args: string[],
  env: Record<string, string>,
): Promise<AgentProcess> {
  const { child, done } = startCli(['agent', '--plans', dir, '--port', '0', '--json', ...args], env);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  void done.then(() => (exited = true));
  const url = await waitFor(
    'the agent to serve',
    async () => {
      if (exited) throw new Error(`the agent exited before serving:\n${stderr}`);
      return /serving (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
    },
    30_000,
  );
  return { child, done, url, stderr: () => stderr };
}
