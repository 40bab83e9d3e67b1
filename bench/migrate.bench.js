#!/usr/bin/env node
/**
 * 200 trivial migrations through `maint migrate` vs the same SQL through `psql -f` (one file),
 * each on its own fresh PostgreSQL database, whole processes timed spawn to exit. Writes its
 * section of bench/RESULTS.md between the migrate markers, nothing else.
 * Server: MAINT_TEST_PG_URL, else postgres://postgres@127.0.0.1:5432/postgres.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const results = path.join(root, 'bench', 'RESULTS.md');
const START = '<!-- migrate:start -->';
const END = '<!-- migrate:end -->';
const GOAL = 1.5;
const COUNT = 200;
const argv = process.argv.slice(2);
const ROUNDS = (() => {
  const i = argv.indexOf('--rounds');
  return i >= 0 ? Number(argv[i + 1]) : 7;
})();
const server = process.env.MAINT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

if (!existsSync(path.join(root, 'dist', 'commands', 'migrate', 'index.js'))) {
  throw new Error('maint is not built: run `npm run build` (or `npm run bench`) first');
}

async function admin(sql) {
  const c = new pg.Client({ connectionString: server });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

function dbUrl(name) {
  const u = new URL(server);
  u.pathname = `/${name}`;
  return u.toString();
}

const migrationSql = (i) =>
  `create table "t_${i}" (id int primary key, note text);\ninsert into "t_${i}" values (1, 'x');\n`;

function prepare() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'maint-bench-'));
  mkdirSync(path.join(dir, 'migrations'));
  let all = '';
  for (let i = 1; i <= COUNT; i++) {
    const name = `${String(i).padStart(3, '0')}_t${i}.sql`;
    writeFileSync(path.join(dir, 'migrations', name), migrationSql(i));
    all += migrationSql(i);
  }
  writeFileSync(path.join(dir, 'all.sql'), all);
  return dir;
}

function timed(cmd, args, env) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = prepare();
// The migrations folder goes when the bench ends, however it ends.
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const maintMs = [];
const psqlMs = [];
const noopMs = [];
for (let round = 0; round < ROUNDS; round++) {
  const a = `maint_bench_${process.pid}_${round}_m`;
  const b = `maint_bench_${process.pid}_${round}_p`;
  await admin(`create database "${a}"`);
  await admin(`create database "${b}"`);
  try {
    writeFileSync(
      path.join(dir, 'plan.yaml'),
      `version: 1\nname: bench\nwindow: { timezone: UTC, days: [daily], start: "00:00", duration: 23h }\ndatabase: { engine: postgres, url: "${dbUrl(a)}" }\n`,
    );
    // Alternate the order so neither side always runs on a warmer server.
    const runMaint = () =>
      maintMs.push(
        timed(process.execPath, [path.join(root, 'bin', 'run.js'), 'migrate', path.join(dir, 'plan.yaml')]),
      );
    const runPsql = () =>
      psqlMs.push(
        timed('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', dbUrl(b), '-f', path.join(dir, 'all.sql')]),
      );
    if (round % 2 === 0) {
      runMaint();
      runPsql();
    } else {
      runPsql();
      runMaint();
    }
    // The same command with nothing left to apply: maint's fixed cost (start-up, plan, connect, lock).
    noopMs.push(
      timed(process.execPath, [path.join(root, 'bin', 'run.js'), 'migrate', path.join(dir, 'plan.yaml')]),
    );
  } finally {
    await admin(`drop database if exists "${a}" with (force)`);
    await admin(`drop database if exists "${b}" with (force)`);
  }
}

const m = median(maintMs);
const p = median(psqlMs);
const ratio = m / p;
const fixed = median(noopMs);
const section = [
  START,
  '## Migrations: maint vs psql',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} by \`node bench/migrate.bench.js\` (also run by \`npm run bench\`).`,
  '',
  `- Machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'cpu'}, load average at the end ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')} (shared machine); PostgreSQL at ${new URL(server).host}; Node ${process.version}.`,
  `- What is timed: whole processes, spawn to exit. maint: \`maint migrate plan.yaml\` applying ${COUNT} migration files (each \`create table\` + one \`insert\`), each in its own transaction with its record, under the lock. psql: \`psql -f all.sql\` with the same ${2 * COUNT} statements in one file, autocommit. Each side on its own fresh database; ${ROUNDS} rounds, order alternating; medians.`,
  `- Goal: maint ≤ ${GOAL}× psql.`,
  '',
  '| | median | all runs |',
  '|---|---:|---|',
  `| maint migrate | ${m.toFixed(0)} ms | ${maintMs.map((x) => x.toFixed(0)).join(', ')} |`,
  `| psql -f | ${p.toFixed(0)} ms | ${psqlMs.map((x) => x.toFixed(0)).join(', ')} |`,
  `| maint migrate, nothing pending (fixed cost) | ${fixed.toFixed(0)} ms | ${noopMs.map((x) => x.toFixed(0)).join(', ')} |`,
  '',
  `Ratio maint / psql: **${ratio.toFixed(2)}×** (${ratio <= GOAL ? 'meets' : 'misses'} the ${GOAL}× goal); without maint's fixed cost: ${((m - fixed) / p).toFixed(2)}×. The machine is shared, so single runs vary a lot; compare the medians.`,
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
console.log(`maint ${m.toFixed(0)} ms, psql ${p.toFixed(0)} ms, ratio ${ratio.toFixed(2)}×`);
