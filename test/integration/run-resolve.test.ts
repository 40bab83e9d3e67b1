/**
 * A run that fails at a point of no return (exit 6, POINT_OF_NO_RETURN) holds the plan until an
 * operator resolves it (issue 9): `gate` refuses (exit 7, RUN_FAILED), `run` and `plan` do not
 * start it again (exit 6, RUN_UNRESOLVED, nothing touched), and `maint resolve PLAN --run ID
 * --reason` — the command the failure's hint names — journals the resolution, turns the banner
 * off, and lets gate pass. Real `maint` processes on PostgreSQL and MariaDB.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { json, runCli } from '../helpers/run-cli.js';
import { cleanUp, createThings, freshDatabase, writeOpsPlan, type EngineName } from './operations-support.js';

afterEach(cleanUp);

interface RunJson {
  status: string;
  runId: string;
  error: { code: string; message: string; hint: string | null; exitCode: number } | null;
}
interface StatusJson {
  last: { runId: string; status: string; note: string | null; state: Record<string, unknown> | null };
  runs: Array<{
    runId: string;
    status: string;
    resolution: { reason: string; at: string; by: { pid: number } } | null;
  }>;
}

describe.each(['postgres', 'mysql'] as EngineName[])('%s: resolving a point of no return', (engine) => {
  it('holds gate, run and plan until `maint resolve` (the command its hint names) records the manual finish', async () => {
    const { db, sql } = await freshDatabase(engine);
    const plan = await writeOpsPlan(
      engine,
      db.url,
      `  - name: make-things
    kind: sql
    run: "${createThings(engine)}"
`,
      'checks:\n  - name: four things\n    sql: select count(*) from things\n    expect: 4\n',
    );
    const failed = json<RunJson>(await runCli(['run', plan.file, '--json']));
    expect(failed.error).toMatchObject({ code: 'POINT_OF_NO_RETURN', exitCode: 6 });
    const resolveCommand = `maint resolve ${plan.file} --run ${failed.runId} --reason`;
    expect(failed.error!.hint).toContain(resolveCommand);
    expect(JSON.parse(await readFile(plan.bannerJson, 'utf8'))).toMatchObject({ state: 'active' });

    // gate refuses, naming the command.
    const gate = await runCli(['gate', plan.file, '--json']);
    expect(gate.code).toBe(7);
    const gateOut = json<{ reason: string; message: string; run: { runId: string } }>(gate);
    expect(gateOut).toMatchObject({ reason: 'RUN_FAILED', run: { runId: failed.runId } });
    expect(gateOut.message).toContain(resolveCommand);

    // run does not start again (the operation cannot be undone, so it must not be repeated).
    const again = await runCli(['run', plan.file, '--json']);
    expect(again.code).toBe(6);
    const againOut = json<RunJson>(again);
    expect(againOut).toMatchObject({ status: 'refused', error: { code: 'RUN_UNRESOLVED' } });
    expect(againOut.error!.message).toContain('Left to do: analyze, checks, banner:off');
    expect(againOut.error!.hint).toContain(resolveCommand);
    const human = await runCli(['run', plan.file]);
    expect(human.code).toBe(6);
    expect(human.stderr).toContain(`run ${failed.runId} reached a point of no return`);
    expect(await sql.rows('select run_id from maint_runs')).toHaveLength(1);
    expect(await sql.rows('select * from things')).toHaveLength(3);
    const preview = await runCli(['plan', plan.file, '--json']);
    expect(preview.code).toBe(6);
    expect(json<{ status: string; error: { code: string } }>(preview)).toMatchObject({
      status: 'refused',
      error: { code: 'RUN_UNRESOLVED' },
    });

    // Bad input: exit 2, nothing written.
    const blank = await runCli(['resolve', plan.file, '--run', failed.runId, '--reason', ' ', '--json']);
    expect(blank.code).toBe(2);
    expect(json<RunJson>(blank).error!.code).toBe('USAGE');
    const typo = failed.runId.slice(0, -1) + (failed.runId.endsWith('0') ? '1' : '0');
    const unknown = await runCli(['resolve', plan.file, '--run', typo, '--reason', 'done', '--json']);
    expect(unknown.code).toBe(2);
    expect(json<RunJson>(unknown).error!.message).toContain(`did you mean "${failed.runId}"?`);
    expect((await runCli(['gate', plan.file])).code).toBe(7);

    // The operator finishes by hand, then resolves.
    await sql.rows("insert into things values (4, 'd')");
    const resolved = await runCli([
      'resolve',
      plan.file,
      '--run',
      failed.runId,
      '--reason',
      'INC-7: added row 4, ran the checks by hand',
    ]);
    expect(resolved.stderr).toBe('');
    expect(resolved.code).toBe(0);
    expect(resolved.stdout).toContain(
      `resolved run ${failed.runId} of ops-test (it failed: POINT_OF_NO_RETURN): INC-7: added row 4`,
    );
    expect(resolved.stdout).toContain('banner: off');
    expect(JSON.parse(await readFile(plan.bannerJson, 'utf8'))).toMatchObject({ state: 'off' });

    const status = json<StatusJson>(await runCli(['status', plan.file, '--json']));
    expect(status.last).toMatchObject({ runId: failed.runId, status: 'failed' });
    expect(status.last.state?.resolution).toMatchObject({
      reason: 'INC-7: added row 4, ran the checks by hand',
    });
    expect(status.last.note).toContain('resolved by hand');
    expect(status.runs[0]!.resolution!.reason).toBe('INC-7: added row 4, ran the checks by hand');
    const statusHuman = await runCli(['status', plan.file]);
    expect(statusHuman.stdout).toMatch(/resolved by hand at \S+ by \S+ pid \d+: INC-7: added row 4/);

    const open = await runCli(['gate', plan.file, '--json']);
    expect(open.code).toBe(0);
    expect(json<{ reason: string }>(open).reason).toBe('ALLOWED');
    const twice = await runCli(['resolve', plan.file, '--run', failed.runId, '--reason', 'again', '--json']);
    expect(twice.code).toBe(2);
    expect(json<RunJson>(twice).error!.code).toBe('RUN_ALREADY_RESOLVED');
  });
});
