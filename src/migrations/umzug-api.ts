/**
 * umzug through its API only. umzug's main module requires its own command-line front end
 * (`umzug/lib/cli.js`, which pulls in @rushstack/ts-command-line, argparse, fs-extra, semver and
 * z-schema: about 200 modules, a large share of `maint migrate`'s start-up) just to offer
 * `Umzug#runAsCLI`, which maint never calls. Before loading umzug we seed the require cache with
 * a stand-in for that one module; `runAsCLI` would throw. When umzug's layout changes (no
 * lib/cli.js), umzug loads as it is: slower, never wrong (test/integration/startup-modules.test.ts
 * notices).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

class UmzugCliNotLoaded {
  constructor() {
    throw new Error("umzug's CLI is not loaded by maint; use the Umzug API");
  }
}

let loaded: typeof import('umzug') | undefined;

export function loadUmzug(): typeof import('umzug') {
  if (loaded) return loaded;
  try {
    const cli = require.resolve('umzug/lib/cli.js');
    if (!require.cache[cli]) {
      const Module = require('node:module') as {
        new (id: string): NodeJS.Module & { loaded: boolean };
      };
      const stub = new Module(cli);
      stub.filename = cli;
      stub.loaded = true;
      stub.exports = { UmzugCLI: UmzugCliNotLoaded };
      require.cache[cli] = stub;
    }
  } catch {
    // Not where we expect it: load umzug whole.
  }
  loaded = require('umzug') as typeof import('umzug');
  return loaded;
}
