#!/usr/bin/env node
// Node ≥ 22.1 keeps the compiled code of the modules it loads on disk and reuses it on the next
// start (NODE_DISABLE_COMPILE_CACHE=1 turns it off); older Node has no compile cache. It must be
// enabled before @oclif/core and the commands load, hence the dynamic import.
import module from 'node:module';
import { readFileSync } from 'node:fs';
import os from 'node:os';

module.enableCompileCache?.();

/**
 * `maint --version` alone prints what oclif prints (its `config.userAgent`) without loading
 * @oclif/core (~130 ms). Anything else, and WSL (where oclif says `wsl`) or DEBUG, goes to oclif.
 */
function fastVersion() {
  const argv = process.argv.slice(2);
  if (argv.length !== 1 || argv[0] !== '--version' || process.env.DEBUG) return false;
  if (process.platform === 'linux') {
    if (os.release().toLowerCase().includes('microsoft')) return false;
    try {
      if (readFileSync('/proc/version', 'utf8').toLowerCase().includes('microsoft')) return false;
    } catch {
      // No /proc/version: is-wsl (oclif's test) says "not WSL" too.
    }
  }
  const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const arch = os.arch() === 'ia32' ? 'x86' : os.arch();
  process.stdout.write(`${pjson.name}/${pjson.version} ${os.platform()}-${arch} node-${process.version}\n`);
  return true;
}

if (!fastVersion()) {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
