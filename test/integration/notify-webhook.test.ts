/**
 * Standard Webhooks delivery, verified by the `standardwebhooks` library itself at a real local
 * receiver: through the built CLI and through deliver().
 */
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
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
  runMaint,
  startReceiver,
  writePlan,
  type Receiver,
} from '../helpers/receivers.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

function planWith(url: string, extra = ''): string {
  return `${PLAN_HEAD}notify:
  channels:
    - { type: webhook, url: "${url}", secret: "${SECRET}", timeout: 2s, retries: 1${extra} }
`;
}

function verify(body: string, headers: Record<string, string>): unknown {
  return new Webhook(SECRET).verify(body, headers);
}

describe('webhook channel', () => {
  it('`maint notify --event maintenance_planned` arrives signed and verifies', async () => {
    receiver = await startReceiver();
    const { file } = await writePlan(planWith(`${receiver.url}/hooks/maint`));
    const run = await runMaint(['notify', file, '--event', 'maintenance_planned', '--json'], {
      MAINT_NOW: MAINT_NOW_IN_WINDOW,
    });
    // With --json, stderr carries log records only; none may report a failure.
    expect(run.stderr).not.toMatch(/not delivered|error/);
    expect(run.code).toBe(0);
    const [request] = await receiver.waitFor(1);
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/hooks/maint');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const payload = verify(request!.body, request!.headers) as {
      type: string;
      data: Record<string, unknown>;
    };
    expect(payload.type).toBe('maintenance_planned');
    expect(payload.data).toMatchObject({
      plan: 'orders-v2',
      state: 'planned',
      window: {
        start: '2026-11-29T20:00:00.000Z',
        startLocal: '2026-11-29T21:00:00.000+01:00',
        timezone: 'Europe/Paris',
      },
    });
    expect(request!.headers['webhook-id']).toBe(payload.data.id);

    const result = JSON.parse(run.stdout) as {
      outcomes: Array<Record<string, unknown>>;
      event: { id: string };
    };
    expect(result.event.id).toBe(payload.data.id);
    expect(result.outcomes).toEqual([
      expect.objectContaining({ channel: 'webhook#0', ok: true, attempts: 1, status: 200 }),
    ]);
  });

  it('deliver(): started then completed arrive in order, each with its own webhook-id; a tampered body fails', async () => {
    receiver = await startReceiver();
    const { file } = await writePlan(planWith(receiver.url));
    const loaded = await loadPlan(file);
    const clock = systemClock({ MAINT_NOW: MAINT_NOW_IN_WINDOW });
    const window = currentWindow(loaded.plan.window, clock.now())!;
    const channels = await createChannels(loaded.plan, loaded.dir);
    const started = makeEvent(
      { plan: loaded.plan, runId: 'run_42', type: 'maintenance_started', window },
      clock,
    );
    const completed = makeEvent(
      { plan: loaded.plan, runId: 'run_42', type: 'maintenance_completed', window },
      clock,
    );
    expect((await deliver(channels, started))[0]).toMatchObject({ ok: true, eventId: started.id });
    expect((await deliver(channels, completed))[0]).toMatchObject({ ok: true, eventId: completed.id });

    const requests = await receiver.waitFor(2);
    const payloads = requests.map(
      (r) => verify(r.body, r.headers) as { type: string; data: { id: string; runId: string } },
    );
    expect(payloads.map((p) => p.type)).toEqual(['maintenance_started', 'maintenance_completed']);
    expect(requests.map((r) => r.headers['webhook-id'])).toEqual([started.id, completed.id]);
    expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(2);
    expect(payloads.every((p) => p.data.runId === 'run_42')).toBe(true);

    const tampered = requests[0]!.body.replace('maintenance_started', 'maintenance_completed');
    expect(tampered).not.toBe(requests[0]!.body);
    expect(() => verify(tampered, requests[0]!.headers)).toThrow(WebhookVerificationError);
    // Another message's signature does not fit either.
    expect(() =>
      verify(requests[0]!.body, {
        ...requests[0]!.headers,
        'webhook-signature': requests[1]!.headers['webhook-signature']!,
      }),
    ).toThrow(WebhookVerificationError);
  });

  it('a 410 answer disables the endpoint for the rest of the run', async () => {
    receiver = await startReceiver(() => ({ status: 410 }));
    const { file } = await writePlan(planWith(receiver.url));
    const loaded = await loadPlan(file);
    const clock = systemClock({ MAINT_NOW: MAINT_NOW_IN_WINDOW });
    const window = currentWindow(loaded.plan.window, clock.now())!;
    const channels = await createChannels(loaded.plan, loaded.dir);
    const first = await deliver(
      channels,
      makeEvent({ plan: loaded.plan, runId: 'r', type: 'maintenance_started', window }, clock),
    );
    const second = await deliver(
      channels,
      makeEvent({ plan: loaded.plan, runId: 'r', type: 'maintenance_completed', window }, clock),
    );
    expect(first[0]).toMatchObject({ ok: false, attempts: 1, status: 410, skipped: 'disabled' });
    expect(second[0]).toMatchObject({ ok: false, attempts: 0, skipped: 'disabled' });
    expect(receiver.requests).toHaveLength(1);
  });

  it('an event the channel is not subscribed to is not sent', async () => {
    receiver = await startReceiver();
    const { file } = await writePlan(planWith(receiver.url, ', events: [maintenance_completed]'));
    const run = await runMaint(['notify', file, '--event', 'maintenance_started', '--json'], {
      MAINT_NOW: MAINT_NOW_IN_WINDOW,
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).outcomes[0]).toMatchObject({ skipped: 'not-subscribed', attempts: 0 });
    expect(receiver.requests).toHaveLength(0);
  });

  it('an unknown --event is a usage error (exit 2) and sends nothing', async () => {
    receiver = await startReceiver();
    const { file } = await writePlan(planWith(receiver.url));
    const run = await runMaint(['notify', file, '--event', 'maintenance_exploded']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/maintenance_exploded/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(receiver.requests).toHaveLength(0);
  });
});
