/**
 * Acceptance 4: `maint/browser` in real headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core; no browser download). A page watches a real agent's /status (CORS) while the
 * agent announces a maintenance, runs it and completes it: the page shows and hides its notice,
 * and the Intercom Messenger (the real @intercom/messenger-js-sdk, bundled with the page) gets
 * the attribute updates and events in its command queue. Every non-local request is blocked, so
 * Intercom's servers are never contacted (the widget script the SDK asks for is counted).
 */
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as esbuild from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { plansDir, startAgent, writeAgentPlan, type AgentProcess } from '../helpers/agent.js';
import { REPO, waitFor } from '../helpers/run-cli.js';

const PAGE_SCRIPT = `
import { watchMaintenance } from 'maint/browser';
const notice = document.getElementById('notice');
window.__log = [];
watchMaintenance({
  url: new URLSearchParams(location.search).get('agent') + '/status',
  intervalMs: 150,
  intercom: { appId: 'abc123', user: { user_id: 'u-1', email: 'ann@example.com' } },
  onChange(state) {
    notice.hidden = !state.enabled;
    notice.textContent = state.state === 'active' ? 'Maintenance in progress' : 'Maintenance planned';
    window.__log.push({ state: state.state, visible: notice.checkVisibility() });
  },
  onError(error) { window.__errors = [...(window.__errors ?? []), String(error)]; },
});
`;

let db: FreshDatabase;
let dir: string;
let agent: AgentProcess | undefined;
let site: http.Server;
let browser: Browser | undefined;

beforeAll(async () => {
  db = await freshPostgres();
  dir = await plansDir();
});
afterAll(async () => {
  await browser?.close();
  if (agent && agent.child.exitCode === null) agent.child.kill('SIGTERM');
  await agent?.done;
  site?.closeAllConnections();
  if (site) await new Promise((r) => site.close(r));
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('maint/browser in Chromium', () => {
  it(
    'shows and hides the notice as the agent plans, runs and completes; Intercom gets updates and events',
    { timeout: 240_000 },
    async () => {
      const bundle = await esbuild.build({
        stdin: { contents: PAGE_SCRIPT, resolveDir: REPO, loader: 'js' },
        bundle: true,
        format: 'esm',
        platform: 'browser',
        write: false,
        logLevel: 'error',
      });
      const script = bundle.outputFiles[0]!.text;
      site = http.createServer((req, res) => {
        if (req.url?.startsWith('/page.js')) {
          res.writeHead(200, { 'content-type': 'text/javascript' });
          res.end(script);
          return;
        }
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(
          '<!doctype html><html><head><script src="/page.js" type="module"></script></head>' +
            '<body><div id="notice" hidden></div></body></html>',
        );
      });
      site.listen(0, '127.0.0.1');
      await once(site, 'listening');
      const origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;

      await writeAgentPlan(dir, {
        name: 'shop',
        engine: 'postgres',
        url: db.url,
        migrations: { '001_shop.sql': 'create table shop (id int); select pg_sleep(3);' },
      });
      // The window opens 25 s after the agent's clock starts: it announces at once (even on a busy
      // machine the first tick is done well before), and runs when the window opens.
      agent = await startAgent(dir, ['--cors', origin], { MAINT_NOW: '2026-12-03T20:59:35Z' });

      browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
      const page = await browser.newPage();
      const blocked: string[] = [];
      await page.route('**/*', async (route) => {
        const url = new URL(route.request().url());
        if (url.hostname === '127.0.0.1') await route.continue();
        else {
          blocked.push(url.href);
          await route.abort();
        }
      });
      await page.goto(`${origin}/?agent=${encodeURIComponent(agent.url)}`);

      type Entry = { state: string; visible: boolean };
      const log = await waitFor(
        'the page to see the maintenance planned, active, then off',
        async () => {
          const entries = (await page.evaluate('window.__log')) as Entry[];
          const states = entries.map((e) => e.state);
          const active = states.indexOf('active');
          return states.includes('planned') && active >= 0 && states.indexOf('off', active) > active
            ? entries
            : undefined;
        },
        150_000,
      );
      const seen = log.filter((e, i) => i === 0 || e.state !== log[i - 1]!.state);
      // The page may load before the first tick: an initial `off` is the truth then.
      if (seen[0]?.state === 'off') seen.shift();
      expect(seen).toEqual([
        { state: 'planned', visible: true },
        { state: 'active', visible: true },
        { state: 'off', visible: false },
      ]);
      expect(await page.evaluate('window.__errors ?? []')).toEqual([]);

      const settings = (await page.evaluate('window.intercomSettings')) as Record<string, unknown>;
      expect(settings).toMatchObject({ app_id: 'abc123', user_id: 'u-1', email: 'ann@example.com' });
      const queue = (await page.evaluate(
        'window.Intercom.q.map((args) => JSON.parse(JSON.stringify(Array.from(args))))',
      )) as unknown[][];
      const updates = queue
        .filter((c) => c[0] === 'update')
        .map((c) => (c[1] as { maintenance_state: string }).maintenance_state);
      const tracked = queue.filter((c) => c[0] === 'trackEvent').map((c) => c[1]);
      expect(updates.filter((s, i) => i === 0 || s !== updates[i - 1]).slice(-3)).toEqual([
        'planned',
        'active',
        'off',
      ]);
      expect(tracked).toEqual(['maintenance_planned', 'maintenance_started', 'maintenance_completed']);
      expect(queue.find((c) => c[0] === 'trackEvent')?.[2]).toMatchObject({ plan: 'shop' });
      // The SDK asked for Intercom's widget; it never left the machine.
      expect(blocked.some((u) => u.startsWith('https://widget.intercom.io/widget/abc123'))).toBe(true);
      expect(blocked.every((u) => !u.startsWith('http://127.0.0.1'))).toBe(true);
    },
  );
});
