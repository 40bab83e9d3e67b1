#!/usr/bin/env node
/**
 * Renders a sample status page with the built channel (dist/) and screenshots it in headless
 * Chromium, for docs/status-page.png. Run `npm run build` first.
 *
 *   node scripts/screenshot-status-page.js [out.png]   (default docs/status-page.png)
 *   CHROMIUM=/path/to/chromium overrides /usr/bin/chromium.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(process.argv[2] ?? path.join(repo, 'docs/status-page.png'));
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';

const { parsePlanText } = await import(pathToFileURL(path.join(repo, 'dist/plan/loader.js')).href);
const { createChannels } = await import(pathToFileURL(path.join(repo, 'dist/notify/registry.js')).href);
const { deliver } = await import(pathToFileURL(path.join(repo, 'dist/notify/deliver.js')).href);
const { makeEvent } = await import(pathToFileURL(path.join(repo, 'dist/notify/event-factory.js')).href);
/** A clock standing at one instant (the events' times on the page). */
const clockAt = (iso) => ({ now: () => new Date(iso), monotonicMs: () => 0, sleep: async () => undefined });

const work = await mkdtemp(path.join(tmpdir(), 'maint-status-shot-'));
try {
  const planText = (name) => `version: 1
name: ${name}
window: { timezone: Europe/Paris, days: [sun], start: "21:00", duration: 8h }
database: { engine: pglite, url: "memory://" }
notify:
  channels:
    - { type: status-page, dir: site/status, title: "Acme platform maintenance" }
`;
  const week = 7 * 86_400_000;
  const w = (start) => ({ start: new Date(start), end: new Date(Date.parse(start) + 8 * 3_600_000) });
  const steps = [
    ['billing-v3', 'maintenance_planned', w('2026-11-15T20:00:00Z'), '2026-11-14T20:00:00Z', {}],
    ['billing-v3', 'maintenance_completed', w('2026-11-15T20:00:00Z'), '2026-11-15T20:42:00Z', {}],
    [
      'search-reindex',
      'maintenance_rescheduled',
      w('2026-11-22T20:00:00Z'),
      '2026-11-22T23:50:00Z',
      { nextWindow: w(new Date(Date.parse('2026-11-22T20:00:00Z') + week).toISOString()) },
    ],
    ['orders-v2', 'maintenance_started', w('2026-11-29T20:00:00Z'), '2026-11-29T20:00:04Z', {}],
    ['sessions-ttl', 'maintenance_planned', w('2026-12-06T20:00:00Z'), '2026-11-29T20:05:00Z', {}],
  ];
  for (const [name, type, window, at, extra] of steps) {
    const plan = parsePlanText(planText(name), 'plan.yaml');
    const channels = await createChannels(plan, work);
    const event = makeEvent({ plan, runId: `run_${name}`, type, window, ...extra }, clockAt(at));
    const [outcome] = await deliver(channels, event);
    if (!outcome.ok) throw new Error(`status page not written: ${outcome.error}`);
  }
  const page = path.join(work, 'site/status/index.html');
  execFileSync(
    chromium,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--hide-scrollbars',
      `--user-data-dir=${path.join(work, 'profile')}`,
      `--screenshot=${out}`,
      '--window-size=1200,800',
      pathToFileURL(page).href,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  process.stdout.write(`wrote ${path.relative(process.cwd(), out)}\n`);
} finally {
  await rm(work, { recursive: true, force: true });
}
