/**
 * maint's own check of one server, bypassing the load balancer: GET the probe path and, when
 * asked, find the release in the `x-release` header or a JSON body field `release`.
 */
import { request } from 'node:http';
import type { ProbeConfig } from '../plan/schema.js';

export interface ProbeResult {
  ok: boolean;
  status: number | null;
  release: string | null;
  /** Why it failed, for people (`connect ECONNREFUSED`, `status 503`, `release v1, expected v2`). */
  reason: string | null;
}

/** The release a response names: the `x-release` header, else a JSON body's `release`. */
export function releaseOf(header: string | string[] | undefined, body: string): string | null {
  const h = Array.isArray(header) ? header[0] : header;
  if (h && h.trim() !== '') return h.trim();
  try {
    const parsed = JSON.parse(body) as unknown;
    if (parsed && typeof parsed === 'object' && typeof (parsed as { release?: unknown }).release === 'string')
      return (parsed as { release: string }).release;
  } catch {
    // Not JSON: the release is only in the header then.
  }
  return null;
}

export function probe(
  addr: string,
  config: Pick<ProbeConfig, 'path' | 'timeout'>,
  expect: { release: string | null } = { release: null },
  signal?: AbortSignal,
): Promise<ProbeResult> {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(addr.slice(i + 1));
  return new Promise((resolve) => {
    const req = request(
      {
        host,
        port,
        path: config.path,
        method: 'GET',
        timeout: config.timeout,
        agent: false,
        headers: { connection: 'close', 'user-agent': 'maint-probe' },
        ...(signal ? { signal } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (body.length < 65536) body += c;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const release = releaseOf(res.headers['x-release'], body);
          let reason: string | null = null;
          if (status < 200 || status > 299) reason = `status ${status}`;
          else if (expect.release !== null && release !== expect.release)
            reason = `serves release ${release ?? '(none named)'}, expected ${expect.release}`;
          resolve({ ok: reason === null, status, release, reason });
        });
        res.on('error', (e) =>
          resolve({ ok: false, status: res.statusCode ?? null, release: null, reason: e.message }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${config.timeout} ms`)));
    req.on('error', (e) => resolve({ ok: false, status: null, release: null, reason: e.message }));
    req.end();
  });
}
