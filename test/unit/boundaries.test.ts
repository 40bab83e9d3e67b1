/**
 * The architecture's boundaries are lint rules (eslint.config.js), so CI fails when they break:
 * the core imports no host, and a port file imports no implementation. These tests lint small
 * texts as if they stood at those paths, so a rule that stopped matching would be seen.
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();

async function restricted(filePath: string, text: string): Promise<string[]> {
  const [result] = await eslint.lintText(text, { filePath });
  return result!.messages
    .filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports')
    .map((m) => m.message);
}

// ESLint builds a type-aware program on first use: slow on a busy machine.
describe('import boundaries', { timeout: 60_000 }, () => {
  it('the core may not import commands, the CLI base or renderers', async () => {
    for (const [file, spec] of [
      ['src/core/run/run.ts', '../../commands/run.js'],
      ['src/core/core.ts', '../cli/base-command.js'],
      ['src/core/inspect/gate.ts', '../../output/render-run.js'],
    ]) {
      const found = await restricted(file!, `import { x } from '${spec}';\nexport const y = x;\n`);
      expect(found, `${file} importing ${spec}`).toEqual([expect.stringMatching(/must not import a host/)]);
    }
  });

  it('the core may import the rest of the tree', async () => {
    expect(
      await restricted(
        'src/core/run/run.ts',
        "import { act } from '../../hints.js';\nexport const y = act;\n",
      ),
    ).toEqual([]);
  });

  it('a port file imports types only', async () => {
    const value = "import { fleetPort } from './registry.js';\nexport const y = fleetPort;\n";
    expect(await restricted('src/fleet/fleet.ts', value)).toEqual([expect.stringMatching(/types only/)]);
    const type = "import type { FleetConfig } from '../plan/schema.js';\nexport type Y = FleetConfig;\n";
    expect(await restricted('src/fleet/fleet.ts', type)).toEqual([]);
    // The error classes a contract throws are not implementations.
    const errors = "import { ConnectionError } from '../errors.js';\nexport const y = ConnectionError;\n";
    expect(await restricted('src/notify/channel.ts', errors)).toEqual([]);
  });
});
