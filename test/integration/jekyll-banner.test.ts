/**
 * A real Jekyll build (Debian's `jekyll`) of a site whose layout uses the banner snippet: the
 * banner shows when `maint` writes it active and disappears when it writes it off. Jekyll reads
 * YAML 1.1, so the text is chosen to break an unquoted writer (colon, quotes, `no`, 12:30).
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli, writePlan, type WrittenPlan } from '../helpers/run-cli.js';

const run = promisify(execFile);
let root: string;
let plan: WrittenPlan;

beforeAll(async () => {
  // Fail loudly when Jekyll is missing: .ci installs it (apt-get install jekyll).
  await run('jekyll', ['--version']).catch((error: Error) => {
    throw new Error(`jekyll is not installed (apt-get install -y jekyll): ${error.message}`);
  });
  root = await mkdtemp(path.join(tmpdir(), 'maint-jekyll-'));
  await cp(path.join(REPO, 'test/fixtures/site'), path.join(root, 'site'), { recursive: true });
  plan = await writePlan(
    {
      engine: 'pglite',
      url: 'memory://',
      migrations: {},
      banner: false,
      window: '  timezone: Europe/Paris\n  days: [sun]\n  start: "21:00"\n  duration: 2h',
      extra:
        'notify:\n  banner:\n    file: site/_data/banner_notification.yml\n    text: \'Maintenance: "{{plan.name}}" {{window.startLocal}} - no, on 12:30 & <b>\'\n    url: https://status.example.com/m\n',
    },
    root,
  );
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function build(): Promise<string> {
  const dest = path.join(root, '_site');
  await run('jekyll', ['build', '--quiet', '--source', path.join(root, 'site'), '--destination', dest], {
    env: { ...process.env, JEKYLL_ENV: 'production' },
  });
  return readFile(path.join(dest, 'index.html'), 'utf8');
}

describe('banner in a Jekyll build', () => {
  it('shows the banner when active and hides it when off', async () => {
    const env = { MAINT_NOW: '2026-11-25T12:00:00Z' };
    const active = await runCli(['banner', plan.file, '--state', 'active'], env);
    expect(active.code, active.stderr).toBe(0);
    const on = await build();
    expect(on).toContain('class="maintenance-banner"');
    expect(on).toContain('data-state="active"');
    expect(on).toContain(
      'Maintenance: &quot;orders&quot; Sun 29 Nov 2026 21:00 CET - no, on 12:30 &amp; &lt;b&gt;',
    );
    expect(on).toContain('href="https://status.example.com/m"');
    expect(on).toContain('Body text.');

    const off = await runCli(['banner', plan.file, '--state', 'off'], env);
    expect(off.code, off.stderr).toBe(0);
    const html = await build();
    expect(html).not.toContain('maintenance-banner');
    expect(html).toContain('Body text.');
  });
});
