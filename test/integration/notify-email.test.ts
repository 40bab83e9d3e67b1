/**
 * Email through a real SMTP server (smtp-server with authentication), parsed with mailparser.
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
  startSmtp,
  writePlan,
  type SmtpReceiver,
} from '../helpers/receivers.js';

let smtp: SmtpReceiver | undefined;
afterEach(async () => {
  await smtp?.close();
  smtp = undefined;
});

async function emailChannel(smtpUrl: string, extra = '') {
  const { file, dir } = await writePlan(`${PLAN_HEAD}notify:
  channels:
    - type: email
      smtp: "${smtpUrl}"
      from: "maint <ops@example.com>"
      to: [team@example.com, oncall@example.com]
      timeout: 2s
      retries: 1${extra}
`);
  const loaded = await loadPlan(file);
  const clock = systemClock({ MAINT_NOW: MAINT_NOW_IN_WINDOW });
  const window = currentWindow(loaded.plan.window, clock.now())!;
  return { loaded, dir, clock, window, channels: await createChannels(loaded.plan, loaded.dir) };
}

describe('email channel', () => {
  it('sends subject, text and HTML with the window in the plan zone, authenticated', async () => {
    smtp = await startSmtp('maint', 'p@ss word');
    const { loaded, clock, window, channels } = await emailChannel(smtp.url);
    const event = makeEvent(
      { plan: loaded.plan, runId: 'run_7', type: 'maintenance_planned', window },
      clock,
    );
    const [outcome] = await deliver(channels, event);
    expect(outcome).toMatchObject({ ok: true, attempts: 1, status: 250 });
    const [mail] = await smtp.waitFor(1);
    expect(smtp.logins).toEqual([{ username: 'maint', ok: true }]);
    expect(mail!.subject).toBe('[orders-v2] Maintenance planned: Sun 29 Nov 2026 21:00 CET');
    expect(mail!.from?.value).toEqual([{ name: 'maint', address: 'ops@example.com' }]);
    expect(mail!.to && !Array.isArray(mail!.to) ? mail!.to.text : '').toBe(
      'team@example.com, oncall@example.com',
    );
    expect(mail!.headers.get('x-maint-event-id')).toBe(event.id);
    expect(mail!.text).toContain(
      'Window:  Sun 29 Nov 2026 21:00 CET to Mon 30 Nov 2026 05:00 CET (Europe/Paris)',
    );
    expect(mail!.text).toContain('UTC:     2026-11-29T20:00:00.000Z to 2026-11-30T04:00:00.000Z');
    expect(mail!.html).toContain(
      '<td>Sun 29 Nov 2026 21:00 CET to Mon 30 Nov 2026 05:00 CET (Europe/Paris)</td>',
    );
  });

  it('escapes user text in the HTML body and keeps it plain in the text body', async () => {
    smtp = await startSmtp('maint', 'secret-pass');
    const { loaded, clock, window, channels } = await emailChannel(smtp.url);
    const summary = 'Upgrade <script>alert("x")</script> & friends';
    const event = makeEvent(
      { plan: loaded.plan, runId: 'r', type: 'maintenance_started', window, summary },
      clock,
    );
    expect((await deliver(channels, event))[0]).toMatchObject({ ok: true });
    const [mail] = await smtp.waitFor(1);
    expect(mail!.html).not.toContain('<script>');
    expect(mail!.html).toContain('Upgrade &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; friends');
    expect(mail!.text).toContain(summary);
  });

  it("uses the plan's template overrides", async () => {
    smtp = await startSmtp('maint', 'secret-pass');
    const { writeFile } = await import('node:fs/promises');
    const { file: _f, dir } = await writePlan('');
    await writeFile(`${dir}/mail.txt.hbs`, 'Custom {{plan}} from {{window.startText}}\n');
    const { loaded, clock, window, channels } = await emailChannel(
      smtp.url,
      `\n      templates: { subject: "{{label}} / {{plan}}", text: "${dir}/mail.txt.hbs" }`,
    );
    await deliver(
      channels,
      makeEvent({ plan: loaded.plan, runId: 'r', type: 'maintenance_completed', window }, clock),
    );
    const [mail] = await smtp.waitFor(1);
    expect(mail!.subject).toBe('Maintenance completed / orders-v2');
    expect(mail!.text?.trim()).toBe('Custom orders-v2 from Sun 29 Nov 2026 21:00 CET');
  });

  it('a missing template file is a plan error (exit 2) when the channels are built', async () => {
    await expect(
      emailChannel('smtp://u:p@127.0.0.1:25', '\n      templates: { html: ./nope.html.hbs }'),
    ).rejects.toMatchObject({ code: 'TEMPLATE_NOT_FOUND', exitCode: 2 });
  });

  it('preflight verifies the connection and credentials; a wrong password fails without retries', async () => {
    smtp = await startSmtp('maint', 'right-pass');
    const good = (await emailChannel(smtp.url)).channels[0]!;
    await expect(good.preflight!(AbortSignal.timeout(2000))).resolves.toBeUndefined();
    const badUrl = smtp.url.replace('right-pass', 'wrong-pass');
    const bad = await emailChannel(badUrl);
    await expect(bad.channels[0]!.preflight!(AbortSignal.timeout(2000))).rejects.toMatchObject({
      code: 'NOTIFY_DELIVERY_FAILED',
      status: 535,
    });
    const [outcome] = await deliver(
      bad.channels,
      makeEvent(
        { plan: bad.loaded.plan, runId: 'r', type: 'maintenance_started', window: bad.window },
        bad.clock,
      ),
    );
    expect(outcome).toMatchObject({ ok: false, attempts: 1, status: 535 });
    expect(outcome!.error).not.toContain('wrong-pass');
    expect(smtp.messages).toHaveLength(0);
  });
});
