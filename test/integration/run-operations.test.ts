/**
 * Plan operations through real `maint run` processes on PostgreSQL and MariaDB: a plan made of
 * operations only (no migrations folder) runs them under the journal with ANALYZE and the
 * checks; a failure rolls them back newest first; a failing command's output is kept, masked;
 * a failure after an operation without rollback ends in exit 6 with what is left to do.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { json, runCli, type CliResult } from '../helpers/run-cli.js';
import {
  cleanUp,
  createThings,
  freshDatabase,
  urlWithPassword,
  writeOpsPlan,
  type EngineName,
} from './operations-support.js';

interface Step {
  name: string;
  status: string;
  durationMs: number | null;
  detail: Record<string, unknown> | null;
}
interface RunJson {
  status: string;
  runId: string;
  steps: Step[];
  error: { code: string; message: string; hint: string | null; leftToDo?: string[] } | null;
}
interface StepRow {
  name: string;
  status: string;
  detail: string | null;
}

afterEach(cleanUp);

const stepRows = (
  sql: { rows<R>(q: string, p?: unknown[]): Promise<R[]> },
  engine: EngineName,
  runId: string,
) =>
  sql.rows<StepRow>(
    engine === 'postgres'
      ? 'select name, status, detail from maint_run_steps where run_id = $1 order by seq'
      : 'select name, status, detail from maint_run_steps where run_id = ? order by seq',
    [runId],
  );

const runStatus = async (
  sql: { rows<R>(q: string, p?: unknown[]): Promise<R[]> },
  engine: EngineName,
  runId: string,
) =>
  (
    await sql.rows<{ status: string }>(
      `select status from maint_runs where run_id = ${engine === 'postgres' ? '$1' : '?'}`,
      [runId],
    )
  )[0]?.status;

/** An SQL operation creating `things`, and a command writing a marker file; both undoable. */
function undoableOps(engine: EngineName): string {
  return `  - name: make-things
    kind: sql
    run: "${createThings(engine)}"
    rollback: drop table things
  - name: marker
    kind: command
    run: 'echo "$MAINT_PLAN $MAINT_RUN_ID" > marker.txt; echo run-marker >> ops.log'
    rollback: 'rm -f marker.txt; echo undo-marker >> ops.log'
`;
}

describe.each<EngineName>(['postgres', 'mysql'])('maint run with operations on %s', (engine) => {
  it('a plan of operations only: runs them, ANALYZE and the checks, journals each step; then nothing is pending', async () => {
    const { db, sql } = await freshDatabase(engine);
    const plan = await writeOpsPlan(
      engine,
      db.url,
      undoableOps(engine),
      'checks:\n  - name: three things\n    sql: select count(*) from things\n    expect: 3\n',
    );
    expect(existsSync(path.join(plan.dir, 'migrations'))).toBe(false);
    const before = await sql.now();
    const r = await runCli(['run', plan.file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = json<RunJson>(r);
    expect(out.status).toBe('completed');
    expect(out.steps.map((s) => [s.name, s.status])).toEqual([
      ['lock', 'done'],
      ['banner:active', 'done'],
      ['baseline', 'done'],
      ['operation:make-things', 'done'],
      ['operation:marker', 'done'],
      ['analyze', 'done'],
      ['checks', 'done'],
      ['banner:off', 'done'],
    ]);
    expect((await sql.rows<{ n: number }>('select count(*) as n from things'))[0]!.n).toEqual(
      engine === 'postgres' ? '3' : 3,
    );
    expect(await readFile(path.join(plan.dir, 'marker.txt'), 'utf8')).toBe(`ops-test ${out.runId}\n`);
    const stats = await sql.analyzed('things');
    if (engine === 'postgres') expect(stats.at!.getTime()).toBeGreaterThanOrEqual(before.getTime());
    else expect(stats.rows).toBe(3);

    const rows = await stepRows(sql, engine, out.runId);
    expect(rows.map((s) => [s.name, s.status])).toEqual(out.steps.map((s) => [s.name, 'done']));
    const marker = JSON.parse(rows.find((s) => s.name === 'operation:marker')!.detail!) as Record<
      string,
      unknown
    >;
    expect(marker).toMatchObject({
      exitCode: 0,
      kind: 'command',
      checksum: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(await runStatus(sql, engine, out.runId)).toBe('completed');

    const again = await runCli(['run', plan.file]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('nothing is pending');
    const preview = json<{ status: string; operations: Array<{ name: string; pending: boolean }> }>(
      await runCli(['plan', plan.file, '--json']),
    );
    expect(preview.status).toBe('nothing_pending');
    expect(preview.operations).toEqual([
      { name: 'make-things', kind: 'sql', when: 'after-migrations', pending: false },
      { name: 'marker', kind: 'command', when: 'after-migrations', pending: false },
    ]);
  });

  it('a failing check after them: exit 5, each operation rolled back newest first, journal rolled_back', async () => {
    const { db, sql } = await freshDatabase(engine);
    const plan = await writeOpsPlan(
      engine,
      db.url,
      `  - name: first
    kind: command
    run: echo run-first >> ops.log
    rollback: echo undo-first >> ops.log
    when: before-migrations
${undoableOps(engine)}`,
      'checks:\n  - name: four things\n    sql: select count(*) from things\n    expect: 4\n',
    );
    const r = await runCli(['run', plan.file, '--json']);
    expect(r.code, r.stderr).toBe(5);
    const out = json<RunJson>(r);
    expect(out.status).toBe('rolled_back');
    expect(out.error!.code).toBe('CHECK_FAILED');
    expect(await readFile(path.join(plan.dir, 'ops.log'), 'utf8')).toBe(
      'run-first\nrun-marker\nundo-marker\nundo-first\n',
    );
    expect(existsSync(path.join(plan.dir, 'marker.txt'))).toBe(false);
    expect(await sql.tables()).not.toContain('things');
    const rows = await stepRows(sql, engine, out.runId);
    expect(rows.filter((s) => s.name.startsWith('operation:')).map((s) => [s.name, s.status])).toEqual([
      ['operation:first', 'rolled_back'],
      ['operation:make-things', 'rolled_back'],
      ['operation:marker', 'rolled_back'],
    ]);
    expect(await runStatus(sql, engine, out.runId)).toBe('rolled_back');
  });

  it('a failing command: exit 5, its masked output in --json and the journal, the secrets nowhere', async () => {
    const dbCanary = 'DbCanary5ecret71';
    const envCanary = 'EnvCanary5ecret72';
    const { db, sql } = await freshDatabase(engine);
    const url = await urlWithPassword(engine, db, dbCanary);
    const plan = await writeOpsPlan(
      engine,
      '${DATABASE_URL}',
      `  - name: leak
    kind: command
    run: 'echo "connecting to $MAINT_DATABASE_URL with $API_TOKEN"; echo "upgrade failed hard" >&2; exit 7'
    env:
      API_TOKEN: \${API_TOKEN}
`,
    );
    const env = { DATABASE_URL: url, API_TOKEN: envCanary };
    const noCanary = (where: string, text: string) => {
      expect(text.includes(dbCanary), `${where} contains the database password`).toBe(false);
      expect(text.includes(envCanary), `${where} contains the env secret`).toBe(false);
    };
    const human = await runCli(['run', plan.file], env);
    const machine = await runCli(['run', plan.file, '--json'], env);
    for (const [name, res] of [
      ['human', human],
      ['json', machine],
    ] as Array<[string, CliResult]>) {
      expect(res.code, res.stderr).toBe(5);
      noCanary(`${name} stdout`, res.stdout);
      noCanary(`${name} stderr`, res.stderr);
    }
    expect(human.stderr).toContain('operation "leak" failed: the command exited with code 7; last output:');
    expect(human.stderr).toContain('upgrade failed hard');

    const out = json<RunJson>(machine);
    expect(out.error!.hint).toContain('Fix the operation "leak"');
    const failed = out.steps.find((s) => s.name === 'operation:leak')!;
    expect(failed.status).toBe('failed');
    expect(failed.detail).toMatchObject({ exitCode: 7, error: { code: 'OPERATION_FAILED' } });
    const output = String(failed.detail!.output);
    expect(output).toContain('upgrade failed hard');
    expect(output).toMatch(/connecting to (postgres|mysql):\/\/[^:]+:\*\*\*@127\.0\.0\.1.* with \*\*\*/);

    const row = (await stepRows(sql, engine, out.runId)).find((s) => s.name === 'operation:leak')!;
    expect(JSON.parse(row.detail!)).toMatchObject({ exitCode: 7, output });
    for (const table of ['maint_runs', 'maint_run_steps'])
      noCanary(`table ${table}`, JSON.stringify(await sql.rows(`select * from ${table}`)));
    noCanary('banner', (await readFile(plan.bannerYaml, 'utf8')) + (await readFile(plan.bannerJson, 'utf8')));
  });

  it('an operation without rollback done, then a failing check: exit 6 naming what is left to do', async () => {
    const { db, sql } = await freshDatabase(engine);
    const plan = await writeOpsPlan(
      engine,
      db.url,
      // Runs again (the run did not complete), so it is written to be repeatable.
      `  - name: make-things
    kind: sql
    run: "${createThings(engine).replace('create table', 'create table if not exists').replace('; insert', '; delete from things; insert')}"
`,
      'checks:\n  - name: four things\n    sql: select count(*) from things\n    expect: 4\n',
    );
    const r = await runCli(['run', plan.file, '--json']);
    expect(r.code, r.stderr).toBe(6);
    const out = json<RunJson>(r);
    expect(out.status).toBe('failed');
    expect(out.error!.code).toBe('POINT_OF_NO_RETURN');
    expect(out.error!.message).toContain('step "operation:make-things" cannot be undone');
    expect(out.error!.message).toContain('Left to do: analyze, checks, banner:off');
    expect(out.error!.leftToDo).toEqual(['analyze', 'checks', 'banner:off']);
    // The operation stays done: the table is there, and the journal says the run needs a person.
    expect(await sql.tables()).toContain('things');
    const rows = await stepRows(sql, engine, out.runId);
    expect(rows.find((s) => s.name === 'operation:make-things')!.status).toBe('done');
    expect(await runStatus(sql, engine, out.runId)).toBe('failed');

    const human = await runCli(['run', plan.file]);
    expect(human.code).toBe(6);
    expect(human.stderr).toContain('Left to do: analyze, checks, banner:off');
  });
});
