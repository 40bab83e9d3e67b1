/**
 * `npm run build` runs this (through tsx) before tsc: it writes src/generated/plan-validator.ts
 * from the plan schema. `--check` only says whether the committed file is current.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { generateValidator } from '../src/plan/validator-gen.js';

const target = fileURLToPath(new URL('../src/generated/plan-validator.ts', import.meta.url));
const { code, warnings } = generateValidator();
for (const w of warnings) console.warn(`plan validator: not generated, falls back to zod: ${w}`);
const current = await readFile(target, 'utf8').catch(() => '');
if (process.argv.includes('--check')) {
  if (current !== code) {
    console.error(`${target} is out of date; run npm run build`);
    process.exit(1);
  }
} else if (current !== code) {
  await writeFile(target, code);
  console.log(`wrote ${target}`);
}
