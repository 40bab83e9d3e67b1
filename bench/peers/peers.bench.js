#!/usr/bin/env node
/**
 * maint side by side with its peers (knex, node-pg-migrate, umzug, postgrator; psql -f as the
 * floor on PostgreSQL), on the same servers, each run on its own fresh database, interleaved round
 * by round in a fixed order (maint, knex, node-pg-migrate, umzug, postgrator, psql), whole
 * processes timed spawn to exit under /usr/bin/time (peak RSS). Scenarios: 20, 200 and 1000
 * migrations (each `create table` + one `insert`) on PostgreSQL and MariaDB; after the 20 on
 * PostgreSQL each tool runs again with nothing pending (its fixed cost). Writes its section of
 * bench/RESULTS.md between the peers markers, and the raw runs to a JSON file it names.
 *
 * Run it with `npm run bench:peers` (builds maint, installs bench/peers, then runs this).
 * Options: --rounds N (default 10), --rounds-1000 N (default 3), --engines postgres,mysql,
 * --sizes 20,200,1000, --from FILE (report the raw runs of an earlier, maybe interrupted, run), --maint DIR (another built maint checkout), --results FILE (instead of bench/RESULTS.md). Servers: MAINT_TEST_PG_URL / MAINT_TEST_MYSQL_URL, else the local ones.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import pg from 'pg';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
let results = path.join(root, 'bench', 'RESULTS.md');
const START = '<!-- peers:start -->';
const END = '<!-- peers:end -->';
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const ROUNDS = Number(opt('rounds', '10'));
const ROUNDS_1000 = Number(opt('rounds-1000', '3'));
const ENGINES = opt('engines', 'postgres,mysql').split(',');
const SIZES = opt('sizes', '20,200,1000').split(',').map(Number);
const PG = process.env.MAINT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MY = process.env.MAINT_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const TIME = '/usr/bin/time';
/** The maint to run: this checkout, or another built one (`--maint DIR`, e.g. a copy of an older build). */
const MAINT = path.resolve(opt('maint', root));
results = path.resolve(opt('results', results));
const bin = (name) => path.join(here, 'node_modules', '.bin', name);

if (!existsSync(path.join(MAINT, 'dist', 'commands', 'migrate', 'index.js')))
  throw new Error('maint is not built: run `npm run bench:peers` (it builds first)');
if (!existsSync(bin('knex'))) throw new Error('the peers are not installed: run `npm run bench:peers`');
if (!existsSync(TIME)) throw new Error(`${TIME} is missing (apt-get install time): it measures peak RSS`);

const serverOf = (engine) => (engine === 'postgres' ? PG : MY);
function dbUrl(engine, name) {
  const u = new URL(serverOf(engine));
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin(engine, sql) {
  if (engine === 'postgres') {
    const c = new pg.Client({ connectionString: PG });
    await c.connect();
    try {
      return (await c.query(sql)).rows;
    } finally {
      await c.end();
    }
  }
  const c = await mysql.createConnection({ uri: MY });
  try {
    return (await c.query(sql))[0];
  } finally {
    await c.end();
  }
}

async function tablesIn(engine, name) {
  const rows =
    engine === 'postgres'
      ? await query(engine, name, "select count(*)::int as n from pg_tables where tablename like 't\\_%'")
      : await query(
          engine,
          name,
          `select count(*) as n from information_schema.tables where table_schema = '${name}' and table_name like 't\\_%'`,
        );
  return Number(rows[0].n);
}

async function query(engine, name, sql) {
  if (engine === 'postgres') {
    const c = new pg.Client({ connectionString: dbUrl(engine, name) });
    await c.connect();
    try {
      return (await c.query(sql)).rows;
    } finally {
      await c.end();
    }
  }
  return admin(engine, sql);
}

const statements = (i) => [
  `create table t_${i} (id int primary key, note text)`,
  `insert into t_${i} values (1, 'x')`,
];
const sqlOf = (i) =>
  statements(i)
    .map((s) => `${s};\n`)
    .join('');
const pad = (i) => String(i).padStart(4, '0');

/** One folder per size with every tool's own migration format. */
function prepare(n) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `maint-peers-${n}-`));
  const sub = (name) => {
    const d = path.join(dir, name);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const [maintDir, knexDir, npmDir, umzugDir, pgrDir] = [
    'maint/migrations',
    'knex',
    'npm',
    'umzug',
    'postgrator',
  ].map(sub);
  let all = '';
  for (let i = 1; i <= n; i++) {
    writeFileSync(path.join(maintDir, `${pad(i)}_t${i}.sql`), sqlOf(i));
    writeFileSync(path.join(npmDir, `${pad(i)}_t${i}.sql`), sqlOf(i));
    writeFileSync(path.join(umzugDir, `${pad(i)}_t${i}.sql`), sqlOf(i));
    writeFileSync(path.join(pgrDir, `${pad(i)}.do.t${i}.sql`), sqlOf(i));
    writeFileSync(
      path.join(knexDir, `${pad(i)}_t${i}.cjs`),
      `exports.up = async (knex) => {\n${statements(i)
        .map((s) => `  await knex.raw(${JSON.stringify(s)});\n`)
        .join('')}};\nexports.down = async () => {};\n`,
    );
    all += sqlOf(i);
  }
  writeFileSync(path.join(dir, 'all.sql'), all);
  return dir;
}

/** The tools, in the order each round runs them; `run` returns [command, args, env]. */
const TOOLS = [
  {
    name: 'maint',
    engines: ['postgres', 'mysql'],
    run: (engine, url, dir) => {
      const plan = path.join(dir, 'maint', `plan-${engine}.yaml`);
      writeFileSync(
        plan,
        `version: 1\nname: bench\nwindow: { timezone: UTC, days: [daily], start: "00:00", duration: 23h }\ndatabase: { engine: ${engine}, url: "${url}" }\n`,
      );
      return [process.execPath, [path.join(MAINT, 'bin', 'run.js'), 'migrate', plan], {}];
    },
  },
  {
    name: 'knex',
    engines: ['postgres', 'mysql'],
    run: (_engine, url, dir) => [
      bin('knex'),
      ['migrate:latest', '--knexfile', path.join(here, 'tools', 'knexfile.cjs')],
      { BENCH_URL: url, BENCH_DIR: path.join(dir, 'knex') },
    ],
  },
  {
    name: 'node-pg-migrate',
    engines: ['postgres'],
    run: (_engine, url, dir) => [
      bin('node-pg-migrate'),
      ['up', '-m', path.join(dir, 'npm')],
      { DATABASE_URL: url },
    ],
  },
  {
    name: 'umzug',
    engines: ['postgres', 'mysql'],
    run: (_engine, url, dir) => [
      process.execPath,
      [path.join(here, 'tools', 'umzug-up.mjs')],
      { BENCH_URL: url, BENCH_DIR: path.join(dir, 'umzug') },
    ],
  },
  {
    name: 'postgrator',
    engines: ['postgres', 'mysql'],
    run: (_engine, url, dir) => [
      process.execPath,
      [path.join(here, 'tools', 'postgrator-up.mjs')],
      { BENCH_URL: url, BENCH_DIR: path.join(dir, 'postgrator') },
    ],
  },
  {
    name: 'psql -f',
    engines: ['postgres'],
    noop: false,
    run: (_engine, url, dir) => [
      'psql',
      ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-f', path.join(dir, 'all.sql')],
      {},
    ],
  },
];

/** Spawn to exit under /usr/bin/time: wall ms, peak RSS (MB) and CPU ms. */
function timed([cmd, args, env]) {
  const rssFile = path.join(os.tmpdir(), `maint-peers-rss-${process.pid}`);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(TIME, ['-f', '%M %U %S', '-o', rssFile, cmd, ...args], {
    encoding: 'utf8',
    cwd: here,
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  const [rssKb, user, sys] = readFileSync(rssFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  rmSync(rssFile, { force: true });
  // CPU (user + system) moves far less with the machine's load than wall time.
  return { ms, rssMb: rssKb / 1024, cpuMs: (user + sys) * 1000 };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? NaN
    : s.length % 2
      ? s[(s.length - 1) / 2]
      : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// { engine, n, kind: 'apply'|'noop', tool, round, ms, rssMb }, written after every round so that
// an interrupted run still reports (`--from FILE` writes the section from such a file).
const FROM = opt('from', null);
const saved = FROM ? JSON.parse(readFileSync(FROM, 'utf8')) : null;
const raw = saved ? saved.runs : [];
const loads = saved ? saved.loads : [os.loadavg()[0]];
const rawFile =
  FROM ?? path.join(os.tmpdir(), `maint-peers-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
// The largest size last, both engines per size: an interrupted run has the small sizes complete.
for (const n of saved ? [] : SIZES) {
  for (const engine of ENGINES) {
    const dir = prepare(n);
    const rounds = n >= 1000 ? ROUNDS_1000 : ROUNDS;
    const noop = engine === 'postgres' && n === SIZES[0];
    for (let round = 0; round < rounds; round++) {
      for (const tool of TOOLS.filter((t) => t.engines.includes(engine))) {
        const name = `maint_peers_${process.pid}_${round}_${tool.name.replace(/\W/g, '')}`;
        await admin(engine, `create database ${name}`);
        try {
          const url = dbUrl(engine, name);
          const applied = timed(tool.run(engine, url, dir));
          const tables = await tablesIn(engine, name);
          if (tables !== n) throw new Error(`${tool.name} on ${engine} left ${tables} of ${n} tables`);
          raw.push({ engine, n, kind: 'apply', tool: tool.name, round, ...applied });
          if (noop && tool.noop !== false)
            raw.push({
              engine,
              n,
              kind: 'noop',
              tool: tool.name,
              round,
              ...timed(tool.run(engine, url, dir)),
            });
        } finally {
          await admin(
            engine,
            engine === 'postgres'
              ? `drop database if exists ${name} with (force)`
              : `drop database if exists ${name}`,
          );
        }
      }
      loads.push(os.loadavg()[0]);
      writeFileSync(rawFile, JSON.stringify({ argv, runs: raw, loads }, null, 1));
      console.error(`${engine} ${n}: round ${round + 1}/${rounds} done (load ${os.loadavg()[0].toFixed(1)})`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
if (saved) {
  // Report what the file holds.
  ENGINES.splice(0, ENGINES.length, ...new Set(raw.map((r) => r.engine)));
  SIZES.splice(0, SIZES.length, ...[...new Set(raw.map((r) => r.n))].sort((a, b) => a - b));
}
const roundsOf = (n) =>
  new Set(raw.filter((r) => r.n === n && r.tool === 'maint').map((r) => `${r.engine}${r.round}`)).size /
  ENGINES.length;

const cell = (engine, n, kind, tool, key) =>
  median(
    raw
      .filter((r) => r.engine === engine && r.n === n && r.kind === kind && r.tool === tool)
      .map((r) => r[key]),
  );
const fmt = (x, unit) =>
  Number.isNaN(x) ? '–' : unit === 'ms' ? `${x.toFixed(0)} ms` : `${x.toFixed(0)} MB`;
const peersOf = (engine) =>
  TOOLS.filter((t) => t.engines.includes(engine) && t.name !== 'maint' && t.name !== 'psql -f');

const lines = [];
const verdicts = [];
for (const engine of ENGINES) {
  const tools = TOOLS.filter((t) => t.engines.includes(engine));
  const label = engine === 'postgres' ? 'PostgreSQL' : 'MariaDB';
  lines.push(`### ${label}`, '');
  lines.push(
    `| scenario | ${tools.map((t) => t.name).join(' | ')} | maint / fastest peer | maint / median peer |`,
  );
  lines.push(`|---|${tools.map(() => '---:').join('|')}|---:|---:|`);
  const rows = [];
  if (engine === 'postgres' && SIZES.length > 0)
    rows.push({ n: SIZES[0], kind: 'noop', label: 'nothing pending' });
  for (const n of SIZES) rows.push({ n, kind: 'apply', label: `${n} migrations` });
  for (const { n, kind, label: what } of rows) {
    for (const [key, unit, suffix] of [
      ['ms', 'ms', ''],
      ['cpuMs', 'ms', ', CPU (user + system)'],
      ['rssMb', 'MB', ', peak RSS'],
    ]) {
      if (raw.every((r) => r[key] === undefined)) continue;
      const m = cell(engine, n, kind, 'maint', key);
      const peers = peersOf(engine)
        .map((t) => cell(engine, n, kind, t.name, key))
        .filter((x) => !Number.isNaN(x));
      const fastest = Math.min(...peers);
      const mid = median(peers);
      lines.push(
        `| ${what}${suffix} | ${tools.map((t) => fmt(cell(engine, n, kind, t.name, key), unit)).join(' | ')} | ${(m / fastest).toFixed(2)}× | ${(m / mid).toFixed(2)}× |`,
      );
      verdicts.push({
        engine,
        n,
        kind,
        key,
        maint: m,
        fastest,
        median: mid,
        psql: cell(engine, n, kind, 'psql -f', key),
      });
    }
  }
  lines.push('');
}

const v = (engine, n, kind, key) =>
  verdicts.find((x) => x.engine === engine && x.n === n && x.kind === kind && x.key === key);
const acceptance = [];
const noop = v('postgres', SIZES[0], 'noop', 'ms');
if (noop)
  acceptance.push(
    `- Nothing pending (PostgreSQL): maint ${noop.maint.toFixed(0)} ms, fastest peer ${noop.fastest.toFixed(0)} ms: **${(noop.maint / noop.fastest).toFixed(2)}×** (goal ≤ 1.0×: ${noop.maint <= noop.fastest ? 'met' : 'not met'}).`,
  );
const p200 = v('postgres', 200, 'apply', 'ms');
if (p200)
  acceptance.push(
    `- 200 migrations (PostgreSQL): maint / psql -f **${(p200.maint / p200.psql).toFixed(2)}×** (goal ≤ 1.5×: ${p200.maint / p200.psql <= 1.5 ? 'met' : 'not met'}).`,
  );
for (const engine of ENGINES)
  for (const n of SIZES) {
    const x = v(engine, n, 'apply', 'ms');
    if (!x || Number.isNaN(x.maint)) continue;
    acceptance.push(
      `- ${n} migrations (${engine === 'postgres' ? 'PostgreSQL' : 'MariaDB'}): maint ${x.maint.toFixed(0)} ms vs median peer ${x.median.toFixed(0)} ms (**${(x.maint / x.median).toFixed(2)}×**; not slower: ${x.maint <= x.median ? 'met' : 'not met'}).`,
    );
  }
for (const engine of ENGINES) {
  const x = v(engine, 1000, 'apply', 'rssMb');
  if (!x || Number.isNaN(x.maint)) continue;
  const lowest = Math.min(...peersOf(engine).map((t) => cell(engine, 1000, 'apply', t.name, 'rssMb')));
  acceptance.push(
    `- Peak RSS, 1000 migrations (${engine === 'postgres' ? 'PostgreSQL' : 'MariaDB'}): maint ${x.maint.toFixed(0)} MB vs lowest peer ${lowest.toFixed(0)} MB (**${(x.maint / lowest).toFixed(2)}×**; goal ≤ 1.10×: ${x.maint <= lowest * 1.1 ? 'met' : 'not met'}).`,
  );
}

const peerVersions = Object.entries(
  JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8')).dependencies,
)
  .map(([k, ver]) => `${k} ${ver}`)
  .join(', ');
const section = [
  START,
  '## Peers: maint side by side',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench:peers\` (bench/peers/peers.bench.js${argv.length ? ` ${argv.join(' ')}` : ''}).`,
  '',
  `- Machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, shared with other sessions; 1-minute load average during the run ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (median ${median(loads).toFixed(1)}). Node ${process.version}; PostgreSQL at ${new URL(PG).host}, MariaDB at ${new URL(MY).host}.`,
  `- Peers (bench/peers/package.json, exact versions): ${peerVersions}. knex and node-pg-migrate through their CLIs (\`knex migrate:latest\`, \`node-pg-migrate up\`); umzug and postgrator through their APIs in a script (bench/peers/tools), as an application's migrate script uses them; \`psql -f\` of one file with every statement (autocommit) as the floor.`,
  `- Each migration: \`create table t_N (id int primary key, note text)\` and one \`insert\`, in each tool's own format. Every run on its own fresh database (checked afterwards: N tables), the tools in a fixed order within a round (${TOOLS.map((t) => t.name).join(', ')}), rounds one after the other (size by size, both engines per size): ${SIZES.map((n) => `${roundsOf(n)} round(s) at ${n}`).join(', ')}. "Nothing pending": each tool again on the database it just migrated (20 applied).`,
  '- Timed: the whole process, spawn to exit, wall clock; CPU is user + system and peak RSS the maximum resident set size, both from /usr/bin/time. Medians.',
  '',
  ...lines,
  '#### Against the acceptance of issue 14',
  '',
  ...acceptance,
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
console.log(`raw runs: ${rawFile}`);
