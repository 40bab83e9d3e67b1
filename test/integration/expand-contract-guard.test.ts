/**
 * The expand/contract guard wired into `maint run`, `maint gate` and `maint plan`, with real
 * PostgreSQL, the built CLI and the `command` fleet provider (shell scripts that record every
 * deploy): a DROP COLUMN pending while v1 serves is refused before anything changes; it runs
 * once the fleet serves v2; rolling back to v1 afterwards is refused unless forced with a
 * reason, which is journaled.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { json, runCli, writePlan, type WrittenPlan } from '../helpers/run-cli.js';

let db: FreshDatabase;
let plan: WrittenPlan;
let client: pg.Client;
const hourAgo = () => String((new Date().getUTCHours() + 23) % 24).padStart(2, '0');
const DROP = 'alter table t drop column legacy;';
const DROP_DOWN = 'alter table t add column legacy text;';

const serving = async () => (await readFile(path.join(plan.dir, 'serving'), 'utf8')).trim();
const calls = () => readFile(path.join(plan.dir, 'calls'), 'utf8').catch(() => '');
const columns = async () =>
  (
    await client.query<{ column_name: string }>(
      "select column_name from information_schema.columns where table_name = 't' order by column_name",
    )
  ).rows.map((r) => r.column_name);
const tableExists = async (name: string) =>
  (await client.query('select 1 from information_schema.tables where table_name = $1', [name])).rowCount ===
  1;
const runRows = async () =>
  (await tableExists('maint_runs'))
    ? (
        await client.query<{ run_id: string; status: string; state: string | null; note: string | null }>(
          'select run_id, status, state, note from maint_runs order by started_at, run_id',
        )
      ).rows
    : [];
const banner = () => readFile(plan.bannerJson, 'utf8').catch(() => null);

beforeAll(async () => {
  db = await freshPostgres();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  plan = await writePlan({
    engine: 'postgres',
    url: db.url,
    migrations: {
      '001_t.sql': 'create table t (id int, legacy text);',
      '001_t.down.sql': 'drop table t;',
      '002_drop_legacy.sql': DROP,
      '002_drop_legacy.down.sql': DROP_DOWN,
    },
    window: `  timezone: UTC\n  days: [daily]\n  start: "${hourAgo()}:00"\n  duration: 24h`,
    extra: `release: \${RELEASE}
fleet:
  provider: command
  deploy: ./deploy.sh
  health: ./health.sh
  rollback: ./rollback.sh
  healthTimeout: 5s
  interval: 100ms
`,
  });
  const sh = (body: string) => `#!/bin/sh\nset -eu\n${body}\n`;
  const files = {
    'deploy.sh': sh('echo "$MAINT_RELEASE" > serving\necho "deploy $MAINT_RELEASE" >> calls'),
    'rollback.sh': sh('echo "$MAINT_RELEASE" > serving\necho "rollback $MAINT_RELEASE" >> calls'),
    'health.sh': sh(
      'now=$(cat serving)\n[ -z "$MAINT_RELEASE" ] && { echo "$now"; exit 0; }\n[ "$now" = "$MAINT_RELEASE" ] || { echo "serving $now"; exit 1; }',
    ),
  };
  for (const [name, body] of Object.entries(files))
    await writeFile(path.join(plan.dir, name), body, { mode: 0o755 });
  await writeFile(path.join(plan.dir, 'serving'), 'v1\n');
});

afterAll(async () => {
  await client?.end().catch(() => undefined);
  await db?.drop();
  if (plan) await rm(plan.dir, { recursive: true, force: true });
});

describe('expand/contract guard on a fleet roll', () => {
  it('refuses a contract migration while v1 serves, runs it once v2 serves, and refuses the rollback to v1 unless forced', async () => {
    // 1. v1 → v2 with DROP COLUMN pending: refused before anything changes.
    const refused = await runCli(['run', plan.file, '--json'], { RELEASE: 'v2' });
    expect(refused.code, refused.stderr).toBe(2);
    expect(json(refused)).toMatchObject({
      status: 'refused',
      runId: null,
      error: { code: 'CONTRACT_WHILE_OLD_RELEASE_SERVES' },
      guard: { target: 'v2', serving: ['v1'], contract: ['002_drop_legacy'], roll: { allowed: false } },
    });
    expect(await tableExists('t')).toBe(false);
    expect(await runRows()).toEqual([]);
    expect(await calls()).toBe('');
    expect(await serving()).toBe('v1');
    expect(await banner()).toBeNull();

    const human = await runCli(['run', plan.file], { RELEASE: 'v2' });
    expect(human.code).toBe(2);
    const said = human.stdout + human.stderr;
    expect(said).toContain('contract migration 002_drop_legacy would run while v1 still serves');
    expect(said).toContain('Roll the fleet to v2 with the expand migrations only');
    expect(said).not.toMatch(/\n\s+at /);

    const gate = await runCli(['gate', plan.file, '--json'], { RELEASE: 'v2' });
    expect(gate.code, gate.stderr).toBe(7);
    expect(json(gate)).toMatchObject({ allowed: false, reason: 'CONTRACT_WHILE_OLD_RELEASE_SERVES' });

    const preview = await runCli(['plan', plan.file], { RELEASE: 'v2' });
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toContain(
      'expand/contract guard: refused (CONTRACT_WHILE_OLD_RELEASE_SERVES): contract migration 002_drop_legacy',
    );
    expect(preview.stdout).toContain('would not run (CONTRACT_WHILE_OLD_RELEASE_SERVES)');

    // 2. The expand migration alone rolls v1 → v2.
    await rm(path.join(plan.migrationsDir, '002_drop_legacy.sql'));
    await rm(path.join(plan.migrationsDir, '002_drop_legacy.down.sql'));
    const expand = await runCli(['run', plan.file, '--json'], { RELEASE: 'v2' });
    expect(expand.code, expand.stderr).toBe(0);
    expect(json(expand)).toMatchObject({
      status: 'completed',
      applied: ['001_t'],
      guard: { roll: { allowed: true } },
    });
    expect(await serving()).toBe('v2');

    // 3. Later, with only v2 serving, the same DROP COLUMN runs.
    await writeFile(path.join(plan.migrationsDir, '002_drop_legacy.sql'), DROP);
    await writeFile(path.join(plan.migrationsDir, '002_drop_legacy.down.sql'), DROP_DOWN);
    const gateOk = await runCli(['gate', plan.file, '--json'], { RELEASE: 'v2' });
    expect(gateOk.code, gateOk.stdout).toBe(0);
    const contract = await runCli(['run', plan.file, '--json'], { RELEASE: 'v2' });
    expect(contract.code, contract.stderr).toBe(0);
    expect(json(contract)).toMatchObject({
      status: 'completed',
      applied: ['002_drop_legacy'],
      guard: { serving: ['v2'], contract: ['002_drop_legacy'], roll: { allowed: true } },
    });
    expect(await columns()).toEqual(['id']);
    expect(await calls()).toBe('deploy v2\n');

    // 4. Rolling back to v1 is refused: v1 may read the dropped column.
    const rowsBefore = await runRows();
    const bannerBefore = await banner();
    const back = await runCli(['run', plan.file, '--json'], { RELEASE: 'v1' });
    expect(back.code, back.stderr).toBe(2);
    expect(json(back)).toMatchObject({
      status: 'refused',
      error: { code: 'ROLLBACK_PAST_CONTRACT' },
      guard: { target: 'v1', serving: ['v2'], rollback: { allowed: false, code: 'ROLLBACK_PAST_CONTRACT' } },
    });
    expect(json<{ error: { message: string } }>(back).error.message).toContain(
      '002_drop_legacy ran while v2 served',
    );
    expect(await serving()).toBe('v2');
    expect(await runRows()).toEqual(rowsBefore);
    expect(await banner()).toBe(bannerBefore);
    const gateBack = await runCli(['gate', plan.file, '--json'], { RELEASE: 'v1' });
    expect(gateBack.code).toBe(7);
    expect(json(gateBack)).toMatchObject({ reason: 'ROLLBACK_PAST_CONTRACT' });

    // A blank reason is bad input.
    const blank = await runCli(['run', plan.file, '--json', '--force-rollback', '--reason', ' '], {
      RELEASE: 'v1',
    });
    expect(blank.code).toBe(2);
    expect(json(blank)).toMatchObject({ error: { code: 'FORCE_ROLLBACK_NEEDS_REASON' } });
    expect(blank.stderr).not.toMatch(/\n\s+at /);
    const orphan = await runCli(['run', plan.file, '--json', '--reason', 'why'], { RELEASE: 'v1' });
    expect(orphan.code).toBe(2);
    expect(json(orphan)).toMatchObject({ error: { code: 'REASON_WITHOUT_FLAG' } });

    // 5. Forced, with a reason: the fleet returns to v1 and the reason is journaled.
    const reason = 'v1 never reads t.legacy (checked in INC-42)';
    const forced = await runCli(['run', plan.file, '--json', '--force-rollback', '--reason', reason], {
      RELEASE: 'v1',
    });
    expect(forced.code, forced.stderr).toBe(0);
    const result = json<{ runId: string }>(forced);
    expect(result).toMatchObject({
      status: 'completed',
      guard: {
        rollback: { allowed: true },
        override: { reason, refused: expect.stringContaining('002_drop_legacy') },
      },
    });
    expect(await serving()).toBe('v1');
    const row = (await runRows()).find((r) => r.run_id === result.runId)!;
    expect(row.status).toBe('completed');
    expect(JSON.parse(row.state!)).toMatchObject({
      'guard.override': { reason },
      release: { before: 'v2', after: 'v1' },
    });
    expect(row.note).toContain(`forced rollback: ${reason}`);
  }, 120_000);
});
