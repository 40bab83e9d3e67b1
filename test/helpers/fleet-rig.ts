/**
 * The fleet rig: a real HAProxy (Debian's) in front of local Node servers of the demo app
 * (plans/fleet/app), started and stopped by the demo's own scripts, under load from `wrk`.
 * Everything listens on 127.0.0.1 on free ports, lives in /tmp/maint-fleet-*, and is stopped
 * by `stop()` (call it in afterAll/finally).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseShowStat, runtimeCommand } from '../../src/fleet/haproxy-api.js';
import { REPO, waitFor } from './run-cli.js';

const run = promisify(execFile);
export const DEMO = path.join(REPO, 'plans/fleet');
const START = path.join(DEMO, 'deploy/start.sh');
const STOP = path.join(DEMO, 'deploy/stop.sh');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Fail loudly (never skip) when a program the rig needs is missing. */
export async function requireProgram(name: string, pkg: string): Promise<void> {
  try {
    await run('sh', ['-c', `command -v ${name}`]);
  } catch {
    throw new Error(`${name} is not installed: apt-get install -y ${pkg}`);
  }
}

export interface LoadResult {
  requests: number;
  non2xx: number;
  socketErrors: number;
  p50Ms: number;
  p99Ms: number;
  raw: string;
}

function ms(text: string | undefined): number {
  if (!text) return NaN;
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 'ms' ? v : m[2] === 's' ? v * 1000 : v * 60_000;
}

export function parseWrk(out: string): LoadResult {
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = se ? se.slice(1, 5).reduce((s, x) => s + Number(x), 0) : 0;
  return {
    requests,
    non2xx,
    socketErrors,
    p50Ms: ms(/^\s+50%\s+(\S+)/m.exec(out)?.[1]),
    p99Ms: ms(/^\s+99%\s+(\S+)/m.exec(out)?.[1]),
    raw: out,
  };
}

export interface Rig {
  dir: string;
  url: string;
  runtimeApi: string;
  backend: string;
  servers: string[];
  env: Record<string, string>;
  /**
   * `wrk` against the frontend until `stop()` (SIGINT: wrk prints its totals), at most
   * `maxSeconds`.
   */
  load(maxSeconds?: number, connections?: number): { stop(): Promise<LoadResult>; child: ChildProcess };
  /** Releases named by `n` responses through the load balancer. */
  sample(n: number): Promise<Map<string, number>>;
  stat(): Promise<ReturnType<typeof parseShowStat>>;
  /** SIGKILL one server's process (no drain): the negative control. */
  killServer(name: string): Promise<void>;
  startServer(name: string, release: string): Promise<void>;
  waitServing(names: string[]): Promise<void>;
  /** The demo servers' own logs (start, listen, errors), for a failing test's message. */
  logs(): Promise<string>;
  stop(): Promise<void>;
}

export async function startRig(options: {
  active: number;
  spare?: number;
  release: string;
  /** Environment of the servers the rig starts itself (e.g. MAINT_DATABASE_URL, DEMO_DB_ROLE). */
  serverEnv?: Record<string, string>;
  /**
   * HAProxy's `timeout check` (the check's read timeout). Unset, a check must answer within
   * `inter` (100 ms), which a database-backed check can miss on a loaded machine.
   */
  checkTimeout?: string;
}): Promise<Rig> {
  await requireProgram('haproxy', 'haproxy');
  await requireProgram('wrk', 'wrk');
  const dir = await mkdtemp('/tmp/maint-fleet-');
  const total = options.active + (options.spare ?? 0);
  const servers = Array.from({ length: total }, (_, i) => `web${i + 1}`);
  const ports = new Map<string, number>();
  for (const s of servers) ports.set(s, await freePort());
  const fe = await freePort();
  const sock = path.join(dir, 'admin.sock');
  const cfg = `global
  stats socket ${sock} level admin
  maxconn 2000
defaults
  mode http
  timeout connect 1s
  timeout client 10s
  timeout server 10s
  retries 3${options.checkTimeout ? `\n  timeout check ${options.checkTimeout}` : ''}
frontend fe
  bind 127.0.0.1:${fe}
  default_backend app
backend app
  balance roundrobin
  option httpchk GET /lbcheck
  default-server inter 100 fastinter 100 downinter 100 fall 2 rise 2
${servers.map((s, i) => `  server ${s} 127.0.0.1:${ports.get(s)} check${i >= options.active ? ' disabled' : ''}`).join('\n')}
`;
  await writeFile(path.join(dir, 'haproxy.cfg'), cfg);
  const env = { MAINT_DEMO_RUN_DIR: dir };
  const haproxy = spawn('haproxy', ['-f', path.join(dir, 'haproxy.cfg'), '-db'], { stdio: 'ignore' });
  const rig: Rig = {
    dir,
    url: `http://127.0.0.1:${fe}/`,
    runtimeApi: sock,
    backend: 'app',
    servers,
    env,
    load(maxSeconds = 120, connections = 8) {
      const child = spawn('wrk', ['-t2', `-c${connections}`, `-d${maxSeconds}s`, '--latency', rig.url]);
      let out = '';
      let ended = false;
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const done = new Promise<LoadResult>((resolve, reject) => {
        child.on('error', reject);
        child.on('close', () => {
          ended = true;
          resolve(parseWrk(out));
        });
      });
      return {
        child,
        async stop() {
          // Ended by itself: the load did not cover everything it was meant to.
          if (ended) throw new Error(`wrk ended before it was stopped (after ${maxSeconds} s)`);
          child.kill('SIGINT');
          return done;
        },
      };
    },
    async sample(n) {
      const seen = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        const release = await new Promise<string>((resolve, reject) => {
          const req = httpRequest(rig.url, { agent: false }, (res) => {
            res.resume();
            res.on('end', () => resolve(`${res.statusCode}:${String(res.headers['x-release'])}`));
          });
          req.on('error', reject);
          req.end();
        });
        seen.set(release, (seen.get(release) ?? 0) + 1);
      }
      return seen;
    },
    async stat() {
      return parseShowStat(await runtimeCommand(sock, 'show stat'), 'app');
    },
    async killServer(name) {
      const pid = Number(await readFile(path.join(dir, `${name}.pid`), 'utf8'));
      process.kill(pid, 'SIGKILL');
      await waitFor(`${name} to die`, async () => {
        try {
          process.kill(pid, 0);
          return undefined;
        } catch {
          return true;
        }
      });
    },
    async startServer(name, release) {
      await run(START, [], {
        env: {
          ...process.env,
          ...env,
          ...options.serverEnv,
          MAINT_SERVER: name,
          MAINT_RELEASE: release,
          MAINT_SERVER_ADDR: `127.0.0.1:${ports.get(name)}`,
        },
      });
    },
    async waitServing(names) {
      await waitFor(
        `${names.join(', ')} UP in HAProxy`,
        async () =>
          (await rig.stat()).filter((r) => names.includes(r.server) && r.status === 'UP').length ===
          names.length
            ? true
            : undefined,
        20_000,
      );
    },
    async logs() {
      const files = (await readdir(dir)).filter((f) => f.endsWith('.log')).sort();
      const parts = await Promise.all(
        files.map(async (f) => `== ${f}\n${await readFile(path.join(dir, f), 'utf8')}`),
      );
      return parts.join('\n');
    },
    async stop() {
      haproxy.kill('SIGKILL');
      for (const s of servers) {
        await run(STOP, [], { env: { ...process.env, ...env, MAINT_SERVER: s } }).catch(() => undefined);
      }
      // Anything a crashed test left behind.
      for (const f of (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.pid'))) {
        const pid = Number(await readFile(path.join(dir, f), 'utf8').catch(() => '0'));
        if (pid > 0) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor('the HAProxy runtime API', async () => {
      try {
        await runtimeCommand(sock, 'show info', 500);
        return true;
      } catch {
        return undefined;
      }
    });
    for (const s of servers.slice(0, options.active)) await rig.startServer(s, options.release);
    await rig.waitServing(servers.slice(0, options.active));
  } catch (error) {
    await rig.stop();
    throw error;
  }
  return rig;
}

/** The fleet part of a plan for the rig. */
export function fleetYaml(rig: Rig, extra: string): string {
  return `fleet:
  provider: haproxy
  runtimeApi: ${rig.runtimeApi}
  backend: ${rig.backend}
  start: ${START}
  stop: ${STOP}
  probe: { path: /healthz, expectRelease: true, timeout: 1s }
  healthTimeout: 15s
  drainTimeout: 10s
${extra}`;
}
