#!/usr/bin/env node
/**
 * The fixed cost of the paths containers and CI run: `migrate` and `migrate --wait` with nothing
 * pending, `gate`, `window`, `validate` and `--version`, against the bare oclif CLI in
 * bench/bare, and (with `--before DIR`, another built maint checkout) before/after. Everything
 * interleaved round by round; whole processes under /usr/bin/time: wall clock and CPU (user +
 * system; on a shared machine CPU moves far less with the load than wall time). Medians.
 * Writes its section of bench/RESULTS.md between the fixed-cost markers, nothing else.
 * Options: --rounds N (default 15), --before DIR. Server: MAINT_TEST_PG_URL, else the local one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const results = path.join(root, 'bench', 'RESULTS.md');
const START = '<!-- fixed-cost:start -->';
const END = '<!-- fixed-cost:end -->';
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const ROUNDS = Number(opt('rounds', '15'));
const BEFORE = opt('before', null);
const server = process.env.MAINT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const TIME = '/usr/bin/time';
if (!existsSync(path.join(root, 'dist', 'commands', 'migrate', 'index.js')))
  throw new Error('maint is not built: run `npm run build` (or `npm run bench`) first');
if (!existsSync(TIME)) throw new Error(`${TIME} is missing (apt-get install time)`);

async function admin(sql) {
  const c = new pg.Client({ connectionString: server });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}
const name = `maint_bench_fixed_${process.pid}`;
const url = (() => {
  const u = new URL(server);
  u.pathname = `/${name}`;
  return u.toString();
})();

const dir = mkdtempSync(path.join(os.tmpdir(), 'maint-bench-fixed-'));
mkdirSync(path.join(dir, 'migrations'));
for (let i = 1; i <= 20; i++)
  writeFileSync(
    path.join(dir, 'migrations', `${String(i).padStart(3, '0')}_t${i}.sql`),
    `create table t_${i} (id int primary key);\n`,
  );
const plan = path.join(dir, 'plan.yaml');
writeFileSync(
  plan,
  `version: 1\nname: bench\nwindow: { timezone: Europe/Paris, days: [daily], start: "00:00", duration: 24h }\ndatabase: { engine: postgres, url: "${url}" }\n`,
);
const demo = path.join(root, 'plans', 'demo.yaml');

function timed(cmd, args) {
  const out = path.join(dir, 'time.out');
  const r = spawnSync(TIME, ['-f', '%e %U %S', '-o', out, cmd, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  if (r.status !== 0 && r.status !== 7)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const [wall, user, sys] = readFileSync(out, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { wallMs: wall * 1000, cpuMs: (user + sys) * 1000 };
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const PATHS = [
  ['migrate PLAN (nothing pending)', ['migrate', plan]],
  ['migrate PLAN --wait (nothing pending)', ['migrate', plan, '--wait']],
  ['gate PLAN', ['gate', plan]],
  ['window plans/demo.yaml', ['window', demo]],
  ['validate PLAN', ['validate', plan]],
  ['--version', ['--version']],
];
const BARE = [
  ['window plans/demo.yaml', ['hello', demo]],
  ['--version', ['--version']],
];
const builds = [['after', root], ...(BEFORE ? [['before', path.resolve(BEFORE)]] : [])];
const runs = new Map(); // key → [{wallMs, cpuMs}]
const push = (key, r) => runs.set(key, [...(runs.get(key) ?? []), r]);
const loads = [];

await admin(`create database ${name}`);
try {
  timed(process.execPath, [path.join(root, 'bin', 'run.js'), 'migrate', plan]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [label, args] of PATHS) {
      for (const [build, dirOf] of builds)
        push(`${build}|${label}`, timed(process.execPath, [path.join(dirOf, 'bin', 'run.js'), ...args]));
      const bare = BARE.find(([l]) => l === label);
      if (bare)
        push(
          `bare|${label}`,
          timed(process.execPath, [path.join(root, 'bench', 'bare', 'bin', 'run.js'), ...bare[1]]),
        );
    }
    loads.push(os.loadavg()[0]);
    console.error(`round ${round + 1}/${ROUNDS} (load ${os.loadavg()[0].toFixed(1)})`);
  }
} finally {
  await admin(`drop database if exists ${name} with (force)`);
  rmSync(dir, { recursive: true, force: true });
}

const m = (key, field) => (runs.has(key) ? median(runs.get(key).map((r) => r[field])) : NaN);
const f = (x) => (Number.isNaN(x) ? '–' : `${x.toFixed(0)} ms`);
const ratio = (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? '–' : `${(a / b).toFixed(2)}×`);
const rows = PATHS.map(([label]) => {
  const after = [m(`after|${label}`, 'wallMs'), m(`after|${label}`, 'cpuMs')];
  const before = [m(`before|${label}`, 'wallMs'), m(`before|${label}`, 'cpuMs')];
  const bare = [m(`bare|${label}`, 'wallMs'), m(`bare|${label}`, 'cpuMs')];
  return `| \`maint ${label}\` | ${f(before[0])} / ${f(before[1])} | ${f(after[0])} / ${f(after[1])} | ${f(bare[0])} / ${f(bare[1])} | ${ratio(after[0], bare[0])} / ${ratio(after[1], bare[1])} |`;
});
const section = [
  START,
  '## Fixed cost of the container and CI paths',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} by \`node bench/fixed-cost.bench.js${argv.length ? ` ${argv.join(' ')}` : ''}\`.`,
  '',
  `- Machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'cpu'}, shared; 1-minute load average during the run ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (median ${median(loads).toFixed(1)}). Node ${process.version}; PostgreSQL at ${new URL(server).host}.`,
  `- Each path ${ROUNDS} times, interleaved round by round (${builds.map(([b]) => b).join(', ')}, bare); a plan with 20 migrations, all applied; whole processes under /usr/bin/time. Cells: median wall clock / median CPU (user + system). The bare CLI is bench/bare (\`bare hello plans/demo.yaml\`, \`bare --version\`). Goals (issue 14): window ≤ 1.3× bare, --version ≤ 1.1× bare.`,
  '',
  '| path | before | after | bare oclif | after / bare |',
  '|---|---:|---:|---:|---:|',
  ...rows,
  END,
].join('\n');
const current = existsSync(results) ? readFileSync(results, 'utf8') : '# Benchmarks\n';
const s = current.indexOf(START);
const e = current.indexOf(END);
writeFileSync(
  results,
  s >= 0 && e > s
    ? current.slice(0, s) + section + current.slice(e + END.length)
    : `${current.trimEnd()}\n\n${section}\n`,
);
console.log(section);
