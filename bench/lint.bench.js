#!/usr/bin/env node
/**
 * `maint lint --offline --all` over 500 PostgreSQL migrations (the corpus's statements, repeated),
 * whole processes timed spawn to exit, against `maint validate` of the same plan (start-up and
 * plan loading without the parser). The difference is what linting costs: loading the
 * WebAssembly parser once and parsing every file. Writes its section of bench/RESULTS.md between
 * the lint markers, nothing else. Goal: 500 migrations linted in under 3 s more than validate.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const results = path.join(root, 'bench', 'RESULTS.md');
const START = '<!-- lint:start -->';
const END = '<!-- lint:end -->';
const COUNT = 500;
const GOAL_MS = 3000;
const argv = process.argv.slice(2);
const ROUNDS = (() => {
  const i = argv.indexOf('--rounds');
  return i >= 0 ? Number(argv[i + 1]) : 5;
})();

if (!existsSync(path.join(root, 'dist', 'commands', 'lint.js'))) {
  throw new Error('maint is not built: run `npm run build` (or `npm run bench`) first');
}

const corpus = path.join(root, 'test', 'fixtures', 'lint', 'pg');
const sources = readdirSync(corpus)
  .filter((f) => f.endsWith('.sql'))
  .sort()
  .map((f) => readFileSync(path.join(corpus, f), 'utf8').replace(/^-- maint:no-transaction\n/, ''));
const dir = mkdtempSync(path.join(os.tmpdir(), 'maint-lint-bench-'));
try {
  mkdirSync(path.join(dir, 'migrations'));
  for (let i = 0; i < COUNT; i++)
    writeFileSync(
      path.join(dir, 'migrations', `${String(i + 1).padStart(4, '0')}_m.sql`),
      sources[i % sources.length],
    );
  writeFileSync(
    path.join(dir, 'plan.yaml'),
    'version: 1\nname: lint-bench\nwindow:\n  timezone: UTC\n  days: [daily]\n  start: "00:00"\n  duration: 1h\n' +
      'database:\n  engine: postgres\n  url: postgres://127.0.0.1:1/none\nmigrations:\n  dir: ./migrations\n',
  );
  const plan = path.join(dir, 'plan.yaml');
  const env = { ...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true', NO_COLOR: '1' };
  const timed = (args) => {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [path.join(root, 'bin', 'run.js'), ...args], {
      env,
      encoding: 'utf8',
    });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    return { ms, status: r.status, stdout: r.stdout };
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const lint = [];
  const validate = [];
  let findings = 0;
  timed(['lint', plan, '--offline', '--all', '--json']);
  for (let i = 0; i < ROUNDS; i++) {
    const l = timed(['lint', plan, '--offline', '--all', '--json']);
    if (l.status !== 7) throw new Error(`lint exited ${l.status}`);
    findings = JSON.parse(l.stdout).findings.length;
    lint.push(l.ms);
    validate.push(timed(['validate', plan]).ms);
  }
  const l = median(lint);
  const v = median(validate);
  const load = os.loadavg().map((x) => x.toFixed(1));
  const section = [
    START,
    '## Lint',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} by \`node bench/lint.bench.js\` (also run by \`npm run bench\`).`,
    '',
    `- Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; load average at the end ${load.join(' / ')} (shared machine).`,
    `- What is timed: whole processes, spawn to exit, median of ${ROUNDS} (after one warm-up): \`maint lint --offline --all --json\` over ${COUNT} PostgreSQL migrations (the corpus's ${sources.length} files repeated; ${findings} findings), and \`maint validate\` of the same plan.`,
    `- Goal: lint costs less than ${GOAL_MS} ms over validate for ${COUNT} migrations.`,
    '',
    '| command | median |',
    '|---|---:|',
    `| \`maint lint --offline --all\` (${COUNT} migrations) | ${l.toFixed(0)} ms |`,
    `| \`maint validate\` | ${v.toFixed(0)} ms |`,
    `| lint's own cost | ${(l - v).toFixed(0)} ms (${((l - v) / COUNT).toFixed(1)} ms a migration) |`,
    '',
    `- ${l - v <= GOAL_MS ? 'Within' : 'Over'} the goal.`,
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
  console.log(`lint ${l.toFixed(0)} ms, validate ${v.toFixed(0)} ms, ${findings} findings`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
