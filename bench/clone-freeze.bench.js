#!/usr/bin/env node
/**
 * clone-freeze (PostgreSQL `logical` and `dump`): how long writes are frozen, by live database
 * size, under load (2 writers and 2 readers as an application role), 5 runs per size and method
 * of the built CLI's `maint run`, the methods interleaved run by run. Starts its own cluster (initdb into /tmp/maint-pgc-*, wal_level=logical, a free
 * port; as root the tools run as the postgres OS user) and removes it at the end. Writes its
 * section of bench/RESULTS.md between the clone-freeze markers, nothing else.
 *   node bench/clone-freeze.bench.js [--sizes 100,1000] [--runs 5] [--methods logical,dump]   (sizes in MB)
 * Goal (issue 11, logical): p95 ≤ 1 s, and freeze(largest)/freeze(smallest) ≤ 1.5 (medians).
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
const METHODS = arg('--methods', 'logical,dump').split(',');
// The dump freeze copies the whole database (1 GB: about a minute at 20 MB/s), far past the
// default 30 s that preflight holds it to; its runs get room to complete.
const MAX_DURATION = { logical: '30s', dump: '10m' };
// About 132 bytes a row (id, v, md5 payload, index) and ~8 MB fixed: measured 690k rows → 99 MB, 2.07M → 281 MB.
const ROWS_PER_MB = 7400;

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
process.on('exit', () => rmSync(planDir, { recursive: true, force: true }));
// One folder a size (its base migration differs in the row count), with a plan a method.
const planFor = (size, method) => {
  mkdirSync(path.join(planDir, `s${size}`, 'migrations'), { recursive: true });
  const file = path.join(planDir, `s${size}`, `plan-${method}.yaml`);
  writeFileSync(
    file,
    `version: 1\nname: clone-bench\nwindow:\n  timezone: UTC\n  days: [daily]\n  start: "00:00"\n  duration: 24h\ndatabase:\n  engine: postgres\n  url: \${LIVE_URL}\nmigrations:\n  dir: ./migrations\nstrategy:\n  kind: clone-freeze\n  clone:\n    method: ${method}\n    url: \${CLONE_URL}\n  freeze:\n    grace: 1s\n    maxDuration: ${MAX_DURATION[method]}\n`,
  );
  return file;
};
const plans = Object.fromEntries(
  SIZES.map((size) => [size, Object.fromEntries(METHODS.map((m) => [m, planFor(size, m)]))]),
);
const PHASES = {
  logical: ['freeze on', 'in-flight drained', 'caught up', 'finalized'],
  dump: ['freeze on', 'in-flight drained', 'copied', 'migrated'],
};
const disk = () => {
  try {
    return execFileSync('df', ['-h', '--output=avail', dir]).toString().trim().split('\n').pop().trim();
  } catch {
    return '?';
  }
};
const loads = [];
const sampler = setInterval(() => loads.push(os.loadavg()[0]), 5000);
const loadStart = os.loadavg()[0];
const benchStart = performance.now();

// Every size's base is built first, then the runs go round by round over sizes and methods
// (the order alternating), so a change in the shared machine's load falls on every cell.
const bases = [];
for (const size of SIZES) {
  const base = `base${size}`;
  await q(port, 'postgres', `create database ${base}`);
  writeFileSync(
    path.join(planDir, `s${size}`, 'migrations', '001_base.sql'),
    `create table items (id serial primary key, v integer not null default 0, payload text not null);
create table events (id bigserial primary key, item integer not null, at timestamptz not null default now());
insert into items (v, payload) select g % 7, md5(g::text) || md5((g + 1)::text) from generate_series(1, ${size * ROWS_PER_MB}) g;
grant select, insert, update, delete on items, events to app;
grant usage on all sequences in schema public to app;`,
  );
  const tBuild = performance.now();
  const m = await cli(['migrate', plans[size][METHODS[0]], '--json'], {
    LIVE_URL: url(port, base),
    CLONE_URL: url(port, `${base}_clone`),
  });
  if (m.code !== 0) throw new Error(`migrate failed: ${m.out}\n${m.err}`);
  const [{ bytes }] = await q(port, base, 'select pg_database_size(current_database())::text as bytes');
  bases.push({ size, base, bytes: Number(bytes) });
  console.error(
    `${size} MB: base built (${Math.round(Number(bytes) / 1e6)} MB) in ${Math.round((performance.now() - tBuild) / 1000)} s; ${disk()} free`,
  );
}
// The migration each run applies to its clone.
for (const size of SIZES)
  writeFileSync(
    path.join(planDir, `s${size}`, 'migrations', '002_note.sql'),
    `alter table items add column note text;`,
  );

const cells = new Map(bases.flatMap((b) => METHODS.map((method) => [`${b.size}/${method}`, []])));
for (let i = 0; i < RUNS; i++) {
  const sizes = i % 2 === 0 ? bases : [...bases].reverse();
  for (const [k, { size, base }] of sizes.entries()) {
    const order = (i + k) % 2 === 0 ? METHODS : [...METHODS].reverse();
    for (const method of order) {
      const live = `live${size}_${method}_${i}`;
      const tCopy = performance.now();
      await q(port, 'postgres', `create database ${live} template ${base}`);
      const copyMs = performance.now() - tCopy;
      const end = load(port, live);
      const t = performance.now();
      const r = await cli(['run', plans[size][method], '--json'], {
        LIVE_URL: url(port, live),
        CLONE_URL: url(port, `${live}_clone`),
      });
      const wall = performance.now() - t;
      const traffic = await end();
      if (r.code !== 0) throw new Error(`${method} run failed (exit ${r.code}): ${r.out}\n${r.err}`);
      const result = JSON.parse(r.out);
      const finalize = result.steps?.find((s) => s.name === 'clone:cutover')?.detail?.finalize;
      // logical: how long clone:analyze waited (unfrozen) for the clone to confirm the live WAL.
      const preCatchUp = result.steps?.find((s) => s.name === 'clone:analyze')?.detail?.caughtUpMs;
      cells.get(`${size}/${method}`).push({
        freeze: result.freeze.totalMs,
        wall,
        ...traffic,
        phases: result.freeze.phases,
        finalize,
        preCatchUp,
      });
      console.error(
        `${size} MB ${method} run ${i + 1}: freeze ${result.freeze.totalMs} ms (${result.freeze.phases.map((p) => `${p.name} ${p.ms}`).join(', ')}), ${finalize ? `finalize parts ${JSON.stringify(finalize)}, ` : ''}${preCatchUp === undefined ? '' : `catch-up before the freeze ${preCatchUp} ms, `}run ${Math.round(wall)} ms, template copy ${Math.round(copyMs)} ms, failed reads ${traffic.failedReads}, refused writes ${traffic.refused}, load ${os.loadavg()[0].toFixed(1)}, ${disk()} free`,
      );
      await q(port, 'postgres', `drop database ${live} with (force)`);
      await q(port, 'postgres', `drop database ${live}_clone with (force)`);
    }
  }
}
const rows = [];
for (const { size, base, bytes } of bases) {
  await q(port, 'postgres', `drop database ${base} with (force)`);
  for (const method of METHODS) {
    const runs = cells.get(`${size}/${method}`);
    const freezes = runs.map((r) => r.freeze);
    const phaseMedian = (name) =>
      pct(
        runs.map((r) => r.phases.find((p) => p.name === name)?.ms ?? 0),
        50,
      );
    const parts = runs[0]?.finalize ? Object.keys(runs[0].finalize) : [];
    rows.push({
      method,
      size,
      bytes,
      median: pct(freezes, 50),
      p95: pct(freezes, 95),
      max: Math.max(...freezes),
      all: freezes,
      run: pct(
        runs.map((r) => r.wall),
        50,
      ),
      failedReads: runs.reduce((s, r) => s + r.failedReads, 0),
      refused: runs.reduce((s, r) => s + r.refused, 0),
      phases: PHASES[method].map((n) => `${n} ${phaseMedian(n)}`).join(' · '),
      preCatchUp: runs.every((r) => r.preCatchUp !== undefined)
        ? runs.map((r) => r.preCatchUp).join(', ')
        : null,
      finalize: parts
        .map(
          (n) =>
            `${n} ${pct(
              runs.map((r) => r.finalize?.[n] ?? 0),
              50,
            )}`,
        )
        .join(' · '),
    });
  }
}
clearInterval(sampler);
rmSync(planDir, { recursive: true, force: true });
const benchMin = (performance.now() - benchStart) / 60000;

const logical = rows.filter((r) => r.method === 'logical');
const ratio = logical.length > 1 ? logical[logical.length - 1].median / logical[0].median : null;
const load1 = os
  .loadavg()
  .map((x) => x.toFixed(1))
  .join(' / ');
const loadMed = loads.length > 0 ? pct(loads, 50).toFixed(1) : '?';
const loadMax = loads.length > 0 ? Math.max(...loads).toFixed(1) : '?';
const section = `${START}
## clone-freeze (PostgreSQL logical and dump): freeze by database size

Measured ${new Date().toISOString().slice(0, 10)} by \`nice -n 10 node bench/clone-freeze.bench.js --sizes ${SIZES.join(',')} --runs ${RUNS} --methods ${METHODS.join(',')}\` (${benchMin.toFixed(0)} min in all).

- Machine: ${os.cpus().length} × ${os.cpus()[0]?.model.split(' ')[0] ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB; 1-minute load average (shared machine, other agents' work included) ${loadStart.toFixed(1)} at the start, median ${loadMed} and max ${loadMax} during the bench (sampled every 5 s), ${load1} at the end. Node ${process.version}; PostgreSQL 15 (a private cluster, fsync off), clone in the same cluster.
- Each size's live database is built once (the base migration) and copied for every run with \`CREATE DATABASE … TEMPLATE\`; the copy and its clone are dropped after the run. Each run: 2 writers and 2 readers as an application role throughout, the built CLI's \`maint run\`. The runs go round by round over the sizes and the methods, the order alternating, so every cell sees the same machine.
- \`logical\`: copy online, migrate the clone, freeze. The freeze is the result's \`freeze.totalMs\`: writes refused → in-flight writers drained → clone caught up → sequences set and replication detached (the clone is analyzed before the freeze, by \`clone:analyze\`).
- \`dump\`: the freeze covers \`pg_dump | psql\` of the whole database and the migration of the copy, so it grows with the size; it is beside \`logical\` to show what the freeze costs without replication. Its runs use \`freeze.maxDuration: ${MAX_DURATION.dump}\` (the default 30 s would be refused by preflight at 1 GB: 1 s + size at 20 MB/s, plus grace); \`logical\` runs use \`${MAX_DURATION.logical}\`.
- Goal (\`logical\`): p95 ≤ 1 s; freeze(largest)/freeze(smallest) ≤ 1.5 (medians).

| method | live size | freeze median | p95 | max | every run (ms) | phases (median ms) | whole run (median) | failed reads | refused writes |
|---|---|---:|---:|---:|---|---|---:|---:|---:|
${rows.map((r) => `| ${r.method} | ${Math.round(r.bytes / 1e6)} MB | ${r.median} ms | ${r.p95} ms | ${r.max} ms | ${r.all.join(', ')} | ${r.phases} | ${(r.run / 1000).toFixed(1)} s | ${r.failedReads} | ${r.refused} |`).join('\n')}

- \`logical\` p95 ≤ 1 s: ${logical.length === 0 ? 'not measured' : `${logical.every((r) => r.p95 <= 1000) ? 'met' : 'NOT met'} (${logical.map((r) => `${r.p95} ms at ${Math.round(r.bytes / 1e6)} MB`).join(', ')})`}.
- \`logical\` ratio largest/smallest (medians): ${ratio === null ? 'one size only (not measured)' : `${logical[logical.length - 1].median} / ${logical[0].median} ms = ${ratio.toFixed(2)} (${ratio <= 1.5 ? 'met' : 'NOT met'})`}.
- ${RUNS} runs a cell: p95 is by nearest rank${RUNS < 20 ? ', so here the largest run' : ''}.
${rows
  .filter((r) => r.finalize)
  .map(
    (r) =>
      `- \`logical\` ${Math.round(r.bytes / 1e6)} MB, the parts of \`finalized\` (median ms): ${r.finalize}${r.preCatchUp ? `; \`clone:analyze\` waited (unfrozen) for the clone to confirm the live WAL: ${r.preCatchUp} ms` : ''}.`,
  )
  .join('\n')}
${END}`;

const current = existsSync(results)
  ? readFileSync(results, 'utf8')
  : '# Benchmarks\n\nEach bench owns one section between its markers; `npm run bench` runs them all.\n';
const next = current.includes(START)
  ? current.replace(new RegExp(`${START}[\\s\\S]*?${END}`), section)
  : `${current.trimEnd()}\n\n${section}\n`;
writeFileSync(results, next);
console.error(section);
