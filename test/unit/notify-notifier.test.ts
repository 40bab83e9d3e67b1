import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fakes.js';
import {
  ChannelGoneError,
  DeliveryError,
  type Channel,
  type DeliveryPolicy,
} from '../../src/notify/channel.js';
import { makeEvent } from '../../src/notify/event-factory.js';
import { deliver, deliveryBudgetMs, isDisabled } from '../../src/notify/deliver.js';
import { createMemoryLogger } from '../../src/support/logger.js';
import { registerSecret } from '../../src/support/redact.js';
import { parsePlanText } from '../../src/plan/parse.js';

const plan = parsePlanText(
  `version: 1
name: demo
window: { timezone: UTC, days: [daily], start: "00:00", duration: 8h }
database: { engine: pglite, url: memory:// }
`,
  'plan.yaml',
);
const event = makeEvent(
  {
    plan,
    runId: 'r1',
    type: 'maintenance_started',
    window: { start: new Date('2026-01-01T00:00:00Z'), end: new Date('2026-01-01T08:00:00Z') },
  },
  new FakeClock('2026-01-01T00:00:01Z'),
);
const fast = { minMs: 1, maxMs: 5, factor: 2 };

/** A test fake of the Channel port that fails the first `failures` attempts with `error`. */
function fake(
  id: string,
  behaviour: (attempt: number, signal: AbortSignal) => Promise<{ status?: number }>,
  delivery?: DeliveryPolicy,
): Channel & { calls: number } {
  const channel = {
    type: 'webhook' as const,
    id,
    calls: 0,
    ...(delivery ? { delivery } : {}),
    render: async () => ({ target: id, text: '' }),
    send: async (_e: unknown, ctx: { attempt: number; signal: AbortSignal }) => {
      channel.calls++;
      return behaviour(ctx.attempt, ctx.signal);
    },
  };
  return channel;
}

describe('deliver', () => {
  it('retries a failing channel and reports the attempts', async () => {
    const flaky = fake(
      'flaky',
      async (attempt) => {
        if (attempt < 3) throw new DeliveryError('HTTP 500', { status: 500 });
        return { status: 200 };
      },
      { timeoutMs: 1000, retries: 3 },
    );
    const [o] = await deliver([flaky], event, { backoff: fast });
    expect(o).toMatchObject({
      channel: 'flaky',
      ok: true,
      attempts: 3,
      status: 200,
      eventId: event.id,
      event: 'maintenance_started',
    });
    expect(flaky.calls).toBe(3);
  });

  it('never rejects: a channel that throws anything becomes a failed outcome, others still deliver', async () => {
    const bad = fake(
      'bad',
      async () => {
        throw new TypeError('not a network error');
      },
      { timeoutMs: 1000, retries: 1 },
    );
    const good = fake('good', async () => ({ status: 204 }));
    const outcomes = await deliver([bad, good], event, { backoff: fast });
    expect(outcomes.map((o) => [o.channel, o.ok])).toEqual([
      ['bad', false],
      ['good', true],
    ]);
    expect(outcomes[0]).toMatchObject({ attempts: 2, error: 'not a network error' });
  });

  it('bounds a hanging channel that ignores its signal by timeout × attempts + backoff', async () => {
    const policy = { timeoutMs: 60, retries: 2 };
    const hang = fake('hang', () => new Promise(() => undefined), policy);
    const started = performance.now();
    const [o] = await deliver([hang], event, { backoff: fast });
    const elapsed = performance.now() - started;
    expect(o).toMatchObject({ ok: false, attempts: 3, error: 'timed out after 60 ms' });
    expect(elapsed).toBeGreaterThanOrEqual(policy.timeoutMs * 3 - 5);
    // Timer granularity and scheduling: allow 50 ms per attempt over the computed budget.
    expect(elapsed).toBeLessThan(deliveryBudgetMs(policy, fast) + 50 * 3);
  });

  it('does not retry a final answer (4xx), and a 410 disables the channel for the run', async () => {
    const rejected = fake('rejected', async () => {
      throw new DeliveryError('HTTP 401', { status: 401, retryable: false });
    });
    const gone = fake('gone', async () => {
      throw new ChannelGoneError('HTTP 410 Gone');
    });
    const outcomes = await deliver([rejected, gone], event, { backoff: fast });
    expect(outcomes[0]).toMatchObject({ ok: false, attempts: 1, status: 401 });
    expect(outcomes[1]).toMatchObject({ ok: false, attempts: 1, status: 410, skipped: 'disabled' });
    expect(isDisabled(gone)).toBe(true);
    const [again] = await deliver([gone], event, { backoff: fast });
    expect(again).toMatchObject({ ok: false, attempts: 0, skipped: 'disabled' });
    expect(gone.calls).toBe(1);
  });

  it('skips events a channel is not subscribed to', async () => {
    const picky = fake('picky', async () => ({}), {
      timeoutMs: 100,
      retries: 0,
      events: ['maintenance_completed'],
    });
    const [o] = await deliver([picky], event);
    expect(o).toMatchObject({ ok: true, attempts: 0, skipped: 'not-subscribed' });
    expect(picky.calls).toBe(0);
  });

  it('redacts secrets from failure reasons and logs', async () => {
    registerSecret('s3cr3t-canary-value');
    const leaky = fake('leaky', async () => {
      throw new DeliveryError('POST https://x.test/?k=s3cr3t-canary-value refused', { retryable: false });
    });
    const logger = createMemoryLogger();
    const [o] = await deliver([leaky], event, { logger });
    expect(o!.error).toContain('refused');
    expect(o!.error).not.toContain('s3cr3t-canary-value');
    expect(logger.lines.join('\n')).toContain('leaky');
    expect(logger.lines.join('\n')).not.toContain('s3cr3t-canary-value');
  });

  it('budget: timeout × attempts plus each wait at its jitter maximum, capped', () => {
    expect(deliveryBudgetMs({ timeoutMs: 1000, retries: 3 }, { minMs: 100, maxMs: 300, factor: 2 })).toBe(
      4000 + 200 + 300 + 300,
    );
  });
});
