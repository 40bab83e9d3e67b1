/**
 * A receiver that is down, answers 500 or hangs: deliver() still resolves, the receiver sees
 * every retry, the failure is in the outcome, and the delay stays within the configured
 * timeout × attempts plus the backoff between attempts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { makeEvent } from '../../src/notify/event-factory.js';
import { deliver } from '../../src/notify/deliver.js';
import { createChannels } from '../../src/notify/registry.js';
import { loadPlan } from '../../src/plan/loader.js';
import { currentWindow } from '../../src/window/window.js';
import {
  MAINT_NOW_IN_WINDOW,
  PLAN_HEAD,
  refusedPort,
  startReceiver,
  writePlan,
  type Receiver,
} from '../helpers/receivers.js';

const TIMEOUT_MS = 300;
const RETRIES = 2;
const BACKOFF = { minMs: 50, maxMs: 200, factor: 2 };
/** Scheduling, connection set-up and timer granularity per attempt on a loaded 2-core runner. */
const SLACK_PER_ATTEMPT_MS = 100;

/** Independent of the code under test: each attempt times out, each wait is at its jitter maximum (×2), capped. */
function bound(): number {
  let waits = 0;
  for (let i = 0; i < RETRIES; i++) waits += Math.min(BACKOFF.maxMs, 2 * BACKOFF.minMs * BACKOFF.factor ** i);
  return TIMEOUT_MS * (RETRIES + 1) + waits + SLACK_PER_ATTEMPT_MS * (RETRIES + 1);
}

let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

async function sendTo(url: string, type: 'webhook' | 'slack') {
  const channel =
    type === 'webhook'
      ? `{ type: webhook, url: "${url}", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", timeout: ${TIMEOUT_MS}ms, retries: ${RETRIES} }`
      : `{ type: slack, url: "${url}/services/T1/B2/abc", timeout: ${TIMEOUT_MS}ms, retries: ${RETRIES} }`;
  const { file } = await writePlan(`${PLAN_HEAD}notify:\n  channels:\n    - ${channel}\n`);
  const loaded = await loadPlan(file);
  const clock = systemClock({ MAINT_NOW: MAINT_NOW_IN_WINDOW });
  const window = currentWindow(loaded.plan.window, clock.now())!;
  const channels = await createChannels(loaded.plan, loaded.dir);
  const event = makeEvent({ plan: loaded.plan, runId: 'r', type: 'maintenance_started', window }, clock);
  const started = performance.now();
  const outcomes = await deliver(channels, event, { backoff: BACKOFF });
  return { outcome: outcomes[0]!, elapsed: performance.now() - started };
}

describe.each(['webhook', 'slack'] as const)('%s channel failing', (type) => {
  it('connection refused: resolves with the failure after every attempt', async () => {
    const port = await refusedPort();
    const { outcome, elapsed } = await sendTo(`http://127.0.0.1:${port}`, type);
    expect(outcome).toMatchObject({ ok: false, attempts: RETRIES + 1 });
    expect(outcome.error).toMatch(/ECONNREFUSED/);
    expect(elapsed).toBeLessThan(bound());
  });

  it('HTTP 500: the receiver counts every retry; the status is in the outcome', async () => {
    receiver = await startReceiver(() => ({ status: 500 }));
    const { outcome, elapsed } = await sendTo(receiver.url, type);
    expect(receiver.requests).toHaveLength(RETRIES + 1);
    expect(outcome).toMatchObject({ ok: false, attempts: RETRIES + 1, status: 500 });
    expect(outcome.error).toMatch(/500/);
    expect(elapsed).toBeLessThan(bound());
    // Backoff happened: attempts are spaced by at least the minimum wait.
    const gaps = receiver.requests.slice(1).map((r, i) => r.at - receiver!.requests[i]!.at);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(BACKOFF.minMs - 5);
  });

  it('hanging receiver: every attempt times out, and the whole delivery stays within the bound', async () => {
    receiver = await startReceiver(() => 'hang');
    const { outcome, elapsed } = await sendTo(receiver.url, type);
    expect(receiver.requests).toHaveLength(RETRIES + 1);
    expect(outcome).toMatchObject({ ok: false, attempts: RETRIES + 1 });
    expect(outcome.error).toMatch(/timed out after 300 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS * (RETRIES + 1));
    expect(elapsed).toBeLessThan(bound());
  });

  it('recovers when the receiver comes back: a 503 then 200 is one delivery in two attempts', async () => {
    receiver = await startReceiver((_r, index) => ({ status: index === 0 ? 503 : 200 }));
    const { outcome } = await sendTo(receiver.url, type);
    expect(outcome).toMatchObject({ ok: true, attempts: 2 });
    expect(receiver.requests).toHaveLength(2);
  });

  it('a final answer (400) is not retried', async () => {
    receiver = await startReceiver(() => ({ status: 400, body: 'invalid_payload' }));
    const { outcome } = await sendTo(receiver.url, type);
    expect(outcome).toMatchObject({ ok: false, attempts: 1, status: 400 });
    expect(receiver.requests).toHaveLength(1);
  });
});
