/**
 * The `command` fleet provider through the built CLI: the plan's deploy, health and rollback
 * commands get MAINT_RELEASE and MAINT_DATABASE_URL; a release whose health never passes is
 * rolled back with the rollback command (exit 5), and `maint status` shows the release served.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { json, runCli, writePlan, type WrittenPlan } from '../helpers/run-cli.js';

let db: FreshDatabase;
let plan: WrittenPlan;
const hourAgo = () => String((new Date().getUTCHours() + 23) % 24).padStart(2, '0');

beforeAll(async () => {
  db = await freshPostgres();
  plan = await writePlan({
    engine: 'postgres',
    url: db.url,
    migrations: { '001_t.sql': 'create table t (id int);', '001_t.down.sql': 'drop table t;' },
    banner: false,
    window: `  timezone: UTC\n  days: [daily]\n  start: "${hourAgo()}:00"\n  duration: 24h`,
    extra: `release: \${RELEASE}
fleet:
  provider: command
  deploy: ./deploy.sh
  health: ./health.sh
  rollback: ./rollback.sh
  healthTimeout: 2s
  interval: 100ms
`,
  });
  const sh = (body: string) => `#!/bin/sh\nset -eu\n${body}\n`;
  const files = {
    'deploy.sh': sh(
      'echo "$MAINT_RELEASE" > serving\necho "deploy $MAINT_RELEASE db=${MAINT_DATABASE_URL%%@*}" >> calls',
    ),
    'rollback.sh': sh('echo "$MAINT_RELEASE" > serving\necho "rollback $MAINT_RELEASE" >> calls'),
    // Healthy unless the release is named "broken"; with MAINT_RELEASE empty it names what serves.
    'health.sh': sh(
      'now=$(cat serving)\n[ -z "$MAINT_RELEASE" ] && { echo "$now"; exit 0; }\n[ "$now" = "$MAINT_RELEASE" ] && [ "$now" != broken ] || { echo "serving $now"; exit 1; }',
    ),
  };
  for (const [name, body] of Object.entries(files))
    await writeFile(path.join(plan.dir, name), body, { mode: 0o755 });
  await writeFile(path.join(plan.dir, 'serving'), 'v1\n');
});

afterAll(async () => {
  await db?.drop();
});

describe('fleet provider command', () => {
  it('rolls with deploy, gates on health, and journals the release served', async () => {
    const preview = await runCli(['plan', plan.file, '--json'], { RELEASE: 'v2' });
    expect(json(preview)).toMatchObject({
      steps: expect.arrayContaining([expect.objectContaining({ name: 'fleet:roll' })]),
      fleet: { serving: 'v1', to: 'v2', pending: true, mode: 'rolling' },
    });
    const r = await runCli(['run', plan.file, '--json'], { RELEASE: 'v2' });
    expect(r.code, r.stderr).toBe(0);
    expect((await readFile(path.join(plan.dir, 'serving'), 'utf8')).trim()).toBe('v2');
    const calls = await readFile(path.join(plan.dir, 'calls'), 'utf8');
    expect(calls).toContain('deploy v2 db=postgres://');
    const statusOut = await runCli(['status', plan.file, '--json'], { RELEASE: 'any' });
    const status = json<{ release: string }>(statusOut);
    expect(status.release, statusOut.stdout).toBe('v2');
    // Nothing pending and the fleet serves v2: nothing to do.
    const again = await runCli(['run', plan.file, '--json'], { RELEASE: 'v2' });
    expect(json(again)).toMatchObject({ status: 'nothing_pending' });
  }, 60_000);

  it('rolls back with the rollback command when health never passes: exit 5, previous release serving', async () => {
    await writeFile(path.join(plan.migrationsDir, '002_u.sql'), 'create table u (id int);');
    await writeFile(path.join(plan.migrationsDir, '002_u.down.sql'), 'drop table u;');
    const r = await runCli(['run', plan.file, '--json'], { RELEASE: 'broken' });
    expect(r.code, r.stderr).toBe(5);
    expect(json(r)).toMatchObject({ status: 'rolled_back', error: { code: 'FLEET_UNHEALTHY' } });
    expect((await readFile(path.join(plan.dir, 'serving'), 'utf8')).trim()).toBe('v2');
    expect(await readFile(path.join(plan.dir, 'calls'), 'utf8')).toMatch(
      /deploy broken[^\n]*\nrollback v2\n$/,
    );
    const status = json<{ release: string }>(
      await runCli(['status', plan.file, '--json'], { RELEASE: 'any' }),
    );
    expect(status.release).toBe('v2');
  }, 60_000);
});
