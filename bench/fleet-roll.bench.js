#!/usr/bin/env node
/**
 * Requests during a fleet roll under load: a real HAProxy (Debian's) in front of three demo
 * servers (plans/fleet), wrk keeping 8 connections busy. Three scenarios on the same rig:
 * no roll (the baseline), `maint run` rolling v1 → v2 → v3 … (rolling, batch 1) until at least
 * 50k requests were served during rolls, and a naive restart (each server stopped and started
 * on the next release, no load-balancer drain). Reported: requests, failed (non-2xx + socket
 * errors), p50/p99 latency. Goal: maint 0 failed of ≥ 50k, p99 ≤ 2× baseline. Writes its
 * section of bench/RESULTS.md between the fleet-roll markers, nothing else.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const results = path.join(root, 'bench', 'RESULTS.md');
const START_MARK = '<!-- fleet-roll:start -->';
const END_MARK = '<!-- fleet-roll:end -->';
const DEMO = path.join(root, 'plans', 'fleet');
const START = path.join(DEMO, 'deploy', 'start.sh');
const STOP = path.join(DEMO, 'deploy', 'stop.sh');
const MIN_REQUESTS = 50_000;

if (!existsSync(path.join(root, 'dist', 'commands', 'run.js'))) {
  throw new Error('maint is not built: run `npm run build` (or `npm run bench`) first');
}
for (const [bin, pkg] of [
  ['haproxy', 'haproxy'],
  ['wrk', 'wrk'],
]) {
  if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0)
    throw new Error(`${bin} is not installed: apt-get install -y ${pkg}`);
}

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

function api(sock, command) {
  return new Promise((resolve, reject) => {
    const c = connect({ path: sock });
    let out = '';
    c.on('connect', () => c.end(`${command}\n`));
    c.on('data', (d) => (out += d));
    c.on('error', reject);
    c.on('close', () => resolve(out));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function ms(text) {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text ?? '');
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
}

function wrk(url) {
  const child = spawn('wrk', ['-t2', '-c8', '-d600s', '--latency', url]);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const done = new Promise((resolve) => child.on('close', () => resolve(out)));
  return {
    async stop() {
      child.kill('SIGINT');
      const text = await done;
      const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
      return {
        requests: Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN),
        non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0),
        socketErrors: se ? se.slice(1).reduce((s, x) => s + Number(x), 0) : 0,
        p50: ms(/^\s+50%\s+(\S+)/m.exec(text)?.[1]),
        p99: ms(/^\s+99%\s+(\S+)/m.exec(text)?.[1]),
      };
    },
  };
}

const dir = mkdtempSync('/tmp/maint-fleet-bench-');
const servers = ['web1', 'web2', 'web3'];
const ports = {};
for (const s of servers) ports[s] = await freePort();
const fe = await freePort();
const sock = path.join(dir, 'admin.sock');
writeFileSync(
  path.join(dir, 'haproxy.cfg'),
  `global
  stats socket ${sock} level admin
defaults
  mode http
  timeout connect 1s
  timeout client 10s
  timeout server 10s
  retries 3
frontend fe
  bind 127.0.0.1:${fe}
  default_backend app
backend app
  option httpchk GET /lbcheck
  default-server inter 100 fastinter 100 downinter 100 fall 2 rise 2
${servers.map((s) => `  server ${s} 127.0.0.1:${ports[s]} check`).join('\n')}
`,
);
const env = { ...process.env, MAINT_DEMO_RUN_DIR: dir };
const haproxy = spawn('haproxy', ['-f', path.join(dir, 'haproxy.cfg'), '-db'], { stdio: 'ignore' });
const start = (s, release) =>
  run(START, [], {
    env: { ...env, MAINT_SERVER: s, MAINT_RELEASE: release, MAINT_SERVER_ADDR: `127.0.0.1:${ports[s]}` },
  });
const stop = (s) => run(STOP, [], { env: { ...env, MAINT_SERVER: s } });

async function allUp() {
  for (let i = 0; i < 400; i++) {
    const stat = await api(sock, 'show stat').catch(() => '');
    const up = stat.split('\n').filter((l) => l.startsWith('app,web') && l.split(',')[17] === 'UP').length;
    if (up === servers.length) return;
    await sleep(50);
  }
  throw new Error('the demo servers did not come up behind HAProxy');
}

const url = `http://127.0.0.1:${fe}/`;
const rows = [];
let release = 1;
try {
  await sleep(300);
  for (const s of servers) await start(s, `v${release}`);
  await allUp();

  // Baseline: the same load with nothing changing.
  let load = wrk(url);
  await sleep(10_000);
  rows.push({ scenario: 'no roll (baseline)', rolls: 0, ...(await load.stop()) });

  // maint: `maint run` rolling, repeated until the load served MIN_REQUESTS during rolls.
  mkdirSync(path.join(dir, 'migrations'));
  const plan = path.join(dir, 'plan.yaml');
  const hour = String((new Date().getUTCHours() + 23) % 24).padStart(2, '0');
  writeFileSync(
    plan,
    `version: 1
name: fleet-bench
window: { timezone: UTC, days: [daily], start: "${hour}:00", duration: 24h }
database: { engine: pglite, url: ./db }
release: \${RELEASE}
fleet:
  provider: haproxy
  runtimeApi: ${sock}
  backend: app
  mode: rolling
  start: ${START}
  stop: ${STOP}
  probe: { path: /healthz, expectRelease: true }
  healthTimeout: 30s
`,
  );
  load = wrk(url);
  await sleep(300);
  // At least 3 rolls and 30 s of load: comfortably over MIN_REQUESTS on this rig.
  let rolls = 0;
  const began = Date.now();
  while (rolls < 3 || Date.now() - began < 30_000) {
    release++;
    const r = spawnSync(process.execPath, [path.join(root, 'bin', 'run.js'), 'run', plan, '--json'], {
      env: { ...env, RELEASE: `v${release}`, NO_COLOR: '1' },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`maint run exited ${r.status}: ${r.stderr}`);
    rolls++;
  }
  await sleep(200);
  const maint = await load.stop();
  rows.push({ scenario: 'maint run, rolling, batch 1', rolls, ...maint });

  // Naive restart: each server stopped and started on the next release, HAProxy not told.
  load = wrk(url);
  await sleep(300);
  let naiveRolls = 0;
  for (let i = 0; i < 3; i++) {
    release++;
    for (const s of servers) {
      await stop(s);
      await start(s, `v${release}`);
      await sleep(300);
    }
    naiveRolls++;
    await allUp();
  }
  await sleep(200);
  rows.push({ scenario: 'naive restart (stop, start, no drain)', rolls: naiveRolls, ...(await load.stop()) });
} finally {
  haproxy.kill('SIGKILL');
  for (const s of servers) await stop(s).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}

const base = rows[0];
const m = rows.find((r) => r.scenario.startsWith('maint run, rolling'));
const failed = (r) => r.non2xx + r.socketErrors;
const meets = failed(m) === 0 && m.requests >= MIN_REQUESTS && m.p99 <= 2 * base.p99;
const load = os.loadavg().map((x) => x.toFixed(1));
const section = `${START_MARK}
## Fleet roll: requests during a roll under load

Measured ${new Date().toISOString().slice(0, 10)} by \`node bench/fleet-roll.bench.js\` (also run by \`npm run bench\`).

- Machine: ${os.cpus().length} × ${os.cpus()[0]?.model.split(' ').slice(0, 2).join(' ')}, load average at the end ${load.join(' / ')} (shared machine); Node ${process.version}; ${spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0].split(' - ')[0]}.
- Rig: HAProxy (\`option httpchk GET /lbcheck\`, \`inter 100 fall 2 rise 2\`, \`retries 3\`, no redispatch) in front of three demo servers (plans/fleet/app: on SIGTERM they fail their checks and close once idle); load \`wrk -t2 -c8\` through HAProxy, keep-alive.
- maint: \`maint run\` of a plan with \`fleet: { provider: haproxy, mode: rolling }\` (batch 1, probe /healthz expecting the release), each run to the next release, back to back under one wrk run (at least 3 rolls and 30 s; the goal needs ≥ ${MIN_REQUESTS / 1000}k requests). Naive: for each server, the demo's stop.sh then start.sh on the next release (SIGTERM, the app fails its check and closes), HAProxy not drained, 300 ms apart.
- Goal: maint 0 failed of ≥ 50k requests, p99 ≤ 2× the no-roll baseline.

| scenario | rolls | requests | failed (non-2xx + socket errors) | p50 | p99 |
|---|---:|---:|---:|---:|---:|
${rows.map((r) => `| ${r.scenario} | ${r.rolls} | ${r.requests} | ${failed(r)} (${r.non2xx} + ${r.socketErrors}) | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms |`).join('\n')}

maint: **${failed(m)} failed of ${m.requests}**, p99 ${(m.p99 / base.p99).toFixed(2)}× baseline (${meets ? 'meets' : 'misses'} the goal). Naive restart on the same rig: ${failed(rows[2])} failed of ${rows[2].requests}. The machine is shared (see the load average): compare the scenarios of one run, not runs.
${END_MARK}`;

const text = readFileSync(results, 'utf8');
const next = text.includes(START_MARK)
  ? text.replace(new RegExp(`${START_MARK}[\\s\\S]*?${END_MARK}`), section)
  : `${text.trimEnd()}\n\n${section}\n`;
writeFileSync(results, next);
console.log(section);
