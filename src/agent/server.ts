/**
 * The agent's HTTP server (node:http; loaded only when the agent serves): `GET /healthz`,
 * `GET /status` (JSON), `GET /metrics` (Prometheus text), `GET /` (the status page, rendered by
 * the status-page channel's template). A bearer token, when set, protects all but `/healthz`;
 * it is compared in constant time and never logged. CORS answers only the origins allowed.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../errors.js';
import { redactDeep } from '../support/redact.js';
import type { AgentMetrics } from './metrics.js';
import { statusDocument, statusPageHtml } from './page.js';
import type { AgentStatus } from './status.js';

export interface ServerOptions {
  host: string;
  port: number;
  /** Bearer token required on every path but /healthz. */
  token?: string;
  /** Origins allowed to read the answers from a browser (`*` for any). */
  cors: string[];
  status: AgentStatus;
  metrics: AgentMetrics;
}

export interface AgentServer {
  url: string;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<AgentServer> {
  const server = http.createServer((req, res) => {
    handle(options, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });
  server.listen(options.port, options.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES' || error.code === 'EADDRNOTAVAIL')
        reject(
          new UsageError(`cannot listen on ${options.host}:${options.port}: ${error.code}`, {
            hint: 'Choose another --port (or --host), or stop what listens there.',
            cause: error,
          }),
        );
      else reject(error);
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function handle(options: ServerOptions, req: http.IncomingMessage, res: http.ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://agent');
  const origin = req.headers.origin;
  if (origin && (options.cors.includes('*') || options.cors.includes(origin))) {
    res.setHeader('access-control-allow-origin', options.cors.includes('*') ? '*' : origin);
    res.setHeader('access-control-allow-headers', 'authorization');
    res.setHeader('vary', 'origin');
  }
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { 'access-control-allow-methods': 'GET' });
    res.end();
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'text/plain', 'only GET\n', { allow: 'GET' });
    return;
  }
  if (url.pathname === '/healthz') {
    send(
      res,
      200,
      'application/json',
      JSON.stringify({ ok: true, stopping: options.status.stopping }) + '\n',
    );
    return;
  }
  if (options.token && !authorized(req.headers.authorization, options.token)) {
    send(res, 401, 'application/json', JSON.stringify({ error: 'a bearer token is required' }) + '\n', {
      'www-authenticate': 'Bearer',
    });
    return;
  }
  switch (url.pathname) {
    case '/status':
      send(
        res,
        200,
        'application/json',
        JSON.stringify(redactDeep(options.status.document()), null, 2) + '\n',
        {
          'cache-control': 'no-store',
        },
      );
      return;
    case '/metrics': {
      const { contentType, body } = await options.metrics.render();
      send(res, 200, contentType, body);
      return;
    }
    case '/status.json':
      // The status page's link: the status-page channel's document shape.
      send(
        res,
        200,
        'application/json',
        JSON.stringify(statusDocument(options.status, new Date().toISOString()), null, 2) + '\n',
      );
      return;
    case '/':
      send(res, 200, 'text/html; charset=utf-8', await statusPageHtml(options.status));
      return;
    default:
      send(res, 404, 'application/json', JSON.stringify({ error: `no ${url.pathname} here` }) + '\n');
  }
}

function send(
  res: http.ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': type, ...headers });
  res.end(body);
}

function authorized(header: string | undefined, token: string): boolean {
  const given = /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1] ?? '';
  // Hashing first gives equal lengths, so the comparison leaks nothing about the token.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}
