/**
 * Local stand-in servers for the notification tests: an HTTP receiver (webhooks, and the Slack
 * and Intercom hosts we cannot reach) and a real SMTP server with authentication. All listen on
 * 127.0.0.1 port 0; tests wait on received requests, never on the clock.
 */
import { execFile } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** performance.now() when the request was complete. */
  at: number;
}

export type Reply = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

export interface Receiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Resolves once `count` requests have arrived. */
  waitFor(count: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

/** An HTTP server that records every request and answers what `reply` says (default 200). */
export async function startReceiver(
  reply: (request: ReceivedRequest, index: number) => Reply = () => ({ status: 200 }),
): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const arrivals = new EventEmitter();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const request = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: performance.now(),
      };
      requests.push(request);
      const answer = reply(request, requests.length - 1);
      arrivals.emit('request');
      if (answer === 'hang') return; // keep the socket open, answer nothing
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body ?? '{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    async waitFor(count) {
      while (requests.length < count) await once(arrivals, 'request');
      return requests.slice(0, count);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on: bound, then released (connection refused from then on). */
export async function refusedPort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface SmtpReceiver {
  port: number;
  /** `smtp://user:pass@127.0.0.1:port` */
  url: string;
  messages: ParsedMail[];
  /** Login attempts, successful or not. */
  logins: Array<{ username: string; ok: boolean }>;
  waitFor(count: number): Promise<ParsedMail[]>;
  close(): Promise<void>;
}

/** A real SMTP server (no TLS, AUTH PLAIN/LOGIN required) that parses what it receives. */
export async function startSmtp(user: string, pass: string): Promise<SmtpReceiver> {
  const messages: ParsedMail[] = [];
  const logins: SmtpReceiver['logins'] = [];
  const arrivals = new EventEmitter();
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: false,
    logger: false,
    onAuth(auth, _session, callback) {
      const ok = auth.username === user && auth.password === pass;
      logins.push({ username: auth.username ?? '', ok });
      if (ok) callback(null, { user: auth.username });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          messages.push(mail);
          callback();
          arrivals.emit('message');
        })
        .catch((error: Error) => callback(error));
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    url: `smtp://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@127.0.0.1:${port}`,
    messages,
    logins,
    async waitFor(count) {
      while (messages.length < count) await once(arrivals, 'message');
      return messages.slice(0, count);
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

const repo = new URL('../../', import.meta.url).pathname;

/** Run the built CLI (`bin/run.js`) as a real process. */
export function runMaint(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [`${repo}bin/run.js`, ...args],
      { cwd: repo, env: { ...process.env, NO_COLOR: '1', ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/** Write a plan (YAML text) into a fresh temporary folder; returns its path. */
export async function writePlan(yaml: string): Promise<{ file: string; dir: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'maint-notify-'));
  const file = path.join(dir, 'plan.yaml');
  await writeFile(file, yaml);
  return { file, dir };
}

/** A plan head whose window is open at MAINT_NOW_IN_WINDOW: Sundays 21:00 Europe/Paris, 8h. */
export const PLAN_HEAD = `version: 1
name: orders-v2
window: { timezone: Europe/Paris, days: [sun], start: "21:00", duration: 8h }
database: { engine: pglite, url: "memory://" }
`;
export const MAINT_NOW_IN_WINDOW = '2026-11-29T20:30:00Z';
