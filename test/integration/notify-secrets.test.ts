/**
 * A canary secret in the webhook secret, the Slack URL, the SMTP password and the Intercom token
 * never shows in what `maint notify` prints (stdout, stderr, logs) nor in what it sends, on the
 * success and failure paths, with --json and with --dry-run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAINT_NOW_IN_WINDOW,
  PLAN_HEAD,
  refusedPort,
  runMaint,
  startReceiver,
  startSmtp,
  writePlan,
  type CliRun,
  type Receiver,
  type SmtpReceiver,
} from '../helpers/receivers.js';

const CANARY = 'Kanary7f3a9cQ2x8';
const SECRET_ENV = {
  HOOK_SECRET: `whsec_${CANARY}${CANARY}`,
  INTERCOM_TOKEN: `tok_${CANARY}`,
};

const PLAN = `${PLAN_HEAD}notify:
  channels:
    - { type: webhook, url: "\${HOOK_URL}", secret: "\${HOOK_SECRET}", timeout: 5s, retries: 1 }
    - { type: slack, url: "\${SLACK_URL}", timeout: 5s, retries: 1 }
    - { type: email, smtp: "\${SMTP_URL}", from: ops@example.com, to: [team@example.com], timeout: 5s, retries: 1 }
    - { type: intercom, token: "\${INTERCOM_TOKEN}", baseUrl: "\${INTERCOM_URL}", userIds: [u-1], timeout: 5s, retries: 1 }
`;

let hooks: Receiver;
let smtp: SmtpReceiver;
let planFile: string;
beforeAll(async () => {
  hooks = await startReceiver();
  smtp = await startSmtp('maint', CANARY);
  planFile = (await writePlan(PLAN)).file;
});
afterAll(async () => {
  await hooks.close();
  await smtp.close();
});

function upEnv(): Record<string, string> {
  return {
    ...SECRET_ENV,
    HOOK_URL: `${hooks.url}/hook`,
    SLACK_URL: `${hooks.url}/services/T0/B0/${CANARY}`,
    SMTP_URL: smtp.url,
    INTERCOM_URL: hooks.url,
  };
}

async function downEnv(): Promise<Record<string, string>> {
  const port = await refusedPort();
  const down = `http://127.0.0.1:${port}`;
  return {
    ...SECRET_ENV,
    HOOK_URL: `${down}/hook`,
    SLACK_URL: `${down}/services/T0/B0/${CANARY}`,
    SMTP_URL: `smtp://maint:${CANARY}@127.0.0.1:${port}`,
    INTERCOM_URL: down,
  };
}

function expectClean(run: CliRun, what: string): void {
  for (const [stream, text] of [
    ['stdout', run.stdout],
    ['stderr', run.stderr],
  ] as const) {
    expect(text, `${what}: ${stream}`).not.toContain(CANARY);
    expect(text, `${what}: ${stream}`).not.toContain(encodeURIComponent(CANARY));
  }
}

const notify = (args: string[], env: Record<string, string>) =>
  runMaint(['notify', planFile, '--event', 'maintenance_started', ...args], {
    MAINT_NOW: MAINT_NOW_IN_WINDOW,
    MAINT_LOG_LEVEL: 'debug',
    ...env,
  });

describe('secrets in maint notify', () => {
  it('success path (human and --json): delivered everywhere, canary nowhere in output or payloads', async () => {
    const before = hooks.requests.length;
    const human = await notify([], upEnv());
    expect(human.code).toBe(0);
    expect(human.stdout.match(/✓/g)).toHaveLength(4);
    expectClean(human, 'human');

    const json = await notify(['--json'], upEnv());
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout) as { outcomes: Array<{ ok: boolean }> };
    expect(result.outcomes.map((o) => o.ok)).toEqual([true, true, true, true]);
    expectClean(json, 'json');

    // 2 runs × (webhook + slack + intercom) requests, 2 mails.
    const requests = hooks.requests.slice(before);
    expect(requests).toHaveLength(6);
    for (const r of requests) expect(r.body).not.toContain(CANARY);
    const mails = await smtp.waitFor(2);
    for (const m of mails) {
      expect(`${m.subject}\n${m.text}\n${m.html}`).not.toContain(CANARY);
    }
  });

  it('failure path (receivers down; human and --json): failures reported, canary nowhere', async () => {
    const env = await downEnv();
    const human = await notify([], env);
    expect(human.code).toBe(0);
    expect(human.stdout.match(/✗/g)).toHaveLength(4);
    expect(human.stdout).toMatch(/ECONNREFUSED/);
    expectClean(human, 'human failure');

    const json = await notify(['--json'], env);
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout) as {
      outcomes: Array<{ ok: boolean; attempts: number; error: string }>;
    };
    expect(result.outcomes.map((o) => [o.ok, o.attempts])).toEqual([
      [false, 2],
      [false, 2],
      [false, 2],
      [false, 2],
    ]);
    expect(json.stderr).toMatch(/not delivered/);
    expectClean(json, 'json failure');
  });

  it('--dry-run (human and --json) renders every channel and leaks nothing', async () => {
    const before = hooks.requests.length;
    const human = await notify(['--dry-run'], upEnv());
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/dry run: nothing was sent/);
    expect(human.stdout).toMatch(/webhook#0[\s\S]*slack#1[\s\S]*email#2[\s\S]*intercom#3/);
    expectClean(human, 'dry-run');

    const json = await notify(['--dry-run', '--json'], upEnv());
    const result = JSON.parse(json.stdout) as { rendered: Array<{ channel: string }> };
    expect(result.rendered.map((r) => r.channel)).toEqual(['webhook#0', 'slack#1', 'email#2', 'intercom#3']);
    expectClean(json, 'dry-run json');
    expect(hooks.requests.length).toBe(before);
  });
});
