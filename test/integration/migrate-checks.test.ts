/**
 * Acceptance 4 and the command surface: a changed applied migration is refused by `migrate`
 * (exit 2, naming the file) and shown by `migrate status`; a held lock is exit 4 naming the holder; `maint lock` shows the holder while a
 * migration runs; `lock release` refuses a live holder and frees a stale (frozen) one.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freshMysql, freshPostgres, type FreshDatabase } from '../helpers/databases.js';
import { runCli, startCli, waitUntil, writePlan, type RunningCli } from './migrate-support.js';

const cases = [
  { engine: 'postgres' as const, fresh: freshPostgres, sleep: 'select pg_sleep(30)' },
  { engine: 'mysql' as const, fresh: freshMysql, sleep: 'select sleep(30)' },
];

describe.each(cases)('$engine: migrate and lock commands', ({ engine, fresh, sleep }) => {
  let fdb: FreshDatabase | undefined;
  let running: RunningCli | undefined;
  afterEach(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGCONT');
      running.child.kill('SIGKILL');
      await running.done;
    }
    running = undefined;
    await fdb?.drop();
  });

  it('refuses an applied migration whose file changed, naming the file', async () => {
    fdb = await fresh();
    const { plan, dir } = await writePlan({
      engine,
      url: fdb.url,
      migrations: { '001_a.sql': 'create table a (id int);\n', '002_b.sql': 'create table b (id int);\n' },
    });
    expect((await runCli(['migrate', plan])).code).toBe(0);
    await writeFile(path.join(dir, 'migrations', '001_a.sql'), 'create table a (id int, extra int);\n');
    await writeFile(path.join(dir, 'migrations', '003_c.sql'), 'create table c (id int);\n');
    const again = await runCli(['migrate', plan, '--json']);
    expect(again.code).toBe(2);
    const out = JSON.parse(again.stdout) as { error: { code: string; message: string } };
    expect(out.error.code).toBe('MIGRATION_CHANGED');
    expect(out.error.message).toContain(path.join('migrations', '001_a.sql'));
    // The read-only listing shows the change instead of refusing (migrate-accept.test.ts has the rest).
    const human = await runCli(['migrate', 'status', plan]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(
      `warning: ${path.join('migrations', '001_a.sql')} was edited after it was applied`,
    );
    expect(human.stderr).not.toMatch(/\n\s+at /);
  });

  it('shows the holder, refuses to release it while alive, exits 4 for a second runner, releases it once stale', async () => {
    fdb = await fresh();
    const { plan } = await writePlan({ engine, url: fdb.url, migrations: { '001_slow.sql': `${sleep};\n` } });
    running = startCli(['migrate', plan], { GITHUB_RUN_ID: '4242', GITHUB_REPOSITORY: 'acme/shop' });
    const holder = await waitUntil('the lock to be held', async () => {
      const r = await runCli(['lock', plan, '--json']);
      const report = JSON.parse(r.stdout) as {
        held: boolean;
        holder: { lockId: string; pid: number; job?: string; stale: boolean } | null;
      };
      // Held, and the holder has recorded who it is (its first milliseconds show only a session).
      return report.held && report.holder && report.holder.pid > 0 ? report.holder : null;
    });
    expect(holder).toMatchObject({ pid: running.child.pid, job: 'github:acme/shop#4242', stale: false });

    const second = await runCli(['migrate', plan, '--json']);
    expect(second.code).toBe(4);
    const secondOut = JSON.parse(second.stdout) as { error: { code: string; message: string } };
    expect(secondOut.error.code).toBe('LOCK_HELD');
    expect(secondOut.error.message).toContain(`pid ${running.child.pid}`);

    const refused = await runCli(['lock', 'release', plan, '--lock-id', holder.lockId, '--json']);
    expect(refused.code).toBe(4);
    expect(JSON.parse(refused.stdout).error.code).toBe('LOCK_HOLDER_ALIVE');

    // Freeze the holder: its session stays open but its heartbeat stops (200 ms beats → stale after 1.6 s).
    running.child.kill('SIGSTOP');
    await waitUntil('the heartbeat to go stale', async () => {
      const r = JSON.parse((await runCli(['lock', plan, '--json'])).stdout) as {
        holder: { stale: boolean } | null;
      };
      return r.holder?.stale === true;
    });
    const released = await runCli(['lock', 'release', plan, '--lock-id', holder.lockId, '--json']);
    expect({ code: released.code, out: released.stdout }).toMatchObject({ code: 0 });
    expect(JSON.parse(released.stdout)).toMatchObject({ released: true, lockId: holder.lockId });
    const after = JSON.parse((await runCli(['lock', plan, '--json'])).stdout) as { held: boolean };
    expect(after.held).toBe(false);
  });
});
