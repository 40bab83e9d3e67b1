#!/usr/bin/env node
/**
 * clone-freeze (PostgreSQL `logical`): how long writes are frozen, by live database size, under
 * load (2 writers and 2 readers as an application role), 5 runs per size of the built CLI's
 * `maint run`. Starts its own cluster (initdb into /tmp/maint-pgc-*, wal_level=logical, a free
 * port; as root the tools run as the postgres OS user) and removes it at the end. Writes its
 * section of bench/RESULTS.md between the clone-freeze markers, nothing else.
 *   node bench/clone-freeze.bench.js [--sizes 100,1000] [--runs 5]   (sizes in MB)
 * Goal (issue 11): p95 ≤ 1 s, and freeze(largest)/freeze(smallest) ≤ 1.5 (medians).
 */
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const results = path.join(root, 'bench', 'RESULTS.md');
const START = '<!-- clone-freeze:start -->';
const END = '<!-- clone-freeze:end -->';
const BIN = process.env.MAINT_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const SIZES = arg('--sizes', '100,1000').split(',').map(Number);
const RUNS = Number(arg('--runs', '5'));
// About 145 bytes a row (id, v, md5 payload, index): rows for a size in MB (measured: 5200 → 76 MB/100).
const ROWS_PER_MB = 6900;

if (
  !existsSync(path.join(root, 'dist', 'commands', 'run.js')) &&
  !existsSync(path.join(root, 'dist', 'commands', 'run', 'index.js'))
)
  throw new Error('maint is not built: run `npm run build` (or `npm run bench`) first');

const root_ = process.getuid?.() === 0;
const asOwner = (cmd, args) =>
  execFileSync(root_ ? 'runuser' : cmd, root_ ? ['-u', 'postgres', '--', cmd, ...args] : args, {
    stdio: 'pipe',
  });

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'maint-pgc-'));
if (root_) {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  chownSync(dir, uid, gid);
}
const data = path.join(dir, 'data');
let started = false;
function stop() {
  if (started) {
    started = false;
    try {
      asOwner(path.join(BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
process.on('exit', stop);
process.on('SIGINT', () => process.exit(130));

const url = (port, db, user = 'postgres') => `postgres://${user}@127.0.0.1:${port}/${db}`;
async function q(port, db, sql) {
  const c = new pg.Client({ connectionString: url(port, db) });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

function cli(args, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'run.js'), ...args], {
      env: { ...process.env, NO_COLOR: '1', CI: '1', OCLIF_SKIP_NEW_VERSION_CHECK: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

function load(port, db) {
  const app = new pg.Pool({ connectionString: url(port, db, 'app'), max: 4 });
  app.on('error', () => undefined);
  let stopFlag = false;
  let failedReads = 0;
  let refused = 0;
  const writer = async () => {
    while (!stopFlag) {
      try {
        await app.query('insert into events (item) values ($1)', [1 + Math.floor(Math.random() * 1000)]);
      } catch {
        refused++;
        await new Promise((r) => setTimeout(r, 2));
      }
    }
  };
  const reader = async () => {
    while (!stopFlag) {
      try {
        await app.query('select v from items where id = $1', [1 + Math.floor(Math.random() * 1000)]);
      } catch {
        failedReads++;
      }
    }
  };
  const running = [writer(), writer(), reader(), reader()];
  return async () => {
    stopFlag = true;
    await Promise.all(running);
    await app.end();
    return { failedReads, refused };
  };
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

asOwner(path.join(BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
const port = await freePort();
const o = `-c port=${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c wal_level=logical -c max_replication_slots=16 -c max_wal_senders=16 -c fsync=off`;
started = true;
asOwner(path.join(BIN, 'pg_ctl'), [
  '-D',
  data,
  '-o',
  o,
  '-l',
  path.join(dir, 'log'),
  '-w',
  '-t',
  '60',
  'start',
]);
await q(port, 'postgres', 'create role app login');

const planDir = mkdtempSync(path.join(os.tmpdir(), 'maint-bench-clone-'));
mkdirSync(path.join(planDir, 'migrations'));
writeFileSync(
  path.join(planDir, 'plan.yaml'),
  `version: 1\nname: clone-bench\nwindow:\n  timezone: UTC\n  days: [daily]\n  start: "00:00"\n  duration: 24h\ndatabase:\n  engine: postgres\n  url: \${LIVE_URL}\nmigrations:\n  dir: ./migrations\nstrategy:\n  kind: clone-freeze\n  clone:\n    method: logical\n    url: \${CLONE_URL}\n  freeze:\n    grace: 1s\n    maxDuration: 30s\n`,
);

const rows = [];
for (const size of SIZES) {
  const base = `base${size}`;
  await q(port, 'postgres', `create database ${base}`);
  writeFileSync(
    path.join(planDir, 'migrations', '001_base.sql'),
    `create table items (id serial primary key, v integer not null default 0, payload text not null);
create table events (id bigserial primary key, item integer not null, at timestamptz not null default now());
insert into items (v, payload) select g % 7, md5(g::text) || md5((g + 1)::text) from generate_series(1, ${size * ROWS_PER_MB}) g;
grant select, insert, update, delete on items, events to app;
grant usage on all sequences in schema public to app;`,
  );
  rmSync(path.join(planDir, 'migrations', '002_note.sql'), { force: true });
  const m = await cli(['migrate', path.join(planDir, 'plan.yaml'), '--json'], {
    LIVE_URL: url(port, base),
    CLONE_URL: url(port, `${base}_clone`),
  });
  if (m.code !== 0) throw new Error(`migrate failed: ${m.out}\n${m.err}`);
  writeFileSync(path.join(planDir, 'migrations', '002_note.sql'), `alter table items add column note text;`);
  const [{ bytes }] = await q(port, base, 'select pg_database_size(current_database())::text as bytes');
  const freezes = [];
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const live = `live${size}_${i}`;
    await q(port, 'postgres', `create database ${live} template ${base}`);
    const end = load(port, live);
    const t = performance.now();
    const r = await cli(['run', path.join(planDir, 'plan.yaml'), '--json'], {
      LIVE_URL: url(port, live),
      CLONE_URL: url(port, `${live}_clone`),
    });
    const wall = performance.now() - t;
    const traffic = await end();
    if (r.code !== 0) throw new Error(`run failed (exit ${r.code}): ${r.out}\n${r.err}`);
    const result = JSON.parse(r.out);
    freezes.push(result.freeze.totalMs);
    runs.push({ wall, ...traffic, phases: result.freeze.phases });
    console.error(
      `${size} MB run ${i + 1}: freeze ${result.freeze.totalMs} ms, run ${Math.round(wall)} ms, failed reads ${traffic.failedReads}`,
    );
    await q(port, 'postgres', `drop database ${live} with (force)`);
    await q(port, 'postgres', `drop database ${live}_clone with (force)`);
  }
  await q(port, 'postgres', `drop database ${base} with (force)`);
  const phaseMedian = (name) =>
    pct(
      runs.map((r) => r.phases.find((p) => p.name === name).ms),
      50,
    );
  rows.push({
    size,
    bytes: Number(bytes),
    median: pct(freezes, 50),
    p95: pct(freezes, 95),
    max: Math.max(...freezes),
    run: pct(
      runs.map((r) => r.wall),
      50,
    ),
    failedReads: runs.reduce((s, r) => s + r.failedReads, 0),
    phases: ['freeze on', 'in-flight drained', 'caught up', 'finalized']
      .map((n) => `${n} ${phaseMedian(n)}`)
      .join(' · '),
  });
}
rmSync(planDir, { recursive: true, force: true });

const ratio = rows.length > 1 ? rows[rows.length - 1].median / rows[0].median : null;
const load1 = os
  .loadavg()
  .map((x) => x.toFixed(1))
  .join(' / ');
const section = `${START}
## clone-freeze (PostgreSQL logical): freeze by database size

Measured ${new Date().toISOString().slice(0, 10)} by \`node bench/clone-freeze.bench.js --sizes ${SIZES.join(',')} --runs ${RUNS}\`.

- Machine: ${os.cpus().length} × ${os.cpus()[0]?.model.split(' ')[0] ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB; load average at the end ${load1} (shared machine). Node ${process.version}; PostgreSQL 15 (a private cluster, fsync off), clone in the same cluster.
- Each run: a fresh live database (a template copy), 2 writers and 2 readers as an application role throughout, the built CLI's \`maint run\` (copy, migrate the clone, freeze). The freeze is the result's \`freeze.totalMs\`: writes refused → in-flight writers drained → clone caught up → sequences set and replication detached (the clone is analyzed before the freeze, by \`clone:analyze\`; with ANALYZE inside the freeze the same bench measured medians of 1139 ms at 76 MB and 1375 ms at 213 MB, finalize ≈ 1 s of it).
- Goal: p95 ≤ 1 s; freeze(largest)/freeze(smallest) ≤ 1.5 (medians).

| live size | freeze median | p95 | max | phases (median ms) | whole run (median) | failed reads |
|---|---:|---:|---:|---|---:|---:|
${rows.map((r) => `| ${Math.round(r.bytes / 1e6)} MB | ${r.median} ms | ${r.p95} ms | ${r.max} ms | ${r.phases} | ${(r.run / 1000).toFixed(1)} s | ${r.failedReads} |`).join('\n')}

- p95 ≤ 1 s: ${rows.every((r) => r.p95 <= 1000) ? 'met' : 'NOT met'} at every size measured.
- Ratio largest/smallest: ${ratio === null ? 'one size only (not measured)' : `${ratio.toFixed(2)} (${ratio <= 1.5 ? 'met' : 'NOT met'})`}.
- \`dump\` is not built in this version, so there is no dump column.
${END}`;

const current = existsSync(results)
  ? readFileSync(results, 'utf8')
  : '# Benchmarks\n\nEach bench owns one section between its markers; `npm run bench` runs them all.\n';
const next = current.includes(START)
  ? current.replace(new RegExp(`${START}[\\s\\S]*?${END}`), section)
  : `${current.trimEnd()}\n\n${section}\n`;
writeFileSync(results, next);
console.error(section);
