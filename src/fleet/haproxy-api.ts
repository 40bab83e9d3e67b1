/**
 * The HAProxy runtime API (`stats socket ... level admin`): one command per connection, over a
 * unix socket or host:port. Pure parsing of `show stat` is kept apart so unit tests check it.
 */
import { connect } from 'node:net';

/** Where the runtime API listens: a unix socket path, or host:port. */
export function runtimeTarget(runtimeApi: string): { path: string } | { host: string; port: number } {
  const m = /^([^/:][^:]*|\[[^\]]+\]):(\d{1,5})$/.exec(runtimeApi);
  if (m && !runtimeApi.startsWith('/') && !runtimeApi.startsWith('.')) {
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  }
  return { path: runtimeApi };
}

/** Send one command; resolve with everything HAProxy answered before closing. */
export function runtimeCommand(runtimeApi: string, command: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(runtimeTarget(runtimeApi) as never);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy(
        new Error(`no answer from the HAProxy runtime API at ${runtimeApi} within ${timeoutMs} ms`),
      );
    }, timeoutMs);
    socket.on('connect', () => socket.end(`${command}\n`));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** One server row of `show stat`, with the fields maint reads. */
export interface StatRow {
  backend: string;
  server: string;
  /** `UP`, `DOWN`, `DRAIN`, `MAINT`, `UP 1/2`, `no check`... */
  status: string;
  /** Last check result (`L7OK`, `L4CON`...); a leading `* ` means a check is running. */
  checkStatus: string;
  /** Current sessions. */
  scur: number;
  /** `host:port` (HAProxy >= 1.9). */
  addr: string | null;
  /** Health counter: up once >= rise; rise + fall - 1 when every recent check passed. */
  checkHealth: number | null;
  checkRise: number | null;
  checkFall: number | null;
}

/** Parse `show stat` CSV (its header starts with `# `); keep the server rows of `backend`. */
export function parseShowStat(csv: string, backend: string): StatRow[] {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) throw new Error('the runtime API answered without a `show stat` header');
  const cols = header.slice(2).split(',');
  const at = (name: string) => cols.indexOf(name);
  const num = (v: string | undefined) => (v === undefined || v === '' ? null : Number(v));
  const rows: StatRow[] = [];
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    const f = line.split(',');
    if (f[at('pxname')] !== backend) continue;
    const server = f[at('svname')] ?? '';
    if (server === 'BACKEND' || server === 'FRONTEND') continue;
    rows.push({
      backend,
      server,
      status: f[at('status')] ?? '',
      checkStatus: (f[at('check_status')] ?? '').replace(/^\* /, ''),
      scur: Number(f[at('scur')] ?? 0),
      addr: at('addr') >= 0 && f[at('addr')] ? f[at('addr')]! : null,
      checkHealth: at('check_health') >= 0 ? num(f[at('check_health')]) : null,
      checkRise: at('check_rise') >= 0 ? num(f[at('check_rise')]) : null,
      checkFall: at('check_fall') >= 0 ? num(f[at('check_fall')]) : null,
    });
  }
  return rows;
}

/** Whether the backend exists at all in a `show stat` answer. */
export function hasBackend(csv: string, backend: string): boolean {
  return csv.split('\n').some((l) => l.startsWith(`${backend},BACKEND,`));
}
