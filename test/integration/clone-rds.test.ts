/**
 * clone-freeze with the RDS methods (`rds-blue-green`, `rds-snapshot`) and the `rds-upgrade`
 * operation, driven through the real @aws-sdk/client-rds against the stateful fake RDS
 * (test/helpers/fake-rds.ts): its instances are real PostgreSQL databases on the test server,
 * each behind its own endpoint port, so migrations, the freeze and ANALYZE really run. The fake
 * ticks per request, so every wait is as fast as maint polls (pollInterval 5ms here).
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres, postgresServerUrl, type FreshDatabase } from '../helpers/databases.js';
import { FakeRds } from '../helpers/fake-rds.js';
import { json, runCli, writePlan } from '../helpers/run-cli.js';

const AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIDFAKE',
  AWS_SECRET_ACCESS_KEY: 'fake-secret-never-printed',
  AWS_REGION: 'eu-west-1',
  AWS_EC2_METADATA_DISABLED: 'true',
};
const APP = 'maint_rds_app';
const BASE = `create table items (id serial primary key, v integer not null default 0);
insert into items (v) select g from generate_series(1, 500) g;
grant select, insert, update, delete on items to ${APP};
grant usage on all sequences in schema public to ${APP};`;
const MIGRATE = `alter table items add column note text not null default 'migrated';`;

let server: string;
const cleanup: Array<() => Promise<void>> = [];

beforeAll(async () => {
  server = await postgresServerUrl();
  await sql(
    server,
    `do $$ begin create role ${APP} login; exception when duplicate_object then null; end $$`,
  );
});
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});
afterAll(async () => {
  await sql(server, `drop role if exists ${APP}`).catch(() => undefined);
});

async function sql<T = Record<string, unknown>>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

async function columns(url: string): Promise<string[]> {
  const rows = await sql<{ c: string }>(
    url,
    `select column_name as c from information_schema.columns where table_name = 'items' order by ordinal_position`,
  );
  return rows.map((r) => r.c);
}

/**
 * A live database behind the fake instance `db1`: the base table made directly (as if by earlier
 * runs; it saves a CLI run per test), and 002 pending unless `migration` is ''.
 */
async function rig(strategy: string, options: { migration?: string; operations?: string } = {}) {
  const db: FreshDatabase = await freshPostgres();
  const fake = await FakeRds.start(server);
  cleanup.push(async () => {
    await fake.close();
    await db.drop();
  });
  await sql(db.url, BASE);
  const blue = await fake.addInstance({ id: 'db1', database: db.name });
  const url = fake.urlOf(blue);
  const migrations: Record<string, string> =
    options.migration === '' ? {} : { '002_note.sql': options.migration ?? MIGRATE };
  const written = await writePlan({
    name: `rds-${db.name.replaceAll('_', '-')}`,
    engine: 'postgres',
    url: '${LIVE_URL}',
    banner: false,
    migrations,
    extra:
      strategy.replaceAll('ENDPOINT', fake.url) +
      (options.operations?.replaceAll('ENDPOINT', fake.url) ?? ''),
  });
  return { db, fake, url, plan: written.file, env: { ...AWS_ENV, LIVE_URL: url }, written };
}

const blueGreen = (extra = '') =>
  `strategy:\n  kind: clone-freeze\n  clone:\n    method: rds-blue-green\n    rds:\n      instance: db1\n      endpoint: ENDPOINT\n      pollInterval: 5ms\n      waitTimeout: 60s\n      switchoverTimeout: 30s\n${extra}`;
const snapshot = (
  freeze = '  freeze:\n    grace: 200ms\n    maxDuration: 60s\n',
  estimate = '      estimate: 2s\n',
) =>
  `strategy:\n  kind: clone-freeze\n  clone:\n    method: rds-snapshot\n    rds:\n      instance: db1\n      endpoint: ENDPOINT\n      pollInterval: 5ms\n      waitTimeout: 60s\n${estimate}${freeze}`;

interface Out {
  status: string;
  code?: string;
  message?: string;
  error?: { code: string; message: string };
  steps: Array<{ name: string; status: string; detail: Record<string, unknown> | null }>;
  freeze?: { totalMs: number; phases: Array<{ name: string; ms: number }> };
  databaseUrl?: string;
}

describe('clone-freeze rds-blue-green (fake RDS, real SDK, real PostgreSQL)', () => {
  it('migrates green, switches over, ANALYZEs, deletes the deployment; the same URL names the migrated database', async () => {
    const r0 = await rig(blueGreen());
    const { fake } = r0;
    // Describes lag the create by 2 reads (not found), and the first request is throttled.
    fake.faults.lagReads = 2;
    fake.faults.throttle = 1;
    const r = await runCli(['run', r0.plan, '--json'], r0.env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = json<Out>(r);
    expect(out.status).toBe('completed');
    expect(out.steps.map((s) => s.name)).toEqual([
      'lock',
      'clone:prepare',
      'clone:migrate',
      'clone:analyze',
      'clone:cutover',
    ]);
    expect(out.freeze!.phases.map((p) => p.name)).toEqual(['switchover requested', 'switched']);
    expect(out.freeze!.totalMs).toBeGreaterThanOrEqual(0);
    const cutover = out.steps.at(-1)!.detail!;
    expect(cutover.sameEndpoint).toBe(true);
    expect(String(cutover.next)).toContain('already names the migrated database');
    // The plan's URL (the blue endpoint) now reaches the migrated database; -old1 the old one.
    expect(await columns(r0.url)).toEqual(['id', 'v', 'note']);
    expect(await columns(fake.urlOf('db1-old1'))).toEqual(['id', 'v']);
    const [analyzed] = await sql<{ at: Date | null }>(
      r0.url,
      `select last_analyze as at from pg_stat_user_tables where relname = 'items'`,
    );
    expect(analyzed!.at).not.toBeNull();
    expect(fake.deployments).toHaveLength(0);
    expect(fake.callsOf('DeleteBlueGreenDeployment').map((c) => c.params.DeleteTarget)).toEqual([undefined]);
    expect(fake.callsOf('SwitchoverBlueGreenDeployment')[0]!.params.SwitchoverTimeout).toBe('30');
    expect(fake.calls.some((c) => c.outcome === 'Throttling')).toBe(true);
    // The lagging describes (not found) did not end the wait: AVAILABLE was read 3 times in a row.
    const bg = fake.callsOf('DescribeBlueGreenDeployments').map((c) => c.answer);
    expect(bg.slice(0, 2)).toEqual(['absent', 'absent']);
    expect(r.stdout + r.stderr).not.toContain('fake-secret-never-printed');
    // maint's journal went on in the switched database: the run is recorded completed there.
    const [run] = await sql<{ status: string }>(
      r0.url,
      `select status from maint_runs order by started_at desc limit 1`,
    );
    expect(run!.status).toBe('completed');
  });

  it('a switchover RDS times out rolls back: blue serves and is writable, green deleted, exit 5', async () => {
    const r0 = await rig(blueGreen());
    const { fake } = r0;
    fake.faults.switchoverStalls = true;
    const r = await runCli(['run', r0.plan, '--json'], r0.env);
    expect(r.code, r.stderr + r.stdout).toBe(5);
    const out = json<Out>(r);
    expect(out.error?.code ?? out.code).toBe('CLONE_SWITCHOVER_FAILED');
    expect(fake.callsOf('DeleteBlueGreenDeployment').map((c) => c.params.DeleteTarget)).toEqual(['true']);
    expect(fake.deployments).toHaveLength(0);
    expect(fake.instances.map((i) => i.id)).toEqual(['db1']);
    // Blue: not migrated, writable as the application.
    expect(await columns(r0.url)).toEqual(['id', 'v']);
    const appUrl = new URL(r0.url);
    appUrl.username = APP;
    await sql(appUrl.toString(), 'insert into items (v) values (1)');
  });

  it('a green that never becomes available: rolled back before any switchover, exit 5', async () => {
    const r0 = await rig(blueGreen());
    r0.fake.faults.greenFails = true;
    const r = await runCli(['run', r0.plan, '--json'], r0.env);
    expect(r.code, r.stderr + r.stdout).toBe(5);
    expect(r.stdout).toContain('INVALID_CONFIGURATION');
    expect(r0.fake.callsOf('SwitchoverBlueGreenDeployment')).toHaveLength(0);
    expect(r0.fake.deployments).toHaveLength(0);
    expect(r0.fake.instances.map((i) => i.id)).toEqual(['db1']);
  });
});

describe('clone-freeze rds-snapshot', () => {
  it('freezes, snapshots, restores to a new instance, migrates it; the old one stays frozen', async () => {
    const r0 = await rig(snapshot());
    const { fake } = r0;
    const r = await runCli(['run', r0.plan, '--json'], r0.env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = json<Out>(r);
    expect(out.steps.map((s) => s.name)).toEqual(['lock', 'clone:cutover', 'clone:analyze']);
    expect(out.freeze!.phases.map((p) => p.name)).toEqual([
      'freeze on',
      'in-flight drained',
      'snapshot',
      'restored',
      'migrated',
    ]);
    const restored = fake.instances.find((i) => i.id !== 'db1')!;
    expect(restored.id).toMatch(/^db1-maint-/);
    expect(out.databaseUrl).toBe(fake.urlOf(restored));
    expect(await columns(fake.urlOf(restored))).toEqual(['id', 'v', 'note']);
    expect(await columns(r0.url)).toEqual(['id', 'v']);
    const app = (u: string) => Object.assign(new URL(u), { username: APP }).toString();
    // The copy takes the application's writes; the old database refuses them.
    await sql(app(fake.urlOf(restored)), 'insert into items (v) values (1)');
    await expect(sql(app(r0.url), 'insert into items (v) values (1)')).rejects.toThrow(
      /permission denied|read-only/,
    );
    expect(fake.snapshots.map((s) => s.status)).toEqual(['available']);
  });

  it('a migration failing on the restored instance: instance and snapshot deleted, live writable, exit 5', async () => {
    const r0 = await rig(snapshot(), { migration: 'alter table items add column broken nosuchtype;' });
    const { fake } = r0;
    const r = await runCli(['run', r0.plan, '--json'], r0.env);
    expect(r.code, r.stderr + r.stdout).toBe(5);
    expect(fake.instances.map((i) => i.id)).toEqual(['db1']);
    expect(fake.snapshots).toHaveLength(0);
    expect(fake.callsOf('DeleteDBInstance')).toHaveLength(1);
    const appUrl = Object.assign(new URL(r0.url), { username: APP }).toString();
    await sql(appUrl, 'insert into items (v) values (1)');
  });
});

describe('rds-upgrade operation', () => {
  const upgrade = (version = '16.1') =>
    `operations:\n  - name: pg16\n    kind: rds-upgrade\n    instance: db1\n    engineVersion: "${version}"\n    allowMajorVersionUpgrade: true\n    endpoint: ENDPOINT\n    pollInterval: 5ms\n    waitTimeout: 60s\n`;

  it('upgrades, waits past the lagging and premature "available" reads, then ANALYZEs', async () => {
    const r0 = await rig('', { operations: upgrade(), migration: '' });
    const { fake } = r0;
    fake.faults.lagReads = 2;
    const r = await runCli(['run', r0.plan, '--json'], r0.env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = json<Out>(r);
    const step = out.steps.find((s) => s.name === 'operation:pg16')!;
    expect(step.detail).toMatchObject({ from: '15.4', engineVersion: '16.1', pointOfNoReturn: true });
    expect(fake.instance('db1')!.engineVersion).toBe('16.1');
    const modify = fake.callsOf('ModifyDBInstance')[0]!;
    expect(modify.params).toMatchObject({
      EngineVersion: '16.1',
      AllowMajorVersionUpgrade: 'true',
      ApplyImmediately: 'true',
    });
    const answers = fake.calls
      .filter((c) => c.action === 'DescribeDBInstances' && c.tick > modify.tick)
      .map((c) => c.answer);
    // Stale (old version, available) first, then the one-tick "available" before the reboot: neither ended the wait.
    expect(answers.slice(0, 2)).toEqual(['available 15.4', 'available 15.4']);
    const blip = answers.indexOf('available 16.1');
    expect(answers[blip + 1]).toBe('rebooting 16.1');
    expect(answers.slice(-3)).toEqual(['available 16.1', 'available 16.1', 'available 16.1']);
    const [analyzed] = await sql<{ at: Date | null }>(
      r0.url,
      `select last_analyze as at from pg_stat_user_tables where relname = 'items'`,
    );
    expect(analyzed!.at).not.toBeNull();
  });

  it('an upgrade that leaves the instance incompatible-parameters: a clear error, exit 6', async () => {
    const r0 = await rig('', { operations: upgrade(), migration: '' });
    r0.fake.faults.upgradeFails = true;
    const r = await runCli(['run', r0.plan, '--json'], r0.env);
    expect(r.code, r.stderr + r.stdout).toBe(6);
    const out = json<Out>(r);
    expect(out.error?.code ?? out.code).toBe('RDS_UPGRADE_FAILED');
    expect(r.stdout).toContain('incompatible-parameters');
  });
});

describe('RDS preflight refusals (exit 2, nothing created)', () => {
  it('a blue-green plan without the instance id', async () => {
    const r0 = await rig(`strategy:\n  kind: clone-freeze\n  clone:\n    method: rds-blue-green\n`);
    const r = await runCli(['run', r0.plan, '--json'], r0.env);
    expect(r.code, r.stderr + r.stdout).toBe(2);
    expect(r.stdout).toContain('clone.rds.instance');
    expect(r0.fake.calls).toHaveLength(0);
  });

  it('an RDS endpoint that does not answer', async () => {
    const r0 = await rig(blueGreen().replace(/endpoint: \S+/, 'endpoint: http://127.0.0.1:9'));
    const r = await runCli(['run', r0.plan, '--json'], r0.env);
    expect(r.code, r.stderr + r.stdout).toBe(2);
    expect(json<Out>(r).error?.code ?? json<Out>(r).code).toBe('CLONE_PREFLIGHT');
    expect(r.stdout).toContain('does not answer');
  });

  it('an rds-snapshot whose snapshot + restore estimate is longer than maxDuration', async () => {
    const r0 = await rig(snapshot('', ''));
    const r = await runCli(['run', r0.plan, '--json'], r0.env);
    expect(r.code, r.stderr + r.stdout).toBe(2);
    expect(r.stdout).toContain('longer than freeze.maxDuration');
    expect(r0.fake.calls).toHaveLength(0);
  });
});
