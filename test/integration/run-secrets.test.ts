/**
 * A canary password in the database URL and a canary webhook secret appear nowhere a person or
 * a machine can read them: stdout, stderr (human and --json), the journal tables, the lock
 * holders table, the banner files, or the webhook bodies. Also when the server is unreachable
 * and the driver's error would quote the URL.
 */
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { refusedPort, startReceiver, type Receiver } from '../helpers/receivers.js';
import { runCli, writePlan } from '../helpers/run-cli.js';

const CANARY = 'Canary5ecret7q';
const HOOK_SECRET = 'whsec_' + Buffer.from(`${CANARY}-hook-secret-bytes`).toString('base64');

function withPassword(url: string): string {
  const u = new URL(url);
  u.password = CANARY;
  return u.toString();
}

function expectNoCanary(where: string, text: string): void {
  expect(text.includes(CANARY), `${where} contains the canary`).toBe(false);
  expect(text.includes(HOOK_SECRET.slice(6, 30)), `${where} contains the webhook secret`).toBe(false);
}

describe('secrets during maint run', () => {
  let database: FreshDatabase | undefined;
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    await database?.drop();
    receiver = undefined;
    database = undefined;
  });

  it('never show up in output, journal, banner or webhook bodies', async () => {
    database = await freshPostgres();
    receiver = await startReceiver();
    const plan = await writePlan({
      engine: 'postgres',
      url: '${DATABASE_URL}',
      migrations: { '001_t.sql': 'create table t (id int);', '001_t.down.sql': 'drop table t;' },
      extra: `notify:\n  channels:\n    - { type: webhook, url: "${receiver.url}/hook", secret: "\${HOOK_SECRET}" }\n`,
      banner: false,
    });
    const env = { DATABASE_URL: withPassword(database.url), HOOK_SECRET };

    const human = await runCli(['run', plan.file], env);
    expect(human.code, human.stderr).toBe(0);
    expectNoCanary('stdout', human.stdout);
    expectNoCanary('stderr', human.stderr);
    for (const command of ['status', 'lock', 'plan', 'migrate']) {
      const r = await runCli([command, plan.file, '--json'], env);
      expectNoCanary(`${command} --json stdout`, r.stdout);
      expectNoCanary(`${command} --json stderr`, r.stderr);
    }

    await receiver.waitFor(2);
    for (const request of receiver.requests) expectNoCanary('webhook body', request.body);

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      for (const table of ['maint_runs', 'maint_run_steps', 'maint_lock_holders', 'maint_migrations']) {
        const rows = await client.query(`select * from "${table}"`);
        expectNoCanary(`table ${table}`, JSON.stringify(rows.rows));
      }
    } finally {
      await client.end();
    }
  });

  it('are masked when the server cannot be reached', async () => {
    const port = await refusedPort();
    const plan = await writePlan({
      engine: 'postgres',
      url: `postgres://app:${CANARY}@127.0.0.1:${port}/app`,
      migrations: { '001_t.sql': 'create table t (id int);' },
      banner: false,
    });
    for (const args of [
      ['run', plan.file],
      ['run', plan.file, '--json'],
      ['migrate', plan.file],
    ]) {
      const r = await runCli(args);
      expect(r.code, r.stderr).toBe(2);
      expectNoCanary(`${args.join(' ')} stdout`, r.stdout);
      expectNoCanary(`${args.join(' ')} stderr`, r.stderr);
      expect(r.stdout + r.stderr).toContain(`127.0.0.1:${port}`);
    }
    expect(await readFile(plan.file, 'utf8')).toContain(CANARY);
  });
});
