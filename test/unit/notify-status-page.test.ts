import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fakes.js';
import type { EventType } from '../../src/core/maintenance-event.js';
import { makeEvent } from '../../src/notify/event-factory.js';
import { deliver } from '../../src/notify/deliver.js';
import { createChannels } from '../../src/notify/registry.js';
import type { StatusDocument } from '../../src/notify/status-page.js';
import { parsePlanText } from '../../src/plan/parse.js';

const XSS = '<script>alert(1)</script>';

function plan(title: string) {
  return parsePlanText(
    `version: 1
name: orders-v2
window: { timezone: Europe/Paris, days: [sun], start: "21:00", duration: 8h }
database: { engine: pglite, url: memory:// }
notify:
  channels:
    - type: status-page
      dir: public/status
      title: ${JSON.stringify(title)}
`,
    'plan.yaml',
  );
}
const w1 = { start: new Date('2026-11-29T20:00:00Z'), end: new Date('2026-11-30T04:00:00Z') };
const w2 = { start: new Date('2026-12-06T20:00:00Z'), end: new Date('2026-12-07T04:00:00Z') };

async function send(
  dir: string,
  title: string,
  type: EventType,
  summary?: string,
  extra: Record<string, unknown> = {},
) {
  const p = plan(title);
  // A new channel each time: history must come from status.json, not from memory.
  const channels = await createChannels(p, dir);
  const event = makeEvent(
    { plan: p, runId: 'run_1', type, window: w1, ...(summary ? { summary } : {}), ...extra },
    new FakeClock('2026-11-29T20:10:00Z'),
  );
  const [outcome] = await deliver(channels, event);
  expect(outcome).toMatchObject({ ok: true });
  const out = path.join(dir, 'public/status');
  return {
    json: JSON.parse(await readFile(path.join(out, 'status.json'), 'utf8')) as StatusDocument,
    html: await readFile(path.join(out, 'index.html'), 'utf8'),
    files: await readdir(out),
  };
}

describe('status page channel', () => {
  it('moves one maintenance from upcoming to active to past, keeping history in status.json', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'maint-status-'));
    let page = await send(dir, 'Acme status', 'maintenance_planned');
    expect(page.json.upcoming.map((e) => e.state)).toEqual(['planned']);
    expect(page.json.active).toEqual([]);
    page = await send(dir, 'Acme status', 'maintenance_started');
    expect(page.json.upcoming).toEqual([]);
    expect(page.json.active[0]).toMatchObject({
      plan: 'orders-v2',
      state: 'active',
      window: { start: '2026-11-29T20:00:00.000Z', startLocal: '2026-11-29T21:00:00.000+01:00' },
    });
    expect(page.html).toContain('Sun 29 Nov 2026 21:00 CET');
    page = await send(dir, 'Acme status', 'maintenance_completed');
    expect(page.json.active).toEqual([]);
    expect(page.json.past.map((e) => e.state)).toEqual(['completed']);
    // Only the two published files: temporary files were renamed into place.
    expect(page.files.sort()).toEqual(['index.html', 'status.json']);
  });

  it('a reschedule closes this window and plans the next one', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'maint-status-'));
    const page = await send(dir, 'Acme status', 'maintenance_rescheduled', undefined, { nextWindow: w2 });
    expect(page.json.past.map((e) => [e.state, e.window.start])).toEqual([
      ['rescheduled', '2026-11-29T20:00:00.000Z'],
    ]);
    expect(page.json.upcoming.map((e) => [e.state, e.window.start])).toEqual([
      ['planned', '2026-12-06T20:00:00.000Z'],
    ]);
  });

  it('escapes <script> from the title and the summary in index.html', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'maint-status-'));
    const page = await send(dir, `Acme ${XSS}`, 'maintenance_started', `Upgrade ${XSS} & more`);
    expect(page.html).not.toContain(XSS);
    expect(page.html).toContain('<title>Acme &lt;script&gt;alert(1)&lt;/script&gt;</title>');
    expect(page.html).toContain('Upgrade &lt;script&gt;alert(1)&lt;/script&gt; &amp; more');
    // JSON is data, not markup: the text is kept as written.
    expect(page.json.active[0]!.summary).toBe(`Upgrade ${XSS} & more`);
  });

  it('starts a new history when status.json is not one of ours', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'maint-status-'));
    await send(dir, 'Acme status', 'maintenance_planned');
    await writeFile(path.join(dir, 'public/status/status.json'), '{ not json');
    const page = await send(dir, 'Acme status', 'maintenance_started');
    expect(page.json.upcoming).toEqual([]);
    expect(page.json.active).toHaveLength(1);
  });
});
