#!/usr/bin/env node
// Node ≥ 22.1 keeps the compiled code of the modules it loads on disk and reuses it on the next
// start (NODE_DISABLE_COMPILE_CACHE=1 turns it off); older Node has no compile cache. It must be
// enabled before @oclif/core and the commands load, hence the dynamic import.
import module from 'node:module';

module.enableCompileCache?.();
const { execute } = await import('@oclif/core');
await execute({ dir: import.meta.url });
