/**
 * Slack and Intercom through their official clients, pointed at local stand-in HTTP servers:
 * the method, path, headers and JSON body those clients really send.
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
  startReceiver,
  writePlan,
  type Receiver,
} from '../helpers/receivers.js';

let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

async function send(channel: string, summary?: string) {
  const { file } = await writePlan(`${PLAN_HEAD}notify:\n  channels:\n    - ${channel}\n`);
  const loaded = await loadPlan(file);
  const clock = systemClock({ MAINT_NOW: MAINT_NOW_IN_WINDOW });
  const window = currentWindow(loaded.plan.window, clock.now())!;
  const channels = await createChannels(loaded.plan, loaded.dir);
  const event = makeEvent(
    {
      plan: loaded.plan,
      runId: 'run_9',
      type: 'maintenance_started',
      window,
      ...(summary ? { summary } : {}),
    },
    clock,
  );
  const outcomes = await deliver(channels, event);
  return { event, outcome: outcomes[0]! };
}

describe('slack channel', () => {
  it('posts blocks and a text fallback to the incoming-webhook URL, window in the plan zone', async () => {
    receiver = await startReceiver(() => ({
      status: 200,
      body: 'ok',
      headers: { 'content-type': 'text/plain' },
    }));
    const { outcome } = await send(
      `{ type: slack, url: "${receiver.url}/services/T000/B000/XXXX" }`,
      'Orders <b>&</b> <!channel> go read-only',
    );
    expect(outcome).toMatchObject({ ok: true, attempts: 1 });
    const [request] = await receiver.waitFor(1);
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/services/T000/B000/XXXX');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['user-agent']).toMatch(/@slack:webhook/);
    const body = JSON.parse(request!.body) as {
      text: string;
      blocks: Array<{ type: string; text?: { type: string; text: string } }>;
    };
    expect(body.text).toBe(
      'Maintenance started: orders-v2. Orders &lt;b&gt;&amp;&lt;/b&gt; &lt;!channel&gt; go read-only',
    );
    expect(body.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
    expect(body.blocks[0]!.text).toEqual({
      type: 'plain_text',
      text: 'Maintenance started: orders-v2',
      emoji: true,
    });
    expect(body.blocks[1]!.text!.type).toBe('mrkdwn');
    expect(body.blocks[1]!.text!.text).toContain(
      '*Window:* Sun 29 Nov 2026 21:00 CET → Mon 30 Nov 2026 05:00 CET (Europe/Paris)',
    );
    // User text cannot ping a channel or open a link.
    expect(body.blocks[1]!.text!.text).not.toContain('<!channel>');
  });
});

describe('intercom channel', () => {
  const token = 'dG9rOjEyMzQ1Njc4OTA=';

  it('mode event: one data event per user at POST /events with the bearer token', async () => {
    receiver = await startReceiver(() => ({ status: 202, body: '' }));
    const { event, outcome } = await send(
      `{ type: intercom, token: "${token}", baseUrl: "${receiver.url}", userIds: [u-1, u-2] }`,
    );
    expect(outcome).toMatchObject({ ok: true, attempts: 1 });
    const requests = await receiver.waitFor(2);
    for (const r of requests) {
      expect(r.method).toBe('POST');
      expect(r.path).toBe('/events');
      expect(r.headers.authorization).toBe(`Bearer ${token}`);
      expect(r.headers['intercom-version']).toMatch(/^\d+\.\d+$/);
      expect(r.headers['content-type']).toMatch(/^application\/json/);
    }
    const bodies = requests
      .map((r) => JSON.parse(r.body) as Record<string, unknown>)
      .sort((a, b) => String(a.user_id).localeCompare(String(b.user_id)));
    expect(bodies[0]).toEqual({
      user_id: 'u-1',
      event_name: 'maintenance_started',
      created_at: Math.floor(Date.parse(event.occurredAt) / 1000),
      metadata: {
        plan: 'orders-v2',
        run_id: 'run_9',
        event_id: event.id,
        state: 'active',
        summary: event.summary,
        window_start: '2026-11-29T20:00:00.000Z',
        window_end: '2026-11-30T04:00:00.000Z',
        window_start_local: '2026-11-29T21:00:00.000+01:00',
        window_end_local: '2026-11-30T05:00:00.000+01:00',
        timezone: 'Europe/Paris',
      },
    });
    expect(bodies[1]!.user_id).toBe('u-2');
  });

  it('mode message: an admin-initiated email per contact at POST /messages, HTML escaped', async () => {
    receiver = await startReceiver(() => ({
      status: 200,
      body: JSON.stringify({ type: 'admin_message', id: '1' }),
    }));
    const { outcome } = await send(
      `{ type: intercom, token: "${token}", baseUrl: "${receiver.url}", mode: message, adminId: "814860", userIds: [6329bd9ffe4e2e91dac76188] }`,
      'DB <script>upgrade</script>',
    );
    expect(outcome).toMatchObject({ ok: true });
    const [request] = await receiver.waitFor(1);
    expect(request!.path).toBe('/messages');
    expect(request!.headers.authorization).toBe(`Bearer ${token}`);
    const body = JSON.parse(request!.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      message_type: 'email',
      subject: 'Maintenance started: Sun 29 Nov 2026 21:00 CET',
      template: 'plain',
      from: { type: 'admin', id: 814860 },
      to: { type: 'user', id: '6329bd9ffe4e2e91dac76188' },
    });
    expect(body.body).toContain('DB &lt;script&gt;upgrade&lt;/script&gt;');
    expect(body.body).toContain('Sun 29 Nov 2026 21:00 CET to Mon 30 Nov 2026 05:00 CET (Europe/Paris)');
  });

  it('401 from Intercom is final: one attempt, status in the outcome', async () => {
    receiver = await startReceiver(() => ({
      status: 401,
      body: JSON.stringify({ type: 'error.list', errors: [{ code: 'unauthorized' }] }),
    }));
    const { outcome } = await send(
      `{ type: intercom, token: "${token}", baseUrl: "${receiver.url}", userIds: [u-1], retries: 3 }`,
    );
    expect(outcome).toMatchObject({ ok: false, attempts: 1, status: 401 });
    expect(receiver.requests).toHaveLength(1);
  });
});
