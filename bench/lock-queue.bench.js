#!/usr/bin/env node
/**
 * The lock queue: a transaction holds a lock on a table for 20 s (it read the table and stays
 * open) while a migration alters that table, and an application runs queries on the table in a
 * loop. Measured: the application's longest wait, with `maint migrate` (lock_timeout + retries)
 * vs a plain `ALTER TABLE` through psql under the same blocker. Writes its section of
 * bench/RESULTS.md between the lock-queue markers, nothing else.
 * Server: MAINT_TEST_PG_URL, else postgres://postgres@127.0.0.1:5432/postgres.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const results = path.join(root, 'bench', 'RESULTS.md');
const START = '<!-- lock-queue:start -->';
const END = '<!-- lock-queue:end -->';
const GOAL = 10;
const argv = process.argv.slice(2);
const BLOCK_MS = (() => {
  const i = argv.indexOf('--block-ms');
  return i >= 0 ? Number(argv[i + 1]) : 20_000;
})();
const LOCK_TIMEOUT_MS = 500;
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
  try {
    await setup.query('create table hot (id int primary key, v int)');
    await setup.query('insert into hot select g, g from generate_series(1, 1000) g');
    await blocker.query('begin');
    await blocker.query('select count(*) from hot');
    const blockerEnds = setTimeout(() => void blocker.query('commit'), BLOCK_MS);
    const t0 = performance.now();
    let done = false;
    const finished = start(url).then((r) => {
      done = true;
      return r;
    });
    let worst = 0;
    let queries = 0;
    while (!done) {
      const q0 = performance.now();
      await app.query('select count(*) from hot where v > 0');
      worst = Math.max(worst, performance.now() - q0);
      queries++;
    }
    const r = await finished;
    clearTimeout(blockerEnds);
    if (r.code !== 0) throw new Error(`${label} failed (${r.code}): ${r.stderr}`);
    return { worst, queries, totalMs: performance.now() - t0 };
  } finally {
    await blocker.query('rollback').catch(() => undefined);
    for (const c of [setup, blocker, app]) await c.end().catch(() => undefined);
    await adm.query(`drop database if exists "${name}" with (force)`);
    await adm.end();
  }
}

const maint = await scenario('maint', async (url) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'maint-bench-lq-'));
  mkdirSync(path.join(dir, 'migrations'));
  writeFileSync(path.join(dir, 'migrations', '001_extra.sql'), `${ALTER};\n`);
  writeFileSync(
    path.join(dir, 'plan.yaml'),
    `version: 1\nname: bench\nwindow: { timezone: UTC, days: [daily], start: "00:00", duration: 23h }\ndatabase: { engine: postgres, url: "${url}" }\nmigrations: { lockTimeout: ${LOCK_TIMEOUT_MS}ms, retries: 40 }\n`,
  );
  return run(process.execPath, [path.join(root, 'bin', 'run.js'), 'migrate', path.join(dir, 'plan.yaml')]);
});
const plain = await scenario('plain', (url) =>
  run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', ALTER]),
);
const ratio = plain.worst / maint.worst;

const row = (label, r) =>
  `| ${label} | ${r.worst.toFixed(0)} ms | ${r.queries} | ${(r.totalMs / 1000).toFixed(1)} s |`;
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
  `- maint: \`maint migrate\` with \`lockTimeout: ${LOCK_TIMEOUT_MS}ms\`, \`retries: 40\` (exponential backoff with jitter). Plain: \`psql -c "${ALTER}"\` (no lock_timeout).`,
  `- Goal: plain / maint worst application wait ≥ ${GOAL}×.`,
  '',
  '| migration | worst application wait | application queries | ALTER done after |',
  '|---|---:|---:|---:|',
  row('maint migrate', maint),
  row('plain ALTER TABLE', plain),
  '',
  `Ratio plain / maint worst wait: **${ratio.toFixed(1)}×** (${ratio >= GOAL ? 'meets' : 'misses'} the ${GOAL}× goal).`,
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
  `worst wait: maint ${maint.worst.toFixed(0)} ms, plain ${plain.worst.toFixed(0)} ms, ratio ${ratio.toFixed(1)}×`,
);
