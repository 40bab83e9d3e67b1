#!/usr/bin/env node
/**
 * Runs every bench/*.bench.js in turn (one process each, never in parallel: they time things),
 * passing its arguments through. Each bench writes its own section of bench/RESULTS.md.
 * Exits non-zero when any bench fails, after running the rest.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.js'))
  .sort();
if (benches.length === 0) {
  console.error('no bench/*.bench.js found');
  process.exit(1);
}

const failed = [];
for (const bench of benches) {
  console.error(`\n== ${bench}`);
  const run = spawnSync(process.execPath, [path.join(dir, bench), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  if (run.status !== 0) failed.push(`${bench} (exit ${run.status ?? run.signal})`);
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
console.error(`\n${benches.length} bench(es) done; see bench/RESULTS.md`);
