#!/usr/bin/env node
// The fleet demo app: every response names its release (`x-release` header and JSON body).
// GET /lbcheck is HAProxy's check, GET /healthz is maint's probe. On SIGTERM it fails both
// checks and closes once its requests are done. Releases whose name contains "never" fail
// every check; "noprobe" passes HAProxy's check but fails maint's probe (for rollback tests).
import { createServer } from 'node:http';

const release = process.env.RELEASE ?? 'unknown';
const port = Number(process.env.PORT);
const never = release.includes('never');
const noProbe = release.includes('noprobe');
let stopping = false;

const server = createServer((req, res) => {
  res.setHeader('x-release', release);
  res.setHeader('content-type', 'application/json');
  const check = req.url === '/lbcheck' || req.url === '/healthz';
  const healthy = !stopping && !never && !(noProbe && req.url === '/healthz');
  if (check && !healthy) {
    res.statusCode = 503;
    res.end(JSON.stringify({ release, healthy: false }));
    return;
  }
  if (never) res.statusCode = 500;
  res.end(JSON.stringify({ release, path: req.url }));
});
// Longer than HAProxy's idle server timeout, so a kept-alive connection is never cut under it.
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${new Date().toISOString()} ${release} listening on ${port}\n`);
});
server.on('error', (e) => {
  process.stderr.write(`${new Date().toISOString()} ${release}: ${e.message}\n`);
  process.exit(1);
});

process.on('SIGTERM', () => {
  stopping = true;
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5000).unref();
});
