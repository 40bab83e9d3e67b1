#!/usr/bin/env node
/**
 * The lock queue: a transaction holds a lock on a table for 15 s (it read the table and stays
 * open) while a migration alters that table, and an application runs queries on the table in a
 * loop. Measured: the application's longest wait, and how long after the blocker ended the
 * ALTER landed (a watcher polls the catalog for the new column every 10 ms), with `maint migrate`
 * on its default settings (lockTimeout, retries and backoff as shipped; median of --runs, 5 by
 * default) vs a plain `ALTER TABLE` through psql under the same blocker. Writes its section of
 * bench/RESULTS.md between the lock-queue markers, nothing else.
 * Options: --block-ms N (15000), --runs N (5), --lock-timeout 500ms --retries 40 (instead of the defaults).
 * Server: MAINT_TEST_PG_URL, else postgres://postgres@127.0.0.1:5432/postgres.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const results = path.join(root, 'bench', 'RESULTS.md');
const START = '<!-- lock-queue:start -->';
const END = '<!-- lock-queue:end -->';
const GOAL = 10;
const GOAL_WORST_MS = 500;
const GOAL_LANDED_MS = 1500;
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const BLOCK_MS = Number(opt('block-ms', '15000'));
const RUNS = Number(opt('runs', '5'));
const LOCK_TIMEOUT = opt('lock-timeout', null);
const RETRIES = opt('retries', null);
const server = process.env.MAINT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ALTER = 'alter table hot add column extra int';

if (!existsSync(path.join(root, 'dist', 'commands', 'migrate', 'index.js'))) {
  throw new Error('maint is not built: run `npm run build` (or `npm run bench`) first');
}

async function client(url) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

function dbUrl(name) {
  const u = new URL(server);
  u.pathname = `/${name}`;
  return u.toString();
}

function run(cmd, args) {
  const child = spawn(cmd, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

async function scenario(label, start) {
  const name = `maint_bench_lq_${process.pid}_${label}`;
  const adm = await client(server);
  await adm.query(`create database "${name}"`);
  const url = dbUrl(name);
  const setup = await client(url);
  const blocker = await client(url);
  const app = await client(url);
  const watcher = await client(url);
  try {
    await setup.query('create table hot (id int primary key, v int)');
    await setup.query('insert into hot select g, g from generate_series(1, 1000) g');
    await blocker.query('begin');
    await blocker.query('select count(*) from hot');
    let blockerEndedAt = null;
    const blockerEnds = setTimeout(
      () => void blocker.query('commit').then(() => (blockerEndedAt = performance.now())),
      BLOCK_MS,
    );
    const t0 = performance.now();
    let done = false;
    const finished = start(url).then((r) => {
      done = true;
      return r;
    });
    // When the new column is committed: the catalog, read without locking the table.
    let landedAt = null;
    const watching = (async () => {
      while (landedAt === null) {
        const r = await watcher.query(
          "select 1 from pg_attribute where attrelid = 'hot'::regclass and attname = 'extra' and not attisdropped",
        );
        if (r.rowCount > 0) landedAt = performance.now();
        else await new Promise((resolve) => setTimeout(resolve, 10));
        if (done && landedAt === null && r.rowCount === 0) break;
      }
    })();
    let worst = 0;
    let queries = 0;
    let over1s = 0;
    while (!done) {
      const q0 = performance.now();
      await app.query('select count(*) from hot where v > 0');
      const waited = performance.now() - q0;
      worst = Math.max(worst, waited);
      if (waited > 1000) over1s++;
      queries++;
    }
    const r = await finished;
    await watching;
    clearTimeout(blockerEnds);
    if (r.code !== 0) throw new Error(`${label} failed (${r.code}): ${r.stderr}`);
    if (landedAt === null || blockerEndedAt === null) throw new Error(`${label}: the ALTER did not land`);
    return {
      worst,
      queries,
      over1s,
      totalMs: performance.now() - t0,
      landedAfterMs: landedAt - blockerEndedAt,
    };
  } finally {
    await blocker.query('rollback').catch(() => undefined);
    for (const c of [setup, blocker, app, watcher]) await c.end().catch(() => undefined);
    await adm.query(`drop database if exists "${name}" with (force)`);
    await adm.end();
  }
}

const settings = [
  LOCK_TIMEOUT ? `lockTimeout: ${LOCK_TIMEOUT}` : null,
  RETRIES ? `retries: ${RETRIES}` : null,
].filter(Boolean);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const maintRuns = [];
for (let i = 0; i < RUNS; i++) {
  maintRuns.push(
    await scenario(`maint${i}`, async (url) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'maint-bench-lq-'));
      mkdirSync(path.join(dir, 'migrations'));
      writeFileSync(path.join(dir, 'migrations', '001_extra.sql'), `${ALTER};\n`);
      writeFileSync(
        path.join(dir, 'plan.yaml'),
        `version: 1\nname: bench\nwindow: { timezone: UTC, days: [daily], start: "00:00", duration: 23h }\ndatabase: { engine: postgres, url: "${url}" }\n${settings.length ? `migrations: { ${settings.join(', ')} }\n` : ''}`,
      );
      try {
        return await run(process.execPath, [
          path.join(root, 'bin', 'run.js'),
          'migrate',
          path.join(dir, 'plan.yaml'),
        ]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );
  const last = maintRuns.at(-1);
  console.error(
    `maint run ${i + 1}/${RUNS}: worst ${last.worst.toFixed(0)} ms, landed ${last.landedAfterMs.toFixed(0)} ms after the blocker`,
  );
}
const maint = {
  worst: median(maintRuns.map((r) => r.worst)),
  queries: median(maintRuns.map((r) => r.queries)),
  over1s: median(maintRuns.map((r) => r.over1s)),
  totalMs: median(maintRuns.map((r) => r.totalMs)),
  landedAfterMs: median(maintRuns.map((r) => r.landedAfterMs)),
};
const plain = await scenario('plain', (url) =>
  run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', ALTER]),
);
const ratio = plain.worst / maint.worst;

const row = (label, r) =>
  `| ${label} | ${r.worst.toFixed(0)} ms | ${r.queries} | ${r.over1s} | ${(r.totalMs / 1000).toFixed(1)} s | ${r.landedAfterMs.toFixed(0)} ms |`;
const section = [
  START,
  '## Lock queue: application waits behind DDL',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} by \`node bench/lock-queue.bench.js\` (also run by \`npm run bench\`).`,
  '',
  `- Machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'cpu'}, load average at the end ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')} (shared machine); PostgreSQL at ${new URL(server).host}; Node ${process.version}.`,
  `- Set-up: table \`hot\` (1000 rows); a blocker transaction reads it and stays open ${BLOCK_MS / 1000} s; meanwhile \`${ALTER}\` runs and an application loop runs \`select count(*) from hot where v > 0\` back to back until the ALTER is done, timing each query. Each scenario on its own fresh database.`,
  `- maint: \`maint migrate\` with ${settings.length ? `\`${settings.join(', ')}\`` : 'its default settings (no `migrations:` key: lockTimeout 400ms, retries 30, backoff from 100 ms doubling to at most 1 s, equal jitter)'}; ${RUNS} runs, each on a fresh database, medians (per run: ${maintRuns.map((r) => `${r.worst.toFixed(0)} ms / ${r.landedAfterMs.toFixed(0)} ms`).join(', ')} as worst wait / landed after). Plain: \`psql -c "${ALTER}"\` (no lock_timeout), one run.`,
  `- "Landed after": from the blocker's commit to the first time a watcher connection (polling the catalog every 10 ms, no lock on the table) sees the new column.`,
  `- Goals: plain / maint worst application wait ≥ ${GOAL}×; with the defaults, worst wait ≤ ${GOAL_WORST_MS} ms and the ALTER landed ≤ ${GOAL_LANDED_MS} ms after the blocker ended (issue 14).`,
  '',
  '| migration | worst application wait | application queries | queries over 1 s | whole run | ALTER landed after the blocker ended |',
  '|---|---:|---:|---:|---:|---:|',
  row(`maint migrate (median of ${RUNS})`, maint),
  row('plain ALTER TABLE', plain),
  '',
  `Ratio plain / maint worst wait: **${ratio.toFixed(1)}×** (${ratio >= GOAL ? 'meets' : 'misses'} the ${GOAL}× goal). maint worst wait ${maint.worst.toFixed(0)} ms (${maint.worst <= GOAL_WORST_MS ? 'meets' : 'misses'} ≤ ${GOAL_WORST_MS} ms); landed ${maint.landedAfterMs.toFixed(0)} ms after the blocker (${maint.landedAfterMs <= GOAL_LANDED_MS ? 'meets' : 'misses'} ≤ ${GOAL_LANDED_MS} ms).`,
  END,
].join('\n');

const current = existsSync(results)
  ? readFileSync(results, 'utf8')
  : '# Benchmarks\n\nEach bench owns one section between its markers; `npm run bench` runs them all.\n';
const s = current.indexOf(START);
const e = current.indexOf(END);
const next =
  s >= 0 && e > s
    ? current.slice(0, s) + section + current.slice(e + END.length)
    : `${current.trimEnd()}\n\n${section}\n`;
writeFileSync(results, next);
console.log(
  `worst wait: maint ${maint.worst.toFixed(0)} ms, plain ${plain.worst.toFixed(0)} ms, ratio ${ratio.toFixed(1)}×; maint landed ${maint.landedAfterMs.toFixed(0)} ms after the blocker`,
);
